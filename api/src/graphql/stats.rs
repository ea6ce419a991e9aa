//! The dashboard queries: `stats`, `breakdown`, `timeSeries`, `ranking`, `rankHistory`
//! and `hotTopics`, thin wrappers over the `dashboard-queries` engine. The caller's
//! scope is checked here (a leader stays within their region, a handler within their
//! department); every number and its definition lives in the engine (docs/METRICS.md).
//! Public callers asking about township/village units get small-cell suppression
//! (`open_data::suppression`, docs/OPEN_DATA.md): hidden numbers are `null` with
//! `suppressed: true`, never 0.

use super::context::ContextExt;
use super::ids::{known_region, parse_id};
use crate::auth::{region_contains, Principal};
use crate::error::{ApiError, ApiResult};
use crate::open_data::suppression::{self as sup, Count, Mask, Rate, Threshold};
use async_graphql::{Context, Enum, InputObject, Lookahead, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dashboard_queries as dq;
use entities::{department, region, CaseKind, Channel, RegionLevel, Role};
use sea_orm::{DatabaseConnection, EntityTrait};
use std::collections::HashMap;

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
    /// Closed evaluation panels' normalised department scores (department rankings only).
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
    /// How many cases the figures are over; `null` when suppressed (then so is every
    /// figure).
    count: Option<u64>,
    mean: Option<f64>,
    median: Option<f64>,
    p90: Option<f64>,
}

impl DurationSummary {
    fn masked(s: dq::Summary, hidden: bool) -> Self {
        if hidden {
            return DurationSummary {
                count: None,
                mean: None,
                median: None,
                p90: None,
            };
        }
        DurationSummary {
            count: Some(s.count),
            mean: s.mean,
            median: s.median,
            p90: s.p90,
        }
    }
}

/// Every dashboard number for one set of cases; rates are 0–1, `null` when their
/// denominator is 0 (definitions: docs/METRICS.md). Counts are `null` only when
/// small-cell suppression hid them (`suppressed`).
#[derive(SimpleObject)]
pub struct Stats {
    /// True when some numbers here are hidden because they could identify people:
    /// public statistics of township/village units hide counts below the threshold,
    /// and the counts and rates that would give them back (docs/OPEN_DATA.md). A hidden
    /// number is `null`, never 0.
    suppressed: bool,
    received: Option<i64>,
    accepted: Option<i64>,
    rejected: Option<i64>,
    due: Option<i64>,
    replied_when_due: Option<i64>,
    reply_rate: Option<f64>,
    on_time: Option<i64>,
    on_time_rate: Option<f64>,
    closed: Option<i64>,
    completion_rate: Option<f64>,
    replied: Option<i64>,
    rated: Option<i64>,
    satisfied: Option<i64>,
    basically_satisfied: Option<i64>,
    dissatisfied: Option<i64>,
    satisfaction_rate: Option<f64>,
    participation_rate: Option<f64>,
    overdue_now: Option<i64>,
    repeats: Option<i64>,
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

impl Stats {
    /// The numbers with the hidden ones left out.
    fn masked(s: dq::Stats, m: &Mask) -> Self {
        let count = |c: Count, v: i64| (!m.hides(c)).then_some(v);
        let rate = |r: Rate, v: Option<f64>| if m.hides_rate(r) { None } else { v };
        Stats {
            suppressed: m.any(),
            received: count(Count::Received, s.received),
            accepted: count(Count::Accepted, s.accepted),
            rejected: count(Count::Rejected, s.rejected),
            due: count(Count::Due, s.due),
            replied_when_due: count(Count::RepliedWhenDue, s.replied_when_due),
            reply_rate: rate(Rate::Reply, s.reply_rate),
            on_time: count(Count::OnTime, s.on_time),
            on_time_rate: rate(Rate::OnTime, s.on_time_rate),
            closed: count(Count::Closed, s.closed),
            completion_rate: rate(Rate::Completion, s.completion_rate),
            replied: count(Count::Replied, s.replied),
            rated: count(Count::Rated, s.rated),
            satisfied: count(Count::Satisfied, s.satisfied),
            basically_satisfied: count(Count::BasicallySatisfied, s.basically_satisfied),
            dissatisfied: count(Count::Dissatisfied, s.dissatisfied),
            satisfaction_rate: rate(Rate::Satisfaction, s.satisfaction_rate),
            participation_rate: rate(Rate::Participation, s.participation_rate),
            overdue_now: count(Count::OverdueNow, s.overdue_now),
            repeats: count(Count::Repeats, s.repeats),
            repeat_rate: rate(Rate::Repeat, s.repeat_rate),
            reply_hours: DurationSummary::masked(s.reply_hours, m.hides(Count::ReplyDurations)),
            reply_working_days: DurationSummary::masked(
                s.reply_working_days,
                m.hides(Count::ReplyDurations),
            ),
            response_hours: DurationSummary::masked(
                s.response_hours,
                m.hides(Count::ResponseDurations),
            ),
            response_working_days: DurationSummary::masked(
                s.response_working_days,
                m.hides(Count::ResponseDurations),
            ),
        }
    }
}

impl From<dq::Stats> for Stats {
    fn from(s: dq::Stats) -> Self {
        Stats::masked(s, &Mask::NONE)
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
    /// The third-party evaluation score 0–1 that went into `score` (closed panels whose
    /// period overlaps the window, docs/EVALUATION.md); `null` when `thirdParty` is not
    /// weighted or the unit has no panel result.
    third_party_score: Option<f64>,
    stats: Stats,
    /// Received at least `minCases` cases.
    eligible: bool,
    /// In the bottom N of this month and of the month before (rank history only).
    bottom_alert: bool,
}

impl RankingRow {
    /// A row with suppressed numbers hidden, and its score when a hidden rate went in.
    fn masked(r: dq::RankingRow, mask: &Mask, weights: &dq::RankWeights) -> Self {
        let stats = Stats::masked(r.stats.clone(), mask);
        let mut row = RankingRow::new(r, false);
        row.stats = stats;
        if score_hidden(weights, mask) {
            row.score = None;
        }
        row
    }

