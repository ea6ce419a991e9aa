//! The questions (scope, filter, window) and the answers (stats, groups, points) of the
//! metrics engine. Plain data: no I/O here.

use crate::percentile::Summary;
use crate::Error;
use chrono::{DateTime, Duration, DurationRound, Utc};
use entities::{CaseKind, Channel};
use serde::Serialize;

/// Whose cases: a region subtree, a department subtree, or both (intersection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// A region code of any level (6 or 9 digits); the whole subtree is in scope.
    pub region_code: Option<String>,
    /// A department id; that department and every sub-unit under it are in scope.
    pub department_id: Option<i32>,
}

/// Which cases within the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsFilter {
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    /// A category id; a top-level category includes its sub-categories.
    pub category_id: Option<i32>,
}

/// Cases submitted in `[from, to)`, seen as they were at `as_of`.
///
/// Timestamps are whole seconds in the database; `new` rounds `from`/`to` up and
/// `as_of` down to whole seconds, which selects exactly the same cases and events.
///
/// `now` is the engine's clock: when `as_of >= now` no event can be later than as-of,
/// so the answer is read from the current columns of `cases` (the fast path) instead of
/// being rebuilt from the trail. `new` sets it to the wall clock; tests pin it with
/// [`Window::with_now`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    /// The current instant (see above).
    pub now: DateTime<Utc>,
    /// Compute the duration summaries (reply/response hours and working days). They
    /// need one more statement and every answered case's instants; `false` leaves
    /// them empty (count 0, no mean/median/p90).
    pub durations: bool,
}

impl Window {
    /// A checked window; `as_of` defaults to now. `from` must be before `to`.
    pub fn new(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Self, Error> {
        let from = ceil_second(from);
        let to = ceil_second(to);
        let now = Utc::now();
        let as_of = floor_second(as_of.unwrap_or(now));
        if from >= to {
            return Err(Error::InvalidWindow(format!(
                "`from` ({from}) must be before `to` ({to})"
            )));
        }
        Ok(Window {
            from,
            to,
            as_of,
            now,
            durations: true,
        })
    }

    /// The same window with another clock: `as_of >= now` selects the fast path.
    pub fn with_now(self, now: DateTime<Utc>) -> Self {
        Window { now, ..self }
    }

    /// The same window without the duration summaries (one statement fewer).
    pub fn without_durations(self) -> Self {
        Window {
            durations: false,
            ..self
        }
    }

    /// True when no event can be later than as-of, so the current row is the state
    /// at as-of (stored timestamps are whole seconds, hence the floor).
    pub fn is_current(&self) -> bool {
        self.as_of >= floor_second(self.now)
    }

    /// The same window seen at another instant.
    pub fn at(self, as_of: DateTime<Utc>) -> Self {
        Window {
            as_of: floor_second(as_of),
            ..self
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.from >= self.to {
            return Err(Error::InvalidWindow(format!(
                "`from` ({}) must be before `to` ({})",
                self.from, self.to
            )));
        }
        Ok(())
    }

    /// The window as bound in SQL: whole seconds, as stored.
    pub(crate) fn normalized(&self) -> Window {
        Window {
            from: ceil_second(self.from),
            to: ceil_second(self.to),
            as_of: floor_second(self.as_of),
            now: self.now,
            durations: self.durations,
        }
    }
}

pub(crate) fn floor_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::seconds(1)).unwrap_or(t)
}

pub(crate) fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_second(t);
    if floor == t {
        t
    } else {
        floor + Duration::seconds(1)
    }
}

/// Every dashboard number for one set of cases (see docs/METRICS.md for each formula).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Cases submitted in the window (merged duplicates excluded).
    pub received: i64,
    /// Of those, accepted by as-of.
    pub accepted: i64,
    /// Of those, rejected by as-of.
    pub rejected: i64,
    /// Accepted cases whose (first-round) reply deadline is ≤ as-of.
    pub due: i64,
    /// Due cases with a reply by as-of.
    pub replied_when_due: i64,
    /// replied_when_due ÷ due.
    pub reply_rate: Option<f64>,
    /// Due cases whose first reply came by their deadline.
    pub on_time: i64,
    /// on_time ÷ due.
    pub on_time_rate: Option<f64>,
    /// Accepted cases whose status at as-of is closed or archived.
    pub closed: i64,
    /// closed ÷ accepted.
    pub completion_rate: Option<f64>,
    /// Cases with at least one reply by as-of (participation's denominator).
    pub replied: i64,
    /// Cases with a rating by as-of (the latest rating counts).
    pub rated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
    /// (satisfied + basically_satisfied) ÷ rated.
    pub satisfaction_rate: Option<f64>,
    /// rated ÷ replied.
    pub participation_rate: Option<f64>,
    /// Open cases (awaiting a reply) past the deadline in force at as-of.
    pub overdue_now: i64,
    /// Cases that repeat an earlier case of the same citizen on the same issue.
    pub repeats: i64,
    /// repeats ÷ received.
    pub repeat_rate: Option<f64>,
    /// Acceptance → first reply, clock hours.
    pub reply_hours: Summary,
    /// Acceptance → first reply, working days.
    pub reply_working_days: Summary,
    /// Acceptance → first response (a `respond` or `reply` event), clock hours.
    pub response_hours: Summary,
    /// Acceptance → first response, working days.
    pub response_working_days: Summary,
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dimension {
    /// The scope region's child regions (provinces without a region scope).
    Region,
    /// The handling department (the case's current department).
    Department,
    /// Top-level categories; the sub-categories when the filter names a category.
    Category,
    Channel,
    Kind,
}

/// One group of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsGroup {
    /// Region code, department id, category id, or the stored enum value.
    pub key: String,
    pub label: String,
    pub stats: Stats,
}

/// Time-series step, in Asia/Shanghai.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
}

/// One step of a time series: cases submitted in `[start, end)` ∩ the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsPoint {
    /// The start of the interval (local midnight in Asia/Shanghai), as UTC.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub stats: Stats,
}

impl Default for Stats {
    /// All zero, every rate and duration statistic absent.
    fn default() -> Self {
        let none = crate::percentile::summarize(&mut Vec::new());
        Stats {
            received: 0,
            accepted: 0,
            rejected: 0,
            due: 0,
            replied_when_due: 0,
            reply_rate: None,
            on_time: 0,
            on_time_rate: None,
            closed: 0,
            completion_rate: None,
            replied: 0,
            rated: 0,
            satisfied: 0,
            basically_satisfied: 0,
            dissatisfied: 0,
            satisfaction_rate: None,
            participation_rate: None,
            overdue_now: 0,
            repeats: 0,
            repeat_rate: None,
            reply_hours: none,
            reply_working_days: none,
            response_hours: none,
            response_working_days: none,
        }
    }
}

pub(crate) fn ratio(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}
