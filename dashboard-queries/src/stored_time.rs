//! The instants SQLite stores as text, read straight into [`Nanos`].
//!
//! sqlx writes a `DateTime<Utc>` as RFC 3339 (`2025-11-27T01:02:18+00:00`, with up to nine
//! fraction digits when there are any). Reading hundreds of thousands of them per
//! dashboard question, a parser of exactly that shape costs a few nanoseconds each where
//! SQLite's `unixepoch()` in the statement or chrono's general parser cost far more. It
//! also accepts what SQLite's own date functions accept of the same form (a space for the
//! `T`, `Z`, no offset meaning UTC) and refuses anything else: an instant it cannot read
//! is an error, never a guess. The export's SQLite reader uses it for the shape sqlx
//! writes (`api/src/open_data/export/stored_time.rs`).

use crate::calendar::{Nanos, NANOS_PER_SECOND};
use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]` → nanoseconds since the epoch.
pub fn parse(text: &str) -> Option<Nanos> {
    parse_bytes(text.as_bytes())
}

/// [`parse`] of the bytes SQLite hands over: the accepted forms are ASCII, checked byte by
/// byte, so no UTF-8 check is needed first (the export's reader reads them so).
pub fn parse_bytes(b: &[u8]) -> Option<Nanos> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])? as u32,
        digits(&b[8..10])? as u32,
    )?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut fraction = 0;
    if let [b'.', tail @ ..] = rest {
        let count = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 || count > 9 {
            return None;
        }
        fraction = digits(&tail[..count])? * 10_i64.pow(9 - count as u32);
        rest = &tail[count..];
    }
    let offset_seconds = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let east = h * 3600 + m * 60;
            if *sign == b'+' {
                east
            } else {
                -east
            }
        }
        _ => return None,
    };
    let days = i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(fraction)
}

/// The value of ASCII decimal digits (none but digits allowed).
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0_i64, |value, c| {
        c.is_ascii_digit().then(|| value * 10 + i64::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, SecondsFormat, Utc};
    use proptest::prelude::*;

    #[test]
    fn the_stored_forms_read_as_their_instant() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
        };
        assert_eq!(
            parse("2025-11-27T01:02:18+00:00"),
            at("2025-11-27T01:02:18Z")
        );
        assert_eq!(parse("2025-11-27 01:02:18"), at("2025-11-27T01:02:18Z"));
        assert_eq!(
            parse("2025-11-27T09:02:18.5+08:00"),
            at("2025-11-27T01:02:18.5Z")
        );
        assert_eq!(parse("1969-12-31T23:59:59.000000001Z"), Some(-999_999_999));
        assert_eq!(
            parse("1970-01-01T00:00:00-00:30"),
            Some(1_800 * NANOS_PER_SECOND)
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "2025-11-27",
            "2025-11-27T01:02",
            "2025/11/27T01:02:18Z",
            "2025-02-30T01:02:18Z",
            "2025-11-27T24:00:00Z",
            "2025-11-27T01:02:18.Z",
            "2025-11-27T01:02:18.1234567890Z",
            "2025-11-27T01:02:18+0800",
            "2025-11-27T01:02:18 UTC",
            "2025-11-27T01:02:1x",
        ] {
            assert_eq!(parse(bad), None, "{bad:?} must be refused");
        }
    }

    proptest! {
        #[test]
        fn what_sqlx_writes_reads_back_to_the_same_nanosecond(
            secs in -2_000_000_000i64..4_000_000_000i64,
            nanos in 0u32..1_000_000_000,
        ) {
            let t = DateTime::<Utc>::from_timestamp(secs, nanos).expect("in range");
            // sqlx-sqlite encodes `DateTime<Utc>` with `to_rfc3339_opts(AutoSi, false)`.
            let text = t.to_rfc3339_opts(SecondsFormat::AutoSi, false);
            prop_assert_eq!(parse(&text), t.timestamp_nanos_opt());
        }
    }
}
