//! The subscriptions (docs/LIVE.md): `caseEvents` streams the case events the caller
//! may see, `statsChanged` pushes a fresh `stats` when events touch its scope. Both
//! take their scope exactly as `stats` does (a leader stays in their region, else
//! FORBIDDEN) and read the bus of `crate::live`. Visibility is applied in SQL with
//! `Principal::case_visibility`, and the items are the query types (`Case`,
//! `CaseEvent`), so the public sees the stored redacted texts and no notes or citizen.

use super::case::{CaseEvent, CaseNode};
use super::context::ContextExt;
use super::ids::parse_id;
use super::stats::{
    filter_of, scope_for, stats_of, wants_durations, window, ScopeInput, Stats, StatsFilterInput,
};
use crate::auth::{department_subtree, region_subtree};
use crate::error::{ApiError, ApiResult};
use crate::live::{EventBatch, LiveBus};
use async_graphql::{Context, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use dashboard_queries as dq;
use entities::{case, case_event, department, region};
use futures::Stream;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

/// Most events `caseEvents(after:)` replays; further behind, the client reloads.
pub const MAX_REPLAY: u64 = 1000;
/// `statsChanged` pushes at most once in this interval.
pub const STATS_INTERVAL: Duration = Duration::from_secs(1);

fn bus<'c>(ctx: &'c Context<'_>) -> ApiResult<&'c LiveBus> {
    ctx.data_opt::<LiveBus>()
        .ok_or_else(|| ApiError::Internal("schema data lacks the live bus".into()))
}

/// The cases of an engine scope, as a condition on `cases` (the engine's own rule:
/// a region's subtree, a department and its sub-units).
async fn scope_condition(db: &DatabaseConnection, scope: &dq::Scope) -> ApiResult<Condition> {
    let mut condition = Condition::all();
    if let Some(code) = &scope.region_code {
        let region = region::Entity::find_by_id(code.clone())
            .one(db)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown region {code}")))?;
        condition = condition.add(region_subtree(&region));
    }
    if let Some(id) = scope.department_id {
        let department = department::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown department {id}")))?;
        condition = condition.add(department_subtree(&department.path));
    }
    Ok(condition)
}

/// One case event as it reaches a subscriber.
pub struct LiveCaseEvent {
    id: i64,
    event: CaseEvent,
    case: case::Model,
}

#[Object]
impl LiveCaseEvent {
    /// The event's id: pass the last one seen as `after` when subscribing again.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn case_id(&self) -> ID {
        ID(self.case.id.to_string())
    }
    /// The event, as in `Case.events` (notes for staff roles only).
    async fn event(&self) -> &CaseEvent {
        &self.event
    }
    /// The case as it stands when the event is delivered (free text redacted for
    /// roles that do not see personal data).
    async fn case(&self) -> CaseNode {
        CaseNode(self.case.clone())
    }
}

/// The events of one subscriber: replayed ones first, then the bus's, each batch read
/// with the subscriber's condition.
struct EventFeed {
    db: DatabaseConnection,
    receiver: broadcast::Receiver<Arc<EventBatch>>,
    condition: Condition,
    hide_notes: bool,
    replay_after: Option<i64>,
    pending: VecDeque<LiveCaseEvent>,
    /// Ids delivered by the replay, which the bus may announce again.
    replayed: HashSet<i64>,
    finished: bool,
}

impl EventFeed {
    /// The visible events among `events`, in id order.
    async fn visible(&self, events: Vec<case_event::Model>) -> ApiResult<Vec<LiveCaseEvent>> {
        let case_ids: Vec<i64> = events.iter().map(|e| e.case_id).collect();
        if case_ids.is_empty() {
            return Ok(Vec::new());
        }
        let cases: HashMap<i64, case::Model> = case::Entity::find()
            .filter(case::Column::Id.is_in(case_ids))
            .filter(self.condition.clone())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(events
            .into_iter()
            .filter_map(|e| {
                let case = cases.get(&e.case_id)?.clone();
                Some(LiveCaseEvent {
                    id: e.id,
                    event: CaseEvent::from_model(e, self.hide_notes),
                    case,
                })
            })
            .collect())
    }

    async fn replay(&mut self, after: i64) -> ApiResult<()> {
        // Only the visible ones count towards the limit: one indexed join.
        let events = case_event::Entity::find()
            .filter(case_event::Column::Id.gt(after))
            .filter(
                case_event::Column::CaseId.in_subquery(
                    Query::select()
                        .column(case::Column::Id)
                        .from(case::Entity)
                        .cond_where(self.condition.clone())
                        .to_owned(),
                ),
            )
            .order_by_asc(case_event::Column::Id)
            .limit(MAX_REPLAY + 1)
            .all(&self.db)
            .await?;
        if events.len() as u64 > MAX_REPLAY {
            return Err(ApiError::bad_input(format!(
                "more than {MAX_REPLAY} events happened after event {after}; \
                 reload through the queries and subscribe without `after`"
            )));
        }
        let visible = self.visible(events).await?;
        self.replayed.extend(visible.iter().map(|e| e.id));
        self.pending.extend(visible);
        Ok(())
    }

    async fn load(&mut self, batch: &EventBatch) -> ApiResult<()> {
        let ids: Vec<i64> = batch
            .ids
            .iter()
            .copied()
            .filter(|id| !self.replayed.contains(id))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let events = case_event::Entity::find()
            .filter(case_event::Column::Id.is_in(ids))
            .order_by_asc(case_event::Column::Id)
            .all(&self.db)
            .await?;
        let visible = self.visible(events).await?;
        self.pending.extend(visible);
        Ok(())
    }

