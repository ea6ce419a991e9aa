//! One application's metrics: a Prometheus registry of its own, fed by the access log
//! (HTTP), `graphql_http` (GraphQL), the database metric callback (statements) and the
//! rate limiter (refusals), and rendered in the classic text format at `GET /metrics`.

use super::labels::{self, BoundedLabels};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Metric, MetricFamily, MetricType};
use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Distinct operation names with a series of their own; the rest are `other`.
pub const OPERATION_LABELS: usize = 64;
/// Distinct error codes with a series of their own (the API defines nine).
const OUTCOME_LABELS: usize = 32;
/// Distinct rate-limit kinds with a series of their own.
const RATE_LIMIT_KINDS: usize = 8;

/// Request latency buckets, seconds: from a cached lookup (1 ms) to the query timeout (30 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// GraphQL cost buckets, in the complexity units the limits count (default limit 5,000).
const COST_BUCKETS: &[f64] = &[
    10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// What one GraphQL request came to: the one place the metrics and the request log
/// line are fed from (`graphql_http` calls [`Counters::observe_graphql`] once per request).
#[derive(Debug, Clone)]
pub struct GraphqlOutcome<'a> {
    /// The request id; empty when the caller does not know it (the access log knows it).
    pub request_id: &'a str,
    /// The operation name the client sent (`operationName`), empty when none.
    pub operation: &'a str,
    pub role: &'a str,
    /// The first error's `extensions.code`; `None` when the response had no errors.
    pub error_code: Option<&'a str>,
    pub duration: Duration,
    /// The request's complexity as the limits measured it, when known.
    pub cost: Option<u64>,
}

/// How the database pool is used at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub in_use: u64,
    pub idle: u64,
    pub max: u64,
}

impl PoolUse {
    /// The pool behind `db` (SQLite or PostgreSQL); `None` for other connections (mocks).
    pub fn of(db: &DatabaseConnection) -> Option<Self> {
        // sqlx counts open connections (`size`) and idle ones; the rest are lent out.
        let (size, idle, max) = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => return None,
        };
        let idle = idle as u64;
        Some(Self {
            in_use: u64::from(size).saturating_sub(idle),
            idle,
            max: u64::from(max),
        })
    }
}

/// The metrics of one running application.
///
/// `db_statements` and `db_errors` stay plain atomics: the database layer's metric
/// callback bumps them on every statement, and a scrape reads them.
pub struct Counters {
    pub db_statements: Arc<AtomicU64>,
    pub db_errors: Arc<AtomicU64>,
    registry: Registry,
    graphql_requests: IntCounterVec,
    graphql_duration: HistogramVec,
    graphql_cost: Histogram,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    rate_limited: IntCounterVec,
    job_runs: IntCounterVec,
    job_last_success: GaugeVec,
    operations: BoundedLabels,
    outcomes: BoundedLabels,
    rate_limit_kinds: BoundedLabels,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters")
            .field("db_statements", &self.db_statements)
            .field("db_errors", &self.db_errors)
            .finish_non_exhaustive()
    }
}

/// A metric definition or registration that failed: a programming error in this module,
/// caught by its unit tests.
fn defined<T>(result: prometheus::Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("the metric {what} is ill-defined: {e}"),
    }
}

