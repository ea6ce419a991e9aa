//! Observability: the log subscriber, the per-application metrics `GET /metrics` reports
//! and the access log (one line per HTTP request).
//!
//! - [`init_logging`]: JSON or pretty lines on stderr.
//! - [`Counters`]: one application's Prometheus registry (kept per application, not global,
//!   so that tests running several apps in one process read their own numbers).
//! - [`access_log::AccessLog`]: the outermost middleware; gives every request an id, times
//!   it, counts it by route and status and writes its one log line.
//!
//! What never reaches a log line: query text, variables, request bodies, URIs with their
//! query strings, and headers. Those are where personal data travels.

pub mod access_log;
mod labels;
mod metrics;

pub use access_log::{current_request_id, AccessLog, RequestId};
pub use metrics::{Counters, GraphqlOutcome, PoolUse};

use tracing_subscriber::EnvFilter;

/// sqlx logs every statement at INFO; keep it quiet unless asked for.
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// A `MINYI_LOG` / `--log` value that is not a tracing filter.
#[derive(Debug, thiserror::Error)]
#[error("--log / MINYI_LOG {filter:?} is not a tracing filter: {reason}")]
pub struct BadLogFilter {
    filter: String,
    reason: String,
}

/// Installs the global tracing subscriber. `format` is `json` (one JSON object a line,
/// event fields at the top level) or `pretty`.
pub fn init_logging(filter: Option<&str>, format: &str) -> Result<(), BadLogFilter> {
    let filter = match filter {
        None => EnvFilter::new(DEFAULT_FILTER),
        Some(filter) => EnvFilter::try_new(filter).map_err(|e| BadLogFilter {
            filter: filter.to_string(),
            reason: e.to_string(),
        })?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests start several apps) is harmless: keep the first.
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            // The enclosing spans carry role and operation; their list repeats them.
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    Ok(())
}
