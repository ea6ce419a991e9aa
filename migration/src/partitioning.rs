//! Monthly RANGE partitions of `cases` (by `submitted_at`) and `case_events` (by `at`) on
//! PostgreSQL: their names, their bounds and the one routine that creates missing ones.
//! Shared by the migration that partitions the tables and by the server, which creates
//! the months ahead of time (`minyi::partitions`).
//!
//! A month is a calendar month in China Standard Time (UTC+8, no daylight saving since
//! 1991), the calendar every dashboard window is cut by: a month's statistics then read
//! exactly one partition. Rows outside every monthly partition land in the table's DEFAULT
//! partition; creating their month later moves them out of it.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sea_orm_migration::sea_orm;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};

/// A partitioned table and the column its rows are partitioned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionedTable {
    pub name: &'static str,
    pub key: &'static str,
}

pub const CASES: PartitionedTable = PartitionedTable {
    name: "cases",
    key: "submitted_at",
};
pub const CASE_EVENTS: PartitionedTable = PartitionedTable {
    name: "case_events",
    key: "at",
};
pub const TABLES: [PartitionedTable; 2] = [CASES, CASE_EVENTS];

/// Serialises partition changes between processes (several servers starting at once,
/// the periodic job): "minyi-pt" in ASCII.
const PARTITION_LOCK: i64 = 0x6d_69_6e_79_69_2d_70_74;

/// China Standard Time is UTC+8 all year.
const CHINA_OFFSET_HOURS: i64 = 8;

/// The first day of the (UTC+8) month that `instant` falls in.
pub fn month_of(instant: DateTime<Utc>) -> NaiveDate {
    let local = (instant + TimeDelta::hours(CHINA_OFFSET_HOURS)).date_naive();
    local.with_day(1).unwrap_or(local)
}

/// The first day of the month after `month`.
pub fn next_month(month: NaiveDate) -> Result<NaiveDate, DbErr> {
    month
        .checked_add_months(Months::new(1))
        .ok_or_else(|| DbErr::Custom(format!("no month after {month}")))
}

/// The first days of every month from `from`'s to `to`'s, both included.
pub fn months_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<NaiveDate>, DbErr> {
    let (mut month, last) = (month_of(from), month_of(to));
    let mut months = Vec::new();
    while month <= last {
        months.push(month);
        month = next_month(month)?;
    }
    Ok(months)
}

/// The months from `before` months before `now`'s to `ahead` months after it.
pub fn months_around(now: DateTime<Utc>, before: u32, ahead: u32) -> Result<Vec<NaiveDate>, DbErr> {
    let this = month_of(now);
    let (Some(first), Some(last)) = (
        this.checked_sub_months(Months::new(before)),
        this.checked_add_months(Months::new(ahead)),
    ) else {
        return Err(DbErr::Custom(format!(
            "no month {before} before or {ahead} after {this}"
        )));
    };
    let mut months = Vec::new();
    let mut month = first;
    while month <= last {
        months.push(month);
        month = next_month(month)?;
    }
    Ok(months)
}

/// `cases_p2026_01`: the partition of `table` holding `month`.
pub fn partition_name(table: PartitionedTable, month: NaiveDate) -> String {
    format!("{}_p{:04}_{:02}", table.name, month.year(), month.month())
}

/// `cases_default`: the partition of the rows no monthly partition takes.
pub fn default_partition(table: PartitionedTable) -> String {
    format!("{}_default", table.name)
}

/// `'2026-01-01 00:00:00+08'`: the instant a month starts, as a SQL literal.
pub fn bound(month: NaiveDate) -> String {
    format!("'{} 00:00:00+08'", month.format("%Y-%m-%d"))
}

/// Whether `table` is a partitioned table (false on SQLite, or before the migration).
pub async fn is_partitioned<C: ConnectionTrait>(
    db: &C,
    table: PartitionedTable,
) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(false);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid \
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
            [table.name.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

async fn exists<C: ConnectionTrait>(db: &C, relation: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT to_regclass($1) IS NOT NULL AS found",
            [relation.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<bool>("", "found"))
        .transpose()?
        .unwrap_or(false))
}

/// Creates the DEFAULT partition of `table` unless it exists.
pub async fn create_default<C: ConnectionTrait>(
    db: &C,
    table: PartitionedTable,
) -> Result<(), DbErr> {
    db.execute_unprepared(&format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} DEFAULT",
        default_partition(table),
        table.name
    ))
    .await?;
    Ok(())
}

