//! The rubric: checking one member's scores of one case, and computing a closed panel's
//! results from all scores. Pure functions; the database layer is `store`.
//!
//! A member's score of a case is the weighted mean of its criterion scores,
//! Σ w_k·s_k / Σ w_k (every submission covers every criterion). A case's score is the
//! mean over the members who scored it. A department's score is the mean of its
//! evaluated cases' scores with a 95 % t-interval; normalised to 0–1 as
//! (score − scale_min) / (scale_max − scale_min). Agreement is Krippendorff's alpha
//! (interval) over members × cases of the members' weighted scores.

use super::statistics::{krippendorff_alpha_interval, mean_interval, MeanInterval};
use std::collections::{BTreeMap, BTreeSet};

/// A criterion of the rubric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Criterion {
    pub id: i32,
    pub weight: f64,
}

/// The rubric's scale, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
}

impl Scale {
    pub fn normalize(&self, score: f64) -> f64 {
        (score - f64::from(self.min)) / f64::from(self.max - self.min)
    }
}

/// Checks that `given` scores every criterion of the rubric exactly once, within the
/// scale. The message names the first problem found.
pub fn check_submission(
    criteria: &[Criterion],
    scale: Scale,
    given: &[(i32, i32)],
) -> Result<(), String> {
    let known: BTreeSet<i32> = criteria.iter().map(|c| c.id).collect();
    let mut seen = BTreeSet::new();
    for (criterion, score) in given {
        if !known.contains(criterion) {
            return Err(format!(
                "criterion {criterion} is not in this panel's rubric"
            ));
        }
        if !seen.insert(*criterion) {
            return Err(format!("criterion {criterion} is scored twice"));
        }
        if !(scale.min..=scale.max).contains(score) {
            return Err(format!(
                "the score of criterion {criterion} must be between {} and {}, got {score}",
                scale.min, scale.max
            ));
        }
    }
    if let Some(missing) = known.difference(&seen).next() {
        return Err(format!(
            "every criterion must be scored; criterion {missing} is missing"
        ));
    }
    Ok(())
}

/// One stored score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub member_id: i32,
    pub case_id: i64,
    pub criterion_id: i32,
    pub score: i32,
}

/// A department's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepartmentResult {
    pub department_id: i32,
    pub score: MeanInterval,
    pub normalized: f64,
}

/// Everything a panel's close computes.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelResults {
    pub departments: Vec<DepartmentResult>,
    /// Mean score of each criterion over all its scores (`None`: never scored).
    pub criterion_means: BTreeMap<i32, Option<f64>>,
    pub alpha: Option<f64>,
}