    fn new(r: dq::RankingRow, bottom_alert: bool) -> Self {
        RankingRow {
            rank: r.rank,
            unit: RankedUnit {
                id: ID(r.unit_id),
                name: r.unit_name,
            },
            score: r.score,
            third_party_score: r.third_party_score,
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

/// Small-cell suppression for one public question about township/village units.
struct Suppression {
    threshold: i64,
    /// The scope's region (county level or below: above it nothing is suppressed).
    region: region::Model,
    /// The duration summaries are not in the answer (their counts are all 0).
    without_durations: bool,
}

/// Township and village cells are small enough to identify people.
fn is_small_area(level: RegionLevel) -> bool {
    matches!(level, RegionLevel::Township | RegionLevel::Village)
}

impl Suppression {
    /// Applies to public callers whose scope is a county or lies below one.
    async fn of(
        ctx: &Context<'_>,
        scope: &dq::Scope,
        w: &dq::Window,
    ) -> ApiResult<Option<Suppression>> {
        if ctx.principal()?.role != Role::Public {
            return Ok(None);
        }
        let Some(code) = &scope.region_code else {
            return Ok(None);
        };
        let threshold = ctx
            .data_opt::<Threshold>()
            .ok_or_else(|| {
                ApiError::Internal("schema data lacks the suppression threshold".into())
            })?
            .0;
        let region = region::Entity::find_by_id(code.clone())
            .one(ctx.db()?)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown region code {code}")))?;
        let below_city = region.level == RegionLevel::County || is_small_area(region.level);
        Ok(below_city.then_some(Suppression {
            threshold,
            region,
            without_durations: !w.durations,
        }))
    }

    /// Is the scope itself a township/village (every cell of the answer is small)?
    fn scope_is_small(&self) -> bool {
        is_small_area(self.region.level)
    }

    /// Drops what the answer does not contain from a mask.
    fn answered(&self, mask: Mask) -> Mask {
        if self.without_durations {
            mask.without(&[Count::ReplyDurations, Count::ResponseDurations])
        } else {
            mask
        }
    }

    fn siblings(&self, cells: &[&dq::Stats], parent: &Mask) -> Vec<Mask> {
        sup::suppress_siblings(cells, parent, self.threshold)
            .into_iter()
            .map(|m| self.answered(m))
            .collect()
    }

    /// The scope of the small region's parent (its siblings' common total).
    fn parent_scope(&self, scope: &dq::Scope) -> ApiResult<dq::Scope> {
        let parent = self.region.parent_code.clone().ok_or_else(|| {
            ApiError::Internal(format!("region {} has no parent", self.region.code))
        })?;
        Ok(dq::Scope {
            region_code: Some(parent),
            department_id: scope.department_id,
        })
    }

    /// The mask of the small scope region as its parent's breakdown over the same window
    /// hides it, so `stats` never shows what `breakdown` hides.
    async fn scope_mask(
        &self,
        db: &DatabaseConnection,
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Mask> {
        let parent = self.parent_scope(scope)?;
        let groups = dq::breakdown(db, dq::Dimension::Region, &parent, filter, w).await?;
        let cells: Vec<&dq::Stats> = groups.iter().map(|g| &g.stats).collect();
        let masks = self.siblings(&cells, &Mask::NONE);
        groups
            .iter()
            .position(|g| g.key == self.region.code)
            .map(|i| masks[i])
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "region {} is missing from its parent's breakdown",
                    self.region.code
                ))
            })
    }

