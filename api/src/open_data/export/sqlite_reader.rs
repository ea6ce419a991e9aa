//! The export's reader on SQLite: its own read-only connection to the database file, on a
//! blocking thread, lending each row to the encoder straight from the statement.
//!
//! Why not sqlx: its SQLite driver copies every value of every row (`sqlite3_value_dup`)
//! and hands each row from its worker thread to the runtime over a channel, and sea-orm
//! then looks every column up by name; measured on 1 M cases that was most of the time
//! of an export. Here a row costs one `sqlite3_step`, text is borrowed where SQLite keeps
//! it, enums are matched from their stored text, and timestamps in the shape sqlx writes
//! are read digit by digit ([`super::stored_time`]).
//!
//! The SQL is the generic path's own (`rows::select` built for SQLite), parameters bound
//! as sqlx binds them, so both paths select the same rows; the names and the rows are
//! read in one transaction, one snapshot, as before.

use super::rows::{Names, RowView};
use super::stored_time;
use crate::db::SQLITE_BUSY_TIMEOUT;
use chrono::{DateTime, SecondsFormat, Utc};
use entities::{category, department, region, CaseKind, CaseStatus, Channel, RatingLevel};
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OpenFlags, Row};
use sea_orm::sea_query::{Query, SqliteQueryBuilder};
use sea_orm::{DatabaseConnection, Statement, Value};
use std::path::PathBuf;

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

/// Reads the names and then every row of `statement` (built for SQLite) in one read
/// transaction, handing each row to `visit`; stops at the first error `visit` returns.
/// Blocking: run it on a blocking thread. Returns the number of rows.
pub fn read<E>(
    file: &SqliteFile,
    statement: &Statement,
    mut visit: impl FnMut(&Names, &RowView<'_>) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<ReadError>,
{
    let mut conn = Connection::open_with_flags(
        &file.path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(ReadError::from)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)
        .map_err(ReadError::from)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(ReadError::from)?;
    let params = parameters(statement)?;
    // A read transaction: one snapshot for the names and the rows (WAL blocks no writer).
    let txn = conn.transaction().map_err(ReadError::from)?;
    let names = load_names(&txn)?;
    let mut count = 0u64;
    {
        let mut prepared = txn.prepare(&statement.sql).map_err(ReadError::from)?;
        let found: Vec<String> = prepared
            .column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        if found != COLUMNS {
            return Err(ReadError::Columns {
                found,
                expected: COLUMNS,
            }
            .into());
        }
        let mut rows = prepared
            .query(rusqlite::params_from_iter(params))
            .map_err(ReadError::from)?;
        while let Some(row) = rows.next().map_err(ReadError::from)? {
            visit(&names, &view(row)?)?;
            count += 1;
        }
    }
    txn.commit().map_err(ReadError::from)?;
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

/// The current row, borrowed. Column positions follow [`COLUMNS`].
fn view<'r>(row: &'r Row<'_>) -> Result<RowView<'r>, ReadError> {
    Ok(RowView {
        id: integer(row, 0)?,
        tracking_number: text(row, 1)?,
        public_title: optional(row, 2, text)?,
        public_body: optional(row, 3, text)?,
        public_reply: optional(row, 4, text)?,
        channel: stored_enum(row, 5, Channel::from_db)?,
        kind: stored_enum(row, 6, CaseKind::from_db)?,
        category_id: optional(row, 7, small_integer)?,
        region_code: text(row, 8)?,
        province_code: text(row, 9)?,
        city_code: optional(row, 10, text)?,
        county_code: optional(row, 11, text)?,
        department_id: optional(row, 12, small_integer)?,
        status: stored_enum(row, 13, CaseStatus::from_db)?,
        submitted_at: instant(row, 14)?,
        accepted_at: optional(row, 15, instant)?,
        reply_due_at: optional(row, 16, instant)?,
        replied_at: optional(row, 17, instant)?,
        closed_at: optional(row, 18, instant)?,
        rating_level: optional(row, 19, |row, i| stored_enum(row, i, RatingLevel::from_db))?,
        repeat_of: optional(row, 20, integer)?,
        latitude: optional(row, 21, real)?,
        longitude: optional(row, 22, real)?,
    })
}

fn value<'r>(row: &'r Row<'_>, i: usize) -> Result<ValueRef<'r>, ReadError> {
    Ok(row.get_ref(i)?)
}

fn wrong(i: usize, problem: impl Into<String>) -> ReadError {
    ReadError::Column {
        column: COLUMNS[i],
        problem: problem.into(),
    }
}

fn optional<'r, T>(
    row: &'r Row<'_>,
    i: usize,
    read: impl FnOnce(&'r Row<'_>, usize) -> Result<T, ReadError>,
) -> Result<Option<T>, ReadError> {
    match value(row, i)? {
        ValueRef::Null => Ok(None),
        _ => read(row, i).map(Some),
    }
}

fn integer(row: &Row<'_>, i: usize) -> Result<i64, ReadError> {
    match value(row, i)? {
        ValueRef::Integer(n) => Ok(n),
        other => Err(wrong(
            i,
            format!("expected an integer, found {:?}", other.data_type()),
        )),
    }
}

fn small_integer(row: &Row<'_>, i: usize) -> Result<i32, ReadError> {
    let n = integer(row, i)?;
    i32::try_from(n).map_err(|_| wrong(i, format!("{n} does not fit 32 bits")))
}

fn real(row: &Row<'_>, i: usize) -> Result<f64, ReadError> {
    match value(row, i)? {
        ValueRef::Real(x) => Ok(x),
        ValueRef::Integer(n) => Ok(n as f64),
        other => Err(wrong(
            i,
            format!("expected a number, found {:?}", other.data_type()),
        )),
    }
}

fn text<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str, ReadError> {
    match value(row, i)? {
        ValueRef::Text(bytes) => {
            std::str::from_utf8(bytes).map_err(|e| wrong(i, format!("not UTF-8: {e}")))
        }
        other => Err(wrong(
            i,
            format!("expected text, found {:?}", other.data_type()),
        )),
    }
}

fn stored_enum<T>(
    row: &Row<'_>,
    i: usize,
    from_db: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ReadError> {
    let stored = text(row, i)?;
    from_db(stored).ok_or_else(|| wrong(i, format!("unknown value {stored:?}")))
}

fn instant(row: &Row<'_>, i: usize) -> Result<DateTime<Utc>, ReadError> {
    let decoded = match value(row, i)? {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(stored_time::from_text),
        ValueRef::Integer(n) => stored_time::from_integer(n),
        ValueRef::Real(x) => stored_time::from_real(x),
        _ => None,
    };
    decoded.ok_or_else(|| wrong(i, format!("invalid datetime: {:?}", value(row, i))))
}