    async fn next(&mut self) -> Option<ApiResult<LiveCaseEvent>> {
        loop {
            if self.finished {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            let step = match self.replay_after.take() {
                Some(after) => self.replay(after).await,
                None => match self.receiver.recv().await {
                    Ok(batch) => self.load(&batch).await,
                    // A subscriber that fell behind by more than the bus holds has lost
                    // events: it is told so and the stream ends, rather than going on
                    // with a silent gap. The client reloads and subscribes again.
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "live: a caseEvents subscriber lagged");
                        Err(ApiError::Lagged(format!(
                            "this subscription fell {missed} batches behind and missed events; \
                             reload and subscribe again with `after`"
                        )))
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if let Err(err) = step {
                self.finished = true;
                return Some(Err(err));
            }
        }
    }
}

/// Do the events of `batch` touch a case of the scope?
async fn touches(
    db: &DatabaseConnection,
    batch: &EventBatch,
    scope: &Condition,
) -> ApiResult<bool> {
    let touched = case::Entity::find()
        .filter(
            case::Column::Id.in_subquery(
                Query::select()
                    .column(case_event::Column::CaseId)
                    .from(case_event::Entity)
                    .and_where(case_event::Column::Id.is_in(batch.ids.clone()))
                    .to_owned(),
            ),
        )
        .filter(scope.clone())
        .count(db)
        .await?;
    Ok(touched > 0)
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// The case events of the scope (default: all the caller may see) as they are
    /// committed, oldest first. With `after` (an event id), the visible events after it
    /// are replayed first (at most 1000), so a client that reconnects misses nothing.
    /// The public sees the events of published cases only, with redacted texts.
    async fn case_events<'ctx>(
        &self,
        ctx: &'ctx Context<'_>,
        scope: Option<ScopeInput>,
        after: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = Result<LiveCaseEvent, ApiError>> + 'ctx> {
        // Subscribed first: whatever commits from here on is delivered.
        let receiver = bus(ctx)?.subscribe();
        let db = ctx.db()?.clone();
        let principal = ctx.principal()?;
        let replay_after = after
            .as_ref()
            .map(|id| parse_id::<i64>(id, "event"))
            .transpose()?;
        let scope = scope_for(&db, principal, scope).await?;
        let condition = principal
            .case_visibility()
            .add(scope_condition(&db, &scope).await?);
        let feed = EventFeed {
            db,
            receiver,
            condition,
            hide_notes: !principal.sees_personal_data(),
            replay_after,
            pending: VecDeque::new(),
            replayed: HashSet::new(),
            finished: false,
        };
        Ok(futures::stream::unfold(feed, move |mut feed| async move {
            let item = feed.next().await?;
            // Relations are read afresh for each event (a case's events grow).
            if let Ok(loaders) = ctx.loaders() {
                loaders.clear_all();
            }
            Some((item, feed))
        }))
    }

    /// `stats` for the scope, filter and window, pushed on subscribe and then whenever
    /// committed events touch a case of the scope, at most once a second. The same
    /// numbers as the query, small-cell suppression included.
    async fn stats_changed<'ctx>(
        &self,
        ctx: &'ctx Context<'_>,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> async_graphql::Result<impl Stream<Item = Result<Stats, ApiError>> + 'ctx> {
        let receiver = bus(ctx)?.subscribe();
        let db = ctx.db()?.clone();
        let scope = scope_for(&db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let durations = wants_durations(ctx.look_ahead());
        // Checked now, so a bad window is refused on subscribe.
        window(from, to, None, durations)?;
        let touching = scope_condition(&db, &scope).await?;
        let state = StatsFeed {
            db,
            receiver,
            touching,
            last_push: None,
            finished: false,
        };
        Ok(futures::stream::unfold(state, move |mut state| {
            let (scope, filter) = (scope.clone(), filter.clone());
            async move {
                if state.finished {
                    return None;
                }
                if state.last_push.is_some() {
                    if let Err(err) = state.wait_for_change().await {
                        state.finished = true;
                        return Some((Err(err), state));
                    }
                    if state.finished {
                        return None;
                    }
                }
                state.last_push = Some(Instant::now());
                let stats = match window(from, to, None, durations) {
                    Ok(w) => stats_of(ctx, &state.db, &scope, &filter, &w).await,
                    Err(err) => Err(err),
                };
                state.finished = stats.is_err();
                Some((stats, state))
            }
        }))
    }
}

struct StatsFeed {
    db: DatabaseConnection,
    receiver: broadcast::Receiver<Arc<EventBatch>>,
    touching: Condition,
    last_push: Option<Instant>,
    finished: bool,
}

impl StatsFeed {
    /// Waits for a batch that touches the scope, then for the rest of the interval,
    /// taking in (and so coalescing) whatever else arrives meanwhile.
    async fn wait_for_change(&mut self) -> ApiResult<()> {
        loop {
            match self.receiver.recv().await {
                Ok(batch) => {
                    if touches(&self.db, &batch, &self.touching).await? {
                        break;
                    }
                }
                // Lost batches may have touched the scope: recompute, which is exact.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "live: a statsChanged subscriber lagged; recomputing"
                    );
                    break;
                }
                Err(RecvError::Closed) => {
                    self.finished = true;
                    return Ok(());
                }
            }
        }
        if let Some(last) = self.last_push {
            tokio::time::sleep_until(last + STATS_INTERVAL).await;
        }
        // Everything that arrived meanwhile is in the numbers about to be computed.
        while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = self.receiver.try_recv()
        {
        }
        Ok(())
    }
}