    /// The masks of a breakdown of the scope, when its cells are township/village units:
    /// any breakdown of a small scope, or a county's breakdown by region.
    async fn breakdown_masks(
        &self,
        db: &DatabaseConnection,
        by: Dimension,
        groups: &[dq::StatsGroup],
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Option<Vec<Mask>>> {
        let cells: Vec<&dq::Stats> = groups.iter().map(|g| &g.stats).collect();
        if self.scope_is_small() {
            let parent = self.scope_mask(db, scope, filter, w).await?;
            return Ok(Some(self.siblings(&cells, &parent)));
        }
        if by == Dimension::Region {
            return Ok(Some(self.siblings(&cells, &Mask::NONE)));
        }
        Ok(None)
    }

    /// The masks of a small scope region's time series: its cells and its siblings'
    /// interval by interval (each interval hides what that interval's breakdown
    /// hides), and along time against the window total.
    async fn series_masks(
        &self,
        db: &DatabaseConnection,
        interval: dq::Interval,
        scope: &dq::Scope,
        filter: &dq::StatsFilter,
        w: &dq::Window,
    ) -> ApiResult<Vec<Mask>> {
        let parent = self.parent_scope(scope)?;
        let window_groups = dq::breakdown(db, dq::Dimension::Region, &parent, filter, w).await?;
        let cells: Vec<&dq::Stats> = window_groups.iter().map(|g| &g.stats).collect();
        let totals = sup::suppress_siblings(&cells, &Mask::NONE, self.threshold);
        let me = window_groups
            .iter()
            .position(|g| g.key == self.region.code)
            .ok_or_else(|| {
                ApiError::Internal(format!(
                    "region {} is missing from its parent's breakdown",
                    self.region.code
                ))
            })?;
        let series =
            dq::breakdown_series(db, dq::Dimension::Region, interval, &parent, filter, w).await?;
        let grid: Vec<Vec<Option<&dq::Stats>>> = series
            .iter()
            .map(|groups| {
                let by_key: HashMap<&str, &dq::Stats> =
                    groups.iter().map(|g| (g.key.as_str(), &g.stats)).collect();
                window_groups
                    .iter()
                    .map(|g| by_key.get(g.key.as_str()).copied())
                    .collect()
            })
            .collect();
        let masks = sup::suppress_grid(&grid, &totals, self.threshold);
        Ok(masks
            .into_iter()
            .map(|row| self.answered(row[me]))
            .collect())
    }
}

/// Is the composite score computed from a hidden rate?
fn score_hidden(weights: &dq::RankWeights, mask: &Mask) -> bool {
    [
        (weights.reply_rate, Rate::Reply),
        (weights.on_time_rate, Rate::OnTime),
        (weights.satisfaction_rate, Rate::Satisfaction),
        (weights.completion_rate, Rate::Completion),
    ]
    .iter()
    .any(|(weight, rate)| *weight != 0.0 && mask.hides_rate(*rate))
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
        let stats = dq::stats(db, &scope, &filter, &w).await?;
        match Suppression::of(ctx, &scope, &w).await? {
            Some(sup) if sup.scope_is_small() => {
                let mask = sup.scope_mask(db, &scope, &filter, &w).await?;
                Ok(Stats::masked(stats, &mask))
            }
            _ => Ok(stats.into()),
        }
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
        let rows = dq::ranking(
            db,
            unit_in(unit),
            &weights,
            &scope,
            &filter,
            &w,
            min_cases_of(min_cases)?,
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
        rows.into_iter()
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
