//! The payload of `pg_notify('minyi_case_events', …)`, written by the trigger of
//! migration `m20261126_000009`: `ids:<id>,<id>,…` for up to 400 rows of one
//! statement, `range:<min>-<max>` for more (a bulk import), so a payload stays far
//! below PostgreSQL's 8000-byte limit and a million-row statement sends one notice.

/// What one notice announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Ids(Vec<i64>),
    /// Every row of the statement has an id in `min..=max` (other statements' rows may
    /// too).
    Range {
        min: i64,
        max: i64,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unreadable case-event notice {0:?}")]
pub struct BadNotice(pub String);

impl Notice {
    pub fn parse(payload: &str) -> Result<Self, BadNotice> {
        let bad = || BadNotice(payload.chars().take(80).collect());
        if let Some(list) = payload.strip_prefix("ids:") {
            let ids = list
                .split(',')
                .map(|id| id.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| bad())?;
            return Ok(Self::Ids(ids));
        }
        if let Some(range) = payload.strip_prefix("range:") {
            let (min, max) = range.split_once('-').ok_or_else(bad)?;
            let min = min.trim().parse().map_err(|_| bad())?;
            let max = max.trim().parse().map_err(|_| bad())?;
            if min > max {
                return Err(bad());
            }
            return Ok(Self::Range { min, max });
        }
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_ids_is_read() {
        assert_eq!(Notice::parse("ids:7,8,12"), Ok(Notice::Ids(vec![7, 8, 12])));
    }

    #[test]
    fn a_range_is_read() {
        assert_eq!(
            Notice::parse("range:100-1000099"),
            Ok(Notice::Range {
                min: 100,
                max: 1_000_099
            })
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for payload in ["", "ids:", "ids:1,x", "range:9-3", "range:5", "hello"] {
            assert!(Notice::parse(payload).is_err(), "{payload}");
        }
    }
}
