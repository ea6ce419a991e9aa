//! China's official working-day calendar: which local days are working days, where a
//! "N working days" deadline falls, and how much working time a span covers.
//!
//! The rule: a date listed in the official schedule (the `holidays` table) is off or
//! working as listed — statutory holidays are off, make-up working days (调休上班) are
//! working even on a weekend. Every unlisted date follows the weekday rule: Saturday and
//! Sunday off, Monday to Friday working. Days are the calendar's local days (Asia/Shanghai
//! by default), never UTC days: a case accepted at 01:30 in Shanghai was accepted on that
//! Shanghai day even though it is still the previous day in UTC.

use std::collections::HashMap;

mod meter;

pub use meter::{nanos, seconds_f64, Nanos, SpanMeter, NANOS_PER_SECOND};

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use entities::holiday;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

/// Local midnight. Built in a `const` so that an impossible time is a compile error
/// rather than a runtime `unwrap` on a request path.
const MIDNIGHT: NaiveTime = match NaiveTime::from_hms_opt(0, 0, 0) {
    Some(t) => t,
    None => panic!("00:00:00 is a valid time"),
};

/// The deadline is the last whole second of its day (23:59:59 local): a reply stamped
/// 23:59:59 is on time, one stamped at the next midnight is late.
const ONE_SECOND: TimeDelta = TimeDelta::seconds(1);

/// The official working-day calendar of one time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Dates that depart from the weekday rule → `true` if off (holiday), `false` if
    /// working (make-up working day).
    listed: HashMap<NaiveDate, bool>,
    tz: Tz,
}

impl WorkCalendar {
    /// `listed`: dates that depart from the weekday rule: (date, is_off_day). Unlisted
    /// dates: Sat/Sun off, Mon–Fri working. A date listed twice keeps its last entry (the
    /// later notice wins, as in the reference loader).
    pub fn new(tz: Tz, listed: impl IntoIterator<Item = (NaiveDate, bool)>) -> Self {
        Self {
            listed: listed.into_iter().collect(),
            tz,
        }
    }

    /// Same as [`WorkCalendar::new`] with Asia/Shanghai, the default zone of every region.
    pub fn shanghai(listed: impl IntoIterator<Item = (NaiveDate, bool)>) -> Self {
        Self::new(chrono_tz::Asia::Shanghai, listed)
    }

    /// Loads the `holidays` table (entity `entities::holiday`) into an Asia/Shanghai
    /// calendar. The table is small (a few hundred rows), so it is read whole.
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Self, DbErr> {
        let rows = holiday::Entity::find().all(db).await?;
        Ok(Self::shanghai(
            rows.into_iter().map(|r| (r.date, r.is_off_day)),
        ))
    }

    /// The zone whose local days the calendar counts.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// Whether `date` (a local date of this calendar) is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.listed.get(&date) {
            Some(&is_off_day) => !is_off_day,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// Deadline `working_days` working days after `start`: the start's own local day never
    /// counts (whether or not it is a working day); counting begins the next local day and
    /// the deadline is the END of the last counted working day in the calendar's zone,
    /// i.e. 23:59:59 local, returned in UTC.
    ///
    /// `working_days = 0` → end of the start's local day.
    ///
    /// Example: accepted Mon 2025-03-03 10:00 +08, 7 working days → Wed 2025-03-12
    /// 23:59:59 +08 (= 15:59:59 UTC).
    ///
    /// The search never panics: should it run past the last representable date (it cannot
    /// with real calendars, which only list a few dates a year), it stops at that date.
    pub fn add_working_days(&self, start: DateTime<Utc>, working_days: u32) -> DateTime<Utc> {
        let mut day = self.local_date(start);
        let mut counted = 0;
        while counted < working_days {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                counted += 1;
            }
        }
        self.end_of_day(day)
    }

    /// Clock hours from `start` to `end` (never negative: `end < start` gives 0.0).
    pub fn clock_hours(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
        if end <= start {
            return 0.0;
        }
        (end - start).as_seconds_f64() / 3600.0
    }

    /// [`Self::clock_hours`] of instants in [`Nanos`], bit for bit.
    pub fn clock_hours_nanos(start: Nanos, end: Nanos) -> f64 {
        if end <= start {
            return 0.0;
        }
        seconds_f64(end - start) / 3600.0
    }

    /// Working days elapsed from `start` to `end`, measured in local days of this calendar.
    ///
    /// The exact rule: the half-open interval `[start, end)` is cut at every local midnight;
    /// each piece lying on a working day contributes `piece length / length of that local
    /// day` (24 hours, or 23/25 on a daylight-saving change day), each piece on an off day
    /// contributes 0. So a full working day is 1.0, the whole clock day counts (there are
    /// no office hours), and, unlike [`WorkCalendar::add_working_days`], the start's own
    /// day counts for the part of it that has elapsed.
    ///
    /// Examples (Asia/Shanghai): Mon 10:00 → Tue 10:00 = 1.0; Fri 18:00 → Mon 09:00 =
    /// 6/24 + 9/24 = 0.625; any span inside a weekend or holiday = 0.0; `end <= start` = 0.0.
    pub fn working_days_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
        if end <= start {
            return 0.0;
        }
        let mut total = 0.0;
        let mut day = self.local_date(start);
        let mut day_start = self.start_of_day(day);
        while let Some(next) = day.checked_add_days(Days::new(1)) {
            let next_start = self.start_of_day(next);
            if self.is_working_day(day) {
                let piece = end.min(next_start) - start.max(day_start);
                let length = next_start - day_start;
                if piece > TimeDelta::zero() && length > TimeDelta::zero() {
                    total += piece.as_seconds_f64() / length.as_seconds_f64();
                }
            }
            if next_start >= end {
                break;
            }
            day = next;
            day_start = next_start;
        }
        total
    }

    fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.tz).date_naive()
    }

    /// The last second of local `day`: one second before the next local day begins.
    fn end_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        match day.checked_add_days(Days::new(1)) {
            Some(next) => self.start_of_day(next) - ONE_SECOND,
            // Only NaiveDate::MAX has no next day; its end is its start plus a day.
            None => self.start_of_day(day) + TimeDelta::days(1) - ONE_SECOND,
        }
    }

    /// The first instant of local `day`. Where midnight is repeated (clocks go back) it is
    /// the first midnight; where midnight is skipped (clocks go forward) it is the moment
    /// of the jump, i.e. midnight read with the offset in force before it.
    fn start_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(MIDNIGHT);
        match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // A day earlier is safely before the transition (they are months apart).
                let before = midnight - TimeDelta::days(1);
                let offset = self.tz.offset_from_utc_datetime(&before);
                let utc = midnight - TimeDelta::seconds(i64::from(offset_seconds(&offset)));
                Utc.from_utc_datetime(&utc)
            }
        }
    }
}

/// Seconds east of UTC of a chrono-tz offset.
fn offset_seconds(offset: &<Tz as TimeZone>::Offset) -> i32 {
    use chrono::Offset;
    offset.fix().local_minus_utc()
}

#[cfg(test)]
mod tests;
