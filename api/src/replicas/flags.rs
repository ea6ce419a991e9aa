//! The `serve` flags of the read replicas (each with a `MINYI_…` environment fallback).

use super::ReplicaSettings;
use std::time::Duration;

/// Read replicas and read-your-writes (docs/OPERATIONS.md, "Read replicas").
#[derive(clap::Args, Debug)]
pub struct ReplicaFlags {
    /// PostgreSQL streaming replicas of the primary, comma-separated URLs. GraphQL queries
    /// and the open-data doors read from a healthy one; empty: everything uses the primary.
    #[arg(
        long,
        env = "MINYI_READ_DATABASE_URLS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,
    /// A replica further behind the primary than this many bytes of WAL leaves the rotation.
    #[arg(long, env = "MINYI_REPLICA_MAX_LAG_BYTES", default_value_t = ReplicaSettings::DEFAULT_MAX_LAG_BYTES)]
    pub replica_max_lag_bytes: u64,
    /// Milliseconds a read carrying `X-Minyi-Consistency` waits for a replica to replay
    /// past the token before the primary serves it.
    #[arg(long, env = "MINYI_CONSISTENCY_WAIT", default_value_t = ReplicaSettings::DEFAULT_CONSISTENCY_WAIT.as_millis() as u64, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub consistency_wait: u64,
    /// Milliseconds between two health checks of the replicas. A read that fails on a
    /// replica checks it at once (and runs again on the primary when it is down).
    #[arg(long, env = "MINYI_REPLICA_CHECK_INTERVAL", default_value_t = ReplicaSettings::DEFAULT_CHECK_INTERVAL.as_millis() as u64, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub replica_check_interval: u64,
}

impl ReplicaFlags {
    pub fn settings(&self) -> ReplicaSettings {
        ReplicaSettings {
            urls: self
                .read_database_urls
                .iter()
                .map(|url| url.trim().to_string())
                .filter(|url| !url.is_empty())
                .collect(),
            max_lag_bytes: self.replica_max_lag_bytes,
            consistency_wait: Duration::from_millis(self.consistency_wait),
            check_interval: Duration::from_millis(self.replica_check_interval),
        }
    }
}
