//! Third-party evaluation panels (第三方评价): reviewer pools, reproducible draws of members
//! and samples of handled cases, rubric scores, and the panel results (docs/EVALUATION.md).
//! Also the rating policy: `deadline_policies.reopen_on_dissatisfied` (docs/WORKFLOW.md).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn t(name: &str) -> Alias {
    Alias::new(name)
}

/// A unique index on `table(columns…)`.
fn unique(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("uq_{}_{}", table, columns.join("_")))
        .table(t(table))
        .unique()
        .if_not_exists();
    for column in columns {
        stmt.col(t(column));
    }
    stmt.take()
}

/// Tables in creation order (dropped in reverse).
const TABLES: [&str; 7] = [
    "reviewers",
    "evaluation_panels",
    "panel_criteria",
    "panel_members",
    "panel_samples",
    "panel_scores",
    "panel_department_results",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table(t("reviewers"))
                .col(pk_auto("id"))
                .col(string("name"))
                .col(string_len("kind", 24))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
            Table::create()
                .table(t("evaluation_panels"))
                .col(pk_auto("id"))
                .col(string("name"))
                .col(string_len("status", 24))
                .col(timestamp_with_time_zone("period_from"))
                .col(timestamp_with_time_zone("period_to"))
                .col(string_len_null("region_code", 12))
                .col(integer_null("department_id"))
                .col(boolean("by_category"))
                .col(integer("scale_min"))
                .col(integer("scale_max"))
                .col(big_integer("seed"))
                .col(integer("experts"))
                .col(integer("cadres"))
                .col(integer("citizen_representatives"))
                .col(integer("sample_size"))
                .col(integer("min_per_department"))
                .col(double_null("alpha"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("drawn_at"))
                .col(timestamp_with_time_zone_null("sampled_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .take(),
            Table::create()
                .table(t("panel_criteria"))
                .col(pk_auto("id"))
                .col(integer("panel_id"))
                .col(integer("position"))
                .col(string("name"))
                .col(double("weight"))
                .col(double_null("mean_score"))
                .take(),
            Table::create()
                .table(t("panel_members"))
                .col(pk_auto("id"))
                .col(integer("panel_id"))
                .col(integer("reviewer_id"))
                .col(string_len("kind", 24))
                .col(integer("draw_position"))
                .col(integer_null("api_key_id"))
                .take(),
            Table::create()
                .table(t("panel_samples"))
                .col(pk_auto("id"))
                .col(integer("panel_id"))
                .col(big_integer("case_id"))
                .col(integer("department_id"))
                .col(integer_null("category_id"))
                .take(),
            Table::create()
                .table(t("panel_scores"))
                .col(big_pk_auto("id"))
                .col(integer("panel_id"))
                .col(integer("member_id"))
                .col(big_integer("case_id"))
                .col(integer("criterion_id"))
                .col(integer("score"))
                .col(timestamp_with_time_zone("submitted_at"))
                .take(),
            Table::create()
                .table(t("panel_department_results"))
                .col(pk_auto("id"))
                .col(integer("panel_id"))
                .col(integer("department_id"))
                .col(integer("cases"))
                .col(double("mean_score"))
                .col(double_null("ci_low"))
                .col(double_null("ci_high"))
                .col(double("normalized_score"))
                .take(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        // Each index serves a lookup the API makes: a panel's rows; an evaluator's
        // visibility (`cases.id IN (SELECT case_id … WHERE panel_id = ?)`); one score per
        // (member, case, criterion), which also refuses a duplicate submission; the
        // ranking's per-department third-party score.
        let indexes = [
            unique("panel_criteria", &["panel_id", "position"]),
            unique("panel_members", &["panel_id", "reviewer_id"]),
            unique("panel_samples", &["panel_id", "case_id"]),
            unique("panel_scores", &["member_id", "case_id", "criterion_id"]),
            unique("panel_department_results", &["department_id", "panel_id"]),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_panel_scores_panel_id_case_id")
                    .table(t("panel_scores"))
                    .col(t("panel_id"))
                    .col(t("case_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(t("deadline_policies"))
                    .add_column(boolean("reopen_on_dissatisfied").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(t("deadline_policies"))
                    .drop_column(t("reopen_on_dissatisfied"))
                    .to_owned(),
            )
            .await?;
        for name in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(t(name)).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
