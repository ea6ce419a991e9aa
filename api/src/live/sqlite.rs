//! The SQLite feeder: after a commit signal (or a slow poll, for writers in other
//! processes) it reads the case events past the last id it delivered. SQLite admits
//! one writer at a time and assigns ids inside the write, so ids become visible in
//! ascending order and `id > last` never skips a row.

use super::{commit_signal, publish, EventBatch};
use entities::case_event;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::WeakSender;

/// Most ids in one batch.
pub const PAGE: u64 = 1000;
/// How often the tail looks without a signal (writers in other processes).
const POLL: Duration = Duration::from_secs(1);

pub async fn last_event_id(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let last: Option<i64> = case_event::Entity::find()
        .select_only()
        .column(case_event::Column::Id)
        .order_by_desc(case_event::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.unwrap_or(0))
}

async fn ids_after(db: &DatabaseConnection, last: i64) -> Result<Vec<i64>, DbErr> {
    case_event::Entity::find()
        .select_only()
        .column(case_event::Column::Id)
        .filter(case_event::Column::Id.gt(last))
        .order_by_asc(case_event::Column::Id)
        .limit(PAGE)
        .into_tuple()
        .all(db)
        .await
}

pub async fn run(db: DatabaseConnection, mut last: i64, bus: WeakSender<Arc<EventBatch>>) {
    let mut commits = commit_signal();
    loop {
        tokio::select! {
            changed = commits.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(POLL) => {}
        }
        loop {
            let ids = match ids_after(&db, last).await {
                Ok(ids) => ids,
                Err(err) => {
                    tracing::warn!(error = %err, "live: reading new case events failed; retrying");
                    break;
                }
            };
            let Some(&newest) = ids.last() else { break };
            last = newest;
            let full = ids.len() as u64 == PAGE;
            if !publish(&bus, ids) {
                return;
            }
            if !full {
                break;
            }
        }
        if bus.upgrade().is_none() {
            return;
        }
    }
}
