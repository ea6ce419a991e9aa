//! Slots: a job's time cut into periods counted from the Unix epoch, so that every
//! instance, whenever it started, computes the same slot number for the same instant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Shortest period accepted (tests use a few tenths of a second).
pub const MIN_PERIOD: Duration = Duration::from_millis(50);
/// Longest period accepted.
pub const MAX_PERIOD: Duration = Duration::from_secs(31 * 24 * 3600);

/// Milliseconds since the Unix epoch, from the wall clock (shared by all instances,
/// unlike a monotonic clock).
pub fn epoch_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A job's period in whole milliseconds (at least 1).
fn millis(period: Duration) -> i64 {
    i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// The slot that contains the instant `at_ms`.
pub fn slot_at(at_ms: i64, period: Duration) -> i64 {
    at_ms.div_euclid(millis(period))
}

/// When `slot` begins, in epoch milliseconds.
pub fn slot_start(slot: i64, period: Duration) -> i64 {
    slot.saturating_mul(millis(period))
}

/// The first slot an instance started at `start_ms` attempts: the current one when asked
/// to run at start, otherwise the second boundary ahead, which is at least one whole
/// period away.
pub fn first_slot(start_ms: i64, period: Duration, run_at_start: bool) -> i64 {
    let current = slot_at(start_ms, period);
    if run_at_start {
        current
    } else {
        current + 2
    }
}

/// The slot to attempt after `attempted`, at `now_ms`: the next one, or the current one
/// when a long run let later boundaries pass (they were other instances' to take).
pub fn next_slot(attempted: i64, now_ms: i64, period: Duration) -> i64 {
    (attempted + 1).max(slot_at(now_ms, period))
}

/// Parses a period in seconds, fractions allowed (`0.3`, `60`, `3600`).
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() {
        return Err(format!("{text:?} is not a number of seconds"));
    }
    let lo = MIN_PERIOD.as_secs_f64();
    let hi = MAX_PERIOD.as_secs_f64();
    if !(lo..=hi).contains(&seconds) {
        return Err(format!(
            "a job period of {text} s is outside {lo} s ..= {hi} s"
        ));
    }
    // Whole milliseconds: slots are counted in them.
    Ok(Duration::from_millis((seconds * 1000.0).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instance_computes_the_same_slot_for_an_instant() {
        let period = Duration::from_millis(300);
        assert_eq!(slot_at(0, period), 0);
        assert_eq!(slot_at(299, period), 0);
        assert_eq!(slot_at(300, period), 1);
        assert_eq!(slot_at(1_700_000_000_150, period), 5_666_666_667);
        assert_eq!(slot_start(5_666_666_667, period), 1_700_000_000_100);
    }

    #[test]
    fn the_first_attempt_waits_at_least_a_period_unless_asked_to_run_at_start() {
        let period = Duration::from_secs(60);
        let start = 1_700_000_099_999; // one millisecond before a boundary
        assert_eq!(first_slot(start, period, true), slot_at(start, period));
        let first = first_slot(start, period, false);
        assert!(slot_start(first, period) - start >= 60_000);
        assert!(slot_start(first, period) - start < 120_000);
    }

    #[test]
    fn after_a_long_run_the_current_slot_is_next() {
        let period = Duration::from_secs(1);
        assert_eq!(next_slot(10, 10_500, period), 11);
        assert_eq!(next_slot(10, 13_200, period), 13);
    }

    #[test]
    fn periods_are_seconds_with_fractions_within_bounds() {
        assert_eq!(parse_period("0.3"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_period("60"), Ok(Duration::from_secs(60)));
        assert_eq!(
            parse_period("0.01"),
            Err("a job period of 0.01 s is outside 0.05 s ..= 2678400 s".to_string())
        );
        assert_eq!(
            parse_period("soon"),
            Err("\"soon\" is not a number of seconds".to_string())
        );
        assert!(parse_period("NaN").is_err());
    }
}
