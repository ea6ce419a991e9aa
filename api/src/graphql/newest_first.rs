//! Newest-first pages on PostgreSQL try the newest monthly partitions first.
//!
//! `cases` is partitioned by month of `submitted_at` (`migration::partitioning`). A page
//! walking newest first through every partition starts an index scan in each of them
//! (26 on the demo year, most of the public first page's execution at 1M cases) although
//! the page is nearly always found in the last month or two. So the page is first asked
//! with a floor at the start of the month before the newest row it may hold, written
//! into the SQL so that the planner prunes the older partitions (and the first page
//! still binds nothing). When that probe fills the page and proves there is more, it
//! *is* the page: every row below the floor is older than all of its rows. Otherwise
//! the page is asked again without the floor. SQLite has no partitions: no probe.

use chrono::{DateTime, Months, Utc};
use entities::case;
use migration::partitioning;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{Condition, DbBackend, Order};

/// The probe's floor for a page walking `walk` whose newest possible row is at or
/// before `upper` (a cursor; `None`: no upper bound, the floor is cut from `now`), or
/// `None` when the page is not probed (SQLite, oldest first).
pub fn probe_floor(
    backend: DbBackend,
    walk: &Order,
    upper: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Condition> {
    if backend != DbBackend::Postgres || !matches!(walk, Order::Desc) {
        return None;
    }
    let month = partitioning::month_of(upper.unwrap_or(now));
    let floor = month.checked_sub_months(Months::new(1))?;
    let key = Expr::col((case::Entity, case::Column::SubmittedAt));
    Some(Condition::all().add(key.gte(Expr::cust(partitioning::bound(floor)))))
}

/// Whether a probe's `rows` are the page: it found more than the page holds (`limit`),
/// so no row below its floor can be among the page's or decide `hasMore`.
pub fn probe_answers(rows: usize, limit: u64) -> bool {
    rows as u64 > limit
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait};

    fn sql(floor: Condition) -> String {
        case::Entity::find()
            .filter(floor)
            .build(DbBackend::Postgres)
            .to_string()
    }

    #[test]
    fn a_first_page_is_probed_from_the_start_of_the_china_month_before_now() {
        // 2026-11-30 20:00 UTC is 1 December 04:00 in China: the floor is 1 November.
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap();
        let floor = probe_floor(DbBackend::Postgres, &Order::Desc, None, now).unwrap();
        assert!(
            sql(floor).ends_with(r#"WHERE "cases"."submitted_at" >= ('2026-11-01 00:00:00+08')"#),
            "the floor is a literal the planner prunes partitions with"
        );
    }

    #[test]
    fn a_page_after_a_cursor_is_probed_from_the_month_before_the_cursor() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let cursor = Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap();
        let floor = probe_floor(DbBackend::Postgres, &Order::Desc, Some(cursor), now).unwrap();
        let text = sql(floor);
        assert!(text.ends_with(r#">= ('2026-02-01 00:00:00+08')"#), "{text}");
    }

    #[test]
    fn sqlite_and_oldest_first_pages_are_not_probed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        assert!(probe_floor(DbBackend::Sqlite, &Order::Desc, None, now).is_none());
        assert!(probe_floor(DbBackend::Postgres, &Order::Asc, None, now).is_none());
    }

    #[test]
    fn only_a_probe_that_found_more_than_the_page_is_the_page() {
        assert!(probe_answers(21, 20));
        assert!(
            !probe_answers(20, 20),
            "20 rows may miss older ones for hasMore"
        );
        assert!(!probe_answers(3, 20));
    }
}
