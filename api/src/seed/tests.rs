//! Unit tests of the generator's pure parts: determinism, the status mix, and that
//! every case's events replay to its row.

use super::gen::{mix, Chunk, FirstIds, Generator, Params};
use super::lifecycle::{is_legal, replay};
use super::org::{Org, Region};
use super::people::id_number_is_valid;
use super::{CAPITALS, WHOLE_PROVINCES};
use chrono::{DateTime, NaiveDate, Utc};
use dashboard_queries::calendar::WorkCalendar;
use entities::{CaseAction, CaseStatus, RatingLevel};
use std::collections::{HashMap, HashSet};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

fn regions() -> Vec<Region> {
    let provinces: Vec<String> = CAPITALS
        .iter()
        .map(|c| format!("{}0000", &c[..2]))
        .collect();
    migration::reference::region_rows()
        .expect("embedded regions")
        .into_iter()
        .filter(|r| {
            WHOLE_PROVINCES.contains(&r.province_code.as_str())
                || r.city_code
                    .as_deref()
                    .is_some_and(|c| CAPITALS.contains(&c))
                || provinces.contains(&r.code)
        })
        .map(|r| Region {
            code: r.code,
            name: r.name,
            level: r.level,
            parent_code: r.parent_code,
            province_code: r.province_code,
            city_code: r.city_code,
            county_code: r.county_code,
        })
        .collect()
}

/// The shipped categories with the ids the reference loader gives them.
fn categories() -> Vec<(i32, String, Option<i32>)> {
    let text = include_str!("../../../migration/data/categories.csv");
    let mut ids: HashMap<String, i32> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let id = i as i32 + 1;
        let parent = fields.get(2).and_then(|p| ids.get(*p)).copied();
        ids.insert(fields[0].to_string(), id);
        out.push((id, fields[0].to_string(), parent));
    }
    out
}

fn calendar() -> WorkCalendar {
    let rows = migration::reference::holiday_rows().expect("embedded holidays");
    WorkCalendar::shanghai(rows.into_iter().map(|r| (r.date, r.is_off_day)))
}

fn generator(seed: u64, cases: u64) -> Generator {
    let regions = regions();
    let org = Org::build(&regions, 1);
    let params = Params {
        seed,
        cases,
        from: date("2025-01-01"),
        to: date("2025-12-31"),
    };
    Generator::new(
        params,
        calendar(),
        regions,
        org,
        &categories(),
        FirstIds::default(),
    )
    .expect("generator")
}

/// The first `cases` cases of a year's run with seed 1.
pub(super) fn sample(cases: u64) -> Chunk {
    all(1, cases, 1000)
}

fn all(seed: u64, cases: u64, chunk: usize) -> Chunk {
    let mut g = generator(seed, cases);
    let mut out = Chunk::default();
    while let Some(c) = g.next_chunk(chunk) {
        out.cases.extend(c.cases);
        out.events.extend(c.events);
        out.ratings.extend(c.ratings);
        out.citizens.extend(c.citizens);
    }
    out
}

#[test]
fn the_same_seed_gives_the_same_rows_whatever_the_chunk_size() {
    let a = all(42, 3000, 500);
    let b = all(42, 3000, 1234);
    assert_eq!(a.cases.len(), 3000);
    assert_eq!(a.cases, b.cases);
    assert_eq!(a.events, b.events);
    assert_eq!(a.ratings, b.ratings);
    assert_eq!(a.citizens, b.citizens);
    let c = all(43, 3000, 500);
    assert_ne!(a.cases, c.cases, "another seed gives other data");
}

#[test]
fn a_longer_run_starts_with_different_days_but_is_still_deterministic() {
    // The day plan depends on the case count, so compare runs of equal size only.
    let a = all(7, 200, 64);
    let b = all(7, 200, 64);
    assert_eq!(a.cases, b.cases);
    assert!(a
        .cases
        .iter()
        .all(|c| c.submitted_at.timestamp_subsec_nanos() == 0));
}

