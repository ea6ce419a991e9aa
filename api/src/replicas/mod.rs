//! Read replicas: PostgreSQL streaming replicas serve the reads, the primary the writes.
//!
//! A [`ReadRouter`] holds the primary's pool and one pool per replica. A background
//! health checker ([`health`]) asks every replica once a second whether it is in recovery
//! and how far it has replayed, and the primary how far it has written; a replica that is
//! down, promoted or lagging more than `--replica-max-lag-bytes` leaves the rotation until
//! it is healthy again. Reads go round-robin over the healthy replicas, else to the
//! primary. Read-your-writes: a read that carries a consistency token (the primary's WAL
//! position after a mutation, [`Lsn`]) is served by a healthy replica that has replayed
//! past it, polled for up to `--consistency-wait`, else by the primary.
//!
//! Without replicas configured the router is the primary alone and nothing here runs.

pub mod flags;
mod health;
pub mod lsn;
mod metrics;
pub mod token;

pub use lsn::{Lsn, MalformedLsn};
pub use metrics::Target;

use crate::config::PoolSettings;
use crate::telemetry::Counters;
use metrics::{ReplicaLabels, ReplicaMetrics};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The HTTP header a consistency token travels in, both ways.
pub const CONSISTENCY_HEADER: &str = "x-minyi-consistency";

/// What `serve` knows about the read replicas.
#[derive(Debug, Clone)]
pub struct ReplicaSettings {
    /// PostgreSQL URLs of streaming replicas of the primary; empty: no replicas.
    pub urls: Vec<String>,
    /// A replica further behind the primary than this many WAL bytes leaves the rotation.
    pub max_lag_bytes: u64,
    /// How long a read with a consistency token waits for a replica to replay past it
    /// before the primary serves it.
    pub consistency_wait: Duration,
    /// Time between two health checks of every replica. A read that fails on a replica
    /// checks that replica at once, so this bounds only how soon a recovered replica
    /// returns to the rotation and how fresh the lag gauges are.
    pub check_interval: Duration,
}

impl ReplicaSettings {
    pub const DEFAULT_MAX_LAG_BYTES: u64 = 16 * 1024 * 1024;
    pub const DEFAULT_CONSISTENCY_WAIT: Duration = Duration::from_millis(500);
    pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);
}

