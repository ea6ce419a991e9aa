//! `case_rollup_monthly`: the counters of `case_rollup_daily` per (Shanghai month of
//! submission, province, city, county or township directly under a city), kept exact by
//! every writer in the transaction of its write, beside the daily cells
//! (`dashboard_queries::rollup::add`). Region questions over whole months (a monthly
//! bulletin, a 12-month series, a province's year by city) sum ~30 times fewer cells
//! than from the daily table: Sichuan's 12 months at 1M cases are 72,580 daily cells
//! and ~2,300 monthly ones. A normal table on PostgreSQL too (only `cases` is
//! partitioned).

use crate::m20261126_000004_case_rollup::{
    cells_table_sql, counter_sums, shanghai_month_sql, COUNTERS,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table.
pub const TABLE: &str = "case_rollup_monthly";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the table and its cells land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        db.execute_unprepared(&cells_table_sql(
            backend,
            TABLE,
            "month TEXT NOT NULL, province_code TEXT NOT NULL, city_code TEXT NOT NULL, \
             county_key TEXT NOT NULL",
            COUNTERS,
            "province_code, month, city_code, county_key",
        ))
        .await?;
        // City scopes (a province's cells are read by the primary key).
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS idx_case_rollup_monthly_city ON {TABLE} (city_code, month)"
        ))
        .await?;
        // Cases already present (a database migrated after it was loaded).
        db.execute_unprepared(&rebuild_sql(backend)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP TABLE IF EXISTS {TABLE}"))
            .await?;
        Ok(())
    }
}

/// `INSERT INTO case_rollup_monthly SELECT … FROM cases GROUP BY …`: the whole table
/// from the current rows (it must be empty). The same formulas and keys as the daily
/// rebuild (`m20261126_000004_case_rollup::rebuild_sql`), by month.
pub fn rebuild_sql(backend: DbBackend) -> String {
    let month = shanghai_month_sql(backend);
    let key = format!(
        "{month}, province_code, COALESCE(city_code, ''), COALESCE(county_code, region_code)"
    );
    format!(
        "INSERT INTO {TABLE} (month, province_code, city_code, county_key, {}) \
         SELECT {key}, {} FROM cases WHERE duplicate_of IS NULL GROUP BY {key}",
        COUNTERS.join(", "),
        counter_sums().join(", ")
    )
}
