//! Rankings of departments or child regions by a weighted composite of their rates,
//! the monthly rank history, and Guangyuan's "bottom N two months in a row" alert.
//! Scoring, ordering and alerting are plain functions; only the stats come from SQL.

use crate::buckets::intervals;
use crate::model::{Dimension, Interval, Scope, Stats, StatsFilter, StatsGroup, Window};
use crate::queries::grouped;
use crate::ranking_ends::{ranking_ends, RankingEnds};
use crate::sql::resolve;
use crate::Error;
use chrono::{DateTime, Utc};
use entities::{evaluation_panel as panel, panel_department_result as panel_result};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QuerySelect, RelationDef,
};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// What is ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RankUnit {
    /// Handling departments with cases in scope.
    Department,
    /// The scope region's child regions (provinces without a region scope).
    Region,
}

/// Weights of the composite index. Only the relative sizes matter: the score is the
/// weighted mean of the components a unit has (see [`score`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankWeights {
    pub reply_rate: f64,
    pub on_time_rate: f64,
    pub satisfaction_rate: f64,
    /// Not in the domain's composite by default; Guangyuan ranks on it.
    pub completion_rate: f64,
    /// The third-party evaluation score (closed panels' normalised department scores,
    /// see [`third_party_scores`]). Fed for department rankings only: regions have no
    /// panel results, so for them this component is always missing.
    pub third_party: f64,
}

impl Default for RankWeights {
    fn default() -> Self {
        RankWeights {
            reply_rate: 0.4,
            on_time_rate: 0.3,
            satisfaction_rate: 0.3,
            completion_rate: 0.0,
            third_party: 0.0,
        }
    }
}

impl RankWeights {
    pub(crate) fn check(&self) -> Result<(), Error> {
        let all = [
            self.reply_rate,
            self.on_time_rate,
            self.satisfaction_rate,
            self.completion_rate,
            self.third_party,
        ];
        if all.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(Error::InvalidArgument(
                "weights must be finite and non-negative".into(),
            ));
        }
        if all.iter().sum::<f64>() <= 0.0 {
            return Err(Error::InvalidArgument(
                "at least one weight must be positive".into(),
            ));
        }
        Ok(())
    }
}

/// One unit's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankingRow {
    /// 1-based among eligible units; `None` for ineligible ones (listed after them).
    pub rank: Option<u32>,
    /// Department id or region code.
    pub unit_id: String,
    pub unit_name: String,
    /// Composite index 0–1; `None` when the unit has none of the weighted rates.
    pub score: Option<f64>,
    pub stats: Stats,
    /// The third-party score 0–1 the composite used; `None` when not weighted or the
    /// unit has no closed panel result overlapping the window.
    pub third_party_score: Option<f64>,
    /// Received at least `min_cases` cases.
    pub eligible: bool,
}

/// The composite index: Σ wᵢ·rᵢ ÷ Σ wᵢ over the weighted components the unit has (a
/// rate whose denominator is 0 is missing, not 0, so a unit is not punished for having
/// no due cases yet). Rounded to 1e-9 so that float noise cannot decide a tie.
pub fn score(stats: &Stats, weights: &RankWeights) -> Option<f64> {
    composite(stats, None, weights)
}

/// [`score`] with the unit's third-party score (0–1) as the fifth component.
pub fn composite(stats: &Stats, third_party: Option<f64>, weights: &RankWeights) -> Option<f64> {
    let parts = [
        (weights.reply_rate, stats.reply_rate),
        (weights.on_time_rate, stats.on_time_rate),
        (weights.satisfaction_rate, stats.satisfaction_rate),
        (weights.completion_rate, stats.completion_rate),
        (weights.third_party, third_party),
    ];
    let (mut num, mut den) = (0.0, 0.0);
    for (w, r) in parts {
        if let (true, Some(r)) = (w > 0.0, r) {
            num += w * r;
            den += w;
        }
    }
    (den > 0.0).then(|| ((num / den) * 1e9).round() / 1e9)
}

/// Numeric ids compare as numbers, region codes (same length) as strings.
fn id_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Orders and numbers groups: eligible first, then score desc (missing last), received
/// desc, id asc — a total order, so equal inputs always give the same ranking.
pub fn rank(groups: Vec<StatsGroup>, weights: &RankWeights, min_cases: i64) -> Vec<RankingRow> {
    rank_with(groups, &HashMap::new(), weights, min_cases)
}

