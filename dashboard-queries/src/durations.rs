//! Reply and response times of the answered cases: clock hours and working days, each
//! summarised as count, mean, median and p90 ([`crate::percentile`]).
//!
//! Medians cannot be summed, so the engine needs every answered case's instants (a
//! province's year at 1M cases: ~618,000 cases). How they travel, each step measured
//! (docs/METRICS.md, "Durations"):
//! - packed, never one row per case (the driver's per-row hand-over was most of the
//!   answer): SQLite concatenates each group's `acc|rep|resp` texts as stored
//!   ([`crate::stored_time`] reads them), PostgreSQL aggregates three binary arrays of
//!   spans since the epoch ([`UNIX_EPOCH_PG`]);
//! - one statement per month of submissions ([`parts`]), two at a time: a month bounds
//!   each row, no statement sorts by month, and the database reads one part while the
//!   engine measures another;
//! - measured in integer nanoseconds ([`crate::calendar::SpanMeter`]), not chrono
//!   instants.
//!
//! 12 months of Sichuan at 1M cases, engine direct p50: SQLite 797 → 295 ms, PostgreSQL
//! 608 → 347 ms.

use crate::calendar::{Nanos, SpanMeter, WorkCalendar};
use crate::engine::{push_base, GroupBy, Key, Question};
use crate::model::Stats;
use crate::model::Window;
use crate::percentile::summarize;
use crate::sql::Sql;
use crate::stored_time;
use crate::Error;
use chrono::{DateTime, Datelike, Months, NaiveTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use sea_orm::sqlx::postgres::types::PgInterval;
use sea_orm::sqlx::Row;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult};
use std::collections::HashMap;

/// PostgreSQL: the Unix epoch. An instant minus it is an `interval` of whole days and
/// microseconds (timestamp subtraction moves whole 24-hour periods into days, never
/// months), which the driver decodes as three integers; decoding timestamps goes through
/// calendar arithmetic per value and was a third of the client's time.
const UNIX_EPOCH_PG: &str = "TIMESTAMPTZ '1970-01-01 00:00:00+00'";

/// Statements of one question running at once ([`parts`]): two keep both cores of a
/// small server busy (the database on one, measuring on the other) without taking the
/// pool from other requests.
const AT_ONCE: usize = 2;

/// The window cut at the UTC month starts within it, each part read by a statement of
/// its own: a month of submissions bounds each row's size (a province's month of
/// answered cases is ~4 MB of text on SQLite), and the parts run [`AT_ONCE`] at a time.
/// A window as of the past stays whole: each statement would rebuild its touched cases
/// again.
fn parts(w: &Window) -> Vec<Window> {
    if !w.is_current() {
        return vec![*w];
    }
    let mut parts = Vec::new();
    let mut from = w.from;
    // Cases submitted after as-of are not counted: no part starts after it.
    while from < w.to && from <= w.as_of {
        let to = next_month_start(from).map_or(w.to, |next| next.min(w.to));
        parts.push(Window { from, to, ..*w });
        from = to;
    }
    parts
}

/// The first instant of the UTC month after the one holding `t`.
fn next_month_start(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let first = t
        .date_naive()
        .with_day(1)?
        .checked_add_months(Months::new(1))?;
    Some(first.and_time(NaiveTime::MIN).and_utc())
}

/// The statement's select after `base`: the instants of each group's answered cases, one
/// row per group. SQLite packs them into text (`spans`); with a single group (constant
/// keys) it skips the `GROUP BY`, whose sorter cost ~30 % of the statement even with
/// nothing to sort apart, and then answers one row of `NULL`s when no case is measured.
/// PostgreSQL returns three arrays of spans since the epoch (`acc_ats`, `rep_ats` with
/// `NULL` where not replied, `resp_ats`), read in binary; it needs no sort for constant
/// keys.
fn push_select(q: &mut Sql, one_group: bool) {
    let filter = "FROM base WHERE acc_at IS NOT NULL AND resp_at IS NOT NULL";
    if q.backend() == DbBackend::Postgres {
        let since_epoch =
            |column: &str| format!("array_agg({column} - {UNIX_EPOCH_PG}) AS {column}s");
        q.push(&format!(
            " SELECT g1, g2, {}, {}, {} {filter} GROUP BY g1, g2",
            since_epoch("acc_at"),
            since_epoch("rep_at"),
            since_epoch("resp_at"),
        ));
        return;
    }
    q.push(&format!(
        " SELECT g1, g2, group_concat(acc_at || '|' || COALESCE(rep_at, '') || '|' || resp_at, ',') \
         AS spans {filter}"
    ));
    if !one_group {
        q.push(" GROUP BY g1, g2");
    }
}

/// The instants of one answered case, in nanoseconds since the epoch (measured by
/// integer arithmetic, see [`crate::calendar::SpanMeter`]).
#[derive(Debug, PartialEq)]
struct Span {
    accepted: Nanos,
    replied: Option<Nanos>,
    responded: Nanos,
}