#[test]
fn every_case_replays_from_its_legal_ordered_events() {
    let data = all(2016, 20_000, 5000);
    let mut by_case: HashMap<i64, Vec<&entities::case_event::Model>> = HashMap::new();
    for e in &data.events {
        by_case.entry(e.case_id).or_default().push(e);
    }
    let ids: HashSet<i64> = data.events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), data.events.len(), "event ids are unique");
    let trackings: HashSet<&str> = data
        .cases
        .iter()
        .map(|c| c.tracking_number.as_str())
        .collect();
    assert_eq!(
        trackings.len(),
        data.cases.len(),
        "tracking numbers are unique"
    );
    let end = DateTime::parse_from_rfc3339("2025-12-31T23:59:59+08:00")
        .expect("end")
        .with_timezone(&Utc);
    for case in &data.cases {
        let events = &by_case[&case.id];
        assert_eq!(events[0].action, CaseAction::Submit);
        assert_eq!(events[0].at, case.submitted_at);
        let mut previous: Option<&entities::case_event::Model> = None;
        for e in events {
            assert!(e.at <= end, "nothing after the window: {e:?}");
            assert_eq!(e.at.timestamp_subsec_nanos(), 0);
            if let Some(p) = previous {
                assert!(e.at > p.at && e.id > p.id, "ordered: {p:?} then {e:?}");
                assert_eq!(e.from_status, p.to_status);
            }
            assert!(
                is_legal(e.from_status, e.action, e.to_status),
                "illegal {e:?}"
            );
            if matches!(
                e.action,
                CaseAction::Accept | CaseAction::Extend | CaseAction::Reopen
            ) {
                assert!(e.reply_due_at.is_some_and(|d| d > e.at), "{e:?}");
            }
            previous = Some(e);
        }
        let mut replayed = case.clone();
        let owned: Vec<_> = events.iter().map(|e| (*e).clone()).collect();
        let ratings: Vec<_> = data
            .ratings
            .iter()
            .filter(|r| r.case_id == case.id)
            .cloned()
            .collect();
        replay(&mut replayed, &owned, &ratings);
        assert_eq!(replayed.status, case.status);
        assert_eq!(&replayed, case, "row equals its replay");
        assert!(case.tracking_number.starts_with("MY2025") && case.tracking_number.len() == 16);
    }
    for c in &data.citizens {
        if let Some(id) = &c.id_number {
            assert!(id_number_is_valid(id), "{id}");
        }
    }
}

/// The metrics of `domain.md` over the generated data, seen at the window's end (the
/// engine's definitions, computed in memory).
#[derive(Debug, Default)]
struct Metrics {
    received: u64,
    accepted: u64,
    rejected: u64,
    duplicates: u64,
    due: u64,
    replied_when_due: u64,
    on_time: u64,
    closed: u64,
    replied: u64,
    rated: u64,
    pleased: u64,
    overdue_now: u64,
    reopened: u64,
    supervised: u64,
    repeats: u64,
    published: u64,
    old_accepted: u64,
    old_closed: u64,
}

fn metrics(data: &Chunk, as_of: DateTime<Utc>, old_before: DateTime<Utc>) -> Metrics {
    let mut by_case: HashMap<i64, Vec<&entities::case_event::Model>> = HashMap::new();
    for e in &data.events {
        by_case.entry(e.case_id).or_default().push(e);
    }
    let mut latest_rating: HashMap<i64, RatingLevel> = HashMap::new();
    for r in &data.ratings {
        latest_rating.insert(r.case_id, r.level);
    }
    let mut m = Metrics::default();
    for c in &data.cases {
        if c.duplicate_of.is_some() && c.status == CaseStatus::Closed {
            m.duplicates += 1;
            continue;
        }
        let ev = &by_case[&c.id];
        m.received += 1;
        m.repeats += u64::from(c.repeat_of.is_some());
        m.supervised += u64::from(c.supervised);
        m.reopened += u64::from(c.reopen_count > 0);
        let acc = ev.iter().any(|e| e.action == CaseAction::Accept);
        m.rejected += u64::from(c.status == CaseStatus::Rejected);
        let rep = ev
            .iter()
            .find(|e| e.action == CaseAction::Reply)
            .map(|e| e.at);
        let first_reopen = ev
            .iter()
            .position(|e| e.action == CaseAction::Reopen)
            .unwrap_or(ev.len());
        let due1 = ev[..first_reopen]
            .iter()
            .filter(|e| matches!(e.action, CaseAction::Accept | CaseAction::Extend))
            .filter_map(|e| e.reply_due_at)
            .next_back();
        if !acc {
            continue;
        }
        m.accepted += 1;
        let closed = matches!(c.status, CaseStatus::Closed | CaseStatus::Archived);
        m.closed += u64::from(closed);
        if c.submitted_at < old_before {
            m.old_accepted += 1;
            m.old_closed += u64::from(closed);
        }
        if due1.is_some_and(|d| d <= as_of) {
            m.due += 1;
            m.replied_when_due += u64::from(rep.is_some());
            m.on_time += u64::from(rep.is_some_and(|r| due1.is_some_and(|d| r <= d)));
        }
        if rep.is_some() {
            m.replied += 1;
            m.published += u64::from(c.published);
        }
        if let Some(level) = latest_rating.get(&c.id) {
            m.rated += 1;
            m.pleased += u64::from(*level != RatingLevel::Dissatisfied);
        }
        let open = matches!(
            c.status,
            CaseStatus::Accepted | CaseStatus::Assigned | CaseStatus::InProgress
        );
        m.overdue_now += u64::from(open && c.reply_due_at.is_some_and(|d| d < as_of));
    }
    m
}

