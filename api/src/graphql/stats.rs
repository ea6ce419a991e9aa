//! The dashboard queries: `stats`, `breakdown`, `timeSeries`, `ranking`, `rankHistory`
//! and `hotTopics`, thin wrappers over the `dashboard-queries` engine. The caller's
//! scope is checked here (a leader stays within their region, a handler within their
//! department); every number and its definition lives in the engine (docs/METRICS.md).

use super::context::ContextExt;
use super::ids::{known_region, parse_id};
use crate::auth::{region_contains, Principal};
use crate::error::{ApiError, ApiResult};
use async_graphql::{Context, Enum, InputObject, Lookahead, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dashboard_queries as dq;
use entities::{department, CaseKind, Channel, Role};
use sea_orm::{DatabaseConnection, EntityTrait};

/// A region subtree and/or a department subtree (their intersection when both).
#[derive(InputObject, Default, Clone)]
pub struct ScopeInput {
    /// A region code of any level; the whole subtree.
    pub region_code: Option<String>,
    /// A department; it and every sub-unit.
    pub department_id: Option<ID>,
}

/// Which cases of the scope count.
#[derive(InputObject, Default, Clone)]
#[graphql(name = "StatsFilter")]
pub struct StatsFilterInput {
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    /// A category; a top-level category includes its sub-categories.
    pub category_id: Option<ID>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Dimension {
    /// The scope region's child regions (the provinces without a region).
    Region,
    /// The handling department.
    Department,
    Category,
    Channel,
    Kind,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Interval {
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RankUnit {
    Department,
    Region,
}

/// Weights of the composite index. Omitted weights are 0 when `weights` is given; when
/// it is not, the default is reply 0.4, on-time 0.3, satisfaction 0.3.
#[derive(InputObject, Default, Clone, Copy)]
pub struct RankWeights {
    pub reply_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub completion_rate: Option<f64>,
    /// Accepted, but third-party scores are not in the engine yet (no effect).
    pub third_party: Option<f64>,
}

impl RankWeights {
    fn to_engine(input: Option<RankWeights>) -> dq::RankWeights {
        match input {
            None => dq::RankWeights::default(),
            Some(w) => dq::RankWeights {
                reply_rate: w.reply_rate.unwrap_or(0.0),
                on_time_rate: w.on_time_rate.unwrap_or(0.0),
                satisfaction_rate: w.satisfaction_rate.unwrap_or(0.0),
                completion_rate: w.completion_rate.unwrap_or(0.0),
                third_party: w.third_party.unwrap_or(0.0),
            },
        }
    }
}

/// Mean, median and 90th percentile of a duration.
#[derive(SimpleObject)]
pub struct DurationSummary {
    /// How many cases the figures are over.
    count: u64,
    mean: Option<f64>,
    median: Option<f64>,
    p90: Option<f64>,
}

impl From<dq::Summary> for DurationSummary {
    fn from(s: dq::Summary) -> Self {
        DurationSummary {
            count: s.count,
            mean: s.mean,
            median: s.median,
            p90: s.p90,
        }
    }
}

/// Every dashboard number for one set of cases; rates are 0–1, `null` when their
/// denominator is 0 (definitions: docs/METRICS.md).
#[derive(SimpleObject)]
pub struct Stats {
    received: i64,
    accepted: i64,
    rejected: i64,
    due: i64,
    replied_when_due: i64,
    reply_rate: Option<f64>,
    on_time: i64,
    on_time_rate: Option<f64>,
    closed: i64,
    completion_rate: Option<f64>,
    replied: i64,
    rated: i64,
    satisfied: i64,
    basically_satisfied: i64,
    dissatisfied: i64,
    satisfaction_rate: Option<f64>,
    participation_rate: Option<f64>,
    overdue_now: i64,
    repeats: i64,
    repeat_rate: Option<f64>,
    /// Acceptance → first reply, clock hours.
    reply_hours: DurationSummary,
    /// Acceptance → first reply, working days.
    reply_working_days: DurationSummary,
    /// Acceptance → first response, clock hours.
    response_hours: DurationSummary,
    /// Acceptance → first response, working days.
    response_working_days: DurationSummary,
}

impl From<dq::Stats> for Stats {
    fn from(s: dq::Stats) -> Self {
        Stats {
            received: s.received,
            accepted: s.accepted,
            rejected: s.rejected,
            due: s.due,
            replied_when_due: s.replied_when_due,
            reply_rate: s.reply_rate,
            on_time: s.on_time,
            on_time_rate: s.on_time_rate,
            closed: s.closed,
            completion_rate: s.completion_rate,
            replied: s.replied,
            rated: s.rated,
            satisfied: s.satisfied,
            basically_satisfied: s.basically_satisfied,
            dissatisfied: s.dissatisfied,
            satisfaction_rate: s.satisfaction_rate,
            participation_rate: s.participation_rate,
            overdue_now: s.overdue_now,
            repeats: s.repeats,
            repeat_rate: s.repeat_rate,
            reply_hours: s.reply_hours.into(),
            reply_working_days: s.reply_working_days.into(),
            response_hours: s.response_hours.into(),
            response_working_days: s.response_working_days.into(),
        }
    }
}

#[derive(SimpleObject)]
pub struct StatsGroup {
    /// Region code, department id, category id, or the enum value (`none` / the scope's
    /// own code for cases outside every listed group).
    key: String,
    label: String,
    stats: Stats,
}

impl From<dq::StatsGroup> for StatsGroup {
    fn from(g: dq::StatsGroup) -> Self {
        StatsGroup {
            key: g.key,
            label: g.label,
            stats: g.stats.into(),
        }
    }
}

#[derive(SimpleObject)]
pub struct StatsPoint {
    /// Local midnight (Asia/Shanghai) starting the interval.
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    stats: Stats,
}

#[derive(SimpleObject)]
pub struct RankedUnit {
    /// Department id or region code.
    id: ID,
    name: String,
}

#[derive(SimpleObject)]
pub struct RankingRow {
    /// 1-based among eligible units; `null` for ineligible ones.
    rank: Option<u32>,
    unit: RankedUnit,
    /// Composite index 0–1; `null` when the unit has none of the weighted rates.
    score: Option<f64>,
    stats: Stats,
    /// Received at least `minCases` cases.
    eligible: bool,
    /// In the bottom N of this month and of the month before (rank history only).
    bottom_alert: bool,
}

impl RankingRow {
    fn new(r: dq::RankingRow, bottom_alert: bool) -> Self {
        RankingRow {
            rank: r.rank,
            unit: RankedUnit {
                id: ID(r.unit_id),
                name: r.unit_name,
            },
            score: r.score,
            stats: r.stats.into(),
            eligible: r.eligible,
            bottom_alert,
        }
    }
}

#[derive(SimpleObject)]
pub struct MonthlyRanking {
    month_start: DateTime<Utc>,
    rows: Vec<RankingRow>,
}

/// A unit in the bottom N two months in a row (Guangyuan's rule).
#[derive(SimpleObject)]
pub struct BottomAlert {
    unit: RankedUnit,
    first_month: DateTime<Utc>,
    second_month: DateTime<Utc>,
    first_rank: u32,
    second_rank: u32,
    /// Eligible units ranked in the first and in the second month.
    ranked_first: u32,
    ranked_second: u32,
}

#[derive(SimpleObject)]
pub struct RankHistory {
    months: Vec<MonthlyRanking>,
    alerts: Vec<BottomAlert>,
}

#[derive(SimpleObject)]
pub struct HotTopic {
    /// `CATEGORY` or `REGION`.
    dimension: Dimension,
    key: String,
    label: String,
    count: i64,
    /// Mean received per preceding window of the same length.
    baseline: f64,
    /// count ÷ baseline; `null` when the baseline is 0.
    ratio: Option<f64>,
}

fn dimension_in(d: Dimension) -> dq::Dimension {
    match d {
        Dimension::Region => dq::Dimension::Region,
        Dimension::Department => dq::Dimension::Department,
        Dimension::Category => dq::Dimension::Category,
        Dimension::Channel => dq::Dimension::Channel,
        Dimension::Kind => dq::Dimension::Kind,
    }
}

fn dimension_out(d: dq::Dimension) -> Dimension {
    match d {
        dq::Dimension::Region => Dimension::Region,
        dq::Dimension::Department => Dimension::Department,
        dq::Dimension::Category => Dimension::Category,
        dq::Dimension::Channel => Dimension::Channel,
        dq::Dimension::Kind => Dimension::Kind,
    }
}

fn unit_in(u: RankUnit) -> dq::RankUnit {
    match u {
        RankUnit::Department => dq::RankUnit::Department,
        RankUnit::Region => dq::RankUnit::Region,
    }
}

/// The engine's scope for this caller: a leader's scope must lie within their region
/// (default: it), a handler's within their department subtree (default: it); public,
/// evaluators and admins may ask about anything (aggregates only). Unknown codes and
/// ids are BAD_USER_INPUT, checked before the caller's limits.
async fn scope_for(
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

fn filter_of(filter: Option<StatsFilterInput>) -> ApiResult<dq::StatsFilter> {
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
fn wants_durations(stats: Lookahead<'_>) -> bool {
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
fn window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
    durations: bool,
) -> ApiResult<dq::Window> {
    let now = crate::clock::now();
    let w = dq::Window::new(from, to, Some(as_of.unwrap_or(now)))?.with_now(now);
    Ok(if durations { w } else { w.without_durations() })
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
        Ok(dq::stats(db, &scope, &filter, &w).await?.into())
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
        Ok(groups.into_iter().map(Into::into).collect())
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
        Ok(points
            .into_iter()
            .map(|p| StatsPoint {
                start: p.start,
                end: p.end,
                stats: p.stats.into(),
            })
            .collect())
    }

    /// Departments or child regions ranked by the composite index.
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
    ) -> ApiResult<Vec<RankingRow>> {
        let db = ctx.db()?;
        let scope = scope_for(db, ctx.principal()?, scope).await?;
        let filter = filter_of(filter)?;
        let durations = wants_durations(ctx.look_ahead().field("stats"));
        let w = window(from, to, as_of, durations)?;
        let rows = dq::ranking(
            db,
            unit_in(unit),
            &RankWeights::to_engine(weights),
            &scope,
            &filter,
            &w,
            min_cases_of(min_cases)?,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RankingRow::new(r, false))
            .collect())
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
        let options = dq::HotTopicOptions {
            baseline_windows: u32::try_from(baseline_windows)
                .map_err(|_| ApiError::bad_input("`baselineWindows` must be positive"))?,
            min_ratio,
            min_count: i64::from(min_count),
        };
        let topics = dq::hot_topics(db, &scope, &filter, &w, &options).await?;
        Ok(topics
            .into_iter()
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
