//! Timestamps of the exports: ISO 8601 in China Standard Time (`2024-03-01T09:30:00+08:00`),
//! written digit by digit because the exports format millions of them.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};

/// Appends `t` as `YYYY-MM-DDTHH:MM:SS+08:00`.
pub fn write(out: &mut Vec<u8>, t: DateTime<Utc>) {
    let Some(local) = t.naive_utc().checked_add_signed(TimeDelta::hours(8)) else {
        // Only at the very ends of chrono's range; let chrono spell those.
        out.extend_from_slice(t.to_rfc3339().as_bytes());
        return;
    };
    let year = local.year();
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(t.to_rfc3339().as_bytes());
        return;
    }
    let year = year as u32;
    let mut buf = *b"0000-00-00T00:00:00+08:00";
    put(&mut buf[0..4], year, 4);
    put(&mut buf[5..7], local.month(), 2);
    put(&mut buf[8..10], local.day(), 2);
    put(&mut buf[11..13], local.hour(), 2);
    put(&mut buf[14..16], local.minute(), 2);
    put(&mut buf[17..19], local.second(), 2);
    out.extend_from_slice(&buf);
}

/// Writes `value` as exactly `width` decimal digits into `slot`.
fn put(slot: &mut [u8], mut value: u32, width: usize) {
    for i in (0..width).rev() {
        slot[i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spelled(t: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        write(&mut out, t);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn an_instant_is_spelled_in_china_time_like_chrono_would() {
        let t = Utc.with_ymd_and_hms(2024, 2, 29, 16, 5, 9).unwrap();
        assert_eq!(spelled(t), "2024-03-01T00:05:09+08:00");
        let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(
            spelled(t),
            t.with_timezone(&offset)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        );
    }
}
