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
/// Every PostgreSQL connection is pinged before it is handed out (sqlx's
/// `test_before_acquire`), so connections broken by a database restart or a network cut
/// are replaced, not used: the server recovers by itself when the database comes back.
/// SQLite has no server to lose; its ping was a round trip to the connection's thread
/// on every statement's acquire, for nothing. Waiting for a connection,
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
        .test_before_acquire(!url.starts_with("sqlite:"))
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
                    .page_size(SQLITE_PAGE_SIZE)
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

/// The page size of a SQLite database minyi creates. Rows of `cases` sit in ~17 indexes,
/// four of them covering ~20 columns (~250-byte entries, 16 to a 4 KiB page): larger
/// pages mean fewer page splits and shallower trees on every insert and fewer pages per
/// dashboard scan. Measured: an import of 200,000 new rows 27,086–29,612 → 34,163–36,504
/// rows/s (docs/OPEN_DATA.md). SQLite sets it only when it creates the file, so existing
/// databases keep theirs (`VACUUM` outside WAL mode would convert one).
pub const SQLITE_PAGE_SIZE: u32 = 16_384;

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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Statement;

    async fn pragma(db: &DatabaseConnection, name: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await
            .expect("pragma answers")
            .expect("one row");
        row.try_get_by_index::<i64>(0)
            .map(|n| n.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .expect("a value")
    }

    #[tokio::test]
    async fn a_new_sqlite_database_has_16_kib_pages_and_a_write_ahead_log() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("new.db").display());
        let db = connect(&url, None).await.expect("connect");
        migrate(&db).await.expect("migrate");
        assert_eq!(pragma(&db, "page_size").await, "16384");
        assert_eq!(pragma(&db, "journal_mode").await, "wal");
    }

    #[tokio::test]
    async fn an_existing_sqlite_database_keeps_its_page_size_and_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.db");
        {
            let old = rusqlite::Connection::open(&path).expect("create");
            old.execute_batch(
                "PRAGMA page_size = 4096; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7); \
                 PRAGMA journal_mode = WAL;",
            )
            .expect("an old database");
        }
        let db = connect(&format!("sqlite://{}", path.display()), None)
            .await
            .expect("connect");
        assert_eq!(pragma(&db, "page_size").await, "4096");
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, "SELECT x FROM t"))
            .await
            .expect("select")
            .expect("one row");
        assert_eq!(row.try_get_by_index::<i64>(0).expect("x"), 7);
    }
}