impl Default for ReplicaSettings {
    fn default() -> Self {
        Self {
            urls: Vec::new(),
            max_lag_bytes: Self::DEFAULT_MAX_LAG_BYTES,
            consistency_wait: Self::DEFAULT_CONSISTENCY_WAIT,
            check_interval: Self::DEFAULT_CHECK_INTERVAL,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("--read-database-urls needs a PostgreSQL primary: SQLite has no streaming replicas (leave MINYI_READ_DATABASE_URLS empty)")]
    SqlitePrimary,
    // The URL itself is never repeated: it may hold a password.
    #[error("--read-database-urls entry #{index} is not a PostgreSQL URL (postgres://user@host:port/database): {reason}")]
    NotPostgres { index: usize, reason: String },
    #[error("read replica #{index} ({address}): {source}")]
    Connect {
        index: usize,
        address: String,
        source: DbErr,
    },
    #[error("the replica metrics are ill-defined: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// Refuses replicas for a SQLite primary before anything is opened or migrated.
pub fn check_primary(primary_url: &str, settings: &ReplicaSettings) -> Result<(), ReplicaError> {
    if !settings.urls.is_empty() && primary_url.starts_with("sqlite:") {
        return Err(ReplicaError::SqlitePrimary);
    }
    Ok(())
}

/// One replica: its pool and what the last health check found.
#[derive(Debug)]
struct Replica {
    labels: ReplicaLabels,
    db: DatabaseConnection,
    status: Mutex<Status>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Status {
    healthy: bool,
    /// How far the replica had replayed at the last look (health check or token poll).
    replayed: Option<Lsn>,
}

impl Replica {
    fn status(&self) -> Status {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut Status)) {
        change(&mut self.status.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

#[derive(Debug)]
struct Inner {
    primary: DatabaseConnection,
    replicas: Vec<Replica>,
    next: AtomicUsize,
    max_lag_bytes: u64,
    consistency_wait: Duration,
    /// `None` without replicas: `/metrics` stays as it was.
    metrics: Option<ReplicaMetrics>,
}

/// Chooses the connection a read runs on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ReadRouter {
    inner: Arc<Inner>,
}

/// The connection a read runs on, from [`ReadRouter::route_read`].
#[derive(Debug, Clone)]
pub struct ReadRoute {
    pub db: DatabaseConnection,
    /// The replica's index in the router, `None` for the primary.
    replica: Option<usize>,
}

impl ReadRoute {
    pub fn is_replica(&self) -> bool {
        self.replica.is_some()
    }
}

fn target_of(replica: Option<usize>) -> Target {
    match replica {
        Some(_) => Target::Replica,
        None => Target::Primary,
    }
}

/// How often a token read re-asks the candidate replicas how far they have replayed.
const TOKEN_POLL_INTERVAL: Duration = Duration::from_millis(20);

impl ReadRouter {
    /// The primary alone: every read goes there.
    pub fn primary_only(primary: DatabaseConnection) -> Self {
        Self {
            inner: Arc::new(Inner {
                primary,
                replicas: Vec::new(),
                next: AtomicUsize::new(0),
                max_lag_bytes: ReplicaSettings::DEFAULT_MAX_LAG_BYTES,
                consistency_wait: ReplicaSettings::DEFAULT_CONSISTENCY_WAIT,
                metrics: None,
            }),
        }
    }

    /// Opens a pool per replica (lazily: a replica that is down now is only out of
    /// rotation), checks them once and starts the health checker.
    pub async fn connect(
        primary: DatabaseConnection,
        settings: &ReplicaSettings,
        pool: &PoolSettings,
        counters: Option<Arc<Counters>>,
    ) -> Result<Self, ReplicaError> {
        if settings.urls.is_empty() {
            return Ok(Self::primary_only(primary));
        }
        if primary.get_database_backend() != DbBackend::Postgres {
            return Err(ReplicaError::SqlitePrimary);
        }
        let mut replicas = Vec::with_capacity(settings.urls.len());
        for (index, url) in settings.urls.iter().enumerate() {
            let address = address_of(index, url)?;
            let db = crate::db::connect_lazily(url, pool, counters.clone())
                .await
                .map_err(|source| ReplicaError::Connect {
                    index,
                    address: address.clone(),
                    source,
                })?;
            replicas.push(Replica {
                labels: ReplicaLabels {
                    index: index.to_string(),
                    address,
                },
                db,
                status: Mutex::new(Status::default()),
            });
        }
        let router = Self {
            inner: Arc::new(Inner {
                primary,
                replicas,
                next: AtomicUsize::new(0),
                max_lag_bytes: settings.max_lag_bytes,
                consistency_wait: settings.consistency_wait,
                metrics: Some(ReplicaMetrics::new()?),
            }),
        };
        health::check_all(&router.inner).await;
        health::spawn(Arc::downgrade(&router.inner), settings.check_interval);
        Ok(router)
    }

    /// True when replicas are configured (healthy or not).
    pub fn has_replicas(&self) -> bool {
        !self.inner.replicas.is_empty()
    }

    /// True when at least one replica is in rotation.
    pub fn has_healthy_replica(&self) -> bool {
        self.inner.replicas.iter().any(|r| r.status().healthy)
    }

    /// The connection for a read. `at_least`: the consistency token the caller sent.
    pub async fn for_read(&self, at_least: Option<Lsn>) -> DatabaseConnection {
        self.route_read(at_least).await.db
    }

    /// Where a read goes: the connection, and which replica it is (if one).
    pub async fn route_read(&self, at_least: Option<Lsn>) -> ReadRoute {
        let (db, replica) = self.choose(at_least).await;
        if let Some(metrics) = &self.inner.metrics {
            metrics.observe_read(target_of(replica));
        }
        ReadRoute { db, replica }
    }

    /// After a read failed on the replica of `route`: asks that replica now, rather than
    /// waiting up to a second for the health checker. When it is out of rotation (down,
    /// promoted, too far behind), answers the primary, on which the read is worth running
    /// again; `None` when the route was the primary or the replica still looks healthy
    /// (the failure was the read's own).
    pub async fn retry_after_replica_failure(
        &self,
        route: &ReadRoute,
    ) -> Option<DatabaseConnection> {
        let replica = &self.inner.replicas[route.replica?];
        health::recheck(&self.inner, replica).await;
        if replica.status().healthy {
            return None;
        }
        if let Some(metrics) = &self.inner.metrics {
            metrics.observe_read(Target::Primary);
        }
        Some(self.inner.primary.clone())
    }

    /// The connection and, when it is a replica's, that replica's index.
    async fn choose(&self, at_least: Option<Lsn>) -> (DatabaseConnection, Option<usize>) {
        let inner = &self.inner;
        let replicas = &inner.replicas;
        if replicas.is_empty() {
            return (inner.primary.clone(), None);
        }
        let start = inner.next.fetch_add(1, Ordering::Relaxed);
        let in_turn = || (0..replicas.len()).map(move |i| (start + i) % replicas.len());
        let Some(needed) = at_least else {
            return match in_turn().find(|&i| replicas[i].status().healthy) {
                Some(i) => (replicas[i].db.clone(), Some(i)),
                None => (inner.primary.clone(), None),
            };
        };
        let deadline = tokio::time::Instant::now() + inner.consistency_wait;
        loop {
            // Waiting only helps when some replica is in rotation to catch up.
            if !in_turn().any(|i| replicas[i].status().healthy) {
                return (inner.primary.clone(), None);
            }
            for i in in_turn() {
                let replica = &replicas[i];
                let status = replica.status();
                if !status.healthy {
                    continue;
                }
                if status.replayed.is_some_and(|lsn| lsn >= needed) {
                    return (replica.db.clone(), Some(i));
                }
                // Asked live: the health check's answer is up to a second old.
                if let Some(lsn) = health::replayed(&replica.db, deadline).await {
                    replica.update(|s| s.replayed = Some(lsn.max(s.replayed.unwrap_or(lsn))));
                    if lsn >= needed {
                        return (replica.db.clone(), Some(i));
                    }
                }
            }
            if tokio::time::Instant::now() + TOKEN_POLL_INTERVAL > deadline {
                return (inner.primary.clone(), None);
            }
            tokio::time::sleep(TOKEN_POLL_INTERVAL).await;
        }
    }

    /// The primary's WAL position now: after a commit, a token every later read can wait for.
    /// The insert position, not the write position: with `synchronous_commit = off` the
    /// commit record may still sit in the WAL buffers, behind the write position, and a
    /// replica that has replayed up to the write position would not yet show the write.
    pub async fn primary_position(&self) -> Result<Lsn, DbErr> {
        wal_position(
            &self.inner.primary,
            "SELECT pg_current_wal_insert_lsn()::text AS lsn",
        )
        .await
    }

    /// The replica metrics in the Prometheus text format; `None` without replicas.
    pub fn render_metrics(&self) -> Option<Result<String, prometheus::Error>> {
        self.inner.metrics.as_ref().map(ReplicaMetrics::render)
    }
}

/// Runs a query answering one `lsn` text column and reads it.
async fn wal_position(db: &DatabaseConnection, sql: &str) -> Result<Lsn, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .ok_or_else(|| DbErr::Custom(format!("{sql} returned no row")))?;
    let text: Option<String> = row.try_get("", "lsn")?;
    let text = text.ok_or_else(|| DbErr::Custom(format!("{sql} returned NULL")))?;
    text.parse()
        .map_err(|e: MalformedLsn| DbErr::Custom(e.to_string()))
}

/// `host:port` of a replica URL, for logs and metric labels.
fn address_of(index: usize, url: &str) -> Result<String, ReplicaError> {
    use std::str::FromStr;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ReplicaError::NotPostgres {
            index,
            reason: "it must start with postgres:// or postgresql://".into(),
        });
    }
    let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| {
        ReplicaError::NotPostgres {
            index,
            reason: e.to_string(),
        }
    })?;
    Ok(format!("{}:{}", options.get_host(), options.get_port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_is_labelled_by_host_and_port_without_its_password() {
        let address = address_of(0, "postgres://reader:s3cret@10.0.0.7:5433/minyi")
            .expect("a PostgreSQL URL");
        assert_eq!(address, "10.0.0.7:5433");
    }

    #[test]
    fn a_url_that_is_not_postgres_is_refused_without_repeating_it() {
        let err = address_of(1, "mysql://reader:s3cret@10.0.0.7/minyi").expect_err("refused");
        assert!(matches!(err, ReplicaError::NotPostgres { index: 1, .. }));
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
