//! Label values that come from outside (GraphQL operation names, error codes, rate-limit
//! kinds) kept to a bounded set: every distinct label value is a time series Prometheus
//! keeps forever, so a client sending random operation names must not grow them without end.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

/// The label of requests without an operation name.
pub const ANONYMOUS: &str = "anonymous";
/// The label of names that are not GraphQL names (`[_A-Za-z][_0-9A-Za-z]*`, at most
/// [`MAX_NAME_LEN`] characters).
pub const INVALID: &str = "invalid";
/// The label of valid names seen after the set was full.
pub const OTHER: &str = "other";

/// Longest operation name kept as a label (GraphQL names have no limit of their own).
pub const MAX_NAME_LEN: usize = 64;

/// True for a GraphQL name (the spec's `Name`) no longer than [`MAX_NAME_LEN`].
pub fn is_graphql_name(candidate: &str) -> bool {
    let mut chars = candidate.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic());
    starts_well
        && candidate.len() <= MAX_NAME_LEN
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// What a client-supplied operation name is written as in logs: the name itself when it
/// is a GraphQL name, [`ANONYMOUS`] when absent, [`INVALID`] otherwise (an invalid name is
/// arbitrary client text and is never written out).
pub fn operation_name(raw: &str) -> &str {
    if raw.is_empty() {
        ANONYMOUS
    } else if is_graphql_name(raw) {
        raw
    } else {
        INVALID
    }
}

/// The first `capacity` distinct values become labels as they are; later ones are
/// [`OTHER`]. First come, first kept: the operations a deployment's own clients send
/// appear within the first minutes and keep their own series.
#[derive(Debug)]
pub struct BoundedLabels {
    capacity: usize,
    seen: RwLock<HashSet<String>>,
}

impl BoundedLabels {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seen: RwLock::new(HashSet::new()),
        }
    }

    /// The label for `value` (already normalised by the caller).
    pub fn label(&self, value: &str) -> String {
        // A panic while holding the lock cannot leave the set inconsistent (an insert is
        // atomic from the outside), so a poisoned lock is used as it is.
        {
            let seen = self.seen.read().unwrap_or_else(PoisonError::into_inner);
            if seen.contains(value) {
                return value.to_string();
            }
            if seen.len() >= self.capacity {
                return OTHER.to_string();
            }
        }
        let mut seen = self.seen.write().unwrap_or_else(PoisonError::into_inner);
        if seen.contains(value) || seen.len() < self.capacity {
            seen.insert(value.to_string());
            value.to_string()
        } else {
            OTHER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_names_are_letters_digits_and_underscores_not_starting_with_a_digit() {
        assert!(is_graphql_name("PublicCases"));
        assert!(is_graphql_name("_private_2"));
        assert!(!is_graphql_name(""));
        assert!(!is_graphql_name("2fast"));
        assert!(!is_graphql_name("name with spaces"));
        assert!(!is_graphql_name("名字"));
        assert!(is_graphql_name(&"a".repeat(MAX_NAME_LEN)));
        assert!(!is_graphql_name(&"a".repeat(MAX_NAME_LEN + 1)));
    }

    #[test]
    fn operation_names_are_written_out_only_when_they_are_graphql_names() {
        assert_eq!(operation_name(""), ANONYMOUS);
        assert_eq!(operation_name("Dashboard"), "Dashboard");
        assert_eq!(operation_name("call 13812345678"), INVALID);
    }

    #[test]
    fn values_past_the_capacity_share_the_other_label() {
        let labels = BoundedLabels::new(2);
        assert_eq!(labels.label("A"), "A");
        assert_eq!(labels.label("B"), "B");
        assert_eq!(labels.label("C"), OTHER);
        assert_eq!(
            labels.label("A"),
            "A",
            "a value seen before keeps its label"
        );
        assert_eq!(labels.label("D"), OTHER);
    }
}
