//! PostgreSQL only (SQLite keeps its plain tables): `cases` becomes RANGE-partitioned by
//! month of `submitted_at` and `case_events` by month of `at`, so a windowed dashboard
//! reads only the partitions of its window and old months can be detached whole.
//!
//! Each table is renamed, a partitioned twin is created with the same columns, the months
//! of the existing rows plus the next 12 (and a DEFAULT partition) are created, the rows
//! are copied, the old table is dropped, and then the primary key, the identity of `id`
//! (continuing where the old sequence stopped) and every index of the old table are
//! created on the parent, which creates them on every partition.
//!
//! PostgreSQL requires the partition key in every primary key and unique index: the keys
//! become `(id, submitted_at)` / `(id, at)` (`id` still comes from one sequence), and the
//! global uniqueness of `tracking_number`, `idempotency_key` and `external_id` moves to
//! `case_keys`, a plain table with one row per key value, kept by triggers on `cases` in
//! the writing statement itself. A duplicate is refused with the same SQLSTATE 23505
//! (unique violation) as before. The unique indexes become plain lookup indexes.

use crate::partitioning::{self, PartitionedTable, CASES, TABLES};
use chrono::Utc;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns of `cases` whose values are unique across all partitions.
pub const UNIQUE_KEYS: [&str; 3] = ["tracking_number", "idempotency_key", "external_id"];

/// Months created ahead of the current one.
pub const MONTHS_AHEAD: u32 = 12;

/// An index of the old table, as `pg_get_indexdef` prints it.
struct OldIndex {
    name: String,
    definition: String,
    primary: bool,
    /// The constraint it backs (`cases_tracking_number_key`), if any.
    constraint: Option<String>,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in TABLES {
            partition(db, table).await?;
        }
        create_key_table(db).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "partitioning cases and case_events cannot be undone by a migration: \
             restore the backup taken before upgrading"
                .into(),
        ))
    }
}

async fn query_strings<C: ConnectionTrait>(db: &C, sql: String) -> Result<Vec<String>, DbErr> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?
        .into_iter()
        .map(|r| r.try_get::<String>("", "v"))
        .collect()
}

async fn partition<C: ConnectionTrait>(db: &C, table: PartitionedTable) -> Result<(), DbErr> {
    let (name, key) = (table.name, table.key);
    let old = format!("{name}_unpartitioned");
    db.execute_unprepared(&format!("ALTER TABLE {name} RENAME TO {old}"))
        .await?;
    let indexes = old_indexes(db, &old).await?;
    // Where the identity sequence stopped: a new one continues from there.
    let sequence = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT last_value, is_called FROM {}",
                query_strings(
                    db,
                    format!("SELECT pg_get_serial_sequence('{old}', 'id') AS v")
                )
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| DbErr::Migration(format!("{old}.id has no sequence")))?
            ),
        ))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("the sequence of {old}.id has no row")))?;
    let (last_value, is_called) = (
        sequence.try_get::<i64>("", "last_value")?,
        sequence.try_get::<bool>("", "is_called")?,
    );

    db.execute_unprepared(&format!(
        "CREATE TABLE {name} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({key})"
    ))
    .await?;
    partitioning::create_default(db, table).await?;
    // The months of the rows (no more: a stray date does not create years of partitions)
    // and the coming year.
    let mut months: Vec<chrono::NaiveDate> = query_strings(
        db,
        format!(
            "SELECT DISTINCT to_char({key} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-01') AS v FROM {old}"
        ),
    )
    .await?
    .iter()
    .map(|m| {
        chrono::NaiveDate::parse_from_str(m, "%Y-%m-%d")
            .map_err(|e| DbErr::Migration(format!("month {m}: {e}")))
    })
    .collect::<Result<_, _>>()?;
    months.extend(partitioning::months_around(Utc::now(), 1, MONTHS_AHEAD)?);
    months.sort();
    months.dedup();
    partitioning::create_months(db, &months).await?;

    db.execute_unprepared(&format!("INSERT INTO {name} SELECT * FROM {old}"))
        .await?;
    if table == CASES {
        // The keys of the copied rows, before the old table and its unique indexes go.
        db.execute_unprepared(&format!(
            "CREATE TABLE case_keys (kind VARCHAR(16) NOT NULL, value TEXT NOT NULL, \
             case_id BIGINT NOT NULL, CONSTRAINT case_keys_pkey PRIMARY KEY (kind, value)); \
             INSERT INTO case_keys (kind, value, case_id) {}",
            keys_of("cases")
        ))
        .await?;
    }
    db.execute_unprepared(&format!("DROP TABLE {old}")).await?;

    db.execute_unprepared(&format!(
        "ALTER TABLE {name} ADD CONSTRAINT {name}_pkey PRIMARY KEY (id, {key}); \
         ALTER TABLE {name} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last_value}, {is_called})"
    ))
    .await?;
    for index in indexes.iter().filter(|i| !i.primary) {
        db.execute_unprepared(&recreated(index, name)?).await?;
    }
    Ok(())
}

async fn old_indexes<C: ConnectionTrait>(db: &C, old: &str) -> Result<Vec<OldIndex>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, \
                 x.indisprimary AS is_primary, c.conname AS constraint_name \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid \
                 WHERE x.indrelid = '{old}'::regclass ORDER BY i.relname"
            ),
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(OldIndex {
                name: r.try_get("", "name")?,
                definition: r.try_get("", "definition")?,
                primary: r.try_get("", "is_primary")?,
                constraint: r.try_get("", "constraint_name")?,
            })
        })
        .collect()
}

