//! The query string of `GET requests.{format}`, checked once into a [`RequestSearch`].
//!
//! - `service_request_id` (comma-separated, repeatable) overrides every other parameter,
//!   as the spec says: those are then ignored, not even checked.
//! - `service_code`, `status` (`open`, `closed`): comma-separated, repeatable.
//! - `start_date`, `end_date`: W3C/ISO 8601 (`2026-10-01T00:00:00+08:00`, `…Z`); a date
//!   or a time without an offset is Beijing time (Asia/Shanghai, the platform's zone);
//!   an `end_date` given as a bare date means the end of that day. Neither: the last 90
//!   days. Only one: 90 days from it (or up to it). The window may not span more than
//!   90 days (the spec's limit); both ends are inclusive.
//! - `page` (1-based), `page_size` (1…1000, default 1000): the common extensions.
//! - Anything else (`jurisdiction_id`, `api_key`, `extensions`, …) is ignored: minyi
//!   serves one jurisdiction, and read access needs no key.
//!
//! An empty value counts as absent (clients send `service_code=&status=`). A `+` of an
//! offset that a client did not percent-encode arrives as a space and is put back.

use super::error::Open311Error;
use super::status::PublicStatus;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// The most rows one answer holds (the spec's limit), and the largest `page_size`.
pub const MAX_ROWS: u64 = 1000;
/// The longest window `start_date`…`end_date` (the spec's limit, also the default).
pub const MAX_WINDOW_DAYS: i64 = 90;

/// What `GET requests` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestSearch {
    /// These tracking numbers (deduplicated, in the order given).
    Ids(Vec<String>),
    Filter(RequestFilter),
}

/// A filtered, paged search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFilter {
    /// Empty: every service.
    pub service_codes: Vec<String>,
    /// Empty: both statuses.
    pub statuses: Vec<PublicStatus>,
    /// Inclusive bounds on `requested_datetime`.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub page: u64,
    pub page_size: u64,
}

impl RequestFilter {
    /// Rows skipped before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.page_size
    }
}

