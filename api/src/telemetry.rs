//! Logging set-up and the process-wide counters `/metrics` reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// sqlx logs every statement at INFO; keep it quiet unless asked for.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// Installs the global tracing subscriber. `format` is `json` or `pretty`.
pub fn init_logging(filter: Option<&str>, format: &str) {
    let filter = EnvFilter::try_new(filter.unwrap_or(DEFAULT_FILTER))
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests start several apps) is harmless: keep the first.
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Counters of one running application. Kept per application (not global) so that
/// tests running several apps in one process read their own numbers.
#[derive(Debug, Default)]
pub struct Counters {
    pub db_statements: AtomicU64,
    pub db_errors: AtomicU64,
    pub graphql_requests: AtomicU64,
    pub graphql_errors: AtomicU64,
}

/// What one GraphQL request came to: the one place the metrics and the request log
/// line are fed from (`routes::execute` calls `Counters::observe_graphql` once per request).
#[derive(Debug, Clone)]
pub struct GraphqlOutcome<'a> {
    pub request_id: &'a str,
    pub operation: &'a str,
    pub role: &'a str,
    /// The first error's `extensions.code`; `None` when the response had no errors.
    pub error_code: Option<&'a str>,
    pub duration: Duration,
    /// The request's complexity as the limits measured it, when known.
    pub cost: Option<u64>,
}

impl Counters {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Counts one GraphQL request.
    pub fn observe_graphql(&self, outcome: &GraphqlOutcome<'_>) {
        self.graphql_requests.fetch_add(1, Ordering::Relaxed);
        if outcome.error_code.is_some() {
            self.graphql_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition of these counters.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: &AtomicU64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        };
        counter(
            "minyi_db_statements_total",
            "SQL statements executed.",
            &self.db_statements,
        );
        counter(
            "minyi_db_errors_total",
            "SQL statements that failed.",
            &self.db_errors,
        );
        counter(
            "minyi_graphql_requests_total",
            "GraphQL requests executed.",
            &self.graphql_requests,
        );
        counter(
            "minyi_graphql_errors_total",
            "GraphQL responses that carried errors.",
            &self.graphql_errors,
        );
        out
    }
}
