//! One deadline index for the rollup's clock corrections instead of two (docs/METRICS.md):
//! keyed by each case's latest deadline, `GREATEST(first_reply_due_at, reply_due_at)`,
//! and covering what the corrections read. A case that is not yet due (first-round
//! deadline after as-of) or not yet overdue (deadline in force at or after as-of) has
//! its latest deadline at or after as-of, so one range of this index holds both kinds,
//! and the engine counts both in one statement. Before, the two indexes
//! `idx_cases_rollup_first_due` (000004, 000013) and `idx_cases_rollup_due_now` were read
//! by two statements over nearly the same cases; in the `sqlite3` shell on the
//! 1,000,000-case database a Sichuan department ranking's corrections went from 10 + 9 ms
//! (7,553 grouped rows) to 13 ms (3,802), and every case write now updates one index
//! where it updated two.

use crate::m20261126_000013_department_ranking_indexes::{covering, deadline_indexes};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index of the cases whose latest deadline is at or after an instant.
pub const AHEAD_INDEX: &str = "idx_cases_rollup_ahead";

/// Every column a correction reads, after the key: the window, the region and department
/// keys, the merge mark and the facts it counts.
pub const AHEAD_COVERED: [&str; 12] = [
    "submitted_at",
    "province_code",
    "city_code",
    "county_code",
    "region_code",
    "duplicate_of",
    "department_id",
    "accepted_at",
    "first_replied_at",
    "first_reply_due_at",
    "reply_due_at",
    "status",
];

/// The latest of a case's two deadlines (`prefix`: a table alias and dot, or empty); NULL
/// only when it has neither. SQLite's `max()` of several arguments is NULL when one is,
/// hence the `coalesce`s; PostgreSQL's `GREATEST` skips NULLs. A query must spell it as
/// the index does for the index to serve it.
pub fn latest_deadline(backend: DbBackend, prefix: &str) -> String {
    let (first, now) = (
        format!("{prefix}first_reply_due_at"),
        format!("{prefix}reply_due_at"),
    );
    match backend {
        DbBackend::Postgres => format!("GREATEST({first}, {now})"),
        _ => format!("max(coalesce({first}, {now}), coalesce({now}, {first}))"),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // An expression key: `covering` puts it in parentheses as it does any key.
        let key = format!("({})", latest_deadline(backend, ""));
        db.execute_unprepared(&covering(
            backend,
            AHEAD_INDEX,
            "cases",
            &[&key],
            &AHEAD_COVERED,
        ))
        .await?;
        for old in ["idx_cases_rollup_first_due", "idx_cases_rollup_due_now"] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {old}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        deadline_indexes(manager, true).await?;
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {AHEAD_INDEX}"))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_deadline_is_spelled_for_each_backend() {
        assert_eq!(
            latest_deadline(DbBackend::Postgres, "c."),
            "GREATEST(c.first_reply_due_at, c.reply_due_at)"
        );
        assert_eq!(
            latest_deadline(DbBackend::Sqlite, ""),
            "max(coalesce(first_reply_due_at, reply_due_at), coalesce(reply_due_at, first_reply_due_at))"
        );
    }
}
