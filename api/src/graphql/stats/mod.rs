//! The dashboard queries: `stats`, `breakdown`, `timeSeries`, `ranking`, `rankHistory`
//! and `hotTopics`, thin wrappers over the `dashboard-queries` engine. The caller's
//! scope is checked here (a leader stays within their region, a handler within their
//! department); every number and its definition lives in the engine (docs/METRICS.md).
//! Public callers asking about township/village units get small-cell suppression
//! (`open_data::suppression`, docs/OPEN_DATA.md): hidden numbers are `null` with
//! `suppressed: true`, never 0.

mod suppression;
mod types;

use super::context::ContextExt;
use super::ids::{known_region, parse_id};
use crate::auth::{region_contains, Principal};
use crate::error::{ApiError, ApiResult};
use crate::open_data::suppression::Mask;
use async_graphql::{Context, Lookahead, Object, ID};
use chrono::{DateTime, Utc};
use dashboard_queries as dq;
use entities::{department, Role};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::collections::HashMap;
use suppression::*;
pub use types::*;

/// The engine's scope for this caller: a leader's scope must lie within their region
/// (default: it), a handler's within their department subtree (default: it); public,
/// evaluators and admins may ask about anything (aggregates only). Unknown codes and
/// ids are BAD_USER_INPUT, checked before the caller's limits.
pub(super) async fn scope_for(
    db: &DatabaseConnection,
    principal: &Principal,
    scope: Option<ScopeInput>,
) -> ApiResult<dq::Scope> {
    let scope = scope.unwrap_or_default();
    let region = match &scope.region_code {
        Some(code) => Some(known_region(db, code).await?),
        None => None,
    };
    let department = match &scope.department_id {
        Some(id) => {
            let id: i32 = parse_id(id, "department")?;
            Some(
                department::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .ok_or_else(|| ApiError::bad_input(format!("unknown department {id}")))?,
            )
        }
        None => None,
    };
    let mut out = dq::Scope {
        region_code: region.as_ref().map(|r| r.code.clone()),
        department_id: department.as_ref().map(|d| d.id),
    };
    match principal.role {
        Role::Admin | Role::Public | Role::Evaluator => {}
        Role::Leader => {
            let own = principal
                .region
                .as_ref()
                .ok_or_else(|| ApiError::Forbidden("this key has no region".into()))?;
            match &region {
                Some(r) if !region_contains(own, r) => {
                    return Err(ApiError::Forbidden(format!(
                        "region {} is outside your region {}",
                        r.code, own.code
                    )))
                }
                Some(_) => {}
                None => out.region_code = Some(own.code.clone()),
            }
        }
        Role::Handler => {
            let own = principal
                .department
                .as_ref()
                .ok_or_else(|| ApiError::Forbidden("this key has no department".into()))?;
            match &department {
                Some(d) if !d.path.starts_with(&own.path) => {
                    return Err(ApiError::Forbidden(format!(
                        "department {} is outside your department {}",
                        d.id, own.id
                    )))
                }
                Some(_) => {}
                None => out.department_id = Some(own.id),
            }
        }
    }
    Ok(out)
}

pub(super) fn filter_of(filter: Option<StatsFilterInput>) -> ApiResult<dq::StatsFilter> {
    let f = filter.unwrap_or_default();
    Ok(dq::StatsFilter {
        channel: f.channel,
        kind: f.kind,
        category_id: f
            .category_id
            .as_ref()
            .map(|id| parse_id(id, "category"))
            .transpose()?,
    })
}

/// Whether the selection below `stats` asks for a duration summary (they cost one
/// more statement).
pub(super) fn wants_durations(stats: Lookahead<'_>) -> bool {
    [
        "replyHours",
        "replyWorkingDays",
        "responseHours",
        "responseWorkingDays",
    ]
    .iter()
    .any(|f| stats.field(f).exists())
}

