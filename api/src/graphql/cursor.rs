//! Opaque keyset cursors for case lists: base64 of the sort key and the id, so that
//! paging stays stable while new cases arrive.

use crate::error::{ApiError, ApiResult};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};

/// The position of one case in a list ordered by (submitted_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseCursor {
    pub submitted_at: DateTime<Utc>,
    pub id: i64,
}

impl CaseCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("c1:{}:{}", self.submitted_at.timestamp(), self.id))
    }

    pub fn decode(text: &str) -> ApiResult<Self> {
        let malformed = || ApiError::bad_input(format!("malformed cursor {text:?}"));
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| malformed())?;
        let plain = String::from_utf8(bytes).map_err(|_| malformed())?;
        let mut parts = plain.split(':');
        let (Some("c1"), Some(seconds), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let seconds: i64 = seconds.parse().map_err(|_| malformed())?;
        let id: i64 = id.parse().map_err(|_| malformed())?;
        let submitted_at = DateTime::from_timestamp(seconds, 0).ok_or_else(malformed)?;
        Ok(Self { submitted_at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_what_was_encoded() {
        let cursor = CaseCursor {
            submitted_at: DateTime::from_timestamp(1_700_000_000, 0).expect("valid"),
            id: 42,
        };
        assert_eq!(
            CaseCursor::decode(&cursor.encode()).expect("decodes"),
            cursor
        );
    }

    #[test]
    fn junk_is_a_bad_user_input() {
        for junk in ["", "abc", "!!!", &URL_SAFE_NO_PAD.encode("c1:x:1")] {
            let err = CaseCursor::decode(junk).expect_err("junk");
            assert_eq!(err.code(), "BAD_USER_INPUT", "{junk}");
        }
    }
}
