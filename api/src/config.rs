//! Typed configuration, parsed once at the edge (CLI flags with environment fallbacks)
//! and passed down.

use std::time::Duration;

/// Everything a running server needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub limits: Limits,
}

/// Limits that keep one request from taking the server down.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest allowed selection nesting.
    pub max_depth: usize,
    /// Highest allowed static complexity (list fields count `first`/`last` times their children).
    pub max_complexity: usize,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Longest a query may run before it is cancelled.
    pub query_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_complexity: 5_000,
            max_body_bytes: 256 * 1024,
            query_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://minyi.db?mode=rwc";
    pub const DEFAULT_BIND: &'static str = "127.0.0.1:8000";

    /// A configuration for the given database with default limits.
    pub fn new(database_url: impl Into<String>, bind: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: bind.into(),
            limits: Limits::default(),
        }
    }
}
