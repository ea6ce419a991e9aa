//! `job_runs`: one row per (periodic job, time slot) that some `minyi serve` instance
//! claimed. The unique (job, slot) pair is the lease: an instance runs a job for a slot
//! only if its INSERT of that pair wins, so a job runs once per slot across every
//! instance on the database (api/src/jobs, docs/OPERATIONS.md "Running several instances").

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
                    .table(t("job_runs"))
                    .col(big_pk_auto("id"))
                    .col(string_len("job", 64))
                    // floor(unix time / period): the same number on every instance.
                    .col(big_integer("slot"))
                    .col(string_len("instance_id", 160))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    // ran, failed or skipped_overlap; NULL while running (or after a crash).
                    .col(string_len_null("outcome", 32))
                    .col(big_integer_null("rows_affected"))
                    .col(text_null("error"))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_job_runs_job_slot")
                    .table(t("job_runs"))
                    .col(t("job"))
                    .col(t("slot"))
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Pruning deletes by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_job_runs_started_at")
                    .table(t("job_runs"))
                    .col(t("started_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(t("job_runs")).to_owned())
            .await
    }
}