/// Parses the query pairs (already percent-decoded) at `now`.
pub fn parse(
    pairs: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<RequestSearch, Open311Error> {
    let ids = list(pairs, "service_request_id");
    if !ids.is_empty() {
        let mut unique: Vec<String> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        if unique.len() as u64 > MAX_ROWS {
            return Err(bad(format!(
                "service_request_id lists {} requests; at most {MAX_ROWS} at once",
                unique.len()
            )));
        }
        return Ok(RequestSearch::Ids(unique));
    }
    let statuses = list(pairs, "status")
        .into_iter()
        .map(|value| {
            PublicStatus::parse(&value).ok_or_else(|| {
                bad(format!(
                    "status must be open or closed (comma-separated), not `{value}`"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let start = single(pairs, "start_date")?
        .map(|value| parse_instant("start_date", value, Bound::Start))
        .transpose()?;
    let end = single(pairs, "end_date")?
        .map(|value| parse_instant("end_date", value, Bound::End))
        .transpose()?;
    let window = Duration::days(MAX_WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => (start, start + window),
        (None, Some(end)) => (end - window, end),
        (None, None) => (now - window, now),
    };
    if start > end {
        return Err(bad("start_date is after end_date".to_string()));
    }
    if end - start > window {
        return Err(bad(format!(
            "start_date and end_date may not span more than {MAX_WINDOW_DAYS} days"
        )));
    }
    let page = number(pairs, "page", 1, u64::MAX)?.unwrap_or(1);
    let page_size = number(pairs, "page_size", 1, MAX_ROWS)?.unwrap_or(MAX_ROWS);
    if (page - 1)
        .checked_mul(page_size)
        .is_none_or(|offset| offset > i64::MAX as u64)
    {
        return Err(bad("page is too large".to_string()));
    }
    Ok(RequestSearch::Filter(RequestFilter {
        service_codes: list(pairs, "service_code"),
        statuses,
        start,
        end,
        page,
        page_size,
    }))
}

fn bad(description: String) -> Open311Error {
    Open311Error::BadRequest(description)
}

/// Every comma-separated piece of every occurrence of `name`, trimmed, empty ones dropped.
fn list(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(key, _)| key == name)
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .map(str::to_string)
        .collect()
}

/// The one non-empty value of `name`; given twice with values is an error, since which
/// one the client meant is unknowable.
fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Open311Error> {
    let mut values = pairs
        .iter()
        .filter(|(key, value)| key == name && !value.trim().is_empty())
        .map(|(_, value)| value.trim());
    let first = values.next();
    if values.next().is_some() {
        return Err(bad(format!("{name} is given more than once")));
    }
    Ok(first)
}

fn number(
    pairs: &[(String, String)],
    name: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, Open311Error> {
    let Some(value) = single(pairs, name)? else {
        return Ok(None);
    };
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ if max == u64::MAX => Err(bad(format!(
            "{name} must be a whole number from {min}, not `{value}`"
        ))),
        _ => Err(bad(format!(
            "{name} must be a whole number from {min} to {max}, not `{value}`"
        ))),
    }
}

/// Which end of the window a date names (a bare date is the start or the end of its day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Start,
    End,
}

fn parse_instant(name: &str, raw: &str, bound: Bound) -> Result<DateTime<Utc>, Open311Error> {
    let value = restore_offset_plus(raw);
    let instant = DateTime::parse_from_rfc3339(&value)
        .or_else(|_| DateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .and_then(beijing)
        })
        .or_else(|| {
            let day = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok()?;
            let time = match bound {
                Bound::Start => NaiveTime::MIN,
                Bound::End => NaiveTime::from_hms_opt(23, 59, 59)?,
            };
            beijing(day.and_time(time))
        })
        .ok_or_else(|| {
            bad(format!(
                "{name} must be an ISO 8601 date-time such as 2026-10-01T00:00:00+08:00, not `{raw}`"
            ))
        })?;
    // Stored instants are whole seconds: round the window inwards to whole seconds so
    // the comparison is exact on every backend.
    let whole = instant - Duration::nanoseconds(i64::from(instant.timestamp_subsec_nanos()));
    Ok(match bound {
        Bound::Start if whole < instant => whole + Duration::seconds(1),
        _ => whole,
    })
}

fn beijing(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // China has had no daylight saving since 1991: every local time exists once.
    Shanghai
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `2026-10-01T00:00:00 08:00` (an unencoded `+` decoded as a space) → `…+08:00`.
fn restore_offset_plus(value: &str) -> String {
    let bytes = value.as_bytes();
    for offset_len in [5, 4] {
        // " 08:00" or " 0800" at the very end.
        if bytes.len() > offset_len + 1 {
            let space = bytes.len() - offset_len - 1;
            let tail = &value[space + 1..];
            let shaped = tail
                .bytes()
                .enumerate()
                .all(|(i, b)| b.is_ascii_digit() || (offset_len == 5 && i == 2 && b == b':'));
            if bytes[space] == b' '
                && shaped
                && tail.bytes().filter(u8::is_ascii_digit).count() == 4
            {
                return format!("{}+{tail}", &value[..space]);
            }
        }
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0)
            .single()
            .expect("valid")
    }

    fn filter(query: &[(&str, &str)]) -> RequestFilter {
        match parse(&pairs(query), now()) {
            Ok(RequestSearch::Filter(filter)) => filter,
            other => panic!("not a filter: {other:?}"),
        }
    }

    fn error(query: &[(&str, &str)]) -> String {
        match parse(&pairs(query), now()) {
            Err(Open311Error::BadRequest(description)) => description,
            other => panic!("not a 400: {other:?}"),
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn no_parameters_mean_the_last_90_days_all_statuses_first_page_of_1000() {
        let f = filter(&[]);
        assert_eq!(f.end, now());
        assert_eq!(f.start, now() - Duration::days(90));
        assert_eq!((f.page, f.page_size, f.offset()), (1, 1000, 0));
        assert!(f.statuses.is_empty() && f.service_codes.is_empty());
    }

    #[test]
    fn offsets_z_bare_times_and_bare_dates_are_understood() {
        let f = filter(&[
            ("start_date", "2026-10-01T00:00:00+08:00"),
            ("end_date", "2026-10-31"),
        ]);
        assert_eq!(f.start, utc("2026-09-30T16:00:00Z"));
        assert_eq!(f.end, utc("2026-10-31T15:59:59Z"));
        let f = filter(&[
            ("start_date", "2026-10-01T00:00:00"),
            ("end_date", "2026-10-02T00:00:00.250Z"),
        ]);
        assert_eq!(f.start, utc("2026-09-30T16:00:00Z"));
        assert_eq!(f.end, utc("2026-10-02T00:00:00Z"));
        let f = filter(&[("start_date", "2026-10-01T00:00:00.5+0800")]);
        assert_eq!(f.start, utc("2026-09-30T16:00:01Z"));
        assert_eq!(f.end, f.start + Duration::days(90));
    }

    #[test]
    fn an_unencoded_plus_that_arrived_as_a_space_is_put_back() {
        let f = filter(&[
            ("start_date", "2026-10-01T00:00:00 08:00"),
            ("end_date", "2026-10-31T23:59:59 0800"),
        ]);
        assert_eq!(f.start, utc("2026-09-30T16:00:00Z"));
        assert_eq!(f.end, utc("2026-10-31T15:59:59Z"));
    }

    #[test]
    fn lists_are_comma_separated_repeatable_and_empty_values_are_absent() {
        let f = filter(&[
            ("status", "open, closed"),
            ("service_code", "A01,"),
            ("service_code", "B02"),
            ("start_date", ""),
        ]);
        assert_eq!(f.statuses, vec![PublicStatus::Open, PublicStatus::Closed]);
        assert_eq!(f.service_codes, vec!["A01", "B02"]);
        assert_eq!(f.end, now());
    }

    #[test]
    fn service_request_id_overrides_and_skips_every_other_parameter() {
        let search = parse(
            &pairs(&[
                ("service_request_id", "T1,T2"),
                ("service_request_id", "T1"),
                ("start_date", "not a date"),
            ]),
            now(),
        );
        assert_eq!(
            search,
            Ok(RequestSearch::Ids(vec!["T1".to_string(), "T2".to_string()]))
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(error(&[("start_date", "yesterday")]).starts_with("start_date must be"));
        assert!(error(&[("end_date", "2026-13-01")]).starts_with("end_date must be"));
        assert_eq!(
            error(&[("status", "open,pending")]),
            "status must be open or closed (comma-separated), not `pending`"
        );
        assert_eq!(
            error(&[("start_date", "2026-10-02"), ("end_date", "2026-10-01")]),
            "start_date is after end_date"
        );
        assert_eq!(
            error(&[("start_date", "2026-01-01"), ("end_date", "2026-10-01")]),
            "start_date and end_date may not span more than 90 days"
        );
        assert_eq!(
            error(&[("page_size", "1001")]),
            "page_size must be a whole number from 1 to 1000, not `1001`"
        );
        assert_eq!(
            error(&[("page", "0")]),
            "page must be a whole number from 1, not `0`"
        );
        assert_eq!(
            error(&[("page", "18446744073709551615")]),
            "page is too large"
        );
        assert_eq!(
            error(&[("page", "1"), ("page", "2")]),
            "page is given more than once"
        );
    }
}
