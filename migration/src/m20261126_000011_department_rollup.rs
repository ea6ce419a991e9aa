//! `case_rollup_department_monthly`: the counters of `case_rollup_daily` per (Shanghai
//! month of submission, province, city, handling department), kept exact by every
//! writer in the transaction of its write (`dashboard_queries::department_rollup`). The
//! metrics engine sums it for department rankings, department breakdowns and
//! department-scoped questions over whole months as of now. Monthly, not daily: demo
//! data has thousands of departments, so a daily cell per department would hold about
//! one case. A normal table on PostgreSQL too (only `cases` is partitioned).

use crate::m20261126_000004_case_rollup::{
    cells_table_sql, counter_sums, shanghai_month_sql, COUNTERS,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // The key leads with the province and the month, so a province's window is one
        // contiguous range.
        db.execute_unprepared(&cells_table_sql(
            backend,
            "case_rollup_department_monthly",
            "month TEXT NOT NULL, province_code TEXT NOT NULL, city_code TEXT NOT NULL, \
             department_key INTEGER NOT NULL",
            COUNTERS,
            "province_code, month, city_code, department_key",
        ))
        .await?;
        // City scopes, and department scopes without a region.
        for (name, columns) in [
            (
                "idx_case_rollup_department_monthly_city",
                "city_code, month",
            ),
            (
                "idx_case_rollup_department_monthly_department",
                "department_key, month",
            ),
        ] {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON case_rollup_department_monthly ({columns})"
            ))
            .await?;
        }
        // Cases already present (a database migrated after it was loaded).
        db.execute_unprepared(&rebuild_sql(backend)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS case_rollup_department_monthly")
            .await?;
        Ok(())
    }
}

/// `INSERT INTO case_rollup_department_monthly SELECT … FROM cases GROUP BY …`: the
/// whole table from the current rows (it must be empty). The same formulas as
/// `dashboard_queries::department_rollup::contribution` (unassigned cases: key 0).
pub fn rebuild_sql(backend: DbBackend) -> String {
    let month = shanghai_month_sql(backend);
    let key =
        format!("{month}, province_code, COALESCE(city_code, ''), COALESCE(department_id, 0)");
    format!(
        "INSERT INTO case_rollup_department_monthly \
         (month, province_code, city_code, department_key, {}) \
         SELECT {key}, {} FROM cases WHERE duplicate_of IS NULL GROUP BY {key}",
        COUNTERS.join(", "),
        counter_sums().join(", ")
    )
}
