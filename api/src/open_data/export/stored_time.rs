//! Timestamps as SQLite stores them, read by the export's SQLite reader exactly as sqlx
//! reads them for the generic path: the shape sqlx writes (`2024-03-01T01:30:00+00:00`,
//! with an optional fraction) is taken apart digit by digit (by the metrics engine's
//! parser, `dashboard_queries::stored_time`); any other spelling goes
//! through sqlx's own rules (ported from sqlx-sqlite's chrono decoder: RFC 3339, then
//! SQLite's date/time formats, integers as Unix seconds, reals as Julian days).

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

/// A stored text timestamp, or `None` when sqlx would refuse it too.
pub fn from_text(text: &str) -> Option<DateTime<Utc>> {
    from_bytes(text.as_bytes())
}

/// A stored text timestamp as SQLite hands it over (bytes): the shape sqlx writes is read
/// without a UTF-8 check (its digits and separators are ASCII, checked one by one); any
/// other spelling must be UTF-8 and goes through sqlx's rules. `None` when sqlx would
/// refuse it too.
pub fn from_bytes(bytes: &[u8]) -> Option<DateTime<Utc>> {
    match sqlx_shape(bytes) {
        Some(t) => Some(t),
        None => std::str::from_utf8(bytes)
            .ok()
            .and_then(by_sqlx_rules)
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// A timestamp stored as an integer: Unix seconds.
pub fn from_integer(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

/// A timestamp stored as a real: a Julian day number.
pub fn from_real(value: f64) -> Option<DateTime<Utc>> {
    let epoch_in_julian_days = 2_440_587.5;
    let seconds_in_day = 86400.0;
    let timestamp = (value - epoch_in_julian_days) * seconds_in_day;
    if !timestamp.is_finite() {
        return None;
    }
    // The same lossy casts as sqlx: the value is finite, the fraction below one second.
    let seconds = timestamp.trunc() as i64;
    let nanos = (timestamp.fract() * 1E9).abs() as u32;
    Utc.timestamp_opt(seconds, nanos).single()
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](+00:00|Z)`: what sqlx writes for a `DateTime<Utc>`, read
/// by the metrics engine's digit parser ([`dashboard_queries::stored_time`]). `None` for
/// anything else, including leap seconds and instants beyond the years 1678–2262 that
/// parser covers, so the general rules decide.
fn sqlx_shape(b: &[u8]) -> Option<DateTime<Utc>> {
    let written_by_sqlx = b.get(10) == Some(&b'T') && (b.ends_with(b"+00:00") || b.ends_with(b"Z"));
    if !written_by_sqlx {
        return None;
    }
    dashboard_queries::stored_time::parse_bytes(b).map(DateTime::from_timestamp_nanos)
}

/// sqlx-sqlite's `decode_datetime_from_text`, verbatim in behaviour.
fn by_sqlx_rules(value: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt);
    }
    const SQLITE_FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    for format in SQLITE_FORMATS {
        if let Ok(dt) = DateTime::parse_from_str(value, format) {
            return Some(dt);
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(value, format) {
            return Some(Utc.fix().from_utc_datetime(&dt));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the generic reader gets: sqlx's rules alone.
    fn generic(text: &str) -> Option<DateTime<Utc>> {
        by_sqlx_rules(text).map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn the_digit_reader_agrees_with_sqlx_on_every_spelling_sqlx_writes() {
        let samples = [
            "2024-03-01T01:30:00+00:00",
            "2024-02-29T23:59:59.5+00:00",
            "2024-12-31T16:00:00.123456+00:00",
            "1999-01-01T00:00:00.000000001+00:00",
            "2024-03-01T01:30:00Z",
        ];
        for text in samples {
            let fast = sqlx_shape(text.as_bytes());
            assert!(fast.is_some(), "{text} takes the digit path");
            assert_eq!(fast, generic(text), "{text}");
        }
    }

    #[test]
    fn other_spellings_take_sqlx_rules_and_impossible_ones_fail_alike() {
        for text in [
            "2024-03-01 01:30:00",
            "2024-03-01T09:30:00+08:00",
            "2024-03-01 01:30",
            "2024-06-30T23:59:60+00:00",
            "2024-03-01T01:30:00.1234567891+00:00",
        ] {
            assert_eq!(sqlx_shape(text.as_bytes()), None, "{text}");
            assert!(from_text(text).is_some(), "{text}");
            assert_eq!(from_text(text), generic(text), "{text}");
        }
        for text in [
            "2024-02-30T00:00:00+00:00",
            "yesterday",
            "2024-13-01T00:00:00Z",
        ] {
            assert_eq!(from_text(text), None, "{text}");
            assert_eq!(generic(text), None, "{text}");
        }
    }

    #[test]
    fn bytes_read_like_text_and_invalid_utf8_is_refused() {
        for text in [
            "2024-03-01T01:30:00+00:00",
            "2024-03-01T01:30:00.25Z",
            "2024-03-01 01:30:00",
            "2024-03-01T09:30:00+08:00",
            "2024-02-30T00:00:00+00:00",
        ] {
            assert_eq!(from_bytes(text.as_bytes()), from_text(text), "{text}");
        }
        assert_eq!(from_bytes(b"2024-03-01 01:30:\xff0"), None);
    }

    #[test]
    fn integers_are_unix_seconds_and_reals_julian_days() {
        let noon = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).single();
        assert_eq!(from_integer(1_709_294_400), noon);
        assert_eq!(from_real(2_460_371.0), noon);
    }
}
