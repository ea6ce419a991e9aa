//! Live updates on PostgreSQL (docs/LIVE.md): a statement-level trigger on `case_events`
//! announces each INSERT statement's new rows with `pg_notify('minyi_case_events', …)`.
//! Up to 400 rows are named (`ids:1,2,3`, under 6000 bytes even with 13-digit ids); a
//! larger statement (a bulk import) sends one `range:<min>-<max>`, so a million-row
//! import sends one notice, not a million. Notices go out on commit only.
//! SQLite has no NOTIFY: there the application signals its own commits (api/src/live).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION minyi_notify_case_events() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    lo bigint;
    hi bigint;
    listed text;
BEGIN
    SELECT count(*), min(id), max(id) INTO n, lo, hi FROM minyi_new_case_events;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n <= 400 THEN
        SELECT string_agg(id::text, ',' ORDER BY id) INTO listed FROM minyi_new_case_events;
        PERFORM pg_notify('minyi_case_events', 'ids:' || listed);
    ELSE
        PERFORM pg_notify('minyi_case_events', 'range:' || lo || '-' || hi);
    END IF;
    RETURN NULL;
END
$$
"#;

const TRIGGER: &str = "CREATE TRIGGER case_events_notify \
    AFTER INSERT ON case_events \
    REFERENCING NEW TABLE AS minyi_new_case_events \
    FOR EACH STATEMENT EXECUTE FUNCTION minyi_notify_case_events()";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(FUNCTION).await?;
        db.execute_unprepared("DROP TRIGGER IF EXISTS case_events_notify ON case_events")
            .await?;
        db.execute_unprepared(TRIGGER).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS case_events_notify ON case_events")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS minyi_notify_case_events()")
            .await?;
        Ok(())
    }
}
