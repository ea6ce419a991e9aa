//! Columns the open-data doors need on the case rows:
//! - `public_title`, `public_body`, `public_reply` (and `ratings.public_comment`): the free
//!   text with personal data masked, written once at write/publish time so that public
//!   reads never run the redaction rules (`minyi redact --all` rewrites them when the
//!   rules change). NULL means "not redacted yet" and is never shown to the public.
//! - `external_id`: the source's own identifier of an imported case (GeoReport v2
//!   `service_request_id`), unique, so that re-importing a file changes nothing.
//! - `address`, `latitude`, `longitude`: where the problem is (Open311 `address`/`lat`/`long`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CASE_TEXT_COLUMNS: [&str; 5] = [
    "public_title",
    "public_body",
    "public_reply",
    "external_id",
    "address",
];
const CASE_COORDINATES: [&str; 2] = ["latitude", "longitude"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in CASE_TEXT_COLUMNS {
            add_column(
                manager,
                "cases",
                ColumnDef::new(Alias::new(column)).text().null(),
            )
            .await?;
        }
        for column in CASE_COORDINATES {
            add_column(
                manager,
                "cases",
                ColumnDef::new(Alias::new(column)).double().null(),
            )
            .await?;
        }
        add_column(
            manager,
            "ratings",
            ColumnDef::new(Alias::new("public_comment")).text().null(),
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cases_external_id")
                    .table(Alias::new("cases"))
                    .col(Alias::new("external_id"))
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_cases_external_id").to_owned())
            .await?;
        drop_column(manager, "ratings", "public_comment").await?;
        for column in CASE_TEXT_COLUMNS.iter().chain(CASE_COORDINATES.iter()) {
            drop_column(manager, "cases", column).await?;
        }
        Ok(())
    }
}

async fn add_column(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &mut ColumnDef,
) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(column)
                .to_owned(),
        )
        .await
}

async fn drop_column(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(column))
                .to_owned(),
        )
        .await
}
