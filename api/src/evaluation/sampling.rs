//! Stratified random sampling of handled cases (抽样), reproducible from the seed.
//!
//! Allocation over departments, for a target of `n` cases and a minimum `m`:
//! 1. every department first gets `min(m, N_d)` cases (its floor);
//! 2. the rest of the target, `R = min(n − Σ floors, Σ (N_d − floor_d))` when positive,
//!    is shared in proportion to the cases each department has beyond its floor, by
//!    largest remainders (Hamilton): `⌊R·c_d/C⌋` each, then one more to the largest
//!    fractional parts, ties to the lower department id.
//!
//! The sample is `min(n, N)` cases unless the floors alone exceed `n` (the floors win:
//! every department is evaluated). With `by_category`, a department's allocation is
//! split over its categories by the same largest-remainder rule (no floor). Within each
//! stratum the cases, sorted by id, are chosen by the seeded partial Fisher–Yates of
//! [`super::rng`], strata taken in (department id, category id) order.

use super::rng::{choose, generator, Stream};
use std::collections::BTreeMap;

/// A handled case as the sampler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub case_id: i64,
    pub department_id: i32,
    pub category_id: Option<i32>,
}

/// What to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplePlan {
    pub size: usize,
    pub min_per_department: usize,
    pub by_category: bool,
}

/// Shares `total` over `sizes` in proportion, by largest remainders; ties go to the
/// earlier key. Never gives a key more than its size when `total ≤ Σ sizes`.
fn largest_remainders<K: Copy + Ord>(
    sizes: &BTreeMap<K, usize>,
    total: usize,
) -> BTreeMap<K, usize> {
    let sum: usize = sizes.values().sum();
    let mut shares: BTreeMap<K, usize> = sizes.keys().map(|k| (*k, 0)).collect();
    if sum == 0 || total == 0 {
        return shares;
    }
    let total = total.min(sum);
    // Integer arithmetic: quota = total·size / sum, remainder = (total·size) mod sum.
    let mut remainders: Vec<(usize, K)> = Vec::with_capacity(sizes.len());
    let mut given = 0;
    for (k, size) in sizes {
        let product = total * size;
        let quota = product / sum;
        shares.insert(*k, quota);
        given += quota;
        remainders.push((product % sum, *k));
    }
    // Largest remainder first; equal remainders by key order (stable sort keeps it).
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, k) in remainders.into_iter().take(total - given) {
        if let Some(share) = shares.get_mut(&k) {
            *share += 1;
        }
    }
    shares
}

/// Cases per department, by the rule of the module documentation.
pub fn allocate(
    department_sizes: &BTreeMap<i32, usize>,
    size: usize,
    minimum: usize,
) -> BTreeMap<i32, usize> {
    let floors: BTreeMap<i32, usize> = department_sizes
        .iter()
        .map(|(d, n)| (*d, (*n).min(minimum)))
        .collect();
    let floor_total: usize = floors.values().sum();
    let beyond: BTreeMap<i32, usize> = department_sizes
        .iter()
        .map(|(d, n)| (*d, n - floors[d]))
        .collect();
    let extra = largest_remainders(&beyond, size.saturating_sub(floor_total));
    floors
        .into_iter()
        .map(|(d, f)| (d, f + extra.get(&d).copied().unwrap_or(0)))
        .collect()
}

