//! The PostgreSQL feeder: one `LISTEN minyi_case_events` connection per instance
//! (taken from the pool for good). The trigger's notices arrive on commit only, so a
//! rolled-back write announces nothing. sqlx reconnects a lost connection; notices sent
//! while it was down are lost, so the feeder then catches up on the ids above the
//! highest it delivered (best effort: ids are drawn before commit, a transaction still
//! open across the outage announces itself when it commits).

use super::notice::Notice;
use super::recent::Recent;
use super::{publish, EventBatch};
use entities::case_event;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::WeakSender;

pub const CHANNEL: &str = "minyi_case_events";
/// Most ids in one batch (a range notice is read in pages of this size).
pub const PAGE: u64 = 1000;

/// The `LISTEN` connection lives in a pool of its own: a listener holds its connection for
/// the life of the process, and taking it from the request pool would leave requests one
/// connection short (with a pool of 2, half of it).
pub async fn listen(db: &DatabaseConnection) -> Result<PgListener, sea_orm::sqlx::Error> {
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let own_pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&own_pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The committed ids in `min..=max` (or above `min` without `max`), a page at a time.
async fn ids_between(
    db: &DatabaseConnection,
    min: i64,
    max: Option<i64>,
) -> Result<Vec<i64>, DbErr> {
    let mut query = case_event::Entity::find()
        .select_only()
        .column(case_event::Column::Id)
        .filter(case_event::Column::Id.gte(min));
    if let Some(max) = max {
        query = query.filter(case_event::Column::Id.lte(max));
    }
    query
        .order_by_asc(case_event::Column::Id)
        .limit(PAGE)
        .into_tuple()
        .all(db)
        .await
}

struct Feeder {
    db: DatabaseConnection,
    bus: WeakSender<Arc<EventBatch>>,
    recent: Recent,
    highest: i64,
}

impl Feeder {
    /// False once the bus is gone.
    fn deliver(&mut self, ids: Vec<i64>) -> bool {
        let fresh = self.recent.fresh(ids);
        if let Some(&max) = fresh.iter().max() {
            self.highest = self.highest.max(max);
        }
        publish(&self.bus, fresh)
    }

    /// Delivers every committed id from `min` up to `max`, a page at a time.
    async fn deliver_range(&mut self, mut min: i64, max: Option<i64>) -> Result<bool, DbErr> {
        loop {
            let ids = ids_between(&self.db, min, max).await?;
            let Some(&last) = ids.last() else {
                return Ok(true);
            };
            let full = ids.len() as u64 == PAGE;
            if !self.deliver(ids) {
                return Ok(false);
            }
            if !full {
                return Ok(true);
            }
            min = last + 1;
        }
    }

    async fn handle(&mut self, payload: &str) -> bool {
        match Notice::parse(payload) {
            Ok(Notice::Ids(ids)) => self.deliver(ids),
            Ok(Notice::Range { min, max }) => match self.deliver_range(min, Some(max)).await {
                Ok(alive) => alive,
                Err(err) => {
                    tracing::warn!(error = %err, min, max, "live: reading a range of case events failed");
                    true
                }
            },
            Err(err) => {
                tracing::warn!(error = %err, "live: ignoring a notice");
                true
            }
        }
    }
}

pub async fn run(
    db: DatabaseConnection,
    mut listener: PgListener,
    bus: WeakSender<Arc<EventBatch>>,
) {
    let mut feeder = Feeder {
        highest: super::sqlite::last_event_id(&db).await.unwrap_or(0),
        db,
        bus,
        recent: Recent::default(),
    };
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if !feeder.handle(notification.payload()).await {
                    return;
                }
            }
            Ok(None) => {
                tracing::warn!(
                    "live: the LISTEN connection was lost and re-established; catching up"
                );
                let from = feeder.highest + 1;
                match feeder.deliver_range(from, None).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(err) => tracing::warn!(error = %err, "live: catching up failed"),
                }
            }
            Err(sea_orm::sqlx::Error::PoolClosed) => return,
            Err(err) => {
                tracing::warn!(error = %err, "live: listening failed; retrying in a second");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if feeder.bus.upgrade().is_none() {
            return;
        }
    }
}
