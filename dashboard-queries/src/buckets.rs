//! Calendar intervals (day, ISO week, month) in Asia/Shanghai, as UTC instants.

use crate::model::Interval;
use crate::Error;
use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

/// A half-open `[start, end)` interval.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The most intervals one series may have (10 years of days).
pub const MAX_BUCKETS: usize = 3700;

/// Local midnight of `date` in Asia/Shanghai, in UTC. Shanghai has had no DST since
/// 1991, so every local midnight exists and is unique.
pub(crate) fn local_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(chrono::NaiveTime::MIN);
    match Shanghai.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        // Unreachable for Shanghai; fall back to the fixed +08:00 offset.
        chrono::LocalResult::None => naive.and_utc() - chrono::Duration::hours(8),
    }
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Shanghai).date_naive()
}

/// The first day of the interval that contains `date`.
pub(crate) fn interval_start(interval: Interval, date: NaiveDate) -> NaiveDate {
    match interval {
        Interval::Day => date,
        Interval::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
        Interval::Month => date.with_day(1).unwrap_or(date),
    }
}

fn next_start(interval: Interval, date: NaiveDate) -> Option<NaiveDate> {
    match interval {
        Interval::Day => date.checked_add_days(Days::new(1)),
        Interval::Week => date.checked_add_days(Days::new(7)),
        Interval::Month => date.checked_add_months(Months::new(1)),
    }
}

/// The `[start, end)` intervals covering `[from, to)`: the first starts at or before
/// `from`, the last ends at or after `to`.
pub fn intervals(
    interval: Interval,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Span>, Error> {
    let mut out = Vec::new();
    let mut day = interval_start(interval, local_date(from));
    let mut start = local_midnight(day);
    while start < to {
        let next = next_start(interval, day)
            .ok_or_else(|| Error::InvalidWindow("window runs past the calendar".into()))?;
        let end = local_midnight(next);
        out.push((start, end));
        if out.len() > MAX_BUCKETS {
            return Err(Error::InvalidWindow(format!(
                "more than {MAX_BUCKETS} intervals; choose a coarser interval"
            )));
        }
        day = next;
        start = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn months_start_at_shanghai_midnight_and_cover_the_window() {
        let got = intervals(
            Interval::Month,
            utc("2025-01-15T00:00:00+08:00"),
            utc("2025-03-01T00:00:00+08:00"),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                (utc("2024-12-31T16:00:00Z"), utc("2025-01-31T16:00:00Z")),
                (utc("2025-01-31T16:00:00Z"), utc("2025-02-28T16:00:00Z")),
            ]
        );
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2025-03-05 is a Wednesday.
        let got = intervals(
            Interval::Week,
            utc("2025-03-05T12:00:00+08:00"),
            utc("2025-03-11T00:00:00+08:00"),
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, utc("2025-03-03T00:00:00+08:00"));
        assert_eq!(got[1].1, utc("2025-03-17T00:00:00+08:00"));
    }

    #[test]
    fn a_utc_evening_is_the_next_shanghai_day() {
        let got = intervals(
            Interval::Day,
            utc("2025-03-04T17:00:00Z"),
            utc("2025-03-04T18:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            got,
            vec![(utc("2025-03-04T16:00:00Z"), utc("2025-03-05T16:00:00Z"))]
        );
    }

    #[test]
    fn too_many_days_is_an_invalid_window() {
        let err = intervals(
            Interval::Day,
            utc("2000-01-01T00:00:00Z"),
            utc("2020-01-01T00:00:00Z"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidWindow(_)));
    }
}