/// Computes the results from the rubric, the sample (case → department) and the scores.
pub fn results(
    criteria: &[Criterion],
    scale: Scale,
    sample: &BTreeMap<i64, i32>,
    scores: &[Score],
) -> PanelResults {
    let weights: BTreeMap<i32, f64> = criteria.iter().map(|c| (c.id, c.weight)).collect();
    let weight_total: f64 = weights.values().sum();

    let mut per_criterion: BTreeMap<i32, (f64, usize)> = BTreeMap::new();
    // (case, member) → Σ w·s, the weighted sum of that member's scores of the case.
    let mut weighted: BTreeMap<(i64, i32), f64> = BTreeMap::new();
    for s in scores {
        let entry = per_criterion.entry(s.criterion_id).or_default();
        entry.0 += f64::from(s.score);
        entry.1 += 1;
        let w = weights.get(&s.criterion_id).copied().unwrap_or(0.0);
        *weighted.entry((s.case_id, s.member_id)).or_default() += w * f64::from(s.score);
    }
    let criterion_means = criteria
        .iter()
        .map(|c| {
            let mean = per_criterion
                .get(&c.id)
                .filter(|(_, n)| *n > 0)
                .map(|(sum, n)| sum / *n as f64);
            (c.id, mean)
        })
        .collect();

    // Units of the reliability data: each case with its members' weighted scores.
    let mut units: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for ((case_id, _member), sum) in &weighted {
        units.entry(*case_id).or_default().push(sum / weight_total);
    }
    let alpha = krippendorff_alpha_interval(&units.values().cloned().collect::<Vec<_>>());

    let mut per_department: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for (case_id, member_scores) in &units {
        if let Some(department) = sample.get(case_id) {
            let case_score = member_scores.iter().sum::<f64>() / member_scores.len() as f64;
            per_department
                .entry(*department)
                .or_default()
                .push(case_score);
        }
    }
    let departments = per_department
        .into_iter()
        .filter_map(|(department_id, case_scores)| {
            mean_interval(&case_scores).map(|score| DepartmentResult {
                department_id,
                normalized: scale.normalize(score.mean),
                score,
            })
        })
        .collect();
    PanelResults {
        departments,
        criterion_means,
        alpha,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCALE: Scale = Scale { min: 1, max: 5 };

    fn rubric() -> Vec<Criterion> {
        vec![
            Criterion { id: 1, weight: 0.5 },
            Criterion { id: 2, weight: 0.3 },
            Criterion { id: 3, weight: 0.2 },
        ]
    }

    #[test]
    fn a_submission_must_score_every_criterion_once_within_the_scale() {
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 5), (2, 1), (3, 3)]),
            Ok(())
        );
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 6), (2, 1), (3, 3)]),
            Err("the score of criterion 1 must be between 1 and 5, got 6".into())
        );
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 0), (2, 1), (3, 3)]),
            Err("the score of criterion 1 must be between 1 and 5, got 0".into())
        );
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 5), (2, 1)]),
            Err("every criterion must be scored; criterion 3 is missing".into())
        );
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 5), (1, 4), (3, 3)]),
            Err("criterion 1 is scored twice".into())
        );
        assert_eq!(
            check_submission(&rubric(), SCALE, &[(1, 5), (2, 1), (3, 3), (9, 2)]),
            Err("criterion 9 is not in this panel's rubric".into())
        );
    }

    fn submit(member_id: i32, case_id: i64, scores: [i32; 3]) -> Vec<Score> {
        (1..=3)
            .zip(scores)
            .map(|(criterion_id, score)| Score {
                member_id,
                case_id,
                criterion_id,
                score,
            })
            .collect()
    }

    #[test]
    fn results_are_weighted_per_member_averaged_per_case_and_per_department() {
        // Department 10: cases 1 and 2; department 20: case 3; case 4 unscored.
        let sample: BTreeMap<i64, i32> = [(1, 10), (2, 10), (3, 20), (4, 20)].into_iter().collect();
        let scores: Vec<Score> = [
            submit(7, 1, [5, 5, 5]), // 5.0
            submit(8, 1, [4, 4, 4]), // 4.0  → case 1: 4.5
            submit(7, 2, [3, 1, 1]), // 1.5+0.3+0.2 = 2.0
            submit(8, 2, [3, 3, 3]), // 3.0  → case 2: 2.5
            submit(7, 3, [2, 2, 2]), // 2.0  → case 3: 2.0
        ]
        .concat();
        let r = results(&rubric(), SCALE, &sample, &scores);
        assert_eq!(r.departments.len(), 2);
        let d10 = r.departments[0];
        assert_eq!(
            (d10.department_id, d10.score.n, d10.score.mean),
            (10, 2, 3.5)
        );
        // s = √2, t(0.975, 1) = 12.7062: 3.5 ± 12.7062·1 = (−9.2062, 16.2062).
        let (lo, hi) = d10.score.interval.expect("two cases");
        assert!((lo + 9.2062).abs() < 1e-3 && (hi - 16.2062).abs() < 1e-3);
        assert_eq!(d10.normalized, 0.625);
        let d20 = r.departments[1];
        assert_eq!(
            (
                d20.department_id,
                d20.score.n,
                d20.score.mean,
                d20.score.interval
            ),
            (20, 1, 2.0, None)
        );
        assert_eq!(d20.normalized, 0.25);
        // Criterion 1: 5, 4, 3, 3, 2 → 3.4; criterion 2: 5, 4, 1, 3, 2 → 3.0.
        assert_eq!(r.criterion_means[&1], Some(3.4));
        assert_eq!(r.criterion_means[&2], Some(3.0));
        // Units (5, 4) and (2, 3): D_o = (1·2 + 1·2)/4 = 1; values 5, 4, 2, 3:
        // D_e = 2·(4·54 − 14²)/(4·3) = 40/12 → α = 1 − 12/40 = 0.7.
        let alpha = r.alpha.expect("two pairable cases");
        assert!((alpha - 0.7).abs() < 1e-12, "alpha {alpha}");
    }

    #[test]
    fn a_panel_without_scores_has_no_results() {
        let sample: BTreeMap<i64, i32> = [(1, 10)].into_iter().collect();
        let r = results(&rubric(), SCALE, &sample, &[]);
        assert!(r.departments.is_empty());
        assert_eq!(r.alpha, None);
        assert_eq!(r.criterion_means[&1], None);
    }
}