/// The old index as a plain index on the partitioned parent. A unique constraint's index
/// (`cases_tracking_number_key`) becomes `idx_cases_tracking_number`; uniqueness itself
/// is `case_keys`' job.
fn recreated(index: &OldIndex, table: &str) -> Result<String, DbErr> {
    let (_, method_and_columns) = index.definition.split_once(" USING ").ok_or_else(|| {
        DbErr::Migration(format!("unexpected index definition: {}", index.definition))
    })?;
    let name = match &index.constraint {
        Some(constraint) => format!(
            "idx_{}",
            constraint.strip_suffix("_key").unwrap_or(constraint)
        ),
        None => index.name.clone(),
    };
    Ok(format!(
        "CREATE INDEX {name} ON {table} USING {method_and_columns}"
    ))
}

/// `SELECT kind, value, id FROM <rows> …`: one row per non-NULL unique key of each case.
fn keys_of(rows: &str) -> String {
    let kinds: Vec<String> = UNIQUE_KEYS
        .iter()
        .map(|k| format!("('{k}', r.{k})"))
        .collect();
    format!(
        "SELECT k.kind, k.value, r.id FROM {rows} r CROSS JOIN LATERAL (VALUES {}) AS k(kind, value) \
         WHERE k.value IS NOT NULL",
        kinds.join(", ")
    )
}

/// `case_keys` follows every write to `cases`: statement triggers with transition tables
/// for INSERT and DELETE (one statement for a bulk load, not one per row), a row trigger
/// for the rare UPDATE of a key. Statement triggers fire only for statements on the
/// parent, so rows moved between partitions by `create_months` keep their keys.
async fn create_key_table<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let pairs: Vec<String> = UNIQUE_KEYS
        .iter()
        .map(|k| format!("('{k}', r.{k})"))
        .collect();
    let updates: Vec<String> = UNIQUE_KEYS
        .iter()
        .map(|k| {
            format!(
                "IF OLD.{k} IS DISTINCT FROM NEW.{k} THEN \
                   DELETE FROM case_keys WHERE kind = '{k}' AND value = OLD.{k}; \
                   IF NEW.{k} IS NOT NULL THEN \
                     INSERT INTO case_keys (kind, value, case_id) VALUES ('{k}', NEW.{k}, NEW.id); \
                   END IF; \
                 END IF;"
            )
        })
        .collect();
    let sql = format!(
        "CREATE FUNCTION case_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           INSERT INTO case_keys (kind, value, case_id) {inserted}; RETURN NULL; END $$; \
         CREATE FUNCTION case_keys_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           DELETE FROM case_keys k USING (SELECT r.id, p.kind, p.value FROM removed_cases r \
             CROSS JOIN LATERAL (VALUES {pairs}) AS p(kind, value) WHERE p.value IS NOT NULL) AS d \
           WHERE k.kind = d.kind AND k.value = d.value AND k.case_id = d.id; RETURN NULL; END $$; \
         CREATE FUNCTION case_keys_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           {updates} RETURN NULL; END $$; \
         CREATE TRIGGER case_keys_insert AFTER INSERT ON cases \
           REFERENCING NEW TABLE AS new_cases FOR EACH STATEMENT EXECUTE FUNCTION case_keys_insert(); \
         CREATE TRIGGER case_keys_delete AFTER DELETE ON cases \
           REFERENCING OLD TABLE AS removed_cases FOR EACH STATEMENT EXECUTE FUNCTION case_keys_delete(); \
         CREATE TRIGGER case_keys_update AFTER UPDATE OF {columns} ON cases \
           FOR EACH ROW EXECUTE FUNCTION case_keys_update();",
        inserted = keys_of("new_cases"),
        pairs = pairs.join(", "),
        updates = updates.join(" "),
        columns = UNIQUE_KEYS.join(", "),
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_constraint_becomes_a_plain_lookup_index() {
        let index = OldIndex {
            name: "cases_tracking_number_key".into(),
            definition: "CREATE UNIQUE INDEX cases_tracking_number_key ON public.cases_unpartitioned USING btree (tracking_number)".into(),
            primary: false,
            constraint: Some("cases_tracking_number_key".into()),
        };
        assert_eq!(
            recreated(&index, "cases").expect("an index"),
            "CREATE INDEX idx_cases_tracking_number ON cases USING btree (tracking_number)"
        );
    }

    #[test]
    fn only_the_constraint_suffix_is_taken_off_a_key_column_name() {
        let index = OldIndex {
            name: "cases_idempotency_key_key".into(),
            definition: "CREATE UNIQUE INDEX cases_idempotency_key_key ON public.cases_unpartitioned USING btree (idempotency_key)".into(),
            primary: false,
            constraint: Some("cases_idempotency_key_key".into()),
        };
        assert_eq!(
            recreated(&index, "cases").expect("an index"),
            "CREATE INDEX idx_cases_idempotency_key ON cases USING btree (idempotency_key)"
        );
    }

    #[test]
    fn a_partial_covering_index_keeps_its_include_and_where() {
        let index = OldIndex {
            name: "idx_cases_duplicate_of".into(),
            definition: "CREATE INDEX idx_cases_duplicate_of ON public.cases_unpartitioned USING btree (duplicate_of) INCLUDE (status) WHERE (duplicate_of IS NOT NULL)".into(),
            primary: false,
            constraint: None,
        };
        assert_eq!(
            recreated(&index, "cases").expect("an index"),
            "CREATE INDEX idx_cases_duplicate_of ON cases USING btree (duplicate_of) INCLUDE (status) WHERE (duplicate_of IS NOT NULL)"
        );
    }
}
