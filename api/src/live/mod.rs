//! Live updates: the event bus behind the GraphQL subscriptions (docs/LIVE.md).
//!
//! Each instance runs ONE feeder that learns which `case_events` rows were committed
//! and broadcasts their ids, in batches, to the instance's subscribers:
//! - PostgreSQL: a statement-level trigger sends `pg_notify('minyi_case_events', …)`
//!   (migration `m20261126_000009`), one `PgListener` per instance receives it
//!   ([`postgres`]), so every instance on the database sees every writer's events.
//! - SQLite: the workflow's commit points call [`committed`]; the feeder then reads the
//!   rows past the last id it saw ([`sqlite`]). SQLite has one writer at a time, so ids
//!   become visible in order and a tail read by id misses nothing; a slow poll also
//!   catches writers in other processes (imports, the CLI).
//!
//! Subscribers apply the caller's visibility and scope themselves, in SQL, with the
//! same conditions as every query (`Principal::case_visibility`), so there is one rule.

pub mod notice;
mod postgres;
mod recent;
mod sqlite;
pub mod ws;

use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use std::sync::{Arc, LazyLock};
use tokio::sync::{broadcast, watch};

/// How many batches a slow subscriber may fall behind before it lags (see
/// `graphql::live` for what a lagging subscriber gets).
const BUS_CAPACITY: usize = 1024;

/// Ids of committed case events, ascending, at most [`sqlite::PAGE`] or
/// [`postgres::PAGE`] of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBatch {
    pub ids: Vec<i64>,
}

/// The instance's fan-out of committed case events.
#[derive(Clone)]
pub struct LiveBus {
    sender: broadcast::Sender<Arc<EventBatch>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("listening for case events on PostgreSQL: {0}")]
    Listen(#[from] sea_orm::sqlx::Error),
}

impl LiveBus {
    /// Starts the feeder of this database. On PostgreSQL the `LISTEN` is in place when
    /// this returns, so nothing committed after it is missed.
    pub async fn start(db: &DatabaseConnection) -> Result<Self, LiveError> {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        let bus = Self { sender };
        // The feeder holds a weak sender: it stops once the schema (and its bus) is gone.
        let weak = bus.sender.downgrade();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let listener = postgres::listen(db).await?;
                tokio::spawn(postgres::run(db.clone(), listener, weak));
            }
            _ => {
                let last = sqlite::last_event_id(db).await?;
                tokio::spawn(sqlite::run(db.clone(), last, weak));
            }
        }
        Ok(bus)
    }

    /// A receiver of every batch broadcast from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventBatch>> {
        self.sender.subscribe()
    }
}

/// Sends a batch if anyone still holds the bus; false once the bus is gone.
fn publish(weak: &broadcast::WeakSender<Arc<EventBatch>>, ids: Vec<i64>) -> bool {
    let Some(sender) = weak.upgrade() else {
        return false;
    };
    if !ids.is_empty() {
        // No receiver is not an error: nobody subscribed yet.
        let _ = sender.send(Arc::new(EventBatch { ids }));
    }
    true
}

/// Bumped after every commit that wrote case events in this process.
static COMMITS: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Tells this process's SQLite feeders that case events were committed. Called by the
/// workflow after each commit; on PostgreSQL the trigger does the telling and the call
/// wakes nobody, so nothing is delivered twice.
pub fn committed() {
    COMMITS.send_modify(|n| *n = n.wrapping_add(1));
}

fn commit_signal() -> watch::Receiver<u64> {
    COMMITS.subscribe()
}
