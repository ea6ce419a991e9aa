//! Deadline policies (办理时限): which row of `deadline_policies` governs a case, and the
//! deadlines it yields on the official working-day calendar.
//!
//! A policy's `None` matcher matches anything. A category policy also matches the
//! category's children, a region policy every region below it. Of the matching rows the
//! most specific wins: more matchers set first, then the nearer category, then the nearer
//! region, then the newest row (highest id) so the choice is always deterministic.

use chrono::{DateTime, TimeDelta, Utc};
use dashboard_queries::calendar::WorkCalendar;
use entities::{category, deadline_policy, region, CaseKind, Channel};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

/// Used only when no policy row matches (an administrator deleted the catch-all):
/// the statutory defaults the seeded catch-all also carries.
pub const FALLBACK_RESPOND_HOURS: i32 = 8;
pub const FALLBACK_REPLY_WORKING_DAYS: i32 = 7;

/// What a policy is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub channel: Channel,
    pub kind: CaseKind,
    /// The case's category first, then its ancestors.
    pub categories: Vec<i32>,
    /// The case's region code first, then its ancestors' codes.
    pub regions: Vec<String>,
}

/// The time limits that apply to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub respond_hours: i32,
    pub reply_working_days: i32,
    /// A dissatisfied rating reopens the case (off unless the matching policy says so).
    pub reopen_on_dissatisfied: bool,
}

impl Limits {
    /// Respond deadline: clock hours after submission.
    pub fn respond_due(&self, submitted_at: DateTime<Utc>) -> DateTime<Utc> {
        submitted_at + TimeDelta::hours(i64::from(self.respond_hours.max(0)))
    }

    /// Reply deadline: the end of the n-th working day after `from`.
    pub fn reply_due(&self, calendar: &WorkCalendar, from: DateTime<Utc>) -> DateTime<Utc> {
        calendar.add_working_days(from, u32::try_from(self.reply_working_days).unwrap_or(0))
    }
}

/// How specific a matching policy is; `None` when it does not match. Compared as a
/// tuple, larger is more specific.
fn specificity(p: &deadline_policy::Model, facts: &CaseFacts) -> Option<(u8, usize, usize, i32)> {
    if p.channel.is_some_and(|c| c != facts.channel) || p.kind.is_some_and(|k| k != facts.kind) {
        return None;
    }
    // Position in the ancestor chain: 0 = the case's own value. Nearer is more specific,
    // so the score is the distance from the far end.
    let category_score = match p.category_id {
        None => 0,
        Some(id) => {
            let at = facts.categories.iter().position(|c| *c == id)?;
            facts.categories.len() - at
        }
    };
    let region_score = match &p.region_code {
        None => 0,
        Some(code) => {
            let at = facts.regions.iter().position(|r| r == code)?;
            facts.regions.len() - at
        }
    };
    let set = [
        p.channel.is_some(),
        p.kind.is_some(),
        p.category_id.is_some(),
        p.region_code.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count() as u8;
    Some((set, category_score, region_score, p.id))
}

/// The most specific policy matching the facts.
pub fn best_match<'a>(
    policies: &'a [deadline_policy::Model],
    facts: &CaseFacts,
) -> Option<&'a deadline_policy::Model> {
    policies
        .iter()
        .filter_map(|p| specificity(p, facts).map(|s| (s, p)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, p)| p)
}

/// The limits for the facts, falling back to the statutory defaults.
pub fn limits_for(policies: &[deadline_policy::Model], facts: &CaseFacts) -> Limits {
    best_match(policies, facts).map_or(
        Limits {
            respond_hours: FALLBACK_RESPOND_HOURS,
            reply_working_days: FALLBACK_REPLY_WORKING_DAYS,
            reopen_on_dissatisfied: false,
        },
        |p| Limits {
            respond_hours: p.respond_hours,
            reply_working_days: p.reply_working_days,
            reopen_on_dissatisfied: p.reopen_on_dissatisfied,
        },
    )
}

/// The region's code followed by its ancestors' codes, nearest first.
pub fn region_chain(r: &region::Model) -> Vec<String> {
    let mut chain = vec![r.code.clone()];
    for code in [&r.county_code, &r.city_code, &Some(r.province_code.clone())]
        .into_iter()
        .flatten()
    {
        if !chain.contains(code) {
            chain.push(code.clone());
        }
    }
    chain
}

