//! Citable releases of the open data (`minyi release create`, docs/OPEN_DATA.md): one row a
//! release and one a frozen file, with the SHA-256 and size every later download is held to.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn t(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(t("releases"))
                    .col(pk_auto("id"))
                    .col(string_len_uniq("name", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("cutoff"))
                    .col(timestamp_with_time_zone_null("first_submitted_at"))
                    .col(timestamp_with_time_zone_null("last_submitted_at"))
                    .col(string_len("metric_definitions_version", 80))
                    .col(string_len("dictionary_version", 80))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(t("release_files"))
                    .col(pk_auto("id"))
                    .col(integer("release_id"))
                    .col(string_len("file_name", 64))
                    .col(string_len("media_type", 64))
                    .col(big_integer("bytes"))
                    .col(string_len("sha256", 64))
                    .col(big_integer_null("rows"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_release_files_release")
                            .from(t("release_files"), t("release_id"))
                            .to(t("releases"), t("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        // Serving `/releases/{name}/{file}` looks a file up by its release and name.
        manager
            .create_index(
                Index::create()
                    .name("uq_release_files_release_id_file_name")
                    .table(t("release_files"))
                    .col(t("release_id"))
                    .col(t("file_name"))
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(t("release_files")).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(t("releases")).to_owned())
            .await
    }
}
