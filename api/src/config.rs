//! Typed configuration, parsed once at the edge (CLI flags with environment fallbacks)
//! and passed down.

use std::time::Duration;

/// Everything a running server needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: String,
    pub limits: Limits,
    pub pool: PoolSettings,
    /// How long SIGTERM/Ctrl-C waits for in-flight requests before the process exits anyway.
    pub shutdown_grace: Duration,
    /// Public statistics of township/village units hide counts below this
    /// (small-cell suppression, docs/OPEN_DATA.md).
    pub suppression_threshold: i64,
    /// Where citable releases are kept (`<data dir>/releases/<name>/`).
    pub data_dir: std::path::PathBuf,
    /// Read replicas and read-your-writes (none by default).
    pub replicas: crate::replicas::ReplicaSettings,
}

/// The database connection pool: how many connections, and how long a request may wait
/// for one (pool exhausted, or the database unreachable) before it fails.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// `None`: the backend's default (SQLite 8, PostgreSQL 20).
    pub max_connections: Option<u32>,
    /// Bounds waiting for a free connection and opening a new one (TCP + login included).
    pub acquire_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for every connection (`None`: the server's).
    /// `serve` sets it to the query timeout plus a second, so a timed-out request's statement stops too.
    pub statement_timeout: Option<Duration>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: None,
        }
    }
}

/// Limits that keep one request from taking the server down. Every refusal names the
/// limit, the measured value and the maximum (docs/OPERATIONS.md, "Limits").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest allowed field nesting (fragments inlined; introspection's `ofType` chain
    /// does not count).
    pub max_depth: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Most directives in one document.
    pub max_directives: usize,
    /// Largest query string in bytes.
    pub max_query_bytes: usize,
    /// Most lexical tokens in the query string (counted before parsing).
    pub max_tokens: usize,
    /// Deepest bracket nesting (`{ ( [`) the parser may see, and async-graphql's
    /// recursion limit (fragment spreads count as a level there).
    pub max_nesting: usize,
    /// Most fields once fragments are inlined: bounds every walk over the query.
    pub max_fields: usize,
    /// Highest allowed static complexity (list fields count `first`/`last` times their children).
    pub max_complexity: usize,
    /// Most nodes a query could return: `first`/`last` multiplied along nested
    /// connections, summed (GitHub's node limit).
    pub max_nodes: u64,
    /// Most operations in a batched (JSON array) request; 0 refuses batches.
    pub max_batch: usize,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Longest a query may run before it is cancelled (also PostgreSQL's `statement_timeout`).
    pub query_timeout: Duration,
    /// Bytes of query text the persisted-query (APQ) cache keeps; least recently used go first.
    pub persisted_query_bytes: usize,
    /// `max-age` of cacheable `GET /graphql` answers.
    pub get_max_age: Duration,
    /// The per-key and per-IP token buckets.
    pub rate: RateLimits,
}

impl Limits {
    /// The defaults (docs/OPERATIONS.md lists them); a `const` so CLI flags show them.
    pub const DEFAULT: Limits = Limits {
        max_depth: 8,
        max_aliases: 15,
        max_directives: 30,
        max_query_bytes: 32 * 1024,
        max_tokens: 3_000,
        max_nesting: 32,
        max_fields: 1_000,
        max_complexity: 5_000,
        max_nodes: 10_000,
        max_batch: 0,
        max_body_bytes: 256 * 1024,
        query_timeout: Duration::from_secs(30),
        persisted_query_bytes: 8 * 1024 * 1024,
        get_max_age: Duration::from_secs(60),
        rate: RateLimits::DEFAULT,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Token buckets, one per API key and one per client IP for the public role, per
/// server instance. A request draws its static cost (complexity, at least 1).
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Points a bucket holds when full; 0 turns rate limiting off.
    pub capacity: u64,
    /// Points a bucket regains per second.
    pub restore_per_second: u64,
    /// Most buckets kept; the least recently used is forgotten (it comes back full).
    pub max_buckets: usize,
}

impl RateLimits {
    /// Generous for dashboards: ten requests at the complexity limit at once, then one
    /// every five seconds, per key and per IP.
    pub const DEFAULT: RateLimits = RateLimits {
        capacity: 50_000,
        restore_per_second: 1_000,
        max_buckets: 100_000,
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Config {
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://minyi.db?mode=rwc";
    pub const DEFAULT_BIND: &'static str = "127.0.0.1:8000";
    pub const DEFAULT_DATA_DIR: &'static str = "minyi-data";
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

    /// A configuration for the given database with default limits.
    pub fn new(database_url: impl Into<String>, bind: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: bind.into(),
            limits: Limits::default(),
            pool: PoolSettings::default(),
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            suppression_threshold: crate::open_data::suppression::DEFAULT_THRESHOLD,
            data_dir: Self::DEFAULT_DATA_DIR.into(),
            replicas: crate::replicas::ReplicaSettings::default(),
        }
    }
}
