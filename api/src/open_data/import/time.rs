//! Reading the timestamps of a source: ISO 8601 (with or without an offset) or a
//! mapping's format, in the source's time zone when the text carries no offset, stored
//! in UTC with whole seconds like every other timestamp.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// ISO 8601 forms without an offset, tried in order after RFC 3339.
const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];
/// ISO 8601 offsets without a colon (`+0800`).
const OFFSET_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"];

/// Reads timestamps in one zone with an optional explicit format.
#[derive(Debug, Clone, Copy)]
pub struct TimeReader<'a> {
    pub zone: Tz,
    pub format: Option<&'a str>,
}

impl TimeReader<'_> {
    pub fn read(&self, text: &str) -> Result<DateTime<Utc>, String> {
        let text = text.trim();
        let at = match self.format {
            Some(format) => self.with_format(text, format),
            None => self.iso(text),
        }?;
        Ok(DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at))
    }

    fn with_format(&self, text: &str, format: &str) -> Result<DateTime<Utc>, String> {
        if format.contains("%z") || format.contains("%:z") || format.contains("%#z") {
            return DateTime::<FixedOffset>::parse_from_str(text, format)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("{text:?} does not match {format:?} ({e})"));
        }
        match NaiveDateTime::parse_from_str(text, format) {
            Ok(naive) => self.local(naive),
            // A format with a date only gives the start of the day.
            Err(e) => match NaiveDate::parse_from_str(text, format) {
                Ok(day) => self.local(day.and_time(chrono::NaiveTime::MIN)),
                Err(_) => Err(format!("{text:?} does not match {format:?} ({e})")),
            },
        }
    }

    fn iso(&self, text: &str) -> Result<DateTime<Utc>, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(t.with_timezone(&Utc));
        }
        for format in OFFSET_FORMATS {
            if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(text, format) {
                return Ok(t.with_timezone(&Utc));
            }
        }
        for format in LOCAL_FORMATS {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return self.local(naive);
            }
        }
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return self.local(day.and_time(chrono::NaiveTime::MIN));
        }
        Err(format!("{text:?} is not an ISO 8601 timestamp"))
    }

    /// A wall-clock time in the zone. At the autumn change (a time read twice) the first
    /// instant is taken; a time skipped in spring is read one hour later, the instant the
    /// clocks showed after the jump (as calendars do).
    fn local(&self, naive: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        match self.zone.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
            LocalResult::None => match self
                .zone
                .from_local_datetime(&(naive + chrono::TimeDelta::hours(1)))
            {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
                LocalResult::None => Err(format!("{naive} does not exist in {}", self.zone)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use chrono_tz::Asia::Shanghai;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("a valid UTC timestamp")
    }

    #[test]
    fn a_timestamp_without_an_offset_is_read_in_the_zone() {
        let shanghai = TimeReader {
            zone: Shanghai,
            format: None,
        };
        assert_eq!(
            shanghai.read("2024-03-01T08:30:00").ok(),
            Some(utc("2024-03-01T00:30:00Z"))
        );
        assert_eq!(
            shanghai.read("2024-03-01 08:30:00.7").ok(),
            Some(utc("2024-03-01T00:30:00Z"))
        );
        let new_york = TimeReader {
            zone: New_York,
            format: None,
        };
        assert_eq!(
            new_york.read("2024-07-01T08:30:00").ok(),
            Some(utc("2024-07-01T12:30:00Z"))
        );
    }

    #[test]
    fn an_offset_in_the_text_wins_over_the_zone() {
        let r = TimeReader {
            zone: Shanghai,
            format: None,
        };
        assert_eq!(
            r.read("2010-04-14T06:37:38-08:00").ok(),
            Some(utc("2010-04-14T14:37:38Z"))
        );
        assert_eq!(
            r.read("2010-04-14T06:37:38+0000").ok(),
            Some(utc("2010-04-14T06:37:38Z"))
        );
    }

    #[test]
    fn a_mapping_format_reads_american_clock_times() {
        let r = TimeReader {
            zone: New_York,
            format: Some("%m/%d/%Y %I:%M:%S %p"),
        };
        assert_eq!(
            r.read("04/12/2018 11:11:26 AM").ok(),
            Some(utc("2018-04-12T15:11:26Z"))
        );
        assert_eq!(
            r.read("01/05/2018 01:00:00 PM").ok(),
            Some(utc("2018-01-05T18:00:00Z"))
        );
        assert!(r.read("2018-04-12").is_err());
    }

    #[test]
    fn daylight_saving_changes_have_one_reading() {
        let r = TimeReader {
            zone: New_York,
            format: None,
        };
        // 2:30 did not happen on 2018-03-11: read as 3:30 EDT.
        assert_eq!(
            r.read("2018-03-11T02:30:00").ok(),
            Some(utc("2018-03-11T07:30:00Z"))
        );
        // 1:30 happened twice on 2018-11-04: the first one (EDT).
        assert_eq!(
            r.read("2018-11-04T01:30:00").ok(),
            Some(utc("2018-11-04T05:30:00Z"))
        );
    }

    #[test]
    fn junk_is_refused_with_the_text() {
        let r = TimeReader {
            zone: Shanghai,
            format: None,
        };
        let err = r.read("yesterday").expect_err("refused");
        assert!(err.contains("\"yesterday\""), "{err}");
    }
}
