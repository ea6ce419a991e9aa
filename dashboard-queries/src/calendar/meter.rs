//! Working days of many spans at once: the local day starts and working-day flags of a
//! date range computed once, so measuring a span walks a table instead of converting
//! every midnight it crosses through the time zone database (a dashboard measures
//! hundreds of thousands of replies per question).
//!
//! The table and the spans are integer nanoseconds since the Unix epoch ([`Nanos`]):
//! finding a span's first day is a binary search of the day starts, and each piece is an
//! integer subtraction. Measured with chrono's instants, their subtraction and the time
//! zone look-up of each span's start were a third of a province's durations (1M cases).

use super::WorkCalendar;
use chrono::{DateTime, Days, NaiveDate, Utc};

/// An instant as nanoseconds since the Unix epoch (years 1678 to 2262).
pub type Nanos = i64;

/// Nanoseconds in a second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The instant of `t` in [`Nanos`], `None` outside their range.
pub fn nanos(t: DateTime<Utc>) -> Option<Nanos> {
    t.timestamp_nanos_opt()
}

/// Seconds of a span of `n` nanoseconds, rounded exactly like chrono's
/// `TimeDelta::as_seconds_f64` (whole seconds plus the fraction), so that spans measured
/// in nanoseconds agree bit for bit with spans measured on `DateTime`s.
pub fn seconds_f64(n: i64) -> f64 {
    n.div_euclid(NANOS_PER_SECOND) as f64
        + n.rem_euclid(NANOS_PER_SECOND) as f64 / NANOS_PER_SECOND as f64
}

/// The calendar's day starts and flags from `first` on; measures exactly like
/// [`WorkCalendar::working_days_between`] (the same pieces, summed in the same order).
pub struct SpanMeter<'a> {
    calendar: &'a WorkCalendar,
    /// `starts[k]`: the first instant of the table's `k`-th local day; one more entry than
    /// `working`, so every tabled day has its end. Ascending.
    starts: Vec<Nanos>,
    working: Vec<bool>,
}

impl WorkCalendar {
    /// A meter for spans between `from` and `to` (others are measured day by day).
    pub fn meter(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> SpanMeter<'_> {
        let first = self.local_date(from.min(to));
        let last = self.local_date(from.max(to));
        let mut starts = Vec::new();
        let mut working = Vec::new();
        let mut day: NaiveDate = first;
        // A day start outside the range of `Nanos` ends the table (spans beyond it are
        // measured day by day).
        while let Some(start) = nanos(self.start_of_day(day)) {
            starts.push(start);
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                break;
            };
            if day > last {
                break;
            }
            working.push(self.is_working_day(day));
            day = next;
        }
        working.truncate(starts.len().saturating_sub(1));
        SpanMeter {
            calendar: self,
            starts,
            working,
        }
    }
}

impl SpanMeter<'_> {
    /// Working days elapsed from `start` to `end`: see
    /// [`WorkCalendar::working_days_between`], whose result this is bit for bit.
    pub fn working_days_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
        match (nanos(start), nanos(end)) {
            (Some(s), Some(e)) => self.working_days_between_nanos(s, e),
            _ => self.calendar.working_days_between(start, end),
        }
    }

    /// [`Self::working_days_between`] of instants in [`Nanos`].
    pub fn working_days_between_nanos(&self, start: Nanos, end: Nanos) -> f64 {
        if end <= start {
            return 0.0;
        }
        // The day holding `start`: the last one that starts at or before it. (Where clocks
        // go back over midnight, the calendar's walk begins a day earlier, whose piece is
        // empty: the same sum.)
        let Some(mut k) = self
            .starts
            .partition_point(|&day_start| day_start <= start)
            .checked_sub(1)
        else {
            return self.by_calendar(start, end);
        };
        let mut total = 0.0;
        loop {
            let (Some(&working), Some(&day_start), Some(&next_start)) = (
                self.working.get(k),
                self.starts.get(k),
                self.starts.get(k + 1),
            ) else {
                // Past the table: the span outlives the range the meter was made for.
                return self.by_calendar(start, end);
            };
            if working {
                let piece = end.min(next_start) - start.max(day_start);
                let length = next_start - day_start;
                if piece > 0 && length > 0 {
                    total += seconds_f64(piece) / seconds_f64(length);
                }
            }
            if next_start >= end {
                return total;
            }
            k += 1;
        }
    }

    /// Day by day through the calendar, for spans the table does not hold.
    fn by_calendar(&self, start: Nanos, end: Nanos) -> f64 {
        self.calendar.working_days_between(
            DateTime::from_timestamp_nanos(start),
            DateTime::from_timestamp_nanos(end),
        )
    }
}
