//! The `serve` flags of the periodic jobs, with their environment fallbacks.

use super::schedule::parse_period;
use super::{registry, JobSettings};
use std::collections::BTreeMap;
use std::time::Duration;

/// The prefix of the per-job period variables: `MINYI_JOB_PERIOD_SUPERVISE_OVERDUE=0.3`.
pub const PERIOD_ENV_PREFIX: &str = "MINYI_JOB_PERIOD_";

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

/// Background jobs (docs/OPERATIONS.md, "Running several instances").
#[derive(clap::Args, Debug)]
pub struct JobFlags {
    /// Whether this instance runs the periodic jobs (several instances share them: each
    /// period's run happens once, on whichever instance claims it first).
    #[arg(long, env = "MINYI_JOBS", value_enum, default_value = "on")]
    pub jobs: Switch,
    /// Never run periodic jobs on this instance (the same as `--jobs off`).
    #[arg(long)]
    pub no_jobs: bool,
    /// A job's period in seconds, fractions allowed: `--job-period supervise_overdue=0.3`
    /// (repeatable; also `MINYI_JOB_PERIOD_<NAME>=SECONDS`, the flag wins).
    #[arg(long = "job-period", value_name = "NAME=SECONDS")]
    pub job_periods: Vec<String>,
    /// Attempt every job in the period current at startup instead of waiting a period.
    #[arg(long, env = "MINYI_JOBS_RUN_AT_START")]
    pub jobs_run_at_start: bool,
}

impl JobFlags {
    /// The settings from the flags and the `MINYI_JOB_PERIOD_<NAME>` variables of `env`.
    pub fn settings(
        &self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<JobSettings, String> {
        let names: Vec<&'static str> = registry().iter().map(|job| job.name).collect();
        let known = |name: &str| -> Result<&'static str, String> {
            names
                .iter()
                .copied()
                .find(|known| *known == name)
                .ok_or_else(|| format!("unknown job {name:?}: the jobs are {}", names.join(", ")))
        };
        let mut periods: BTreeMap<String, Duration> = BTreeMap::new();
        for (key, value) in env {
            let Some(suffix) = key.strip_prefix(PERIOD_ENV_PREFIX) else {
                continue;
            };
            let name = known(&suffix.to_ascii_lowercase()).map_err(|e| format!("{key}: {e}"))?;
            let period = parse_period(&value).map_err(|e| format!("{key}: {e}"))?;
            periods.insert(name.to_string(), period);
        }
        for pair in &self.job_periods {
            let (name, seconds) = pair.split_once('=').ok_or_else(|| {
                format!("--job-period {pair:?}: expected NAME=SECONDS, e.g. supervise_overdue=60")
            })?;
            let name = known(name.trim()).map_err(|e| format!("--job-period: {e}"))?;
            let period = parse_period(seconds).map_err(|e| format!("--job-period {name}: {e}"))?;
            periods.insert(name.to_string(), period);
        }
        Ok(JobSettings {
            enabled: self.jobs == Switch::On && !self.no_jobs,
            periods,
            run_at_start: self.jobs_run_at_start,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        jobs: JobFlags,
    }

    fn settings(args: &[&str], env: &[(&str, &str)]) -> Result<JobSettings, String> {
        let serve = Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        serve
            .jobs
            .settings(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn without_flags_jobs_run_at_their_default_periods_after_a_period() {
        let s = settings(&[], &[]).expect("defaults");
        assert!(s.enabled);
        assert!(s.periods.is_empty());
        assert!(!s.run_at_start);
    }

    #[test]
    fn no_jobs_and_jobs_off_turn_jobs_off() {
        assert!(!settings(&["--no-jobs"], &[]).expect("parses").enabled);
        assert!(!settings(&["--jobs", "off"], &[]).expect("parses").enabled);
    }

    #[test]
    fn periods_come_from_the_environment_and_the_flag_wins() {
        let s = settings(
            &["--job-period", "prune_job_runs=0.5"],
            &[
                ("MINYI_JOB_PERIOD_SUPERVISE_OVERDUE", "0.3"),
                ("MINYI_JOB_PERIOD_PRUNE_JOB_RUNS", "10"),
                ("PATH", "/usr/bin"),
            ],
        )
        .expect("parses");
        assert_eq!(
            s.periods.get("supervise_overdue"),
            Some(&Duration::from_millis(300))
        );
        assert_eq!(
            s.periods.get("prune_job_runs"),
            Some(&Duration::from_millis(500))
        );
    }

    #[test]
    fn unknown_jobs_and_bad_periods_are_refused_by_name() {
        assert_eq!(
            settings(&["--job-period", "nightly=5"], &[]).map(|_| ()),
            Err("--job-period: unknown job \"nightly\": the jobs are supervise_overdue, ensure_partitions, prune_job_runs".to_string())
        );
        assert_eq!(
            settings(&[], &[("MINYI_JOB_PERIOD_SUPERVISE_OVERDUE", "0")]).map(|_| ()),
            Err("MINYI_JOB_PERIOD_SUPERVISE_OVERDUE: a job period of 0 s is outside 0.05 s ..= 2678400 s".to_string())
        );
        assert_eq!(
            settings(&["--job-period", "supervise_overdue"], &[]).map(|_| ()),
            Err("--job-period \"supervise_overdue\": expected NAME=SECONDS, e.g. supervise_overdue=60".to_string())
        );
    }
}