/// Creates the missing monthly partitions of both tables for `months`; returns how many
/// it created. Rows of those months waiting in a DEFAULT partition are moved into their
/// new partition. Does nothing (0) on SQLite and on tables that are not partitioned.
///
/// Must run inside a transaction: it takes a transaction-scoped advisory lock so that
/// two processes never create the same partition at once.
pub async fn create_months<C: ConnectionTrait>(db: &C, months: &[NaiveDate]) -> Result<u64, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres || months.is_empty() {
        return Ok(0);
    }
    db.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({PARTITION_LOCK})"))
        .await?;
    let mut created = 0;
    for table in TABLES {
        if !is_partitioned(db, table).await? {
            continue;
        }
        for &month in months {
            if create_month(db, table, month).await? {
                created += 1;
            }
        }
    }
    Ok(created)
}

/// Creates one month's partition unless it exists; true when it did.
async fn create_month<C: ConnectionTrait>(
    db: &C,
    table: PartitionedTable,
    month: NaiveDate,
) -> Result<bool, DbErr> {
    let name = partition_name(table, month);
    if exists(db, &name).await? {
        return Ok(false);
    }
    let (from, to) = (bound(month), bound(next_month(month)?));
    let default = default_partition(table);
    let key = table.key;
    let waiting = exists(db, &default).await?
        && {
            let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT EXISTS (SELECT 1 FROM {default} WHERE {key} >= {from} AND {key} < {to}) AS found"
                ),
            ))
            .await?;
            row.map(|r| r.try_get::<bool>("", "found"))
                .transpose()?
                .unwrap_or(false)
        };
    if !waiting {
        db.execute_unprepared(&format!(
            "CREATE TABLE {name} PARTITION OF {} FOR VALUES FROM ({from}) TO ({to})",
            table.name
        ))
        .await?;
        return Ok(true);
    }
    // Attaching a range the DEFAULT partition holds rows of is refused, so the rows move
    // first, into a plain table that then becomes the partition. The DEFAULT partition
    // stays locked until the transaction ends: no row of the month can arrive there in
    // between. Rows move partition to partition, under the parent's statement triggers,
    // so `case_keys` keeps them as they are.
    let statements = [
        format!("LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE"),
        format!("CREATE TABLE {name} (LIKE {} INCLUDING DEFAULTS)", table.name),
        format!(
            "WITH moved AS (DELETE FROM {default} WHERE {key} >= {from} AND {key} < {to} RETURNING *) \
             INSERT INTO {name} SELECT * FROM moved"
        ),
        format!(
            "ALTER TABLE {} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})",
            table.name
        ),
    ];
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("a valid instant")
    }

    #[test]
    fn a_month_starts_at_midnight_china_time() {
        // 2026-01-31 16:00 UTC is 2026-02-01 00:00 in China.
        assert_eq!(
            month_of(utc(2026, 1, 31, 15)),
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        );
        assert_eq!(
            month_of(utc(2026, 1, 31, 16)),
            NaiveDate::from_ymd_opt(2026, 2, 1).expect("date")
        );
    }

    #[test]
    fn months_between_includes_both_ends_across_a_year() {
        let months = months_between(utc(2025, 11, 15, 0), utc(2026, 2, 1, 0)).expect("months");
        let names: Vec<String> = months.iter().map(|m| partition_name(CASES, *m)).collect();
        assert_eq!(
            names,
            [
                "cases_p2025_11",
                "cases_p2025_12",
                "cases_p2026_01",
                "cases_p2026_02"
            ]
        );
    }

    #[test]
    fn months_around_now_span_the_month_before_to_a_year_ahead() {
        let months = months_around(utc(2026, 11, 26, 3), 1, 12).expect("months");
        assert_eq!(months.len(), 14);
        assert_eq!(
            partition_name(CASE_EVENTS, months[0]),
            "case_events_p2026_10"
        );
        assert_eq!(
            partition_name(CASE_EVENTS, months[13]),
            "case_events_p2027_11"
        );
    }

    #[test]
    fn a_bound_is_a_china_time_literal() {
        assert_eq!(
            bound(NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")),
            "'2026-03-01 00:00:00+08'"
        );
    }
}
