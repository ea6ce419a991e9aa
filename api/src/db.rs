//! Opening the database (SQLite or PostgreSQL, chosen by the URL) and migrating it.

use crate::config::PoolSettings;
use crate::telemetry::Counters;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Longest `/readyz` waits for the database: a probe must answer within a load
/// balancer's timeout even when the pool would wait longer for a connection.
pub const READY_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects with the default pool settings (CLI commands, tests' templates).
pub async fn connect(
    url: &str,
    counters: Option<Arc<Counters>>,
) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, &PoolSettings::default(), counters).await
}

/// Connects with pool settings suited to the backend and counts every statement.
///
/// Every connection is pinged before it is handed out (sqlx's `test_before_acquire`), so
/// connections broken by a database restart or a network cut are replaced, not used: the
/// server recovers by itself when the database comes back. Waiting for a connection,
/// including opening a new one, is bounded by `acquire_timeout`; past it the request
/// fails with INTERNAL instead of hanging.
pub async fn connect_with(
    url: &str,
    pool: &PoolSettings,
    counters: Option<Arc<Counters>>,
) -> Result<DatabaseConnection, DbErr> {
    open(connect_options(url, pool), counters).await
}

/// Like [`connect_with`], but no connection is opened before the first use: a read
/// replica that is down when the server starts is kept out of rotation by the health
/// checker instead of stopping the server.
pub async fn connect_lazily(
    url: &str,
    pool: &PoolSettings,
    counters: Option<Arc<Counters>>,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = connect_options(url, pool);
    options.connect_lazy(true);
    open(options, counters).await
}

fn connect_options(url: &str, pool: &PoolSettings) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .test_before_acquire(true)
        // sea-orm maps `connect_timeout` onto sqlx's acquire timeout too: set both alike.
        .connect_timeout(pool.acquire_timeout)
        .acquire_timeout(pool.acquire_timeout);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's nature; a small pool with a generous busy
        // timeout turns lock contention into waiting instead of errors. WAL with
        // synchronous=NORMAL survives a killed process (committed pages are in the OS
        // cache); only an OS crash or power cut can lose the last commits.
        options
            .max_connections(pool.max_connections.unwrap_or(8))
            .map_sqlx_sqlite_opts(|opts| {
                opts.busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            });
    } else {
        let statement_timeout_ms = pool.statement_timeout.map(|t| t.as_millis().max(1));
        // Dashboard statements are prepared once per connection; after five runs
        // PostgreSQL may switch to a generic plan that ignores the bound instants and
        // walks a whole window (measured: 35 ms → 250 ms). Custom plans cost ~0.3 ms.
        options
            .max_connections(pool.max_connections.unwrap_or(20))
            .map_sqlx_postgres_opts(move |opts| {
                let opts = opts.options([("plan_cache_mode", "force_custom_plan")]);
                // Dropping a timed-out request's future does not stop PostgreSQL: the
                // statement in flight runs on unless the server cancels it itself.
                match statement_timeout_ms {
                    Some(ms) => opts.options([("statement_timeout", ms.to_string())]),
                    None => opts,
                }
            });
    }
    options
}

async fn open(
    options: ConnectOptions,
    counters: Option<Arc<Counters>>,
) -> Result<DatabaseConnection, DbErr> {
    let mut db = Database::connect(options).await?;
    if let Some(counters) = counters {
        db.set_metric_callback(move |info| {
            counters.db_statements.fetch_add(1, Ordering::Relaxed);
            if info.failed {
                counters.db_errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    Ok(db)
}

/// Applies every pending migration (including the reference data load).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// How long a SQLite statement waits for another connection's write lock.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// True when the database answers a trivial query within [`READY_PROBE_TIMEOUT`].
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    matches!(
        tokio::time::timeout(READY_PROBE_TIMEOUT, db.execute_unprepared("SELECT 1")).await,
        Ok(Ok(_))
    )
}

/// True for PostgreSQL connections.
pub fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