/// Reads the packed triples of one group: `acc|rep|resp` as stored (text, see
/// [`crate::stored_time`]), `rep` empty when not replied, triples separated by commas.
fn unpack(spans: &str) -> Result<Vec<Span>, DbErr> {
    let bad = || {
        DbErr::Custom(format!(
            "durations: malformed packed instants near {:.40}",
            spans
        ))
    };
    let instant = |text: &str| stored_time::parse(text).ok_or_else(bad);
    spans
        .split(',')
        .map(|triple| {
            let mut parts = triple.split('|');
            let (Some(acc), Some(rep), Some(resp), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            Ok(Span {
                accepted: instant(acc)?,
                replied: if rep.is_empty() {
                    None
                } else {
                    Some(instant(rep)?)
                },
                responded: instant(resp)?,
            })
        })
        .collect()
}

/// Reads PostgreSQL's three arrays of one group (spans since the epoch, see
/// [`UNIX_EPOCH_PG`]): equally long, as `array_agg` over the same rows makes them.
fn from_arrays(row: &QueryResult) -> Result<Vec<Span>, DbErr> {
    let row = row
        .try_as_pg_row()
        .ok_or_else(|| DbErr::Custom("durations: arrays read from a PostgreSQL row only".into()))?;
    let column = |name: &str| -> Result<Vec<Option<PgInterval>>, DbErr> {
        row.try_get(name)
            .map_err(|e| DbErr::Custom(format!("durations: {name}: {e}")))
    };
    let (accs, reps, resps) = (column("acc_ats")?, column("rep_ats")?, column("resp_ats")?);
    if accs.len() != reps.len() || accs.len() != resps.len() {
        return Err(DbErr::Custom(format!(
            "durations: arrays of {}, {} and {} instants",
            accs.len(),
            reps.len(),
            resps.len()
        )));
    }
    let missing = || DbErr::Custom("durations: an answered case without its instants".into());
    accs.into_iter()
        .zip(reps)
        .zip(resps)
        .map(|((accepted, replied), responded)| {
            Ok(Span {
                accepted: since_epoch(accepted.ok_or_else(missing)?)?,
                replied: replied.map(since_epoch).transpose()?,
                responded: since_epoch(responded.ok_or_else(missing)?)?,
            })
        })
        .collect()
}

/// The instant `span` after the epoch, in nanoseconds.
fn since_epoch(span: PgInterval) -> Result<Nanos, DbErr> {
    const MICROS_PER_DAY: i64 = 86_400_000_000;
    let out_of_range = || DbErr::Custom(format!("durations: {span:?} after the epoch"));
    if span.months != 0 {
        return Err(out_of_range());
    }
    i64::from(span.days)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|days| days.checked_add(span.microseconds))
        .and_then(|micros| micros.checked_mul(1_000))
        .ok_or_else(out_of_range)
}

/// The measured spans of one group.
#[derive(Default)]
struct Durations {
    reply_h: Vec<f64>,
    reply_d: Vec<f64>,
    resp_h: Vec<f64>,
    resp_d: Vec<f64>,
}

impl Durations {
    fn add(&mut self, span: Span, meter: &SpanMeter) {
        let (acc, resp) = (span.accepted, span.responded);
        if let Some(rep) = span.replied {
            self.reply_h.push(WorkCalendar::clock_hours_nanos(acc, rep));
            self.reply_d
                .push(meter.working_days_between_nanos(acc, rep));
        }
        self.resp_h.push(WorkCalendar::clock_hours_nanos(acc, resp));
        self.resp_d
            .push(meter.working_days_between_nanos(acc, resp));
    }
}

