//! The read router's metrics, in a registry of their own that `/metrics` appends to the
//! application's: per-replica lag and health, and where reads went. Replicas are labelled
//! by their index in `--read-database-urls` and their `host:port`, never by the URL,
//! which may hold a password.

use prometheus::{Encoder, GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// Where a read was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Primary,
    Replica,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Primary => "primary",
            Target::Replica => "replica",
        }
    }
}

pub struct ReplicaMetrics {
    registry: Registry,
    lag_bytes: IntGaugeVec,
    lag_seconds: GaugeVec,
    healthy: IntGaugeVec,
    reads: IntCounterVec,
}

impl std::fmt::Debug for ReplicaMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaMetrics").finish_non_exhaustive()
    }
}

/// The labels of one replica.
#[derive(Debug, Clone)]
pub struct ReplicaLabels {
    pub index: String,
    pub address: String,
}

const REPLICA_LABELS: &[&str] = &["replica", "address"];

impl ReplicaMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let lag_bytes = IntGaugeVec::new(
            Opts::new(
                "minyi_db_replica_lag_bytes",
                "WAL bytes the replica has still to replay (primary's current position minus the replica's replay position), at the last health check.",
            ),
            REPLICA_LABELS,
        )?;
        let lag_seconds = GaugeVec::new(
            Opts::new(
                "minyi_db_replica_lag_seconds",
                "Age of the last transaction the replica replayed while WAL is waiting to be replayed (0 when caught up), at the last health check.",
            ),
            REPLICA_LABELS,
        )?;
        let healthy = IntGaugeVec::new(
            Opts::new(
                "minyi_db_replica_healthy",
                "1 when the replica is in rotation (reachable, in recovery, lag within --replica-max-lag-bytes), else 0.",
            ),
            REPLICA_LABELS,
        )?;
        let reads = IntCounterVec::new(
            Opts::new(
                "minyi_db_reads_routed_total",
                "Read requests (GraphQL queries, open-data doors) by where they were served: primary or replica.",
            ),
            &["target"],
        )?;
        registry.register(Box::new(lag_bytes.clone()))?;
        registry.register(Box::new(lag_seconds.clone()))?;
        registry.register(Box::new(healthy.clone()))?;
        registry.register(Box::new(reads.clone()))?;
        // Both targets show from the start, so a rate() over them never misses the first read.
        for target in [Target::Primary, Target::Replica] {
            reads.with_label_values(&[target.as_str()]);
        }
        Ok(Self {
            registry,
            lag_bytes,
            lag_seconds,
            healthy,
            reads,
        })
    }

    pub fn observe_read(&self, target: Target) {
        self.reads.with_label_values(&[target.as_str()]).inc();
    }

    pub fn set_replica(
        &self,
        labels: &ReplicaLabels,
        healthy: bool,
        lag_bytes: Option<u64>,
        lag_seconds: Option<f64>,
    ) {
        let values = [labels.index.as_str(), labels.address.as_str()];
        self.healthy
            .with_label_values(&values)
            .set(i64::from(healthy));
        // An unknown lag (replica down) is reported as -1: absent series look like a
        // healthy replica to many alert rules.
        let bytes = lag_bytes.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX));
        self.lag_bytes.with_label_values(&values).set(bytes);
        self.lag_seconds
            .with_label_values(&values)
            .set(lag_seconds.unwrap_or(-1.0));
    }

    /// The Prometheus text exposition of these metrics alone.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
