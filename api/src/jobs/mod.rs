//! Periodic background jobs that run once per period across every `minyi serve` instance
//! on the same database.
//!
//! Time is cut into slots of the job's period (`slot = floor(unix time / period)`, the same
//! number on every instance). At each slot boundary every instance tries to INSERT the row
//! `(job, slot)` into `job_runs`; the unique pair lets exactly one INSERT win, and only that
//! instance runs the job for the slot ([`lease`]). On PostgreSQL the winner also holds a
//! transaction-level advisory lock named after the job while it runs, so a run slower than
//! its period never overlaps the next slot's run on another instance (that slot is skipped).
//!
//! - [`Job`]: a name, a default period and an `async` body; [`registry`] lists them.
//! - [`JobSettings`]: on/off, period overrides, first run at start ([`flags`] parses them).
//! - [`Scheduler`]: the running tasks of one application; dropping it stops them.

pub mod flags;
mod instance;
pub mod lease;
mod prune;
mod registry;
mod runner;
pub mod schedule;

pub use instance::instance_id;
pub use prune::{prune_job_runs, KEEP_JOB_RUNS};
pub use registry::registry;
pub use runner::Scheduler;

use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sea_orm::DatabaseConnection;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The body of a job: given the database and the slot's start time, does one pass and
/// says how many rows it changed. It must be idempotent: a crash between its commit and
/// the bookkeeping, or an operator running it by hand, may repeat work.
pub type JobFn = Arc<
    dyn Fn(DatabaseConnection, DateTime<Utc>) -> BoxFuture<'static, ApiResult<u64>> + Send + Sync,
>;

/// A periodic job.
#[derive(Clone)]
pub struct Job {
    /// Stable and short (`[a-z_]+`): the `job_runs.job` value, the metrics label and the
    /// suffix of its `MINYI_JOB_PERIOD_<NAME>` variable.
    pub name: &'static str,
    pub default_period: Duration,
    pub run: JobFn,
}

impl Job {
    /// A job from an `async` body, e.g.
    /// `Job::new("partitions", Duration::from_secs(3600), |db, now| async move { maintain(&db, now).await })`.
    pub fn new<F, Fut>(name: &'static str, default_period: Duration, body: F) -> Self
    where
        F: Fn(DatabaseConnection, DateTime<Utc>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ApiResult<u64>> + Send + 'static,
    {
        Self {
            name,
            default_period,
            run: Arc::new(move |db, now| Box::pin(body(db, now))),
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("default_period", &self.default_period)
            .finish_non_exhaustive()
    }
}

/// How this instance takes part in the jobs.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// False: this instance never runs a job (`--no-jobs`, `MINYI_JOBS=off`); the others do.
    pub enabled: bool,
    /// Periods that replace a job's default, by job name.
    pub periods: BTreeMap<String, Duration>,
    /// True: the first attempt is the slot current at startup. False (the default): the
    /// first attempt waits at least one whole period, so starting a server (or a test) is
    /// not slowed down by the jobs.
    pub run_at_start: bool,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            periods: BTreeMap::new(),
            run_at_start: false,
        }
    }
}

impl JobSettings {
    /// The period of `job` on this instance.
    pub fn period_of(&self, job: &Job) -> Duration {
        self.periods
            .get(job.name)
            .copied()
            .unwrap_or(job.default_period)
    }
}
