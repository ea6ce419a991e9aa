//! Automatic supervision (督办) of cases overdue by more than a threshold of working
//! days. Run every minute by the `supervise_overdue` job (api/src/jobs), once per minute
//! across all instances; idempotent anyway: the flag is set only where it is still false,
//! and the event is written in the same transaction as the flag, so each case gets
//! exactly one such event even if two passes ever overlap.

use super::state_machine::AWAITING_REPLY;
use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use dashboard_queries::calendar::WorkCalendar;
use entities::{case, case_event, CaseAction};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

/// Working days past the reply deadline after which a case is flagged.
pub const DEFAULT_THRESHOLD_DAYS: u32 = 3;
/// The environment variable that overrides the threshold.
pub const THRESHOLD_ENV: &str = "MINYI_SUPERVISE_OVERDUE_DAYS";
/// Cases examined per pass; the next pass picks up the rest.
const BATCH: u64 = 500;

/// The actor recorded on the events this job writes.
pub const ACTOR: &str = "system:overdue";

/// Is a case due at `due` overdue by more than `threshold` working days at `now`?
pub fn past_threshold(
    calendar: &WorkCalendar,
    due: DateTime<Utc>,
    threshold: u32,
    now: DateTime<Utc>,
) -> bool {
    calendar.add_working_days(due, threshold) < now
}

/// Flags every open case overdue beyond the threshold that is not flagged yet; returns
/// how many it flagged.
pub async fn supervise_overdue(
    db: &DatabaseConnection,
    calendar: &WorkCalendar,
    threshold: u32,
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    let candidates = case::Entity::find()
        .filter(case::Column::Status.is_in(AWAITING_REPLY))
        .filter(case::Column::Supervised.eq(false))
        .filter(case::Column::ReplyDueAt.lt(now))
        .order_by_asc(case::Column::ReplyDueAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut flagged = 0;
    for c in candidates {
        let Some(due) = c.reply_due_at else { continue };
        if !past_threshold(calendar, due, threshold, now) {
            // Ordered by deadline: every later candidate is even less overdue.
            break;
        }
        let txn = db.begin().await?;
        let updated = case::Entity::update_many()
            .col_expr(case::Column::Supervised, Expr::value(true))
            .filter(case::Column::Id.eq(c.id))
            .filter(case::Column::Supervised.eq(false))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            // Someone flagged it first (another replica, or a leader by hand).
            txn.rollback().await?;
            continue;
        }
        case_event::ActiveModel {
            case_id: Set(c.id),
            at: Set(now),
            action: Set(CaseAction::Supervise),
            from_status: Set(Some(c.status)),
            to_status: Set(Some(c.status)),
            department_id: Set(c.department_id),
            reply_due_at: Set(None),
            actor: Set(ACTOR.into()),
            note: Set(Some(format!(
                "overdue by more than {threshold} working days"
            ))),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        crate::live::committed();
        flagged += 1;
    }
    Ok(flagged)
}

/// The threshold from the environment, or the default.
pub fn threshold_from_env() -> u32 {
    std::env::var(THRESHOLD_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_THRESHOLD_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_threshold_counts_working_days_after_the_deadline() {
        let cal = WorkCalendar::shanghai([]);
        let sh = chrono_tz::Asia::Shanghai;
        // Due Friday 2025-03-07 23:59:59; three working days later is Wednesday's end.
        let due = sh
            .with_ymd_and_hms(2025, 3, 7, 23, 59, 59)
            .unwrap()
            .with_timezone(&Utc);
        let wed_evening = sh
            .with_ymd_and_hms(2025, 3, 12, 20, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let thu_morning = sh
            .with_ymd_and_hms(2025, 3, 13, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert!(!past_threshold(&cal, due, 3, wed_evening));
        assert!(past_threshold(&cal, due, 3, thu_morning));
    }
}
