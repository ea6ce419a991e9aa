//! The limits every GraphQL request passes before and while it runs: the text
//! (bytes, tokens, bracket nesting), the parsed document (depth, aliases, directives,
//! inlined fields, nodes), the static cost (complexity, checked after validation) and
//! the caller's rate-limit bucket. Every refusal carries `extensions`
//! `{code: "QUERY_TOO_COMPLEX", limit, measured, max}` (docs/OPERATIONS.md, "Limits").

pub mod cost;
pub mod flags;
pub mod lexer;
pub mod persisted;
pub mod shape;

use crate::config::Limits;
use crate::rate_limit::Throttled;
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, Variables};

/// One limit a request went over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    /// The limit's name in `extensions.limit` (`depth`, `aliases`, …).
    pub limit: &'static str,
    pub measured: u64,
    pub max: u64,
}

impl Exceeded {
    fn check(limit: &'static str, measured: u64, max: u64) -> Result<(), Exceeded> {
        if measured > max {
            Err(Exceeded {
                limit,
                measured,
                max,
            })
        } else {
            Ok(())
        }
    }

    /// The GraphQL error a client sees.
    pub fn to_server_error(&self) -> ServerError {
        let mut error = ServerError::new(
            format!(
                "the query exceeds the {} limit: {} is more than {}",
                self.limit, self.measured, self.max
            ),
            None,
        );
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("code", "QUERY_TOO_COMPLEX");
        extensions.set("limit", self.limit);
        extensions.set("measured", self.measured);
        extensions.set("max", self.max);
        error
    }
}

/// Checks the query text before parsing: its size in bytes, then its tokens and
/// bracket nesting (one linear scan).
pub fn check_text(query: &str, limits: &Limits) -> Result<(), Exceeded> {
    Exceeded::check(
        "queryBytes",
        query.len() as u64,
        limits.max_query_bytes as u64,
    )?;
    let text = lexer::measure(query);
    Exceeded::check("tokens", text.tokens as u64, limits.max_tokens as u64)?;
    Exceeded::check("nesting", text.nesting as u64, limits.max_nesting as u64)
}

/// Checks the parsed document (fragments measured once each, see [`shape`]).
pub fn check_document(
    doc: &ExecutableDocument,
    variables: &Variables,
    limits: &Limits,
) -> Result<shape::Shape, Exceeded> {
    let shape = shape::measure(doc, variables);
    Exceeded::check("nesting", shape.nesting as u64, limits.max_nesting as u64)?;
    Exceeded::check("depth", shape.depth as u64, limits.max_depth as u64)?;
    Exceeded::check("aliases", shape.aliases as u64, limits.max_aliases as u64)?;
    Exceeded::check(
        "directives",
        shape.directives as u64,
        limits.max_directives as u64,
    )?;
    Exceeded::check("fields", shape.fields, limits.max_fields as u64)?;
    Exceeded::check("nodes", shape.nodes, limits.max_nodes)?;
    Ok(shape)
}

/// Checks the static cost async-graphql computed while validating.
pub fn check_complexity(complexity: usize, limits_max: usize) -> Result<(), Exceeded> {
    Exceeded::check("complexity", complexity as u64, limits_max as u64)
}

/// The refusal of a request that ran longer than the timeout.
pub fn timeout_exceeded(elapsed: std::time::Duration, max: std::time::Duration) -> Exceeded {
    Exceeded {
        limit: "timeout",
        measured: elapsed.as_millis() as u64,
        max: max.as_millis() as u64,
    }
}

/// The GraphQL error of a request its caller's bucket cannot pay for.
pub fn rate_limited_error(cost: u64, throttled: &Throttled) -> ServerError {
    let mut error = ServerError::new(
        format!(
            "rate limited: this request costs {cost} points and the bucket holds {}; retry in {} s",
            throttled.status.currently_available, throttled.retry_after_secs
        ),
        None,
    );
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", "RATE_LIMITED");
    extensions.set("retryAfter", throttled.retry_after_secs);
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_limit_the_measure_and_the_maximum() {
        let limits = Limits {
            max_tokens: 5,
            ..Limits::default()
        };
        let exceeded = check_text("{ a { b } }", &limits).unwrap_err();
        assert_eq!(
            exceeded,
            Exceeded {
                limit: "tokens",
                measured: 6,
                max: 5
            }
        );
        let error = serde_json::to_value(exceeded.to_server_error()).expect("serialises");
        assert_eq!(
            error["extensions"],
            serde_json::json!({"code": "QUERY_TOO_COMPLEX", "limit": "tokens", "measured": 6, "max": 5})
        );
    }
}
