//! Reply and response times of the answered cases: clock hours and working days, each
//! summarised as count, mean, median and p90 ([`crate::percentile`]).
//!
//! Medians cannot be summed, so the engine needs every answered case's instants. It used
//! to read them one row per case, and the driver's per-row cost (a hand-over between its
//! worker thread and the caller for each row, the column look-ups, parsing each instant's
//! text) was most of a province's answer (1.2–1.5 s for 12 months of Sichuan on SQLite at
//! 1M cases).
//! On SQLite the database now packs each group's instants into one text value: `acc rep
//! resp` triples of integer epoch milliseconds (`rep` empty when not replied; SQLite's
//! date functions keep milliseconds), comma-separated, one row per group and month of
//! acceptance (the month bounds the text: ~40 bytes a case). Measured at 1M cases
//! (province stats with `replyHours`, GraphQL p50): 1,530 → 822 ms. PostgreSQL keeps one
//! row per case: its binary rows are cheap, and packing there cost more than it saved
//! (`EXTRACT(EPOCH …)` is `numeric`; 908 → 1,527 ms), see docs/METRICS.md.

use crate::calendar::{SpanMeter, WorkCalendar};
use crate::engine::{push_base, Key, Question};
use crate::model::Stats;
use crate::percentile::summarize;
use crate::sql::Sql;
use crate::Error;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use std::collections::HashMap;

/// SQLite: the instant in `column` as integer epoch milliseconds.
fn epoch_ms(column: &str) -> String {
    format!("CAST(round(unixepoch({column}, 'subsec') * 1000) AS INTEGER)")
}

/// The statement's select after `base`: SQLite's packed triples (`spans`) per group and
/// month of acceptance, PostgreSQL's rows.
fn push_select(q: &mut Sql) {
    let filter = "FROM base WHERE acc_at IS NOT NULL AND resp_at IS NOT NULL";
    if q.backend() == DbBackend::Postgres {
        q.push(&format!(" SELECT g1, g2, acc_at, rep_at, resp_at {filter}"));
        return;
    }
    let (acc, rep, resp) = (epoch_ms("acc_at"), epoch_ms("rep_at"), epoch_ms("resp_at"));
    q.push(&format!(
        " SELECT g1, g2, group_concat({acc} || ' ' || COALESCE({rep}, '') || ' ' || {resp}, ',') \
         AS spans {filter} GROUP BY g1, g2, substr(acc_at, 1, 7)"
    ));
}

/// The instants of one answered case.
#[derive(Debug, PartialEq)]
struct Span {
    accepted: DateTime<Utc>,
    replied: Option<DateTime<Utc>>,
    responded: DateTime<Utc>,
}

/// Reads the packed triples of one group (epoch milliseconds).
fn unpack(spans: &str) -> Result<Vec<Span>, DbErr> {
    let bad = || {
        DbErr::Custom(format!(
            "durations: malformed packed instants near {:.40}",
            spans
        ))
    };
    let instant = |text: &str| -> Result<DateTime<Utc>, DbErr> {
        let value: i64 = text.parse().map_err(|_| bad())?;
        DateTime::from_timestamp_millis(value).ok_or_else(bad)
    };
    spans
        .split(',')
        .map(|triple| {
            let mut parts = triple.split(' ');
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
            self.reply_h.push(WorkCalendar::clock_hours(acc, rep));
            self.reply_d.push(meter.working_days_between(acc, rep));
        }
        self.resp_h.push(WorkCalendar::clock_hours(acc, resp));
        self.resp_d.push(meter.working_days_between(acc, resp));
    }
}

/// Fills the duration summaries of the groups from the answered cases' instants.
pub(crate) async fn durations<C: ConnectionTrait>(
    db: &C,
    question: Question<'_>,
    out: &mut HashMap<Key, Stats>,
) -> Result<(), Error> {
    let Question {
        r,
        w,
        buckets,
        by,
        fold,
    } = question;
    // The working-day calendar (the `holidays` table), read once per call.
    let calendar = WorkCalendar::load(db).await?;
    let backend = db.get_database_backend();
    let mut q = Sql::new(backend);
    push_base(&mut q, r, w, buckets, by);
    push_select(&mut q);
    let mut found: HashMap<Key, Durations> = HashMap::new();
    // Every measured span starts at or after the window's start and ends by as-of.
    let meter = calendar.meter(w.from, w.as_of.min(w.now.max(Utc::now())));
    for row in db.query_all_raw(q.build()).await? {
        let key: Key = (row.try_get("", "g1")?, fold(row.try_get("", "g2")?));
        let d = found.entry(key).or_default();
        if backend == DbBackend::Postgres {
            d.add(
                Span {
                    accepted: row.try_get("", "acc_at")?,
                    replied: row.try_get("", "rep_at")?,
                    responded: row.try_get("", "resp_at")?,
                },
                &meter,
            );
        } else {
            for span in unpack(&row.try_get::<String>("", "spans")?)? {
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
    fn packed_instants_unpack_with_their_unit_and_a_missing_reply() -> Result<(), DbErr> {
        let spans =
            unpack("1700000000000 1700003600000 1700003600000,1700000000000  1700007200500")?;
        let at = |ms: i64| DateTime::from_timestamp_millis(ms);
        assert_eq!(
            spans,
            [
                Span {
                    accepted: at(1_700_000_000_000).ok_or(DbErr::Custom("time".into()))?,
                    replied: at(1_700_003_600_000),
                    responded: at(1_700_003_600_000).ok_or(DbErr::Custom("time".into()))?,
                },
                Span {
                    accepted: at(1_700_000_000_000).ok_or(DbErr::Custom("time".into()))?,
                    replied: None,
                    responded: at(1_700_007_200_500).ok_or(DbErr::Custom("time".into()))?,
                },
            ]
        );
        Ok(())
    }

    #[test]
    fn a_malformed_pack_is_an_error_not_a_guess() {
        for bad in ["", "1 2", "1 2 3 4", "x 2 3", "1 2 3,"] {
            assert!(unpack(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