/// [`rank`] with third-party scores by unit id.
pub fn rank_with(
    groups: Vec<StatsGroup>,
    third_party: &HashMap<String, f64>,
    weights: &RankWeights,
    min_cases: i64,
) -> Vec<RankingRow> {
    let fed = weights.third_party > 0.0;
    let mut rows: Vec<RankingRow> = groups
        .into_iter()
        .map(|g| {
            let tp = third_party.get(&g.key).copied().filter(|_| fed);
            (g, tp)
        })
        .map(|(g, tp)| RankingRow {
            rank: None,
            score: composite(&g.stats, tp, weights),
            third_party_score: tp,
            eligible: g.stats.received >= min_cases,
            unit_id: g.key,
            unit_name: g.label,
            stats: g.stats,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then_with(|| match (a.score, b.score) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            })
            .then_with(|| b.stats.received.cmp(&a.stats.received))
            .then_with(|| id_order(&a.unit_id, &b.unit_id))
    });
    for (n, row) in (1..).zip(rows.iter_mut().filter(|r| r.eligible)) {
        row.rank = Some(n);
    }
    rows
}

pub(crate) fn dimension(unit: RankUnit) -> Dimension {
    match unit {
        RankUnit::Department => Dimension::Department,
        RankUnit::Region => Dimension::Region,
    }
}

/// Keeps real units only: the "unassigned" / "scope's own level" groups are not units.
pub(crate) fn units(groups: Vec<StatsGroup>, unit: RankUnit, scope: &Scope) -> Vec<StatsGroup> {
    groups
        .into_iter()
        .filter(|g| match unit {
            RankUnit::Department => g.key != "none",
            RankUnit::Region => g.key != "other" && Some(&g.key) != scope.region_code.as_ref(),
        })
        .collect()
}

/// Ranks departments or child regions over the window, as of `window.as_of`.
/// `min_cases`: the received count a unit needs to be eligible.
pub async fn ranking<C: ConnectionTrait>(
    db: &C,
    unit: RankUnit,
    weights: &RankWeights,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
    min_cases: i64,
) -> Result<Vec<RankingRow>, Error> {
    let ends = RankingEnds::ALL;
    ranking_ends(db, unit, weights, scope, filter, window, min_cases, ends).await
}

/// One department's result on one closed panel, with the panel's period.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelResult {
    pub department_id: i32,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    pub cases: i32,
    pub normalized_score: f64,
}

/// The department results of panels closed by `as_of` whose period overlaps the window
/// (one query; none when the ranking does not weigh the third-party score).
pub(crate) async fn panel_results<C: ConnectionTrait>(
    db: &C,
    unit: RankUnit,
    weights: &RankWeights,
    w: &Window,
) -> Result<Vec<PanelResult>, Error> {
    if unit != RankUnit::Department || weights.third_party <= 0.0 {
        return Ok(Vec::new());
    }
    let on_panel: RelationDef = panel_result::Entity::belongs_to(panel::Entity)
        .from(panel_result::Column::PanelId)
        .to(panel::Column::Id)
        .into();
    let rows = panel_result::Entity::find()
        .select_only()
        .column(panel_result::Column::DepartmentId)
        .column(panel::Column::PeriodFrom)
        .column(panel::Column::PeriodTo)
        .column(panel_result::Column::Cases)
        .column(panel_result::Column::NormalizedScore)
        .join(JoinType::InnerJoin, on_panel)
        .filter(panel::Column::ClosedAt.is_not_null())
        .filter(panel::Column::ClosedAt.lte(w.as_of))
        .filter(panel::Column::PeriodFrom.lt(w.to))
        .filter(panel::Column::PeriodTo.gt(w.from))
        .into_tuple::<(i32, DateTime<Utc>, DateTime<Utc>, i32, f64)>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(department_id, period_from, period_to, cases, normalized_score)| PanelResult {
                department_id,
                period_from,
                period_to,
                cases,
                normalized_score,
            },
        )
        .collect())
}

/// Each department's third-party score over `[from, to)`: the mean of the normalised
/// scores of the panels whose period overlaps it, weighted by their evaluated cases.
pub fn third_party_scores(
    results: &[PanelResult],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> HashMap<String, f64> {
    let mut sums: HashMap<i32, (f64, f64)> = HashMap::new();
    for r in results
        .iter()
        .filter(|r| r.period_from < to && r.period_to > from && r.cases > 0)
    {
        let entry = sums.entry(r.department_id).or_default();
        entry.0 += r.normalized_score * f64::from(r.cases);
        entry.1 += f64::from(r.cases);
    }
    sums.into_iter()
        .map(|(d, (num, den))| (d.to_string(), num / den))
        .collect()
}

/// The ranking of one calendar month (Asia/Shanghai) of a history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyRanking {
    pub month_start: DateTime<Utc>,
    pub rows: Vec<RankingRow>,
}

