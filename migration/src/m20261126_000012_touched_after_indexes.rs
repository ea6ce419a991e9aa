//! Indexes that make "the cases touched after T" a range scan: `case_events (at,
//! case_id)` and `ratings (rated_at, case_id)`. The metrics engine answers a question as
//! of a past instant T from the current rows of the cases with no event and no rating
//! after T, and rebuilds only the others from their trails
//! (`dashboard-queries/src/past.rs`); these indexes give it that set without reading a
//! table row.
//!
//! `CREATE INDEX` on a partitioned PostgreSQL table (`case_events` is partitioned by
//! `at` since `m20261126_000008_partition_cases`) creates the index on every partition
//! and on the partitions made later; on a plain table it is an ordinary index. The same
//! statement serves SQLite.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index name, table, key columns).
const INDEXES: &[(&str, &str, &str)] = &[
    ("idx_case_events_at_case", "case_events", "at, case_id"),
    ("idx_ratings_rated_at_case", "ratings", "rated_at, case_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table, keys) in INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {table} ({keys})"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
