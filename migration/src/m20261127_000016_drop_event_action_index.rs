//! Drops `idx_case_events_action_at` (000001): no statement reads case events by action
//! without their case. The workflow's look-ups name a case (`(case_id, at)` serves them),
//! the as-of engine reads a case's events by `case_id` and the touched cases by `at`
//! (`idx_case_events_at_case`, 000012), and on SQLite `past.rs` keeps this index out with
//! a unary `+` because walking it cost ~1 s at 1M cases. It held ~6 entries a case (50 MB
//! of a 590 MB database after importing 200,000 requests) that every case write updated.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index this migration drops (and `down` restores).
pub const ACTION_INDEX: &str = "idx_case_events_action_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // On PostgreSQL dropping the partitioned parent's index drops every partition's.
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {ACTION_INDEX}"))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {ACTION_INDEX} ON case_events (action, at)"
            ))
            .await?;
        Ok(())
    }
}
