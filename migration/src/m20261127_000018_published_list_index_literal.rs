//! The public's partial index (000017) on SQLite spelled `published = TRUE`, as the
//! public's condition now writes it into the SQL (`auth::public_cases`): SQLite proves a
//! partial index usable only from the same spelling (`TRUE` does not match `1`), and a
//! literal spares it the re-preparing a bound `published = ?` needed on every call.
//! PostgreSQL's index already says `published = TRUE`: nothing to do there.

use crate::m20261127_000017_published_list_index::PUBLISHED_LIST_INDEX;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn recreate_on_sqlite(manager: &SchemaManager<'_>, published: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {PUBLISHED_LIST_INDEX}"))
        .await?;
    db.execute_unprepared(&format!(
        "CREATE INDEX {PUBLISHED_LIST_INDEX} ON cases (submitted_at, id) \
         WHERE {published} AND duplicate_of IS NULL"
    ))
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too (sea-orm-migration wraps only PostgreSQL's by
    /// default): the DROP and the CREATE then run on one connection and land together.
    /// Run as two statements of the pool, the CREATE was refused with "already exists"
    /// after the DROP had committed (`minyi migrate up` on a new file, measured), and the
    /// index was gone.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate_on_sqlite(manager, "published = TRUE").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate_on_sqlite(manager, "published = 1").await
    }
}
