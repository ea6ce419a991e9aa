//! Indexes for department rankings over whole months as of now (docs/METRICS.md):
//!
//! - a covering index on `case_rollup_department_monthly` keyed `(province_code,
//!   department_key, month)` with the counters the ranking sums: a province's cells come
//!   in department order, so the `GROUP BY department_key` streams without sorting the
//!   ~72,000 cells of a 12-month window, and reads nothing but the index;
//! - the two deadline indexes of the rollup's corrections (000004) again, with
//!   `department_id` covered: a department ranking groups the not-yet-due cases by their
//!   department, which otherwise costs one table lookup per case.
//!
//! On PostgreSQL the deadline indexes are created on the partitioned `cases`, which
//! creates them on every partition (and dropping them drops the partitions' ones).

use crate::m20261126_000004_case_rollup::{COUNTERS, DEADLINE_INDEXES};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The covering index of department rankings on the monthly department rollup.
pub const RANKING_INDEX: &str = "idx_case_rollup_department_monthly_ranking";

/// `CREATE INDEX name ON table (keys…)` covering `covered` (SQLite has no INCLUDE: the
/// covered columns trail the key).
pub(crate) fn covering(
    backend: DbBackend,
    name: &str,
    table: &str,
    keys: &[&str],
    covered: &[&str],
) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "CREATE INDEX IF NOT EXISTS {name} ON {table} ({}) INCLUDE ({})",
            keys.join(", "),
            covered.join(", ")
        ),
        _ => format!(
            "CREATE INDEX IF NOT EXISTS {name} ON {table} ({}, {})",
            keys.join(", "),
            covered.join(", ")
        ),
    }
}

/// The deadline indexes of 000004, with `department_id` covered when `department`.
pub(crate) async fn deadline_indexes(
    manager: &SchemaManager<'_>,
    department: bool,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    for (name, key, covered) in DEADLINE_INDEXES {
        let mut columns: Vec<&str> = covered.to_vec();
        if department {
            columns.push("department_id");
        }
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
        db.execute_unprepared(&covering(backend, name, "cases", &[key], &columns))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&covering(
            manager.get_database_backend(),
            RANKING_INDEX,
            "case_rollup_department_monthly",
            &["province_code", "department_key", "month"],
            COUNTERS,
        ))
        .await?;
        deadline_indexes(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {RANKING_INDEX}"))
            .await?;
        deadline_indexes(manager, false).await
    }
}