/// Reads what matching needs for a case and returns its limits. The tables involved
/// are small reference tables, read whole: no per-row queries.
pub async fn limits_of<C: ConnectionTrait>(
    db: &C,
    channel: Channel,
    kind: CaseKind,
    category_id: Option<i32>,
    region_code: &str,
) -> Result<Limits, DbErr> {
    let policies = deadline_policy::Entity::find().all(db).await?;
    let mut categories = Vec::new();
    let mut next = category_id;
    // The category tree is two levels deep; the bound only guards against a cycle.
    while let Some(id) = next.filter(|_| categories.len() < 8) {
        categories.push(id);
        next = category::Entity::find_by_id(id)
            .one(db)
            .await?
            .and_then(|c| c.parent_id);
    }
    let regions = match region::Entity::find_by_id(region_code.to_string())
        .one(db)
        .await?
    {
        Some(r) => region_chain(&r),
        None => vec![region_code.to_string()],
    };
    let facts = CaseFacts {
        channel,
        kind,
        categories,
        regions,
    };
    Ok(limits_for(&policies, &facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(id: i32, days: i32) -> deadline_policy::Model {
        deadline_policy::Model {
            id,
            name: format!("p{id}"),
            channel: None,
            kind: None,
            category_id: None,
            region_code: None,
            respond_hours: 8,
            reply_working_days: days,
            reopen_on_dissatisfied: false,
        }
    }

    fn facts() -> CaseFacts {
        CaseFacts {
            channel: Channel::Hotline,
            kind: CaseKind::Complaint,
            categories: vec![12, 10],
            regions: vec!["510104".into(), "510100".into(), "510000".into()],
        }
    }

    #[test]
    fn the_catch_all_matches_when_nothing_else_does() {
        let policies = [policy(1, 7), Policy::kind(2, 3, CaseKind::Consultation)];
        assert_eq!(limits_for(&policies, &facts()).reply_working_days, 7);
    }

    #[test]
    fn a_kind_policy_beats_the_catch_all() {
        let policies = [policy(1, 7), Policy::kind(2, 3, CaseKind::Complaint)];
        assert_eq!(best_match(&policies, &facts()).map(|p| p.id), Some(2));
    }

    #[test]
    fn a_parent_category_policy_matches_its_children_but_the_child_policy_wins() {
        let parent = deadline_policy::Model {
            category_id: Some(10),
            ..policy(2, 5)
        };
        let child = deadline_policy::Model {
            category_id: Some(12),
            ..policy(3, 4)
        };
        assert_eq!(
            best_match(&[policy(1, 7), parent.clone()], &facts()).map(|p| p.id),
            Some(2)
        );
        assert_eq!(
            best_match(&[child, parent, policy(1, 7)], &facts()).map(|p| p.id),
            Some(3)
        );
    }

    #[test]
    fn an_ancestor_region_matches_and_the_nearest_region_wins() {
        let province = deadline_policy::Model {
            region_code: Some("510000".into()),
            ..policy(2, 5)
        };
        let city = deadline_policy::Model {
            region_code: Some("510100".into()),
            ..policy(3, 4)
        };
        let elsewhere = deadline_policy::Model {
            region_code: Some("650100".into()),
            ..policy(4, 1)
        };
        let policies = [policy(1, 7), province, city, elsewhere];
        assert_eq!(best_match(&policies, &facts()).map(|p| p.id), Some(3));
    }

    #[test]
    fn more_matchers_beat_a_nearer_single_matcher() {
        let city = deadline_policy::Model {
            region_code: Some("510100".into()),
            ..policy(2, 4)
        };
        let both = deadline_policy::Model {
            channel: Some(Channel::Hotline),
            region_code: Some("510000".into()),
            ..policy(3, 2)
        };
        assert_eq!(best_match(&[city, both], &facts()).map(|p| p.id), Some(3));
    }

    #[test]
    fn a_tie_goes_to_the_newest_policy_and_no_match_falls_back_to_the_defaults() {
        assert_eq!(
            best_match(&[policy(1, 7), policy(5, 6)], &facts()).map(|p| p.id),
            Some(5)
        );
        let limits = limits_for(&[], &facts());
        assert_eq!(
            limits,
            Limits {
                respond_hours: 8,
                reply_working_days: 7,
                reopen_on_dissatisfied: false,
            }
        );
    }

    #[test]
    fn the_region_chain_runs_from_the_township_to_the_province() {
        let town = region::Model {
            code: "510104001".into(),
            name: "t".into(),
            level: entities::RegionLevel::Township,
            parent_code: Some("510104".into()),
            province_code: "510000".into(),
            city_code: Some("510100".into()),
            county_code: Some("510104".into()),
        };
        assert_eq!(
            region_chain(&town),
            ["510104001", "510104", "510100", "510000"]
        );
    }

    struct Policy;
    impl Policy {
        fn kind(id: i32, days: i32, kind: CaseKind) -> deadline_policy::Model {
            deadline_policy::Model {
                kind: Some(kind),
                ..policy(id, days)
            }
        }
    }
}