impl Counters {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::build())
    }

    fn build() -> Self {
        let registry = Registry::new();
        let register = |collector: Box<dyn Collector>, what: &str| {
            defined(registry.register(collector), what);
        };

        let build_info = defined(
            IntGaugeVec::new(
                Opts::new("minyi_build_info", "The running minyi version; always 1."),
                &["version"],
            ),
            "minyi_build_info",
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        register(Box::new(build_info), "minyi_build_info");

        let db_statements = Arc::new(AtomicU64::new(0));
        let db_errors = Arc::new(AtomicU64::new(0));
        register(
            Box::new(AtomicCounter::new(
                "minyi_db_statements_total",
                "SQL statements executed.",
                db_statements.clone(),
            )),
            "minyi_db_statements_total",
        );
        register(
            Box::new(AtomicCounter::new(
                "minyi_db_errors_total",
                "SQL statements that failed.",
                db_errors.clone(),
            )),
            "minyi_db_errors_total",
        );

        let graphql_requests = defined(
            IntCounterVec::new(
                Opts::new(
                    "minyi_graphql_requests_total",
                    "GraphQL requests executed, by operation name and outcome (ok or the first error's code).",
                ),
                &["operation", "outcome"],
            ),
            "minyi_graphql_requests_total",
        );
        register(
            Box::new(graphql_requests.clone()),
            "minyi_graphql_requests_total",
        );
        let graphql_duration = defined(
            HistogramVec::new(
                HistogramOpts::new(
                    "minyi_graphql_request_duration_seconds",
                    "GraphQL execution time (authentication to response), by operation name.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["operation"],
            ),
            "minyi_graphql_request_duration_seconds",
        );
        register(
            Box::new(graphql_duration.clone()),
            "minyi_graphql_request_duration_seconds",
        );
        let graphql_cost = defined(
            Histogram::with_opts(
                HistogramOpts::new(
                    "minyi_graphql_request_cost",
                    "GraphQL request complexity as the limits count it.",
                )
                .buckets(COST_BUCKETS.to_vec()),
            ),
            "minyi_graphql_request_cost",
        );
        register(Box::new(graphql_cost.clone()), "minyi_graphql_request_cost");

        let http_requests = defined(
            IntCounterVec::new(
                Opts::new(
                    "minyi_http_requests_total",
                    "HTTP requests answered, by route template and status code.",
                ),
                &["route", "status"],
            ),
            "minyi_http_requests_total",
        );
        register(Box::new(http_requests.clone()), "minyi_http_requests_total");
        let http_duration = defined(
            HistogramVec::new(
                HistogramOpts::new(
                    "minyi_http_request_duration_seconds",
                    "Time until the response head is ready (streamed bodies continue after), by route template.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["route"],
            ),
            "minyi_http_request_duration_seconds",
        );
        register(
            Box::new(http_duration.clone()),
            "minyi_http_request_duration_seconds",
        );

        let pool_connections = defined(
            IntGaugeVec::new(
                Opts::new(
                    "minyi_db_pool_connections",
                    "Open database connections, by state (in_use, idle), at the scrape.",
                ),
                &["state"],
            ),
            "minyi_db_pool_connections",
        );
        register(
            Box::new(pool_connections.clone()),
            "minyi_db_pool_connections",
        );
        let pool_max = defined(
            IntGauge::new(
                "minyi_db_pool_max_connections",
                "The most connections the pool opens.",
            ),
            "minyi_db_pool_max_connections",
        );
        register(Box::new(pool_max.clone()), "minyi_db_pool_max_connections");

        let rate_limited = defined(
            IntCounterVec::new(
                Opts::new(
                    "minyi_rate_limited_total",
                    "Requests refused by the rate limiter, by the kind of bucket that was empty.",
                ),
                &["kind"],
            ),
            "minyi_rate_limited_total",
        );
        register(Box::new(rate_limited.clone()), "minyi_rate_limited_total");

        let job_runs = defined(
            IntCounterVec::new(
                Opts::new(
                    "minyi_job_runs_total",
                    "Slots of periodic jobs this instance attempted, by job and outcome (ran, failed, skipped_taken_by_other, skipped_overlap).",
                ),
                &["job", "outcome"],
            ),
            "minyi_job_runs_total",
        );
        register(Box::new(job_runs.clone()), "minyi_job_runs_total");
        let job_last_success = defined(
            GaugeVec::new(
                Opts::new(
                    "minyi_job_last_success_timestamp_seconds",
                    "When this instance last finished a run of the job without error (Unix seconds).",
                ),
                &["job"],
            ),
            "minyi_job_last_success_timestamp_seconds",
        );
        register(
            Box::new(job_last_success.clone()),
            "minyi_job_last_success_timestamp_seconds",
        );

        Self {
            db_statements,
            db_errors,
            registry,
            graphql_requests,
            graphql_duration,
            graphql_cost,
            http_requests,
            http_duration,
            pool_connections,
            pool_max,
            rate_limited,
            job_runs,
            job_last_success,
            operations: BoundedLabels::new(OPERATION_LABELS),
            outcomes: BoundedLabels::new(OUTCOME_LABELS),
            rate_limit_kinds: BoundedLabels::new(RATE_LIMIT_KINDS),
        }
    }

    /// Counts one GraphQL request and hands role, operation, outcome and cost to the
    /// request's access-log line.
    pub fn observe_graphql(&self, outcome: &GraphqlOutcome<'_>) {
        let operation_name = labels::operation_name(outcome.operation);
        let operation = self.operations.label(operation_name);
        let result = match outcome.error_code {
            None => "ok".to_string(),
            Some(code) if is_error_code(code) => self.outcomes.label(code),
            Some(_) => labels::INVALID.to_string(),
        };
        self.graphql_requests
            .with_label_values(&[operation.as_str(), result.as_str()])
            .inc();
        self.graphql_duration
            .with_label_values(&[operation.as_str()])
            .observe(outcome.duration.as_secs_f64());
        if let Some(cost) = outcome.cost {
            self.graphql_cost.observe(cost as f64);
        }
        super::access_log::note_graphql(super::access_log::GraphqlFields {
            role: outcome.role.to_string(),
            operation: operation_name.to_string(),
            outcome: result,
            cost: outcome.cost,
        });
    }

    /// Counts one HTTP response. `route` is the route template (`/open311/v2/requests/:id.json`),
    /// never the raw path.
    pub fn observe_http(&self, route: &str, status: u16, duration: Duration) {
        self.http_requests
            .with_label_values(&[route, status.to_string().as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route])
            .observe(duration.as_secs_f64());
    }

    /// Counts one request the rate limiter refused. `kind` names the bucket that was
    /// empty (e.g. `ip`, `key`); at most a handful of kinds get their own series.
    pub fn observe_rate_limited(&self, kind: &str) {
        let kind = if labels::is_graphql_name(kind) {
            self.rate_limit_kinds.label(kind)
        } else {
            labels::INVALID.to_string()
        };
        self.rate_limited.with_label_values(&[kind.as_str()]).inc();
    }

    /// Counts one attempt at a job's slot. `job` comes from the job registry (a handful of
    /// fixed names) and `outcome` from the scheduler's four labels; a `ran` outcome also
    /// sets the job's last-success time to now.
    pub fn observe_job_run(&self, job: &str, outcome: &str) {
        self.job_runs.with_label_values(&[job, outcome]).inc();
        if outcome == "ran" {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            self.job_last_success.with_label_values(&[job]).set(now);
        }
    }

    /// The Prometheus text exposition (format 0.0.4), with the pool's use at this instant.
    pub fn render(&self, pool: Option<PoolUse>) -> Result<String, prometheus::Error> {
        if let Some(pool) = pool {
            let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            self.pool_connections
                .with_label_values(&["in_use"])
                .set(gauge(pool.in_use));
            self.pool_connections
                .with_label_values(&["idle"])
                .set(gauge(pool.idle));
            self.pool_max.set(gauge(pool.max));
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Error codes are SCREAMING_SNAKE_CASE words the server chose; anything else is not one.
fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= labels::MAX_NAME_LEN
        && code
            .chars()
            .all(|c| c == '_' || c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A counter whose value lives in an atomic someone else increments (the database
/// layer's statement callback), read at every scrape.
struct AtomicCounter {
    desc: Desc,
    value: Arc<AtomicU64>,
}

impl AtomicCounter {
    fn new(name: &str, help: &str, value: Arc<AtomicU64>) -> Self {
        let desc = defined(
            Desc::new(name.into(), help.into(), Vec::new(), HashMap::new()),
            name,
        );
        Self { desc, value }
    }
}

impl Collector for AtomicCounter {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut counter = Counter::default();
        counter.set_value(self.value.load(Ordering::Relaxed) as f64);
        let mut metric = Metric::default();
        metric.set_counter(counter);
        let mut family = MetricFamily::default();
        family.set_name(self.desc.fq_name.clone());
        family.set_help(self.desc.help.clone());
        family.set_field_type(MetricType::COUNTER);
        family.set_metric(vec![metric]);
        vec![family]
    }
}

#[cfg(test)]
mod tests;