/// The checked window, with the API clock as the engine's `now` (as-of defaults to it,
/// which selects the engine's fast path).
pub(super) fn window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
    durations: bool,
) -> ApiResult<dq::Window> {
    let now = crate::clock::now();
    let w = dq::Window::new(from, to, Some(as_of.unwrap_or(now)))?.with_now(now);
    Ok(if durations { w } else { w.without_durations() })
}

/// The ends of a ranking asked for: `first`/`last` must not be negative.
fn ends_of(first: Option<i32>, last: Option<i32>) -> ApiResult<dq::RankingEnds> {
    let end = |name: &str, n: Option<i32>| {
        n.map(|n| {
            usize::try_from(n)
                .map_err(|_| ApiError::bad_input(format!("`{name}` must not be negative, got {n}")))
        })
        .transpose()
    };
    Ok(dq::RankingEnds {
        first: end("first", first)?,
        last: end("last", last)?,
    })
}

fn min_cases_of(min_cases: Option<i32>) -> ApiResult<i64> {
    match min_cases {
        None => Ok(0),
        Some(n) if n >= 0 => Ok(i64::from(n)),
        Some(n) => Err(ApiError::bad_input(format!(
            "`minCases` must not be negative, got {n}"
        ))),
    }
}

/// `stats` of a checked scope, filter and window, with small-cell suppression for the
/// public: the one computation behind the query and the `statsChanged` subscription.
pub(super) async fn stats_of(
    ctx: &Context<'_>,
    db: &DatabaseConnection,
    scope: &dq::Scope,
    filter: &dq::StatsFilter,
    w: &dq::Window,
) -> ApiResult<Stats> {
    let stats = dq::stats(db, scope, filter, w).await?;
    match Suppression::of(ctx, scope, w).await? {
        Some(sup) if sup.scope_is_small() => {
            let mask = sup.scope_mask(db, scope, filter, w).await?;
            Ok(Stats::masked(stats, &mask))
        }
        _ => Ok(stats.into()),
    }
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Every metric for the cases of the scope and filter submitted in `[from, to)`, as
    /// they stood at `asOf` (default now).
    async fn stats(
        &self,
        ctx: &Context<'_>,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> ApiResult<Stats> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let w = window(from, to, as_of, wants_durations(ctx.look_ahead()))?;
        stats_of(ctx, db, &scope, &filter, &w).await
    }

    /// The metrics split by `by`; regions, categories, channels and kinds are
    /// zero-filled.
    #[allow(clippy::too_many_arguments)]
    async fn breakdown(
        &self,
        ctx: &Context<'_>,
        by: Dimension,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<StatsGroup>> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let durations = wants_durations(ctx.look_ahead().field("stats"));
        let w = window(from, to, as_of, durations)?;
        let groups = dq::breakdown(db, dimension_in(by), &scope, &filter, &w).await?;
        let masks = match Suppression::of(ctx, &scope, &w).await? {
            Some(sup) => {
                sup.breakdown_masks(db, by, &groups, &scope, &filter, &w)
                    .await?
            }
            None => None,
        };
        let Some(masks) = masks else {
            return Ok(groups.into_iter().map(Into::into).collect());
        };
        Ok(groups
            .into_iter()
            .zip(masks)
            .map(|(g, mask)| StatsGroup {
                key: g.key,
                label: g.label,
                stats: Stats::masked(g.stats, &mask),
            })
            .collect())
    }

    /// The metrics per day, ISO week or month (Asia/Shanghai), every interval present.
    #[allow(clippy::too_many_arguments)]
    async fn time_series(
        &self,
        ctx: &Context<'_>,
        interval: Interval,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<StatsPoint>> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let durations = wants_durations(ctx.look_ahead().field("stats"));
        let w = window(from, to, as_of, durations)?;
        let interval = match interval {
            Interval::Day => dq::Interval::Day,
            Interval::Week => dq::Interval::Week,
            Interval::Month => dq::Interval::Month,
        };
        let points = dq::time_series(db, interval, &scope, &filter, &w).await?;
        let masks = match Suppression::of(ctx, &scope, &w).await? {
            Some(sup) if sup.scope_is_small() => {
                sup.series_masks(db, interval, &scope, &filter, &w).await?
            }
            _ => vec![Mask::NONE; points.len()],
        };
        if masks.len() != points.len() {
            return Err(ApiError::Internal(format!(
                "{} suppression masks for {} intervals",
                masks.len(),
                points.len()
            )));
        }
        Ok(points
            .into_iter()
            .zip(masks)
            .map(|(p, mask)| StatsPoint {
                start: p.start,
                end: p.end,
                stats: Stats::masked(p.stats, &mask),
            })
            .collect())
    }

    /// Departments or child regions ranked by the composite index. `first: N` and
    /// `last: M` keep only the top N and the bottom M ranked units, in rank order, each
    /// once (ranks stay those of the whole ranking; ineligible units are in neither end;
    /// 0 empties that end); without both, every unit.
    #[allow(clippy::too_many_arguments)]
    async fn ranking(
        &self,
        ctx: &Context<'_>,
        unit: RankUnit,
        weights: Option<RankWeights>,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
        min_cases: Option<i32>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> ApiResult<Vec<RankingRow>> {
        let ends = ends_of(first, last)?;
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let durations = wants_durations(ctx.look_ahead().field("stats"));
        let w = window(from, to, as_of, durations)?;
        let weights = RankWeights::to_engine(weights);
        // Township units (a county's regions, or anything inside a township) are small
        // cells for the public.
        let sup = Suppression::of(ctx, &scope, &w)
            .await?
            .filter(|s| s.scope_is_small() || unit == RankUnit::Region);
        if sup.is_some() && min_cases.is_some_and(|n| n > 0) {
            return Err(ApiError::bad_input(
                "`minCases` is not available in public rankings of township units: \
                 eligibility would tell suppressed counts",
            ));
        }
        // Public township rankings mask each unit against all of its siblings: the
        // engine ranks them all and the ends are cut after the masks. Otherwise the
        // engine cuts them (and names only the units kept).
        let engine_ends = match sup {
            Some(_) => dq::RankingEnds::ALL,
            None => ends,
        };
        let rows = dq::ranking_ends(
            db,
            unit_in(unit),
            &weights,
            &scope,
            &filter,
            &w,
            min_cases_of(min_cases)?,
            engine_ends,
        )
        .await?;
        let Some(sup) = sup else {
            return Ok(rows
                .into_iter()
                .map(|r| RankingRow::new(r, false))
                .collect());
        };
        let masks: HashMap<String, Mask> = if unit == RankUnit::Region {
            // The same cells as the breakdown by region: the same masks.
            let groups = dq::breakdown(db, dq::Dimension::Region, &scope, &filter, &w).await?;
            let masks = sup
                .breakdown_masks(db, Dimension::Region, &groups, &scope, &filter, &w)
                .await?
                .unwrap_or_default();
            groups.into_iter().map(|g| g.key).zip(masks).collect()
        } else {
            let parent = sup.scope_mask(db, &scope, &filter, &w).await?;
            let cells: Vec<&dq::Stats> = rows.iter().map(|r| &r.stats).collect();
            let masks = sup.siblings(&cells, &parent);
            rows.iter().map(|r| r.unit_id.clone()).zip(masks).collect()
        };
        // Masks are of the whole ranking (siblings), so the ends are cut after them.
        ends.keep(rows)
            .into_iter()
            .map(|r| {
                let mask = masks.get(&r.unit_id).copied().ok_or_else(|| {
                    ApiError::Internal(format!("no suppression mask for unit {}", r.unit_id))
                })?;
                Ok(RankingRow::masked(r, &mask, &weights))
            })
            .collect()
    }

    /// One ranking per calendar month of the window, and the units in the bottom
    /// `bottomN` (default 3) two months in a row.
    #[allow(clippy::too_many_arguments)]
    async fn rank_history(
        &self,
        ctx: &Context<'_>,
        unit: RankUnit,
        weights: Option<RankWeights>,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
        min_cases: Option<i32>,
        #[graphql(default = 3)] bottom_n: i32,
    ) -> ApiResult<RankHistory> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let n = usize::try_from(bottom_n)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::bad_input("`bottomN` must be between 1 and 100"))?;
        let durations = wants_durations(
            ctx.look_ahead()
                .field("months")
                .field("rows")
                .field("stats"),
        );
        let w = window(from, to, as_of, durations)?;
        if let Some(sup) = Suppression::of(ctx, &scope, &w).await? {
            if sup.scope_is_small() || unit == RankUnit::Region {
                return Err(ApiError::Forbidden(
                    "monthly rankings of township units are not public (small-cell \
                     protection); ask for `ranking` of one window"
                        .into(),
                ));
            }
        }
        let history = dq::rank_history(
            db,
            unit_in(unit),
            &RankWeights::to_engine(weights),
            &scope,
            &filter,
            &w,
            min_cases_of(min_cases)?,
        )
        .await?;
        let alerts = dq::bottom_alerts(&history, n);
        let months = history
            .into_iter()
            .map(|m| MonthlyRanking {
                month_start: m.month_start,
                rows: m
                    .rows
                    .into_iter()
                    .map(|r| {
                        let flagged = alerts
                            .iter()
                            .any(|a| a.second_month == m.month_start && a.unit_id == r.unit_id);
                        RankingRow::new(r, flagged)
                    })
                    .collect(),
            })
            .collect();
        Ok(RankHistory {
            months,
            alerts: alerts
                .into_iter()
                .map(|a| BottomAlert {
                    unit: RankedUnit {
                        id: ID(a.unit_id),
                        name: a.unit_name,
                    },
                    first_month: a.first_month,
                    second_month: a.second_month,
                    first_rank: a.first_rank,
                    second_rank: a.second_rank,
                    ranked_first: a.ranked.0,
                    ranked_second: a.ranked.1,
                })
                .collect(),
        })
    }

    /// Categories and child regions whose volume in the window rises well above their
    /// baseline (the mean of the `baselineWindows` preceding windows of equal length).
    /// For the public, a county's townships are left out and a township's topics are
    /// FORBIDDEN (small-cell protection, docs/OPEN_DATA.md).
    #[allow(clippy::too_many_arguments)]
    async fn hot_topics(
        &self,
        ctx: &Context<'_>,
        scope: Option<ScopeInput>,
        filter: Option<StatsFilterInput>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
        #[graphql(default = 4)] baseline_windows: i32,
        #[graphql(default = 1.5)] min_ratio: f64,
        #[graphql(default = 5)] min_count: i32,
    ) -> ApiResult<Vec<HotTopic>> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let w = window(from, to, as_of, false)?;
        // Hot topics are counts with a caller-chosen floor: inside a township they are
        // not public at all, and a county's list leaves its townships out.
        let sup = Suppression::of(ctx, &scope, &w).await?;
        if sup.as_ref().is_some_and(Suppression::scope_is_small) {
            return Err(ApiError::Forbidden(
                "hot topics inside a township are not public (small-cell protection)".into(),
            ));
        }
        let options = dq::HotTopicOptions {
            baseline_windows: u32::try_from(baseline_windows)
                .map_err(|_| ApiError::bad_input("`baselineWindows` must be positive"))?,
            min_ratio,
            min_count: i64::from(min_count),
        };
        let topics = dq::hot_topics(db, &scope, &filter, &w, &options).await?;
        Ok(topics
            .into_iter()
            .filter(|t| sup.is_none() || t.dimension != dq::Dimension::Region)
            .map(|t| HotTopic {
                dimension: dimension_out(t.dimension),
                key: t.key,
                label: t.label,
                count: t.count,
                baseline: t.baseline,
                ratio: t.ratio,
            })
            .collect())
    }
}
