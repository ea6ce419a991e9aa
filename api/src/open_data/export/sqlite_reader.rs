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

/// The current row, borrowed. Column positions follow [`COLUMNS`]. Each column's value
/// is fetched from SQLite once (type, then text or number) and decoded from there.
fn view<'r>(row: &'r Row<'_>) -> Result<RowView<'r>, ReadError> {
    let column = |i: usize| -> Result<Column<'r>, ReadError> {
        Ok(Column {
            i,
            value: row.get_ref(i)?,
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