/// Fills the duration summaries of the groups from the answered cases' instants.
pub(crate) async fn durations<C: ConnectionTrait>(
    db: &C,
    Question {
        r,
        w,
        buckets,
        by,
        fold,
    }: Question<'_>,
    out: &mut HashMap<Key, Stats>,
) -> Result<(), Error> {
    // The working-day calendar (the `holidays` table), read once per call.
    let calendar = WorkCalendar::load(db).await?;
    let backend = db.get_database_backend();
    let one_group = buckets.is_empty() && by == GroupBy::Nothing;
    let statements = parts(w).into_iter().map(|part| {
        let mut q = Sql::new(backend);
        push_base(&mut q, r, &part, buckets, by);
        push_select(&mut q, one_group);
        db.query_all_raw(q.build())
    });
    let mut answers = stream::iter(statements).buffer_unordered(AT_ONCE);
    let mut found: HashMap<Key, Durations> = HashMap::new();
    // Every measured span starts at or after the window's start and ends by as-of.
    let meter = calendar.meter(w.from, w.as_of.min(w.now.max(Utc::now())));
    while let Some(rows) = answers.try_next().await? {
        for row in rows {
            let spans = if backend == DbBackend::Postgres {
                from_arrays(&row)?
            } else {
                match row.try_get::<Option<String>>("", "spans")? {
                    Some(spans) => unpack(&spans)?,
                    // The single group's row when no case was measured.
                    None => continue,
                }
            };
            let key: Key = (row.try_get("", "g1")?, fold(row.try_get("", "g2")?));
            let d = found.entry(key).or_default();
            for span in spans {
                d.add(span, &meter);
            }
        }
    }
    for (key, mut d) in found {
        let s = out.entry(key).or_default();
        s.reply_hours = summarize(&mut d.reply_h);
        s.reply_working_days = summarize(&mut d.reply_d);
        s.response_hours = summarize(&mut d.resp_h);
        s.response_working_days = summarize(&mut d.resp_d);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_instants_unpack_to_nanoseconds_with_a_missing_reply() -> Result<(), DbErr> {
        let spans = unpack(
            "2023-11-14T22:13:20+00:00|2023-11-14T23:13:20+00:00|2023-11-14 23:13:20,\
             2023-11-14T22:13:20Z||2023-11-15T00:13:20.5+00:00",
        )?;
        assert_eq!(
            spans,
            [
                Span {
                    accepted: 1_700_000_000_000_000_000,
                    replied: Some(1_700_003_600_000_000_000),
                    responded: 1_700_003_600_000_000_000,
                },
                Span {
                    accepted: 1_700_000_000_000_000_000,
                    replied: None,
                    responded: 1_700_007_200_500_000_000,
                },
            ]
        );
        Ok(())
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid RFC 3339 instant")
            .with_timezone(&Utc)
    }

    fn window(from: &str, to: &str, as_of: &str, now: &str) -> Window {
        Window {
            from: utc(from),
            to: utc(to),
            as_of: utc(as_of),
            now: utc(now),
            durations: true,
        }
    }

    #[test]
    fn a_current_window_is_cut_at_month_starts_up_to_as_of() {
        let w = window(
            "2025-11-30T16:00:00Z",
            "2026-11-30T16:00:00Z",
            "2026-02-10T08:00:00Z",
            "2026-02-10T08:00:00Z",
        );
        let cuts: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            parts(&w).iter().map(|p| (p.from, p.to)).collect();
        assert_eq!(
            cuts,
            [
                (utc("2025-11-30T16:00:00Z"), utc("2025-12-01T00:00:00Z")),
                (utc("2025-12-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")),
                (utc("2026-01-01T00:00:00Z"), utc("2026-02-01T00:00:00Z")),
                (utc("2026-02-01T00:00:00Z"), utc("2026-03-01T00:00:00Z")),
            ]
        );
        assert!(parts(&w)
            .iter()
            .all(|p| p.as_of == w.as_of && p.now == w.now));
    }

    #[test]
    fn a_window_inside_one_month_or_as_of_the_past_stays_whole() {
        let inside = window(
            "2026-03-02T00:00:00Z",
            "2026-03-09T00:00:00Z",
            "2026-11-27T00:00:00Z",
            "2026-11-27T00:00:00Z",
        );
        assert_eq!(parts(&inside), [inside]);
        let past = window(
            "2025-11-30T16:00:00Z",
            "2026-11-30T16:00:00Z",
            "2026-10-01T00:00:00Z",
            "2026-11-27T00:00:00Z",
        );
        assert_eq!(parts(&past), [past]);
    }

    #[test]
    fn an_interval_since_the_epoch_is_its_instant_in_nanoseconds() -> Result<(), DbErr> {
        let span = |days, microseconds| PgInterval {
            months: 0,
            days,
            microseconds,
        };
        // 19,675 days and 22 hours: 2023-11-14T22:00:00Z.
        assert_eq!(
            since_epoch(span(19_675, 79_200_000_001))?,
            1_699_999_200_000_001_000
        );
        // Before the epoch both parts are negative: 1969-12-31T23:00:00Z.
        assert_eq!(since_epoch(span(0, -3_600_000_000))?, -3_600_000_000_000);
        assert_eq!(since_epoch(span(-1, 82_800_000_000))?, -3_600_000_000_000);
        // Months are never produced by subtracting instants: refused, not guessed.
        let with_months = PgInterval {
            months: 1,
            days: 0,
            microseconds: 0,
        };
        assert!(since_epoch(with_months).is_err());
        assert!(since_epoch(span(i32::MAX, i64::MAX)).is_err());
        Ok(())
    }

    #[test]
    fn a_malformed_pack_is_an_error_not_a_guess() {
        for bad in [
            "",
            "1 2",
            "1 2 3 4",
            "x 2 3",
            "1 2 3,",
            "9999999999999999 1 1",
        ] {
            assert!(unpack(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
