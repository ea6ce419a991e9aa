//! Every periodic job of minyi. To add one, append a [`Job::new`] here with a short name,
//! a default period and an idempotent body; it gets its slot claims, its
//! `MINYI_JOB_PERIOD_<NAME>` override and its metrics for free.

use super::{prune_job_runs, Job};
use crate::workflow::supervision;
use crate::workflow::CalendarCache;
use std::time::Duration;

/// The jobs, in a fixed order.
pub fn registry() -> Vec<Job> {
    // Read once: the threshold of the whole process, as before jobs had a registry.
    let threshold = supervision::threshold_from_env();
    let calendar = CalendarCache::default();
    vec![
        Job::new(
            "supervise_overdue",
            Duration::from_secs(60),
            move |db, now| {
                let calendar = calendar.clone();
                async move {
                    let calendar = calendar.get(&db).await?;
                    supervision::supervise_overdue(&db, calendar, threshold, now).await
                }
            },
        ),
        // Monthly partitions of cases and case_events a year ahead (PostgreSQL; a no-op
        // on SQLite), so no month's rows ever land in the DEFAULT partition.
        Job::new(
            "ensure_partitions",
            Duration::from_secs(6 * 3600),
            |db, now| async move { crate::partitions::ensure_partitions_job(&db, now).await },
        ),
        Job::new(
            "prune_job_runs",
            Duration::from_secs(3600),
            |db, now| async move { prune_job_runs(&db, now).await },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_unique_and_fit_an_environment_variable() {
        let jobs = registry();
        let mut names: Vec<_> = jobs.iter().map(|j| j.name).collect();
        assert!(names
            .iter()
            .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), jobs.len());
    }
}
