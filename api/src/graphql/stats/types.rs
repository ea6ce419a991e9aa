//! The GraphQL types of the dashboard queries: inputs, enums, and the answers with
//! their conversions from the engine's types (suppressed numbers left out).

use super::suppression::score_hidden;
use crate::open_data::suppression::{Count, Mask, Rate};
use async_graphql::{Enum, InputObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dashboard_queries as dq;
use entities::{CaseKind, Channel};

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
    pub(super) fn to_engine(input: Option<RankWeights>) -> dq::RankWeights {
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
    pub(super) count: Option<u64>,
    pub(super) mean: Option<f64>,
    pub(super) median: Option<f64>,
    p90: Option<f64>,
}

impl DurationSummary {
    pub(super) fn masked(s: dq::Summary, hidden: bool) -> Self {
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
    pub(super) suppressed: bool,
    pub(super) received: Option<i64>,
    pub(super) accepted: Option<i64>,
    pub(super) rejected: Option<i64>,
    pub(super) due: Option<i64>,
    pub(super) replied_when_due: Option<i64>,
    pub(super) reply_rate: Option<f64>,
    pub(super) on_time: Option<i64>,
    pub(super) on_time_rate: Option<f64>,
    pub(super) closed: Option<i64>,
    pub(super) completion_rate: Option<f64>,
    pub(super) replied: Option<i64>,
    pub(super) rated: Option<i64>,
    pub(super) satisfied: Option<i64>,
    pub(super) basically_satisfied: Option<i64>,
    pub(super) dissatisfied: Option<i64>,
    pub(super) satisfaction_rate: Option<f64>,
    pub(super) participation_rate: Option<f64>,
    pub(super) overdue_now: Option<i64>,
    pub(super) repeats: Option<i64>,
    pub(super) repeat_rate: Option<f64>,
    /// Acceptance → first reply, clock hours.
    pub(super) reply_hours: DurationSummary,
    /// Acceptance → first reply, working days.
    pub(super) reply_working_days: DurationSummary,
    /// Acceptance → first response, clock hours.
    pub(super) response_hours: DurationSummary,
    /// Acceptance → first response, working days.
    pub(super) response_working_days: DurationSummary,
}

impl Stats {
    /// The numbers with the hidden ones left out.
    pub(super) fn masked(s: dq::Stats, m: &Mask) -> Self {
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
    pub(super) key: String,
    pub(super) label: String,
    pub(super) stats: Stats,
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
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    pub(super) stats: Stats,
}

#[derive(SimpleObject)]
pub struct RankedUnit {
    /// Department id or region code.
    pub(super) id: ID,
    pub(super) name: String,
}

#[derive(SimpleObject)]
pub struct RankingRow {
    /// 1-based among eligible units; `null` for ineligible ones.
    pub(super) rank: Option<u32>,
    pub(super) unit: RankedUnit,
    /// Composite index 0–1; `null` when the unit has none of the weighted rates.
    pub(super) score: Option<f64>,
    /// The third-party evaluation score 0–1 that went into `score` (closed panels whose
    /// period overlaps the window, docs/EVALUATION.md); `null` when `thirdParty` is not
    /// weighted or the unit has no panel result.
    pub(super) third_party_score: Option<f64>,
    pub(super) stats: Stats,
    /// Received at least `minCases` cases.
    pub(super) eligible: bool,
    /// In the bottom N of this month and of the month before (rank history only).
    pub(super) bottom_alert: bool,
}

impl RankingRow {
    /// A row with suppressed numbers hidden, and its score when a hidden rate went in.
    pub(super) fn masked(r: dq::RankingRow, mask: &Mask, weights: &dq::RankWeights) -> Self {
        let stats = Stats::masked(r.stats.clone(), mask);
        let mut row = RankingRow::new(r, false);
        row.stats = stats;
        if score_hidden(weights, mask) {
            row.score = None;
        }
        row
    }

    pub(super) fn new(r: dq::RankingRow, bottom_alert: bool) -> Self {
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
    pub(super) month_start: DateTime<Utc>,
    pub(super) rows: Vec<RankingRow>,
}

/// A unit in the bottom N two months in a row (Guangyuan's rule).
#[derive(SimpleObject)]
pub struct BottomAlert {
    pub(super) unit: RankedUnit,
    pub(super) first_month: DateTime<Utc>,
    pub(super) second_month: DateTime<Utc>,
    pub(super) first_rank: u32,
    pub(super) second_rank: u32,
    /// Eligible units ranked in the first and in the second month.
    pub(super) ranked_first: u32,
    pub(super) ranked_second: u32,
}

#[derive(SimpleObject)]
pub struct RankHistory {
    pub(super) months: Vec<MonthlyRanking>,
    pub(super) alerts: Vec<BottomAlert>,
}

#[derive(SimpleObject)]
pub struct HotTopic {
    /// `CATEGORY` or `REGION`.
    pub(super) dimension: Dimension,
    pub(super) key: String,
    pub(super) label: String,
    pub(super) count: i64,
    /// Mean received per preceding window of the same length.
    pub(super) baseline: f64,
    /// count ÷ baseline; `null` when the baseline is 0.
    pub(super) ratio: Option<f64>,
}

pub(super) fn dimension_in(d: Dimension) -> dq::Dimension {
    match d {
        Dimension::Region => dq::Dimension::Region,
        Dimension::Department => dq::Dimension::Department,
        Dimension::Category => dq::Dimension::Category,
        Dimension::Channel => dq::Dimension::Channel,
        Dimension::Kind => dq::Dimension::Kind,
    }
}

pub(super) fn dimension_out(d: dq::Dimension) -> Dimension {
    match d {
        dq::Dimension::Region => Dimension::Region,
        dq::Dimension::Department => Dimension::Department,
        dq::Dimension::Category => Dimension::Category,
        dq::Dimension::Channel => Dimension::Channel,
        dq::Dimension::Kind => Dimension::Kind,
    }
}

pub(super) fn unit_in(u: RankUnit) -> dq::RankUnit {
    match u {
        RankUnit::Department => dq::RankUnit::Department,
        RankUnit::Region => dq::RankUnit::Region,
    }
}