fn share(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

#[test]
fn the_status_mix_and_rates_are_close_to_the_sources() {
    let data = all(2016, 20_000, 5000);
    let as_of = DateTime::parse_from_rfc3339("2025-12-31T23:59:59+08:00")
        .expect("end")
        .with_timezone(&Utc);
    let old = DateTime::parse_from_rfc3339("2025-07-01T00:00:00+08:00")
        .expect("mid")
        .with_timezone(&Utc);
    let m = metrics(&data, as_of, old);
    let total = data.cases.len() as u64;
    let reply_rate = share(m.replied_when_due, m.due);
    let on_time = share(m.on_time, m.due);
    let completion_old = share(m.old_closed, m.old_accepted);
    let satisfaction = share(m.pleased, m.rated);
    let participation = share(m.rated, m.replied);
    eprintln!(
        "{m:?}\nreply {reply_rate:.4} on-time {on_time:.4} completion(old) {completion_old:.4} completion(all) {:.4} \
         satisfaction {satisfaction:.4} participation {participation:.4} published {:.4}",
        share(m.closed, m.accepted),
        share(m.published, m.replied)
    );
    let near = |x: f64, target: f64, tol: f64| (x - target).abs() <= tol;
    assert!(
        near(share(m.rejected, total), mix::REJECT, 0.006),
        "rejected {}",
        m.rejected
    );
    assert!(
        near(share(m.duplicates, total), mix::DUPLICATE, 0.006),
        "duplicates {}",
        m.duplicates
    );
    assert!(near(reply_rate, 0.975, 0.015), "reply rate {reply_rate}");
    assert!(
        on_time < reply_rate && near(on_time, 0.92, 0.025),
        "on-time {on_time}"
    );
    assert!(
        near(completion_old, 0.985, 0.01),
        "completion {completion_old}"
    );
    assert!(
        near(satisfaction, 0.90, 0.02),
        "satisfaction {satisfaction}"
    );
    assert!(
        near(participation, 0.60, 0.04),
        "participation {participation}"
    );
    assert!(near(share(m.published, m.replied), 0.80, 0.02));
    assert!(m.overdue_now > 0 && m.reopened > 0 && m.supervised > 0 && m.repeats > 0);
}

#[tokio::test]
async fn seeding_an_empty_database_twice_refuses_the_second_time() {
    let path = std::env::temp_dir().join(format!("minyi-seed-test-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = crate::db::connect(&url, None).await.expect("connect");
    crate::db::migrate(&db).await.expect("migrate");
    let args = super::SeedArgs {
        demo: true,
        cases: 300,
        seed: 5,
        from: Some(date("2025-03-01")),
        to: Some(date("2025-05-31")),
    };
    super::run(&db, &args).await.expect("first seed");
    let err = super::run(&db, &args)
        .await
        .expect_err("second seed refuses");
    assert!(err.to_string().contains("already has 300 cases"), "{err}");
}