/// One ranking per calendar month overlapping the window (one query for all months),
/// each over the cases submitted in that month, all seen at `window.as_of`.
pub async fn rank_history<C: ConnectionTrait>(
    db: &C,
    unit: RankUnit,
    weights: &RankWeights,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
    min_cases: i64,
) -> Result<Vec<MonthlyRanking>, Error> {
    weights.check()?;
    window.validate()?;
    let w = window.normalized();
    let months = intervals(Interval::Month, w.from, w.to)?;
    let r = resolve(db, scope, filter).await?;
    let boundaries: Vec<DateTime<Utc>> = months.iter().skip(1).map(|m| m.0).collect();
    let per_month = grouped(db, &r, &w, &boundaries, dimension(unit)).await?;
    let results = panel_results(db, unit, weights, &w).await?;
    Ok(months
        .into_iter()
        .zip(per_month)
        .map(|((month_start, month_end), groups)| MonthlyRanking {
            month_start,
            rows: rank_with(
                units(groups, unit, scope),
                &third_party_scores(&results, month_start, month_end),
                weights,
                min_cases,
            ),
        })
        .collect())
}

/// A unit in the bottom `n` of two consecutive months (Guangyuan: summoned for a talk).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BottomAlert {
    pub unit_id: String,
    pub unit_name: String,
    /// The first of the two months.
    pub first_month: DateTime<Utc>,
    /// The second month: the alert is raised at its bulletin.
    pub second_month: DateTime<Utc>,
    pub first_rank: u32,
    pub second_rank: u32,
    /// Eligible units ranked in each of the two months.
    pub ranked: (u32, u32),
}

