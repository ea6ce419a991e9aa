//! `case_rollup_daily`: the current state of the cases counted per (Shanghai day of
//! submission, province, city, county or township directly under a city), kept exact
//! by every writer in the transaction of its write (`dashboard_queries::rollup`). The
//! metrics engine sums it for region-scoped questions as of now. Plus the two deadline
//! indexes that its time-dependent corrections read (only cases whose deadline is
//! still ahead).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counters, in table order (see `dashboard_queries::rollup::Counters`).
pub(crate) const COUNTERS: &[&str] = &[
    "received",
    "accepted",
    "rejected",
    "closed",
    "replied",
    "rated",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "repeats",
    "due_set",
    "replied_due_set",
    "on_time_set",
    "open_due_set",
];

/// The region and window columns every correction reads.
const PLACE: [&str; 6] = [
    "submitted_at",
    "province_code",
    "city_code",
    "county_code",
    "region_code",
    "duplicate_of",
];

/// (name, key, covered columns) of the indexes that find the cases whose deadlines
/// are still ahead (`dashboard_queries` names them in `INDEXED BY` on SQLite).
pub(crate) const DEADLINE_INDEXES: [(&str, &str, &[&str]); 2] = [
    (
        "idx_cases_rollup_first_due",
        "first_reply_due_at",
        &[
            PLACE[0],
            PLACE[1],
            PLACE[2],
            PLACE[3],
            PLACE[4],
            PLACE[5],
            "accepted_at",
            "first_replied_at",
        ],
    ),
    (
        "idx_cases_rollup_due_now",
        "reply_due_at",
        &[
            PLACE[0],
            PLACE[1],
            PLACE[2],
            PLACE[3],
            PLACE[4],
            PLACE[5],
            "accepted_at",
            "status",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let counters: Vec<String> = COUNTERS
            .iter()
            .map(|c| format!("{c} BIGINT NOT NULL DEFAULT 0"))
            .collect();
        // The key leads with the province and the day, so a province's window is one
        // contiguous range (SQLite: a clustered WITHOUT ROWID table).
        let clustered = match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DbBackend::Sqlite => " WITHOUT ROWID",
            _ => "",
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE IF NOT EXISTS case_rollup_daily (day TEXT NOT NULL, \
             province_code TEXT NOT NULL, city_code TEXT NOT NULL, county_key TEXT NOT NULL, \
             {}, PRIMARY KEY (province_code, day, city_code, county_key)){clustered}",
            counters.join(", ")
        ))
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS idx_case_rollup_daily_city ON case_rollup_daily \
             (city_code, day)",
        )
        .await?;
        // Covering: the corrections read only the index (SQLite has no INCLUDE: the
        // columns trail the key).
        let backend = manager.get_database_backend();
        for (name, key, covered) in DEADLINE_INDEXES {
            let sql = match backend {
                sea_orm_migration::sea_orm::DbBackend::Postgres => format!(
                    "CREATE INDEX IF NOT EXISTS {name} ON cases ({key}) INCLUDE ({})",
                    covered.join(", ")
                ),
                _ => format!(
                    "CREATE INDEX IF NOT EXISTS {name} ON cases ({key}, {})",
                    covered.join(", ")
                ),
            };
            db.execute_unprepared(&sql).await?;
        }
        // Cases already present (a database migrated after it was loaded).
        db.execute_unprepared(&rebuild_sql(manager.get_database_backend()))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in [
            "DROP INDEX IF EXISTS idx_cases_rollup_first_due",
            "DROP INDEX IF EXISTS idx_cases_rollup_due_now",
            "DROP TABLE IF EXISTS case_rollup_daily",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}

/// `INSERT INTO case_rollup_daily SELECT … FROM cases GROUP BY …`: the whole table from
/// the current rows (it must be empty). The same formulas as
/// `dashboard_queries::rollup::contribution`.
pub fn rebuild_sql(backend: sea_orm_migration::sea_orm::DbBackend) -> String {
    let day = shanghai_day_sql(backend, "submitted_at");
    let sums = counter_sums();
    format!(
        "INSERT INTO case_rollup_daily (day, province_code, city_code, county_key, {}) \
         SELECT {day}, province_code, COALESCE(city_code, ''), \
         COALESCE(county_code, region_code), {} FROM cases WHERE duplicate_of IS NULL \
         GROUP BY {day}, province_code, COALESCE(city_code, ''), COALESCE(county_code, region_code)",
        COUNTERS.join(", "),
        sums.join(", ")
    )
}

