//! Drawing a panel's members from the reviewer pool (随机抽取评审员): for each kind, in
//! the fixed order experts, cadres, citizen representatives, the active reviewers of
//! that kind sorted by id, and `count` of them chosen with the panel's seed. The result
//! depends only on the seed and the pool, so anyone holding both can re-run it.

use super::rng::{choose, generator, Stream};
use entities::reviewer::ReviewerKind;

/// A reviewer as the draw sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub id: i32,
    pub kind: ReviewerKind,
}

/// How many members of each kind a panel wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindCounts {
    pub experts: usize,
    pub cadres: usize,
    pub citizen_representatives: usize,
}

impl KindCounts {
    pub fn of(&self, kind: ReviewerKind) -> usize {
        match kind {
            ReviewerKind::Expert => self.experts,
            ReviewerKind::Cadre => self.cadres,
            ReviewerKind::CitizenRepresentative => self.citizen_representatives,
        }
    }
}

/// Why a draw cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub kind: ReviewerKind,
    pub wanted: usize,
    pub available: usize,
}

/// The drawn reviewers in draw order (kind by kind), or the first kind whose pool is
/// too small: a panel never silently gets fewer members than it asked for.
pub fn draw_members(
    pool: &[Candidate],
    counts: KindCounts,
    seed: u64,
) -> Result<Vec<Candidate>, Shortfall> {
    let mut rng = generator(seed, Stream::Members);
    let mut drawn = Vec::new();
    for kind in ReviewerKind::ALL {
        let mut candidates: Vec<Candidate> =
            pool.iter().copied().filter(|c| c.kind == kind).collect();
        candidates.sort_by_key(|c| c.id);
        let wanted = counts.of(kind);
        if wanted > candidates.len() {
            return Err(Shortfall {
                kind,
                wanted,
                available: candidates.len(),
            });
        }
        drawn.extend(
            choose(&mut rng, candidates.len(), wanted)
                .into_iter()
                .map(|i| candidates[i]),
        );
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> Vec<Candidate> {
        let kinds = ReviewerKind::ALL;
        (1..=30)
            .map(|id| Candidate {
                id,
                kind: kinds[(id as usize) % 3],
            })
            .collect()
    }

    const COUNTS: KindCounts = KindCounts {
        experts: 3,
        cadres: 2,
        citizen_representatives: 4,
    };

    #[test]
    fn the_draw_takes_the_asked_number_of_each_kind_in_kind_order() {
        let drawn = draw_members(&pool(), COUNTS, 7).expect("the pool is large enough");
        let kinds: Vec<ReviewerKind> = drawn.iter().map(|c| c.kind).collect();
        use ReviewerKind::*;
        assert_eq!(
            kinds,
            vec![
                Expert,
                Expert,
                Expert,
                Cadre,
                Cadre,
                CitizenRepresentative,
                CitizenRepresentative,
                CitizenRepresentative,
                CitizenRepresentative
            ]
        );
    }

    #[test]
    fn the_draw_depends_only_on_the_seed_and_the_pool_not_its_order() {
        let mut shuffled = pool();
        shuffled.reverse();
        let a = draw_members(&pool(), COUNTS, 99).expect("drawn");
        let b = draw_members(&shuffled, COUNTS, 99).expect("drawn");
        assert_eq!(a, b);
        let c = draw_members(&pool(), COUNTS, 100).expect("drawn");
        assert_ne!(a, c, "another seed draws other members");
    }

    #[test]
    fn a_pool_too_small_for_a_kind_is_refused() {
        let counts = KindCounts {
            cadres: 11,
            ..COUNTS
        };
        assert_eq!(
            draw_members(&pool(), counts, 1),
            Err(Shortfall {
                kind: ReviewerKind::Cadre,
                wanted: 11,
                available: 10
            })
        );
    }

    /// Over many seeds every expert is drawn about equally often: a chi-square test of
    /// the selection counts against the uniform expectation.
    #[test]
    fn every_candidate_of_a_kind_is_equally_likely_to_be_drawn() {
        let pool = pool();
        let experts: Vec<i32> = pool
            .iter()
            .filter(|c| c.kind == ReviewerKind::Expert)
            .map(|c| c.id)
            .collect();
        let runs = 4000;
        let mut counts = std::collections::HashMap::new();
        for seed in 0..runs {
            for c in draw_members(&pool, COUNTS, seed).expect("drawn") {
                *counts.entry(c.id).or_insert(0u32) += 1;
            }
        }
        let expected = runs as f64 * 3.0 / experts.len() as f64;
        let chi2: f64 = experts
            .iter()
            .map(|id| {
                let o = f64::from(counts.get(id).copied().unwrap_or(0));
                (o - expected).powi(2) / expected
            })
            .sum();
        // 9 degrees of freedom: the 0.999 quantile of chi-square is 27.88.
        assert!(chi2 < 27.88, "chi-square {chi2}");
    }
}
