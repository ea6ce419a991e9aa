//! Covering indexes for the metrics engine's fast path (as-of now): a dashboard
//! question reads one scoped range of `cases` — a region column equal to a code and
//! `submitted_at` in the window — and every column its aggregate needs, so an index
//! that holds them all answers it without touching the (wide) table rows.
//! PostgreSQL gets `INCLUDE`; SQLite, which has none, gets the same columns as
//! trailing key columns.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns the fast-path aggregates and their groupings read.
const COVERED: &[&str] = &[
    "duplicate_of",
    "status",
    "accepted_at",
    "rejected_at",
    "first_reply_due_at",
    "first_replied_at",
    "responded_at",
    "reply_due_at",
    "rating_level",
    "repeat_of",
    "city_code",
    "county_code",
    "region_code",
    "department_id",
    "category_id",
    "channel",
    "kind",
];

/// (index name, leading key columns).
const INDEXES: &[(&str, &[&str])] = &[
    ("idx_cases_metrics_all", &["submitted_at"]),
    (
        "idx_cases_metrics_province",
        &["province_code", "submitted_at"],
    ),
    ("idx_cases_metrics_city", &["city_code", "submitted_at"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (name, keys) in INDEXES {
            let covered: Vec<&str> = COVERED
                .iter()
                .copied()
                .filter(|c| !keys.contains(c))
                .collect();
            let sql = match backend {
                DbBackend::Postgres => format!(
                    "CREATE INDEX IF NOT EXISTS {name} ON cases ({}) INCLUDE ({})",
                    keys.join(", "),
                    covered.join(", ")
                ),
                _ => format!(
                    "CREATE INDEX IF NOT EXISTS {name} ON cases ({}, {})",
                    keys.join(", "),
                    covered.join(", ")
                ),
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
