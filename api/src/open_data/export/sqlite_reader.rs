//! The export's reader on SQLite: its own read-only connection to the database file, on a
//! blocking thread that steps the statement and copies its rows in batches
//! ([`super::raw_batch`]) to the calling thread, which decodes and encodes them: two
//! cores for one export.
//!
//! Why not sqlx: its SQLite driver copies every value of every row (`sqlite3_value_dup`)
//! and hands each row from its worker thread to the runtime over a channel, and sea-orm
//! then looks every column up by name; measured on 1 M cases that was most of the time
//! of an export. Here a row costs one `sqlite3_step` and one flat copy of its values,
//! text is borrowed from the batch, enums are matched from their stored text, and
//! timestamps in the shape sqlx writes are read digit by digit ([`super::stored_time`]).
//!
//! The SQL is the generic path's own (`rows::select` built for SQLite), parameters bound
//! as sqlx binds them, so both paths select the same rows; the names and the rows are
//! read in one transaction, one snapshot, as before.

use super::raw_batch::{RawBatch, RawRow};
use super::rows::{Names, RowView};
use super::stored_time;
use crate::db::SQLITE_BUSY_TIMEOUT;
use chrono::{DateTime, SecondsFormat, Utc};
use entities::{category, department, region, CaseKind, CaseStatus, Channel, RatingLevel};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::sea_query::{Query, SqliteQueryBuilder};
use sea_orm::{DatabaseConnection, Statement, Value};
use std::path::PathBuf;
use std::sync::mpsc;

/// Why the SQLite reader stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("export query parameter {0} cannot be bound on SQLite")]
    Parameter(String),
    #[error("export query columns are {found:?}, the reader expects {expected:?}")]
    Columns {
        found: Vec<String>,
        expected: &'static [&'static str],
    },
    #[error("export reader thread: {0}")]
    Thread(String),
    #[error("case column {column}: {problem}")]
    Column {
        column: &'static str,
        problem: String,
    },
}

/// The database file an export can open a connection of its own to.
#[derive(Debug, Clone)]
pub struct SqliteFile {
    path: PathBuf,
}

impl SqliteFile {
    /// The file behind a SQLite pool; `None` for PostgreSQL, and for an in-memory SQLite
    /// database, which no second connection can see (those keep the generic reader).
    pub fn of(db: &DatabaseConnection) -> Option<Self> {
        if !matches!(
            db.inner,
            sea_orm::DatabaseConnectionType::SqlxSqlitePoolConnection(_)
        ) {
            return None;
        }
        let options = db.get_sqlite_connection_pool().connect_options();
        let path = options.get_filename();
        let name = path.to_string_lossy();
        if name == ":memory:" || name.starts_with("file:") {
            return None;
        }
        Some(Self {
            path: path.to_path_buf(),
        })
    }
}

/// The columns of `rows::select`, in order: the reader takes them by position.
pub const COLUMNS: &[&str] = &[
    "id",
    "tracking_number",
    "public_title",
    "public_body",
    "public_reply",
    "channel",
    "kind",
    "category_id",
    "region_code",
    "province_code",
    "city_code",
    "county_code",
    "department_id",
    "status",
    "submitted_at",
    "accepted_at",
    "reply_due_at",
    "replied_at",
    "closed_at",
    "rating_level",
    "repeat_of",
    "latitude",
    "longitude",
];

/// SQLite's page cache of the export connection (negative: KiB). Bounded, so memory
/// stays flat; the OS page cache does the rest.
const CACHE_KIB: i64 = 16 * 1024;

/// Batches handed over but not yet decoded. Memory stays under
/// `(QUEUED + 2) × raw_batch::BYTES` or so, whatever the size of the export.
const QUEUED: usize = 2;

