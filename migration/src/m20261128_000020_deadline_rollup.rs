//! `case_rollup_deadline`: the clock-dependent part of the region rollups, counted per
//! (Shanghai day of a deadline, Shanghai day of submission, province, city, county or
//! township directly under a city). The daily and monthly region cells count every
//! accepted case as if its deadlines had passed; the engine then takes away the cases
//! whose deadlines are still ahead of as-of. At 10M cases those were ~115,000 index
//! entries for Sichuan alone (docs/METRICS.md). A case whose deadline falls on a later
//! Shanghai day than as-of's is ahead of it whatever the hour, so those cases are summed
//! from these cells (a few per county and day); only the deadlines on as-of's own day and
//! the cases submitted that day are read one by one.
//!
//! A case adds its first-round part (`not_due`, `not_due_replied`, `not_due_on_time`) to
//! the cell of its first-round deadline's day, and, while it waits for a reply, its
//! `not_overdue` to the cell of the day of its deadline in force. Kept exact by every
//! writer in the transaction of its write (`dashboard_queries::deadline_rollup`).
//!
//! The partial index finds the cases whose first-round deadline is on as-of's day while
//! a later deadline is in force (reopened cases): the latest-deadline index
//! (`idx_cases_rollup_ahead`, 000015) puts those on the later day.

use crate::m20261126_000004_case_rollup::{cells_table_sql, shanghai_day_sql};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table.
pub const TABLE: &str = "case_rollup_deadline";

/// The key columns, in table order.
pub const KEY_COLUMNS: [&str; 5] = ["due_day", "day", "province_code", "city_code", "county_key"];

/// The counters, in table order.
pub const COUNTERS: [&str; 4] = [
    "not_due",
    "not_due_replied",
    "not_due_on_time",
    "not_overdue",
];

/// The cases whose first-round deadline is earlier than the deadline in force.
pub const EXTENDED_FIRST_DUE_INDEX: &str = "idx_cases_extended_first_due";

/// The predicate of [`EXTENDED_FIRST_DUE_INDEX`]: a query must state it (SQLite uses a
/// partial index only for a WHERE that implies it).
pub const EXTENDED: &str = "c.reply_due_at > c.first_reply_due_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the table and its cells land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // Keyed by the deadline's day first: a question reads only the cells after
        // as-of's day, few whatever the scope (the deadlines of the cases in progress),
        // so one range serves the country, a province and a city, and a write updates
        // the table and no other index (a bulk import adds ~0.7 cells a case).
        db.execute_unprepared(&cells_table_sql(
            backend,
            TABLE,
            "due_day TEXT NOT NULL, day TEXT NOT NULL, province_code TEXT NOT NULL, \
             city_code TEXT NOT NULL, county_key TEXT NOT NULL",
            &COUNTERS,
            &KEY_COLUMNS.join(", "),
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {EXTENDED_FIRST_DUE_INDEX} ON cases (first_reply_due_at) \
             WHERE {}",
            EXTENDED.replace("c.", "")
        ))
        .await?;
        // Cases already present (a database migrated after it was loaded).
        db.execute_unprepared(&rebuild_sql(backend)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {EXTENDED_FIRST_DUE_INDEX}"))
            .await?;
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {TABLE}"))
            .await?;
        Ok(())
    }
}

/// `INSERT INTO case_rollup_deadline SELECT … FROM cases GROUP BY …`: the whole table from
/// the current rows (it must be empty). The formulas of
/// `dashboard_queries::deadline_rollup::contributions` in SQL.
pub fn rebuild_sql(backend: DbBackend) -> String {
    let day = shanghai_day_sql(backend, "submitted_at");
    let place = "province_code, COALESCE(city_code, '') AS city_code, \
                 COALESCE(county_code, region_code) AS county_key";
    let flag = |condition: &str| format!("CASE WHEN {condition} THEN 1 ELSE 0 END");
    let first = format!(
        "SELECT {} AS due_day, {day} AS day, {place}, 1 AS not_due, {} AS not_due_replied, \
         {} AS not_due_on_time, 0 AS not_overdue FROM cases WHERE duplicate_of IS NULL \
         AND accepted_at IS NOT NULL AND first_reply_due_at IS NOT NULL",
        shanghai_day_sql(backend, "first_reply_due_at"),
        flag("first_replied_at IS NOT NULL"),
        flag("first_replied_at <= first_reply_due_at"),
    );
    let in_force = format!(
        "SELECT {} AS due_day, {day} AS day, {place}, 0, 0, 0, 1 FROM cases \
         WHERE duplicate_of IS NULL AND accepted_at IS NOT NULL AND reply_due_at IS NOT NULL \
         AND CAST(status AS TEXT) IN ('accepted', 'assigned', 'in_progress')",
        shanghai_day_sql(backend, "reply_due_at"),
    );
    let keys = KEY_COLUMNS.join(", ");
    let sums: Vec<String> = COUNTERS.iter().map(|c| format!("SUM({c})")).collect();
    format!(
        "INSERT INTO {TABLE} ({keys}, {}) SELECT {keys}, {} FROM ({first} UNION ALL {in_force}) \
         parts GROUP BY {keys}",
        COUNTERS.join(", "),
        sums.join(", ")
    )
}
