//! The two ends of a ranking: a leader wants the top N and the bottom N of thousands of
//! departments, not every row. The ranks stay those of the whole ranking, so the third
//! from the bottom of 6,900 keeps rank 6,898.

use crate::model::{Scope, StatsFilter, Window};
use crate::queries::{department_label, grouped_labelled, names_by_id, Labels};
use crate::ranking::{
    dimension, panel_results, rank_with, third_party_scores, units, RankUnit, RankWeights,
    RankingRow,
};
use crate::sql::resolve;
use crate::Error;
use sea_orm::ConnectionTrait;

/// Which rows of a ranking to keep: the first `first` and the last `last` ranked
/// (eligible) units, in ranking order, each row once. Neither given: every row,
/// ineligible ones included (the whole ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RankingEnds {
    pub first: Option<usize>,
    pub last: Option<usize>,
}

impl RankingEnds {
    /// The whole ranking.
    pub const ALL: RankingEnds = RankingEnds {
        first: None,
        last: None,
    };

    /// Neither end asked for: the whole ranking.
    pub fn is_all(&self) -> bool {
        self.first.is_none() && self.last.is_none()
    }

    /// The rows to keep of `rows` (a ranking in rank order). Ineligible units have no
    /// rank, so they are in neither end; when the ends overlap (fewer ranked units than
    /// `first + last`) each unit is kept once.
    pub fn keep(&self, rows: Vec<RankingRow>) -> Vec<RankingRow> {
        if self.is_all() {
            return rows;
        }
        let ranked = rows.iter().filter(|r| r.rank.is_some()).count();
        let top = self.first.unwrap_or(0).min(ranked);
        let bottom_from = ranked - self.last.unwrap_or(0).min(ranked);
        rows.into_iter()
            .filter(|r| r.rank.is_some())
            .enumerate()
            .filter(|(i, _)| *i < top || *i >= bottom_from)
            .map(|(_, r)| r)
            .collect()
    }
}

/// [`crate::ranking`] cut to its `ends`: the whole ranking is computed, and department
/// names are read for the kept rows only (23 names for a top 20 and a bottom 3, not
/// 6,900).
#[allow(clippy::too_many_arguments)]
pub async fn ranking_ends<C: ConnectionTrait>(
    db: &C,
    unit: RankUnit,
    weights: &RankWeights,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
    min_cases: i64,
    ends: RankingEnds,
) -> Result<Vec<RankingRow>, Error> {
    weights.check()?;
    window.validate()?;
    let w = window.normalized();
    let r = resolve(db, scope, filter).await?;
    let labels = match unit {
        RankUnit::Department if !ends.is_all() => Labels::Later,
        _ => Labels::Named,
    };
    let mut all = grouped_labelled(db, &r, &w, &[], dimension(unit), labels).await?;
    let groups = units(all.pop().unwrap_or_default(), unit, scope);
    let results = panel_results(db, unit, weights, &w).await?;
    let third_party = third_party_scores(&results, w.from, w.to);
    let mut rows = ends.keep(rank_with(groups, &third_party, weights, min_cases));
    if labels == Labels::Later {
        let ids: Vec<i32> = rows.iter().filter_map(|r| r.unit_id.parse().ok()).collect();
        let names = names_by_id(db, "departments", &ids).await?;
        for row in &mut rows {
            if let Ok(id) = row.unit_id.parse() {
                row.unit_name = department_label(&names, id);
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stats;

    /// `ranked` ranked units "1"…, then `unranked` ineligible ones.
    fn ranking(ranked: u32, unranked: u32) -> Vec<RankingRow> {
        (1..=ranked + unranked)
            .map(|n| RankingRow {
                rank: (n <= ranked).then_some(n),
                unit_id: n.to_string(),
                unit_name: format!("unit {n}"),
                score: Some(0.5),
                stats: Stats::default(),
                third_party_score: None,
                eligible: n <= ranked,
            })
            .collect()
    }

    fn kept(first: Option<usize>, last: Option<usize>, rows: Vec<RankingRow>) -> Vec<u32> {
        RankingEnds { first, last }
            .keep(rows)
            .iter()
            .map(|r| r.rank.unwrap_or(0))
            .collect()
    }

    #[test]
    fn without_ends_every_row_stays_ineligible_ones_included() {
        assert_eq!(RankingEnds::ALL.keep(ranking(3, 2)).len(), 5);
    }

    #[test]
    fn the_top_and_the_bottom_keep_their_ranks_in_the_whole_ranking() {
        assert_eq!(kept(Some(2), Some(3), ranking(10, 4)), vec![1, 2, 8, 9, 10]);
        assert_eq!(kept(Some(2), None, ranking(10, 4)), vec![1, 2]);
        assert_eq!(kept(None, Some(1), ranking(10, 4)), vec![10]);
    }

    #[test]
    fn overlapping_ends_list_each_unit_once() {
        assert_eq!(kept(Some(3), Some(3), ranking(4, 1)), vec![1, 2, 3, 4]);
        assert_eq!(kept(Some(20), Some(3), ranking(2, 0)), vec![1, 2]);
    }

    #[test]
    fn zero_empties_that_end() {
        assert_eq!(kept(Some(0), Some(2), ranking(5, 0)), vec![4, 5]);
        assert_eq!(kept(Some(0), Some(0), ranking(5, 0)), Vec::<u32>::new());
        assert_eq!(kept(Some(0), None, ranking(5, 0)), Vec::<u32>::new());
    }

    #[test]
    fn ineligible_units_are_in_neither_end() {
        assert_eq!(kept(None, Some(2), ranking(3, 5)), vec![2, 3]);
        assert_eq!(kept(Some(9), None, ranking(0, 5)), Vec::<u32>::new());
    }
}