/// The sampled cases, in stratum order and draw order within a stratum.
pub fn sample(candidates: &[Candidate], plan: SamplePlan, seed: u64) -> Vec<Candidate> {
    // Strata: department → category → cases sorted by id.
    let mut strata: BTreeMap<i32, BTreeMap<Option<i32>, Vec<Candidate>>> = BTreeMap::new();
    for c in candidates {
        let category = if plan.by_category {
            c.category_id
        } else {
            None
        };
        strata
            .entry(c.department_id)
            .or_default()
            .entry(category)
            .or_default()
            .push(*c);
    }
    let sizes: BTreeMap<i32, usize> = strata
        .iter()
        .map(|(d, cats)| (*d, cats.values().map(Vec::len).sum()))
        .collect();
    let per_department = allocate(&sizes, plan.size, plan.min_per_department);
    let mut rng = generator(seed, Stream::Sample);
    let mut chosen = Vec::new();
    for (department, categories) in &mut strata {
        let category_sizes: BTreeMap<Option<i32>, usize> =
            categories.iter().map(|(k, v)| (*k, v.len())).collect();
        let per_category = largest_remainders(&category_sizes, per_department[department]);
        for (category, cases) in categories.iter_mut() {
            cases.sort_by_key(|c| c.case_id);
            let k = per_category[category];
            chosen.extend(
                choose(&mut rng, cases.len(), k)
                    .into_iter()
                    .map(|i| cases[i]),
            );
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(pairs: &[(i32, usize)]) -> BTreeMap<i32, usize> {
        pairs.iter().copied().collect()
    }

    /// Departments 1, 2, 3 with 50, 30 and 20 cases, categories alternating 7 / 8.
    fn cases() -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut id = 1000;
        for (department, n) in [(1, 50), (2, 30), (3, 20)] {
            for i in 0..n {
                id += 1;
                out.push(Candidate {
                    case_id: id,
                    department_id: department,
                    category_id: Some(if i % 5 == 0 { 8 } else { 7 }),
                });
            }
        }
        out
    }

    #[test]
    fn the_allocation_is_proportional_beyond_the_floor() {
        // Floors 5 each; 25 more shared over 45, 25, 15 beyond the floor (of 85):
        // quotas 13.24, 7.35, 4.41 → 13, 7, 4 and the one left to the largest remainder (3).
        assert_eq!(
            allocate(&sizes(&[(1, 50), (2, 30), (3, 20)]), 40, 5),
            sizes(&[(1, 18), (2, 12), (3, 10)])
        );
    }

    #[test]
    fn small_departments_give_what_they_have_and_the_floors_may_exceed_the_target() {
        assert_eq!(
            allocate(&sizes(&[(1, 2), (2, 30)]), 10, 3),
            sizes(&[(1, 2), (2, 8)])
        );
        assert_eq!(
            allocate(&sizes(&[(1, 10), (2, 10), (3, 10)]), 4, 2),
            sizes(&[(1, 2), (2, 2), (3, 2)])
        );
        assert_eq!(
            allocate(&sizes(&[(1, 3), (2, 4)]), 100, 1),
            sizes(&[(1, 3), (2, 4)])
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
        let plan = SamplePlan {
            size: 40,
            min_per_department: 5,
            by_category: false,
        };
        let a = sample(&cases(), plan, 2026);
        assert_eq!(a, sample(&cases(), plan, 2026));
        let mut reversed = cases();
        reversed.reverse();
        assert_eq!(
            a,
            sample(&reversed, plan, 2026),
            "input order does not matter"
        );
        assert_ne!(a, sample(&cases(), plan, 2027));
    }

    #[test]
    fn the_sample_follows_the_allocation_per_department_and_category() {
        let plan = SamplePlan {
            size: 40,
            min_per_department: 5,
            by_category: true,
        };
        let drawn = sample(&cases(), plan, 5);
        let mut per: BTreeMap<(i32, Option<i32>), usize> = BTreeMap::new();
        for c in &drawn {
            *per.entry((c.department_id, c.category_id)).or_default() += 1;
        }
        // Department 1: 18 of 50 (40 in category 7, 10 in 8) → 14.4 / 3.6 → 14 + 4.
        // Department 2: 12 of 30 (24 / 6) → 9.6 / 2.4 → 10 + 2.
        // Department 3: 10 of 20 (16 / 4) → 8 + 2.
        let want: BTreeMap<(i32, Option<i32>), usize> = [
            ((1, Some(7)), 14),
            ((1, Some(8)), 4),
            ((2, Some(7)), 10),
            ((2, Some(8)), 2),
            ((3, Some(7)), 8),
            ((3, Some(8)), 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(per, want);
        let mut ids: Vec<i64> = drawn.iter().map(|c| c.case_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 40, "no case is sampled twice");
    }

    /// The statistical test of the sample's distribution: over many seeds each case of a
    /// department is sampled with the same probability n_d / N_d. Chi-square of the
    /// selection counts against that expectation, per department.
    #[test]
    fn within_a_department_every_case_is_equally_likely_to_be_sampled() {
        let plan = SamplePlan {
            size: 40,
            min_per_department: 5,
            by_category: false,
        };
        let runs = 3000u64;
        let mut counts: BTreeMap<i64, u32> = BTreeMap::new();
        for seed in 0..runs {
            for c in sample(&cases(), plan, seed) {
                *counts.entry(c.case_id).or_default() += 1;
            }
        }
        let all = cases();
        // (department, cases, sampled, 0.999 quantile of chi-square with N−1 df)
        for (department, n, k, bound) in
            [(1, 50, 18, 85.35), (2, 30, 12, 58.30), (3, 20, 10, 43.82)]
        {
            let expected = runs as f64 * k as f64 / n as f64;
            let chi2: f64 = all
                .iter()
                .filter(|c| c.department_id == department)
                .map(|c| {
                    let o = f64::from(counts.get(&c.case_id).copied().unwrap_or(0));
                    (o - expected).powi(2) / expected
                })
                .sum();
            assert!(chi2 < bound, "department {department}: chi-square {chi2}");
            let total: u32 = all
                .iter()
                .filter(|c| c.department_id == department)
                .map(|c| counts.get(&c.case_id).copied().unwrap_or(0))
                .sum();
            assert_eq!(
                u64::from(total),
                runs * k as u64,
                "every run takes exactly n_d"
            );
        }
    }
}