/// Reads the names and then every row of `statement` (built for SQLite) in one read
/// transaction, handing each row to `visit`; stops at the first error `visit` returns.
/// Blocking: run it on a blocking thread. Returns the number of rows.
///
/// Two threads: a scoped one steps the statement and copies its rows into
/// [`RawBatch`]es; the calling thread decodes them and calls `visit` (measured on 1 M
/// cases, stepping and encoding cost about the same, so the pair nearly halves the time).
pub fn read<E>(
    file: &SqliteFile,
    statement: &Statement,
    mut visit: impl FnMut(&Names, &RowView<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<ReadError>,
{
    let params = parameters(statement)?;
    let (names_tx, names_rx) = mpsc::sync_channel::<Names>(1);
    let (full_tx, full_rx) = mpsc::sync_channel::<RawBatch>(QUEUED);
    let (empty_tx, empty_rx) = mpsc::channel::<RawBatch>();
    std::thread::scope(|scope| {
        let stepper = std::thread::Builder::new()
            .name("export-sqlite".to_string())
            .spawn_scoped(scope, || {
                step(file, &statement.sql, params, names_tx, full_tx, empty_rx)
            })
            .map_err(|e| ReadError::Thread(e.to_string()))?;
        // Returning drops `full_rx`: a stepper still sending stops at its next batch.
        let decoded = decode(names_rx, full_rx, empty_tx, &mut visit);
        let stepped = stepper
            .join()
            .map_err(|_| ReadError::Thread("the export's SQLite reader panicked".to_string()))?;
        match (decoded, stepped) {
            (Err(e), _) => Err(e),
            // The stepper's error explains why the rows stopped early.
            (Ok(_), Err(e)) => Err(e.into()),
            (Ok(count), Ok(())) => Ok(count),
        }
    })
}

/// The stepping thread: its own read-only connection, one read transaction (one
/// snapshot for the names and the rows), every row copied into batches. Stops quietly
/// when the decoding thread has gone (it reports its own error).
fn step(
    file: &SqliteFile,
    sql: &str,
    params: Vec<SqlValue>,
    names_tx: mpsc::SyncSender<Names>,
    full_tx: mpsc::SyncSender<RawBatch>,
    empty_rx: mpsc::Receiver<RawBatch>,
) -> Result<(), ReadError> {
    let mut conn = Connection::open_with_flags(
        &file.path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // A read transaction: one snapshot for the names and the rows (WAL blocks no writer).
    let txn = conn.transaction()?;
    if names_tx.send(load_names(&txn)?).is_err() {
        return Ok(());
    }
    {
        let mut prepared = txn.prepare(sql)?;
        let found: Vec<String> = prepared
            .column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if found != COLUMNS {
            return Err(ReadError::Columns {
                found,
                expected: COLUMNS,
            });
        }
        let mut rows = prepared.query(rusqlite::params_from_iter(params))?;
        let fresh = || {
            empty_rx
                .try_recv()
                .unwrap_or_else(|_| RawBatch::new(COLUMNS.len()))
        };
        let mut batch = fresh();
        while let Some(row) = rows.next()? {
            batch.push(row)?;
            if batch.is_full() {
                if full_tx.send(batch).is_err() {
                    return Ok(());
                }
                batch = fresh();
            }
        }
        if !batch.is_empty() && full_tx.send(batch).is_err() {
            return Ok(());
        }
    }
    txn.commit()?;
    Ok(())
}

/// The decoding thread: every row of every batch to `visit`, in order; each batch goes
/// back to the stepper for reuse. Ends when the stepper has sent its last batch (or
/// stopped: then it has an error to tell).
fn decode<E>(
    names_rx: mpsc::Receiver<Names>,
    full_rx: mpsc::Receiver<RawBatch>,
    empty_tx: mpsc::Sender<RawBatch>,
    visit: &mut impl FnMut(&Names, &RowView<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<ReadError>,
{
    let Ok(names) = names_rx.recv() else {
        return Ok(0);
    };
    let mut count = 0u64;
    for mut batch in full_rx {
        for row in batch.rows() {
            visit(&names, &view(&row)?)?;
            count += 1;
        }
        batch.clear();
        // The stepper may have finished; a batch it will not reuse is simply dropped.
        let _ = empty_tx.send(batch);
    }
    Ok(count)
}

/// The statement's values as sqlx would bind them on SQLite (sea-query-sqlx's
/// `IntoArguments` and sqlx's encoders): the same text is compared with the same columns.
fn parameters(statement: &Statement) -> Result<Vec<SqlValue>, ReadError> {
    let Some(values) = &statement.values else {
        return Ok(Vec::new());
    };
    values.0.iter().map(parameter).collect()
}

fn parameter(value: &Value) -> Result<SqlValue, ReadError> {
    fn or_null<T>(v: &Option<T>, f: impl FnOnce(&T) -> SqlValue) -> SqlValue {
        v.as_ref().map_or(SqlValue::Null, f)
    }
    Ok(match value {
        Value::Bool(v) => or_null(v, |b| SqlValue::Integer(i64::from(*b))),
        Value::TinyInt(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::SmallInt(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::Int(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::BigInt(v) => or_null(v, |n| SqlValue::Integer(*n)),
        Value::TinyUnsigned(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::SmallUnsigned(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::Unsigned(v) => or_null(v, |n| SqlValue::Integer(i64::from(*n))),
        Value::BigUnsigned(Some(n)) => SqlValue::Integer(
            i64::try_from(*n).map_err(|_| ReadError::Parameter(format!("{n} (out of range)")))?,
        ),
        Value::BigUnsigned(None) => SqlValue::Null,
        Value::Float(v) => or_null(v, |x| SqlValue::Real(f64::from(*x))),
        Value::Double(v) => or_null(v, |x| SqlValue::Real(*x)),
        Value::String(v) => or_null(v, |s| SqlValue::Text(s.clone())),
        Value::Char(v) => or_null(v, |c| SqlValue::Text(c.to_string())),
        Value::Bytes(v) => or_null(v, |b| SqlValue::Blob(b.clone())),
        Value::Enum(sea_orm::sea_query::OptionEnum::Some(e)) => SqlValue::Text(e.value.to_string()),
        Value::Enum(sea_orm::sea_query::OptionEnum::None(_)) => SqlValue::Null,
        Value::ChronoDateTimeUtc(v) => or_null(v, |t| SqlValue::Text(rfc3339(t))),
        Value::ChronoDateTimeWithTimeZone(v) => or_null(v, |t| SqlValue::Text(rfc3339(t))),
        Value::ChronoDateTimeLocal(v) => or_null(v, |t| SqlValue::Text(rfc3339(t))),
        Value::ChronoDateTime(v) => {
            or_null(v, |t| SqlValue::Text(t.format("%F %T%.f").to_string()))
        }
        Value::ChronoDate(v) => or_null(v, |d| SqlValue::Text(d.format("%F").to_string())),
        Value::ChronoTime(v) => or_null(v, |t| SqlValue::Text(t.format("%T%.f").to_string())),
        other => return Err(ReadError::Parameter(format!("{other:?}"))),
    })
}

fn rfc3339<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn load_names(conn: &Connection) -> Result<Names, ReadError> {
    let mut names = Names::default();
    let sql = Query::select()
        .columns([region::Column::Code, region::Column::Name])
        .from(region::Entity)
        .to_string(SqliteQueryBuilder);
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        names
            .regions
            .insert(row.get(0)?, row.get::<_, String>(1)?.into_boxed_str());
    }
    let sql = Query::select()
        .columns([department::Column::Id, department::Column::Name])
        .from(department::Entity)
        .to_string(SqliteQueryBuilder);
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        names
            .departments
            .insert(row.get(0)?, row.get::<_, String>(1)?.into_boxed_str());
    }
    let sql = Query::select()
        .columns([
            category::Column::Id,
            category::Column::Code,
            category::Column::Name,
        ])
        .from(category::Entity)
        .to_string(SqliteQueryBuilder);
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let code: String = row.get(1)?;
        let name: String = row.get(2)?;
        names
            .categories
            .insert(row.get(0)?, (code.into_boxed_str(), name.into_boxed_str()));
    }
    Ok(names)
}

/// One copied row, borrowed from its batch. Column positions follow [`COLUMNS`].
fn view<'r>(row: &RawRow<'r>) -> Result<RowView<'r>, ReadError> {
    let column = |i: usize| -> Result<Column<'r>, ReadError> {
        Ok(Column {
            i,
            value: row.get(i),
        })
    };
    Ok(RowView {
        id: column(0)?.integer()?,
        tracking_number: column(1)?.text()?,
        public_title: column(2)?.optional(Column::text)?,
        public_body: column(3)?.optional(Column::text)?,
        public_reply: column(4)?.optional(Column::text)?,
        channel: column(5)?.stored_enum(Channel::from_db)?,
        kind: column(6)?.stored_enum(CaseKind::from_db)?,
        category_id: column(7)?.optional(Column::small_integer)?,
        region_code: column(8)?.text()?,
        province_code: column(9)?.text()?,
        city_code: column(10)?.optional(Column::text)?,
        county_code: column(11)?.optional(Column::text)?,
        department_id: column(12)?.optional(Column::small_integer)?,
        status: column(13)?.stored_enum(CaseStatus::from_db)?,
        submitted_at: column(14)?.instant()?,
        accepted_at: column(15)?.optional(Column::instant)?,
        reply_due_at: column(16)?.optional(Column::instant)?,
        replied_at: column(17)?.optional(Column::instant)?,
        closed_at: column(18)?.optional(Column::instant)?,
        rating_level: column(19)?.optional(|c| c.stored_enum(RatingLevel::from_db))?,
        repeat_of: column(20)?.optional(Column::integer)?,
        latitude: column(21)?.optional(Column::real)?,
        longitude: column(22)?.optional(Column::real)?,
    })
}

/// One value of the current row and its position (for errors).
#[derive(Clone, Copy)]
struct Column<'r> {
    i: usize,
    value: ValueRef<'r>,
}

impl<'r> Column<'r> {
    fn wrong(self, problem: impl Into<String>) -> ReadError {
        ReadError::Column {
            column: COLUMNS[self.i],
            problem: problem.into(),
        }
    }

    fn optional<T>(
        self,
        read: impl FnOnce(Self) -> Result<T, ReadError>,
    ) -> Result<Option<T>, ReadError> {
        match self.value {
            ValueRef::Null => Ok(None),
            _ => read(self).map(Some),
        }
    }

    fn integer(self) -> Result<i64, ReadError> {
        match self.value {
            ValueRef::Integer(n) => Ok(n),
            other => Err(self.wrong(format!(
                "expected an integer, found {:?}",
                other.data_type()
            ))),
        }
    }

    fn small_integer(self) -> Result<i32, ReadError> {
        let n = self.integer()?;
        i32::try_from(n).map_err(|_| self.wrong(format!("{n} does not fit 32 bits")))
    }

    fn real(self) -> Result<f64, ReadError> {
        match self.value {
            ValueRef::Real(x) => Ok(x),
            ValueRef::Integer(n) => Ok(n as f64),
            other => Err(self.wrong(format!("expected a number, found {:?}", other.data_type()))),
        }
    }

    fn text(self) -> Result<&'r str, ReadError> {
        match self.value {
            // simdutf8 checks 16–32 bytes at a time (the texts are mostly Chinese, 3 bytes
            // a character); on failure the standard library's check says where it failed.
            ValueRef::Text(bytes) => simdutf8::basic::from_utf8(bytes).or_else(|_| {
                std::str::from_utf8(bytes).map_err(|e| self.wrong(format!("not UTF-8: {e}")))
            }),
            other => Err(self.wrong(format!("expected text, found {:?}", other.data_type()))),
        }
    }

    fn stored_enum<T>(self, from_db: impl FnOnce(&str) -> Option<T>) -> Result<T, ReadError> {
        let stored = self.text()?;
        from_db(stored).ok_or_else(|| self.wrong(format!("unknown value {stored:?}")))
    }

    fn instant(self) -> Result<DateTime<Utc>, ReadError> {
        let decoded = match self.value {
            ValueRef::Text(bytes) => stored_time::from_bytes(bytes),
            ValueRef::Integer(n) => stored_time::from_integer(n),
            ValueRef::Real(x) => stored_time::from_real(x),
            _ => None,
        };
        decoded.ok_or_else(|| self.wrong(format!("invalid datetime: {:?}", self.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Why a test's visitor stopped the read: on purpose at a case, or the reader's error.
    #[derive(Debug, PartialEq)]
    enum Stop {
        At(i64),
        Read(String),
    }

    impl From<ReadError> for Stop {
        fn from(e: ReadError) -> Self {
            Self::Read(e.to_string())
        }
    }

    /// A throwaway database file, removed with its WAL when dropped.
    struct TempDb(PathBuf);

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
            }
        }
    }

    /// The name tables and `rows` cases in a table shaped like the export's select
    /// (the reader takes columns by position); case `i` has a body of `i % 700` bytes, so
    /// batches fill by rows and by bytes.
    fn cases_file(test: &str, rows: u32) -> rusqlite::Result<TempDb> {
        let path = std::env::temp_dir().join(format!(
            "minyi-export-reader-{test}-{}.db",
            std::process::id()
        ));
        let db = TempDb(path);
        let conn = Connection::open(&db.0)?;
        conn.execute_batch(&format!(
            "CREATE TABLE regions (code TEXT PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE categories (id INTEGER PRIMARY KEY, code TEXT, name TEXT);
             INSERT INTO regions VALUES ('510000', '四川省');
             CREATE TABLE cases ({columns});
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
             INSERT INTO cases SELECT i, 'T' || i, '路灯' || i, substr(hex(zeroblob(i % 700)), 1, i % 700),
                 NULL, 'website', 'complaint', NULL, '510000', '510000', NULL, NULL, NULL,
                 'closed', '2024-03-01T01:30:00+00:00', NULL, NULL, NULL, NULL, NULL, NULL,
                 30.5, 104.25
             FROM n;",
            columns = COLUMNS.join(", "),
        ))?;
        Ok(db)
    }

    fn select_all(db: &TempDb) -> (SqliteFile, Statement) {
        let file = SqliteFile { path: db.0.clone() };
        let sql = format!("SELECT {} FROM cases ORDER BY id", COLUMNS.join(", "));
        (file, Statement::from_string(DbBackend::Sqlite, sql))
    }

    #[test]
    fn every_row_of_many_batches_arrives_once_in_order_with_its_own_text() -> TestResult {
        let db = cases_file("order", 5_000)?;
        let (file, statement) = select_all(&db);
        let mut seen = Vec::new();
        let count = read(&file, &statement, |names, row| {
            assert_eq!(names.regions.get("510000").map(|n| &**n), Some("四川省"));
            assert_eq!(row.tracking_number, format!("T{}", row.id));
            assert_eq!(row.public_title, Some(format!("路灯{}", row.id).as_str()));
            assert_eq!(row.public_body.map(str::len), Some(row.id as usize % 700));
            assert_eq!(row.status, CaseStatus::Closed);
            assert_eq!(row.longitude, Some(104.25));
            seen.push(row.id);
            Ok::<(), ReadError>(())
        })?;
        assert_eq!(count, 5_000);
        assert_eq!(seen, (1..=5_000).collect::<Vec<i64>>());
        Ok(())
    }

    #[test]
    fn an_error_of_the_visitor_stops_the_read_and_is_the_one_returned() -> TestResult {
        let db = cases_file("stop", 5_000)?;
        let (file, statement) = select_all(&db);
        let mut visited = 0;
        let result = read(&file, &statement, |_, row| {
            visited += 1;
            if row.id == 2_500 {
                return Err(Stop::At(row.id));
            }
            Ok(())
        });
        assert_eq!(result, Err(Stop::At(2_500)));
        assert_eq!(visited, 2_500, "no row after the failing one is visited");
        Ok(())
    }

    #[test]
    fn a_statement_with_other_columns_is_refused_before_any_row() -> TestResult {
        let db = cases_file("columns", 10)?;
        let file = SqliteFile { path: db.0.clone() };
        let statement = Statement::from_string(DbBackend::Sqlite, "SELECT id FROM cases");
        let mut visited = 0;
        let result = read(&file, &statement, |_, _| {
            visited += 1;
            Ok::<(), ReadError>(())
        });
        assert!(
            matches!(result, Err(ReadError::Columns { ref found, .. }) if found == &["id"]),
            "{result:?}"
        );
        assert_eq!(visited, 0);
        Ok(())
    }

    #[test]
    fn a_stored_value_the_reader_cannot_decode_names_its_column() -> TestResult {
        let db = cases_file("decode", 3_000)?;
        Connection::open(&db.0)?.execute("UPDATE cases SET status = 'lost' WHERE id = 2000", [])?;
        let (file, statement) = select_all(&db);
        let mut visited = 0;
        let result = read(&file, &statement, |_, _| {
            visited += 1;
            Ok::<(), Stop>(())
        });
        assert_eq!(
            result,
            Err(Stop::Read(
                "case column status: unknown value \"lost\"".into()
            ))
        );
        assert_eq!(visited, 1_999);
        Ok(())
    }
}
