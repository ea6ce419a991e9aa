//! Working days of many spans at once: the local day starts and working-day flags of a
//! date range computed once, so measuring a span walks a table instead of converting
//! every midnight it crosses through the time zone database (a dashboard measures
//! hundreds of thousands of replies per question).

use super::WorkCalendar;
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};

/// The calendar's day starts and flags from `first` on; measures exactly like
/// [`WorkCalendar::working_days_between`] (the same pieces, summed in the same order).
pub struct SpanMeter<'a> {
    calendar: &'a WorkCalendar,
    first: NaiveDate,
    /// `starts[k]`: the first instant of local day `first + k`; one more entry than
    /// `working`, so every tabled day has its end.
    starts: Vec<DateTime<Utc>>,
    working: Vec<bool>,
}

impl WorkCalendar {
    /// A meter for spans between `from` and `to` (others are measured day by day).
    pub fn meter(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> SpanMeter<'_> {
        let first = self.local_date(from.min(to));
        let last = self.local_date(from.max(to));
        let mut starts = Vec::new();
        let mut working = Vec::new();
        let mut day = first;
        loop {
            starts.push(self.start_of_day(day));
            let Some(next) = day.checked_add_days(Days::new(1)) else {
                break;
            };
            if day > last {
                break;
            }
            working.push(self.is_working_day(day));
            day = next;
        }
        SpanMeter {
            calendar: self,
            first,
            starts,
            working,
        }
    }
}

impl SpanMeter<'_> {
    /// Working days elapsed from `start` to `end`: see
    /// [`WorkCalendar::working_days_between`], whose result this is bit for bit.
    pub fn working_days_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
        if end <= start {
            return 0.0;
        }
        let day = self.calendar.local_date(start);
        let Ok(mut k) = usize::try_from(day.signed_duration_since(self.first).num_days()) else {
            return self.calendar.working_days_between(start, end);
        };
        let mut total = 0.0;
        loop {
            let (Some(&working), Some(&day_start), Some(&next_start)) = (
                self.working.get(k),
                self.starts.get(k),
                self.starts.get(k + 1),
            ) else {
                // Past the table: the span outlives the range the meter was made for.
                return self.calendar.working_days_between(start, end);
            };
            if working {
                let piece = end.min(next_start) - start.max(day_start);
                let length = next_start - day_start;
                if piece > TimeDelta::zero() && length > TimeDelta::zero() {
                    total += piece.as_seconds_f64() / length.as_seconds_f64();
                }
            }
            if next_start >= end {
                return total;
            }
            k += 1;
        }
    }
}
