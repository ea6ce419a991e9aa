//! The deadline index of the clock corrections (000015) keyed by province first:
//! `(province_code, GREATEST(first_reply_due_at, reply_due_at))`, covering the same
//! columns. Keyed by the latest deadline alone, a province's correction read the range of
//! every province's cases still ahead and dropped the others': at 10M demo cases, a
//! Sichuan department ranking read every case in progress of the seven seeded provinces
//! to keep Sichuan's. Now a province or city question reads its own province's range; a
//! question without a region reads one range per province (`province_code IN (the
//! top-level regions)`, docs/METRICS.md).

use crate::m20261126_000013_department_ranking_indexes::covering;
use crate::m20261127_000015_deadline_ahead_index::{latest_deadline, AHEAD_COVERED, AHEAD_INDEX};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The first key column: the province of the case.
pub const AHEAD_PROVINCE: &str = "province_code";

/// Drops the index and creates it again keyed by `province` (when given) and the latest
/// deadline, covering the rest of [`AHEAD_COVERED`].
async fn recreate(manager: &SchemaManager<'_>, province: Option<&str>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    // An expression key: `covering` puts it in parentheses as it does any key.
    let deadline = format!("({})", latest_deadline(backend, ""));
    let keys: Vec<&str> = province.into_iter().chain([deadline.as_str()]).collect();
    let covered: Vec<&str> = AHEAD_COVERED
        .iter()
        .copied()
        .filter(|c| Some(*c) != province)
        .collect();
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {AHEAD_INDEX}"))
        .await?;
    db.execute_unprepared(&covering(backend, AHEAD_INDEX, "cases", &keys, &covered))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, Some(AHEAD_PROVINCE)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, None).await
    }
}
