//! The tables of the data model and the indexes that match the read API's filters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn t(name: &str) -> Alias {
    Alias::new(name)
}

/// An index on `table(columns…)`, named after them.
fn index(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{}_{}", table, columns.join("_")))
        .table(t(table))
        .if_not_exists();
    for column in columns {
        stmt.col(t(column));
    }
    stmt.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table(t("regions"))
                .col(string_len("code", 12).primary_key())
                .col(string("name"))
                .col(string_len("level", 24))
                .col(string_len_null("parent_code", 12))
                .col(string_len("province_code", 12))
                .col(string_len_null("city_code", 12))
                .col(string_len_null("county_code", 12))
                .take(),
            Table::create()
                .table(t("departments"))
                .col(pk_auto("id"))
                .col(string("name"))
                .col(string_len("region_code", 12))
                .col(integer_null("parent_id"))
                .col(string_len("kind", 24))
                .col(string("path"))
                .col(timestamp_with_time_zone("created_at"))
                .take(),
            Table::create()
                .table(t("categories"))
                .col(pk_auto("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(integer_null("parent_id"))
                .take(),
            Table::create()
                .table(t("citizens"))
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string_null("phone"))
                .col(string_null("id_number"))
                .col(string_null("email"))
                .col(text_null("address"))
                .take(),
            Table::create()
                .table(t("cases"))
                .col(big_pk_auto("id"))
                .col(string_len_uniq("tracking_number", 32))
                .col(text("title"))
                .col(text("body"))
                .col(string_len("channel", 24))
                .col(string_len("kind", 24))
                .col(integer_null("category_id"))
                .col(string_len("region_code", 12))
                .col(string_len("province_code", 12))
                .col(string_len_null("city_code", 12))
                .col(string_len_null("county_code", 12))
                .col(integer_null("department_id"))
                .col(big_integer_null("citizen_id"))
                .col(string_len("status", 24))
                .col(timestamp_with_time_zone("submitted_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(timestamp_with_time_zone_null("rejected_at"))
                .col(timestamp_with_time_zone_null("respond_due_at"))
                .col(timestamp_with_time_zone_null("responded_at"))
                .col(timestamp_with_time_zone_null("reply_due_at"))
                .col(timestamp_with_time_zone_null("first_reply_due_at"))
                .col(timestamp_with_time_zone_null("first_replied_at"))
                .col(timestamp_with_time_zone_null("replied_at"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(timestamp_with_time_zone_null("archived_at"))
                .col(text_null("reply"))
                .col(string_len_null("rating_level", 24))
                .col(big_integer_null("duplicate_of"))
                .col(big_integer_null("repeat_of"))
                .col(boolean("published"))
                .col(boolean("supervised"))
                .col(integer("reopen_count"))
                .col(integer("version"))
                .col(string_len_null("idempotency_key", 128).unique_key())
                .col(timestamp_with_time_zone("updated_at"))
                .take(),
            Table::create()
                .table(t("case_events"))
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("action", 24))
                .col(string_len_null("from_status", 24))
                .col(string_len_null("to_status", 24))
                .col(integer_null("department_id"))
                .col(timestamp_with_time_zone_null("reply_due_at"))
                .col(string_len("actor", 64))
                .col(text_null("note"))
                .take(),
            Table::create()
                .table(t("ratings"))
                .col(big_pk_auto("id"))
                .col(big_integer("case_id"))
                .col(string_len("level", 24))
                .col(small_integer_null("timeliness"))
                .col(small_integer_null("attitude"))
                .col(small_integer_null("result"))
                .col(text_null("comment"))
                .col(timestamp_with_time_zone("rated_at"))
                .take(),
            Table::create()
                .table(t("deadline_policies"))
                .col(pk_auto("id"))
                .col(string("name"))
                .col(string_len_null("channel", 24))
                .col(string_len_null("kind", 24))
                .col(integer_null("category_id"))
                .col(string_len_null("region_code", 12))
                .col(integer("respond_hours"))
                .col(integer("reply_working_days"))
                .take(),
            Table::create()
                .table(t("holidays"))
                .col(date("date").primary_key())
                .col(string("name"))
                .col(boolean("is_off_day"))
                .take(),
            Table::create()
                .table(t("api_keys"))
                .col(pk_auto("id"))
                .col(string_len_uniq("key_hash", 64))
                .col(string_len("prefix", 16))
                .col(string_len("role", 24))
                .col(string_len_null("region_code", 12))
                .col(integer_null("department_id"))
                .col(integer_null("panel_id"))
                .col(string_null("label"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .take(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }

        // Each index serves a filter or an ordering the read API offers: region subtrees
        // are equality on the stored ancestor code, windows are ranges of submitted_at,
        // lists are keyset-paged on (submitted_at, id).
        let indexes = [
            index("regions", &["parent_code"]),
            index("regions", &["level"]),
            index("departments", &["region_code"]),
            index("departments", &["parent_id"]),
            index("departments", &["path"]),
            index("categories", &["parent_id"]),
            index("cases", &["submitted_at", "id"]),
            index("cases", &["province_code", "submitted_at"]),
            index("cases", &["city_code", "submitted_at"]),
            index("cases", &["county_code", "submitted_at"]),
            index("cases", &["region_code", "submitted_at"]),
            index("cases", &["department_id", "submitted_at"]),
            index("cases", &["category_id", "submitted_at"]),
            index("cases", &["status", "reply_due_at"]),
            index("cases", &["citizen_id"]),
            index("case_events", &["case_id", "at"]),
            index("case_events", &["action", "at"]),
            index("ratings", &["case_id", "rated_at"]),
        ];
        for index in indexes {
            manager.create_index(index).await?;
        }
        // Partial: only the few merged duplicates are indexed. A full index on a column
        // that is almost always NULL tempts SQLite's planner to serve `duplicate_of IS
        // NULL` (every public list) from it and sort a million rows.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS idx_cases_duplicate_of ON cases (duplicate_of) \
                 WHERE duplicate_of IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "api_keys",
            "holidays",
            "deadline_policies",
            "ratings",
            "case_events",
            "cases",
            "citizens",
            "categories",
            "departments",
            "regions",
        ] {
            manager
                .drop_table(Table::drop().table(t(name)).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