/// Units among the last `n` eligible ranks in two consecutive months of `history`
/// (ordered by month). With fewer than `n` eligible units, all of them are "bottom".
pub fn bottom_alerts(history: &[MonthlyRanking], n: usize) -> Vec<BottomAlert> {
    let bottom = |m: &MonthlyRanking| -> Vec<(String, String, u32, u32)> {
        let ranked: Vec<&RankingRow> = m.rows.iter().filter(|r| r.rank.is_some()).collect();
        let total = ranked.len() as u32;
        ranked
            .iter()
            .rev()
            .take(n)
            .map(|r| {
                (
                    r.unit_id.clone(),
                    r.unit_name.clone(),
                    r.rank.unwrap_or_default(),
                    total,
                )
            })
            .collect()
    };
    let mut out = Vec::new();
    for pair in history.windows(2) {
        let first = bottom(&pair[0]);
        let second = bottom(&pair[1]);
        for (id, name, rank2, total2) in &second {
            if let Some((_, _, rank1, total1)) = first.iter().find(|f| &f.0 == id) {
                out.push(BottomAlert {
                    unit_id: id.clone(),
                    unit_name: name.clone(),
                    first_month: pair[0].month_start,
                    second_month: pair[1].month_start,
                    first_rank: *rank1,
                    second_rank: *rank2,
                    ranked: (*total1, *total2),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        a.second_month
            .cmp(&b.second_month)
            .then(b.second_rank.cmp(&a.second_rank))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(key: &str, received: i64, reply: Option<f64>, sat: Option<f64>) -> StatsGroup {
        StatsGroup {
            key: key.into(),
            label: format!("unit {key}"),
            stats: Stats {
                received,
                reply_rate: reply,
                on_time_rate: reply,
                satisfaction_rate: sat,
                ..Stats::default()
            },
        }
    }

    #[test]
    fn the_score_is_the_weighted_mean_of_the_rates_a_unit_has() {
        let w = RankWeights::default();
        let s = group("1", 10, Some(1.0), Some(0.5)).stats;
        assert_eq!(score(&s, &w), Some(0.85));
        let no_ratings = group("1", 10, Some(0.8), None).stats;
        assert_eq!(score(&no_ratings, &w), Some(0.8));
        assert_eq!(score(&group("1", 10, None, None).stats, &w), None);
    }

    #[test]
    fn ties_break_on_received_then_on_id() {
        let rows = rank(
            vec![
                group("10", 5, Some(0.9), Some(0.9)),
                group("2", 5, Some(0.9), Some(0.9)),
                group("3", 8, Some(0.9), Some(0.9)),
                group("4", 8, Some(1.0), Some(1.0)),
            ],
            &RankWeights::default(),
            0,
        );
        let order: Vec<(&str, Option<u32>)> =
            rows.iter().map(|r| (r.unit_id.as_str(), r.rank)).collect();
        assert_eq!(
            order,
            vec![
                ("4", Some(1)),
                ("3", Some(2)),
                ("2", Some(3)),
                ("10", Some(4))
            ]
        );
    }

    #[test]
    fn units_below_min_cases_are_listed_last_without_a_rank() {
        let rows = rank(
            vec![
                group("1", 2, Some(1.0), Some(1.0)),
                group("2", 20, Some(0.1), None),
            ],
            &RankWeights::default(),
            10,
        );
        assert_eq!(rows[0].unit_id, "2");
        assert_eq!(rows[0].rank, Some(1));
        assert_eq!(rows[1].unit_id, "1");
        assert_eq!(rows[1].rank, None);
        assert!(!rows[1].eligible);
    }

    #[test]
    fn a_unit_in_the_bottom_two_months_in_a_row_raises_one_alert() {
        let month = |m: u32, order: &[(&str, f64)]| MonthlyRanking {
            month_start: DateTime::parse_from_rfc3339(&format!("2025-{m:02}-01T00:00:00+08:00"))
                .unwrap()
                .with_timezone(&Utc),
            rows: rank(
                order
                    .iter()
                    .map(|(k, r)| group(k, 10, Some(*r), None))
                    .collect(),
                &RankWeights::default(),
                1,
            ),
        };
        let history = vec![
            month(1, &[("a", 0.9), ("b", 0.8), ("c", 0.1), ("d", 0.2)]),
            month(2, &[("a", 0.9), ("b", 0.1), ("c", 0.2), ("d", 0.95)]),
            month(3, &[("a", 0.5), ("b", 0.9), ("c", 0.95), ("d", 0.4)]),
        ];
        let alerts = bottom_alerts(&history, 2);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].unit_id, "c");
        assert_eq!((alerts[0].first_rank, alerts[0].second_rank), (4, 3));
        assert_eq!(alerts[0].ranked, (4, 4));
    }

    #[test]
    fn the_third_party_score_enters_the_composite_only_when_weighted() {
        let s = group("1", 10, Some(1.0), Some(0.5)).stats;
        let w = RankWeights {
            third_party: 0.5,
            ..RankWeights::default()
        };
        // (0.4·1 + 0.3·1 + 0.3·0.5 + 0.5·0.2) / 1.5 = 0.95 / 1.5
        assert_eq!(composite(&s, Some(0.2), &w), Some(0.633333333));
        assert_eq!(composite(&s, None, &w), Some(0.85));
        let tp: HashMap<String, f64> = [("1".to_string(), 0.2)].into_iter().collect();
        let fed = rank_with(vec![group("1", 10, Some(1.0), Some(0.5))], &tp, &w, 0);
        assert_eq!(
            (fed[0].score, fed[0].third_party_score),
            (Some(0.633333333), Some(0.2))
        );
        let unweighted = rank_with(
            vec![group("1", 10, Some(1.0), Some(0.5))],
            &tp,
            &RankWeights::default(),
            0,
        );
        assert_eq!(
            (unweighted[0].score, unweighted[0].third_party_score),
            (Some(0.85), None)
        );
    }

    #[test]
    fn overlapping_panels_are_averaged_by_their_evaluated_cases() {
        let t = |m: u32| {
            DateTime::parse_from_rfc3339(&format!("2025-{m:02}-01T00:00:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let results = vec![
            PanelResult {
                department_id: 7,
                period_from: t(1),
                period_to: t(4),
                cases: 10,
                normalized_score: 0.9,
            },
            PanelResult {
                department_id: 7,
                period_from: t(3),
                period_to: t(7),
                cases: 30,
                normalized_score: 0.5,
            },
            PanelResult {
                department_id: 8,
                period_from: t(5),
                period_to: t(7),
                cases: 4,
                normalized_score: 0.25,
            },
        ];
        let all = third_party_scores(&results, t(1), t(12));
        assert_eq!(all.len(), 2);
        assert!((all["7"] - 0.6).abs() < 1e-12);
        assert_eq!(all["8"], 0.25);
        let spring = third_party_scores(&results, t(1), t(3));
        assert_eq!(spring.len(), 1);
        assert_eq!(spring["7"], 0.9);
    }

    #[test]
    fn negative_weights_are_refused() {
        let w = RankWeights {
            reply_rate: -1.0,
            ..RankWeights::default()
        };
        assert!(matches!(w.check(), Err(Error::InvalidArgument(_))));
    }
}
