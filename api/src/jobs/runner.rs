//! One task per job: sleep until the job's next slot begins, claim the slot, and run the
//! job if the claim won. Each attempt is counted in `/metrics` by its outcome.

use super::lease::{self, Ended, OverlapGuard};
use super::schedule::{epoch_millis, first_slot, next_slot, slot_start};
use super::{instance_id, Job, JobSettings};
use crate::telemetry::Counters;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How an attempt at a slot ended, as counted by `minyi_job_runs_total{outcome}`.
pub const RAN: &str = "ran";
pub const FAILED: &str = "failed";
pub const SKIPPED_TAKEN_BY_OTHER: &str = "skipped_taken_by_other";
pub const SKIPPED_OVERLAP: &str = "skipped_overlap";

/// The running job tasks of one application; dropping it stops them (a run cut short
/// rolls back its open transaction and leaves its `job_runs` row without an outcome).
pub struct Scheduler {
    tasks: Vec<JoinHandle<()>>,
}

impl Scheduler {
    /// Starts a task per job, unless the settings turn jobs off on this instance.
    pub fn start(
        db: DatabaseConnection,
        counters: Arc<Counters>,
        jobs: Vec<Job>,
        settings: &JobSettings,
    ) -> Self {
        if !settings.enabled {
            tracing::info!("jobs are off on this instance (--no-jobs / MINYI_JOBS=off)");
            return Self { tasks: Vec::new() };
        }
        let tasks = jobs
            .into_iter()
            .map(|job| {
                let period = settings.period_of(&job);
                let first = first_slot(epoch_millis(), period, settings.run_at_start);
                tokio::spawn(run_forever(
                    db.clone(),
                    counters.clone(),
                    job,
                    period,
                    first,
                ))
            })
            .collect();
        Self { tasks }
    }

    /// How many job tasks run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Stops every job task now.
    pub fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn run_forever(
    db: DatabaseConnection,
    counters: Arc<Counters>,
    job: Job,
    period: Duration,
    mut slot: i64,
) {
    loop {
        let wait = slot_start(slot, period) - epoch_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
        }
        let outcome = attempt(&db, &job, slot).await;
        counters.observe_job_run(job.name, outcome);
        slot = next_slot(slot, epoch_millis(), period);
    }
}

/// Claims the slot and, if this instance won it, runs the job; returns the outcome label.
async fn attempt(db: &DatabaseConnection, job: &Job, slot: i64) -> &'static str {
    let started_at = crate::clock::now();
    match lease::claim(db, job.name, slot, instance_id(), started_at).await {
        Ok(true) => {}
        Ok(false) => return SKIPPED_TAKEN_BY_OTHER,
        Err(err) => {
            tracing::warn!(job = job.name, slot, error = %err, "job: claiming the slot failed");
            return FAILED;
        }
    }
    let guard = match OverlapGuard::acquire(db, job.name).await {
        Ok(Some(guard)) => guard,
        Ok(None) => {
            tracing::info!(
                job = job.name,
                slot,
                "job: an earlier run still holds the lock; slot skipped"
            );
            record(db, job, slot, &Ended::SkippedOverlap).await;
            return SKIPPED_OVERLAP;
        }
        Err(err) => {
            let ended = Ended::Failed {
                error: format!("taking the advisory lock: {err}"),
            };
            record(db, job, slot, &ended).await;
            return FAILED;
        }
    };
    // In a task of its own so that a panicking job is a failed run, not a dead scheduler.
    let body = tokio::spawn((job.run)(db.clone(), started_at)).await;
    let ended = match body {
        Ok(Ok(rows_affected)) => Ended::Ran { rows_affected },
        Ok(Err(err)) => Ended::Failed {
            error: format!("{err:?}"),
        },
        Err(join) => Ended::Failed {
            error: format!("the job panicked or was cancelled: {join}"),
        },
    };
    match &ended {
        Ended::Ran { rows_affected: 0 } => {}
        Ended::Ran { rows_affected } => {
            tracing::info!(job = job.name, slot, rows_affected, "job ran")
        }
        Ended::Failed { error } => tracing::warn!(job = job.name, slot, %error, "job failed"),
        Ended::SkippedOverlap => {}
    }
    record(db, job, slot, &ended).await;
    if let Err(err) = guard.release().await {
        tracing::warn!(job = job.name, slot, error = %err, "job: releasing the advisory lock failed");
    }
    if ended.outcome() == RAN {
        RAN
    } else {
        FAILED
    }
}

/// Writes how the run ended; a failure to write it is logged (the run itself is done).
async fn record(db: &DatabaseConnection, job: &Job, slot: i64, ended: &Ended) {
    if let Err(err) = lease::finish(db, job.name, slot, crate::clock::now(), ended).await {
        tracing::warn!(job = job.name, slot, error = %err, "job: recording the outcome failed");
    }
}