/// The Shanghai day (`YYYY-MM-DD`) of a timestamp column, in each backend's SQL: the day
/// keys of the daily rollup (submission) and of the deadline cells (000020).
pub(crate) fn shanghai_day_sql(
    backend: sea_orm_migration::sea_orm::DbBackend,
    column: &str,
) -> String {
    match backend {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            format!("to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")
        }
        _ => format!("date({column}, '+8 hours')"),
    }
}

/// The Shanghai month (`YYYY-MM`) of a case's `submitted_at`, in each backend's SQL: the
/// key of the monthly rollups' rebuilds (000011, 000019).
pub(crate) fn shanghai_month_sql(backend: sea_orm_migration::sea_orm::DbBackend) -> &'static str {
    match backend {
        sea_orm_migration::sea_orm::DbBackend::Postgres => {
            "to_char(submitted_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
        }
        _ => "strftime('%Y-%m', submitted_at, '+8 hours')",
    }
}

/// `CREATE TABLE IF NOT EXISTS table (key columns, the counters, PRIMARY KEY (…))` of a
/// rollup (SQLite: a clustered WITHOUT ROWID table), its counters `BIGINT NOT NULL
/// DEFAULT 0`. Used by the monthly rollups (000011, 000019; keyed by the province and the
/// period first, so a province's window is one contiguous range) and the deadline cells
/// (000020); this migration's own daily table predates it and spells the same statement
/// out.
pub(crate) fn cells_table_sql(
    backend: sea_orm_migration::sea_orm::DbBackend,
    table: &str,
    key_columns: &str,
    counters: &[&str],
    primary_key: &str,
) -> String {
    let counters: Vec<String> = counters
        .iter()
        .map(|c| format!("{c} BIGINT NOT NULL DEFAULT 0"))
        .collect();
    let clustered = match backend {
        sea_orm_migration::sea_orm::DbBackend::Sqlite => " WITHOUT ROWID",
        _ => "",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {table} ({key_columns}, {}, PRIMARY KEY ({primary_key})){clustered}",
        counters.join(", ")
    )
}

/// The aggregate of each counter over a group of `cases` rows, in [`COUNTERS`] order:
/// the formulas of `dashboard_queries::rollup::counters` in SQL (merged duplicates are
/// left out by the caller's WHERE).
pub(crate) fn counter_sums() -> Vec<String> {
    let open = "CAST(status AS TEXT) IN ('accepted', 'assigned', 'in_progress')";
    let acc = "accepted_at IS NOT NULL";
    vec![
        "COUNT(*)".to_string(),
        "COUNT(accepted_at)".into(),
        "COUNT(rejected_at)".into(),
        format!(
            "COUNT(CASE WHEN {acc} AND CAST(status AS TEXT) IN ('closed', 'archived') THEN 1 END)"
        ),
        "COUNT(first_replied_at)".into(),
        "COUNT(rating_level)".into(),
        "COUNT(CASE WHEN CAST(rating_level AS TEXT) = 'satisfied' THEN 1 END)".into(),
        "COUNT(CASE WHEN CAST(rating_level AS TEXT) = 'basically_satisfied' THEN 1 END)".into(),
        "COUNT(CASE WHEN CAST(rating_level AS TEXT) = 'dissatisfied' THEN 1 END)".into(),
        "COUNT(repeat_of)".into(),
        format!("COUNT(CASE WHEN {acc} AND first_reply_due_at IS NOT NULL THEN 1 END)"),
        format!(
            "COUNT(CASE WHEN {acc} AND first_reply_due_at IS NOT NULL \
             AND first_replied_at IS NOT NULL THEN 1 END)"
        ),
        format!("COUNT(CASE WHEN {acc} AND first_replied_at <= first_reply_due_at THEN 1 END)"),
        format!("COUNT(CASE WHEN {acc} AND {open} AND reply_due_at IS NOT NULL THEN 1 END)"),
    ]
}
