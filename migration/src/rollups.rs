//! Every rollup table and its one-statement rebuild from `cases`: the seeder rebuilds
//! them all after a bulk load, and the tests rebuild each to check it against the
//! cells the writers kept.

use crate::{
    m20261126_000004_case_rollup, m20261126_000011_department_rollup,
    m20261127_000019_monthly_rollup, m20261128_000020_deadline_rollup,
};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, DbErr};

/// A rollup table and the statement that fills it, empty, from the current cases.
pub struct Rollup {
    pub table: &'static str,
    pub rebuild_sql: fn(DbBackend) -> String,
}

/// `case_rollup_daily` (migration 000004).
pub const DAILY: Rollup = Rollup {
    table: "case_rollup_daily",
    rebuild_sql: m20261126_000004_case_rollup::rebuild_sql,
};

/// `case_rollup_monthly` (migration 000019).
pub const MONTHLY: Rollup = Rollup {
    table: m20261127_000019_monthly_rollup::TABLE,
    rebuild_sql: m20261127_000019_monthly_rollup::rebuild_sql,
};

/// `case_rollup_department_monthly` (migration 000011).
pub const DEPARTMENT_MONTHLY: Rollup = Rollup {
    table: "case_rollup_department_monthly",
    rebuild_sql: m20261126_000011_department_rollup::rebuild_sql,
};

/// `case_rollup_deadline` (migration 000020).
pub const DEADLINE: Rollup = Rollup {
    table: m20261128_000020_deadline_rollup::TABLE,
    rebuild_sql: m20261128_000020_deadline_rollup::rebuild_sql,
};

pub const ALL: [Rollup; 4] = [DAILY, MONTHLY, DEPARTMENT_MONTHLY, DEADLINE];

impl Rollup {
    /// Empties the table and fills it again from `cases` (in the caller's transaction,
    /// if any).
    pub async fn rebuild<C: ConnectionTrait>(&self, db: &C) -> Result<(), DbErr> {
        db.execute_unprepared(&format!("DELETE FROM {}", self.table))
            .await?;
        db.execute_unprepared(&(self.rebuild_sql)(db.get_database_backend()))
            .await?;
        Ok(())
    }
}
