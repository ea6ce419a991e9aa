//! The `serve` flags of the request limits (each with a `MINYI_…` environment fallback).

use crate::config::{Config, Limits};
use std::time::Duration;

const D: Limits = Limits::DEFAULT;

/// Request limits, persisted queries and rate limits of `/graphql` (docs/OPERATIONS.md).
#[derive(clap::Args, Debug)]
pub struct LimitFlags {
    /// Deepest field nesting of a query.
    #[arg(long, env = "MINYI_MAX_DEPTH", default_value_t = D.max_depth, value_parser = positive)]
    pub max_depth: usize,
    /// Most aliased fields in a document.
    #[arg(long, env = "MINYI_MAX_ALIASES", default_value_t = D.max_aliases)]
    pub max_aliases: usize,
    /// Most directives in a document.
    #[arg(long, env = "MINYI_MAX_DIRECTIVES", default_value_t = D.max_directives)]
    pub max_directives: usize,
    /// Largest query string in bytes.
    #[arg(long, env = "MINYI_MAX_QUERY_BYTES", default_value_t = D.max_query_bytes, value_parser = positive)]
    pub max_query_bytes: usize,
    /// Most lexical tokens in a query string.
    #[arg(long, env = "MINYI_MAX_TOKENS", default_value_t = D.max_tokens, value_parser = positive)]
    pub max_tokens: usize,
    /// Deepest bracket / selection-set nesting the parser may see.
    #[arg(long, env = "MINYI_MAX_NESTING", default_value_t = D.max_nesting, value_parser = positive)]
    pub max_nesting: usize,
    /// Most fields once fragments are inlined.
    #[arg(long, env = "MINYI_MAX_FIELDS", default_value_t = D.max_fields, value_parser = positive)]
    pub max_fields: usize,
    /// Highest static complexity (lists count first/last times their children).
    #[arg(long, env = "MINYI_MAX_COMPLEXITY", default_value_t = D.max_complexity, value_parser = positive)]
    pub max_complexity: usize,
    /// Most nodes a query could return (first/last multiplied along nested connections).
    #[arg(long, env = "MINYI_MAX_NODES", default_value_t = D.max_nodes)]
    pub max_nodes: u64,
    /// Most operations in a batched (JSON array) request; 0 refuses batches.
    #[arg(long, env = "MINYI_MAX_BATCH", default_value_t = D.max_batch)]
    pub max_batch: usize,
    /// Largest request body in bytes.
    #[arg(long, env = "MINYI_MAX_BODY_BYTES", default_value_t = D.max_body_bytes, value_parser = positive)]
    pub max_body_bytes: usize,
    /// Milliseconds a query may run (also PostgreSQL's statement_timeout).
    #[arg(long, env = "MINYI_QUERY_TIMEOUT_MS", default_value_t = D.query_timeout.as_millis() as u64, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub query_timeout_ms: u64,
    /// Bytes of query text the persisted-query cache keeps.
    #[arg(long, env = "MINYI_PERSISTED_QUERY_BYTES", default_value_t = D.persisted_query_bytes)]
    pub persisted_query_bytes: usize,
    /// max-age (seconds) of cacheable GET /graphql answers.
    #[arg(long, env = "MINYI_GET_MAX_AGE", default_value_t = D.get_max_age.as_secs())]
    pub get_max_age: u64,
    /// Points a rate-limit bucket holds (per API key, per IP for the public); 0 turns rate limiting off.
    #[arg(long, env = "MINYI_RATE_CAPACITY", default_value_t = D.rate.capacity)]
    pub rate_capacity: u64,
    /// Points a bucket regains per second.
    #[arg(long, env = "MINYI_RATE_RESTORE", default_value_t = D.rate.restore_per_second)]
    pub rate_restore: u64,
    /// Most buckets kept in memory (least recently used forgotten).
    #[arg(long, env = "MINYI_RATE_BUCKETS", default_value_t = D.rate.max_buckets, value_parser = positive)]
    pub rate_buckets: usize,
    /// How many instances share the rate limits behind a load balancer: each instance
    /// keeps 1/N of --rate-capacity and --rate-restore (at least 1 point each), so the
    /// configured numbers are the whole cluster's budget.
    #[arg(long, env = "MINYI_INSTANCES", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub instances: u32,
}

fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

impl LimitFlags {
    /// Sets the limits; refuses combinations that could never work.
    pub fn apply(&self, config: &mut Config) -> Result<(), String> {
        let cluster = crate::config::RateLimits {
            capacity: self.rate_capacity,
            restore_per_second: self.rate_restore,
            max_buckets: self.rate_buckets,
        };
        let share = crate::rate_limit::instance_share(&cluster, self.instances);
        if self.rate_capacity > 0 && share.capacity < self.max_complexity as u64 {
            let whose = if self.instances > 1 {
                format!(
                    "this instance's share {} of --rate-capacity {} (--instances {})",
                    share.capacity, self.rate_capacity, self.instances
                )
            } else {
                format!("--rate-capacity {}", self.rate_capacity)
            };
            return Err(format!(
                "{whose} is below --max-complexity {}: the costliest allowed query could never be paid",
                self.max_complexity
            ));
        }
        if self.rate_capacity > 0 && self.rate_restore == 0 {
            return Err("--rate-restore must be at least 1 while rate limiting is on".into());
        }
        let limits = &mut config.limits;
        limits.max_depth = self.max_depth;
        limits.max_aliases = self.max_aliases;
        limits.max_directives = self.max_directives;
        limits.max_query_bytes = self.max_query_bytes;
        limits.max_tokens = self.max_tokens;
        limits.max_nesting = self.max_nesting;
        limits.max_fields = self.max_fields;
        limits.max_complexity = self.max_complexity;
        limits.max_nodes = self.max_nodes;
        limits.max_batch = self.max_batch;
        limits.max_body_bytes = self.max_body_bytes;
        limits.query_timeout = Duration::from_millis(self.query_timeout_ms);
        limits.persisted_query_bytes = self.persisted_query_bytes;
        limits.get_max_age = Duration::from_secs(self.get_max_age);
        limits.rate = share;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        limits: LimitFlags,
    }

    fn apply(args: &[&str]) -> Result<Limits, String> {
        let serve = Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let mut config = Config::new("sqlite::memory:", "127.0.0.1:0");
        serve.limits.apply(&mut config)?;
        Ok(config.limits)
    }

    #[test]
    fn without_flags_the_limits_are_the_defaults() {
        let limits = apply(&[]).expect("defaults apply");
        assert_eq!(format!("{limits:?}"), format!("{:?}", Limits::DEFAULT));
    }

    #[test]
    fn flags_set_their_limit() {
        let limits = apply(&[
            "--max-depth",
            "5",
            "--max-batch",
            "4",
            "--query-timeout-ms",
            "250",
            "--rate-capacity",
            "0",
        ])
        .expect("applies");
        assert_eq!(limits.max_depth, 5);
        assert_eq!(limits.max_batch, 4);
        assert_eq!(limits.query_timeout, Duration::from_millis(250));
        assert_eq!(limits.rate.capacity, 0);
    }

    #[test]
    fn a_bucket_smaller_than_the_costliest_query_is_refused() {
        let error = apply(&["--rate-capacity", "100"]).unwrap_err();
        assert_eq!(
            error,
            "--rate-capacity 100 is below --max-complexity 5000: the costliest allowed query could never be paid"
        );
        assert!(apply(&["--max-depth", "0"]).is_err());
    }

    #[test]
    fn instances_divide_the_rate_budget_and_each_share_must_pay_the_costliest_query() {
        let limits = apply(&[
            "--instances",
            "4",
            "--rate-capacity",
            "40000",
            "--rate-restore",
            "2",
        ])
        .expect("applies");
        assert_eq!(limits.rate.capacity, 10_000);
        assert_eq!(limits.rate.restore_per_second, 1);
        assert_eq!(
            apply(&["--instances", "20", "--rate-capacity", "60000"]).unwrap_err(),
            "this instance's share 3000 of --rate-capacity 60000 (--instances 20) is below --max-complexity 5000: the costliest allowed query could never be paid"
        );
        assert!(apply(&["--instances", "0"]).is_err());
    }
}
