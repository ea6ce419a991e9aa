//! The deadline cells (`case_rollup_deadline`): region questions take away the cases
//! whose deadlines are after as-of's Shanghai day from these cells, and read one by one
//! only the deadlines on as-of's own day and the cases submitted that day. Cases placed
//! on every side of as-of must give the rollup the scan's answer.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use dashboard_queries::{
    breakdown, stats, time_series, Dimension, Interval, Scope, Stats, StatsFilter, Window,
};
use entities::{CaseAction as A, CaseKind, CaseStatus as S, Channel, RatingLevel};
use sea_orm::ConnectionTrait;

/// March 2025, day `d`, `h` o'clock in Shanghai.
fn sh(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, d, h, 0, 0).unwrap() - Duration::hours(8)
}

/// As-of: 20 March, 10:00 in Shanghai.
fn as_of() -> DateTime<Utc> {
    sh(20, 10)
}

fn ev(at: DateTime<Utc>, action: A, to: Option<S>, due: Option<DateTime<Utc>>) -> Ev {
    Ev {
        at,
        action,
        to,
        due,
    }
}

/// A case accepted an hour after its submission with `due`, then the `later` events.
fn case(
    id: i64,
    place: usize,
    submitted: DateTime<Utc>,
    due: DateTime<Utc>,
    later: Vec<Ev>,
) -> CaseHistory {
    let mut events = vec![
        ev(submitted, A::Submit, Some(S::Submitted), None),
        ev(
            submitted + Duration::hours(1),
            A::Accept,
            Some(S::Accepted),
            Some(due),
        ),
    ];
    let ratings = later
        .iter()
        .filter(|e| e.action == A::Rate)
        .map(|e| (RatingLevel::Dissatisfied, e.at))
        .collect();
    events.extend(later);
    CaseHistory {
        id,
        place,
        department_id: Some(2),
        category_id: None,
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        submitted_at: submitted,
        repeat_of: None,
        duplicate_of: None,
        events,
        ratings,
    }
}

/// Replied, rated dissatisfied and reopened with a new deadline in force.
fn reopened(replied: DateTime<Utc>, new_due: DateTime<Utc>) -> Vec<Ev> {
    vec![
        ev(replied, A::Reply, Some(S::Replied), None),
        ev(replied + Duration::hours(1), A::Rate, None, None),
        ev(
            replied + Duration::hours(2),
            A::Reopen,
            Some(S::InProgress),
            Some(new_due),
        ),
    ]
}

/// Place 0 is a township of Chengdu, place 3 one of Mianyang (both in Sichuan).
fn cases() -> Vec<CaseHistory> {
    vec![
        // Both deadlines on a later day: the cells.
        case(1, 0, sh(10, 9), sh(25, 18), vec![]),
        // Due on as-of's day after as-of: its latest deadline is that day.
        case(2, 0, sh(11, 9), sh(20, 15), vec![]),
        // Due on as-of's day before as-of: due and overdue, nothing to take away.
        case(3, 0, sh(11, 9), sh(20, 9), vec![]),
        // Reopened: first-round deadline on as-of's day after as-of, in force later.
        case(4, 0, sh(12, 9), sh(20, 15), reopened(sh(13, 9), sh(28, 18))),
        // Reopened: first-round deadline on as-of's day before as-of, in force later.
        case(5, 0, sh(12, 9), sh(20, 9), reopened(sh(13, 9), sh(28, 18))),
        // Reopened with a deadline in force on as-of's day after as-of, earlier than
        // the first-round deadline, which is on a later day.
        case(6, 3, sh(12, 9), sh(30, 18), reopened(sh(13, 9), sh(20, 15))),
        // Submitted on as-of's day, before it.
        case(7, 3, sh(20, 7), sh(27, 18), vec![]),
        // Due an hour after the next midnight: the first day of the cells.
        case(9, 0, sh(15, 9), sh(21, 1), vec![]),
        // Replied on time, its deadline on a later day.
        case(
            8,
            3,
            sh(14, 9),
            sh(26, 18),
            vec![ev(sh(15, 9), A::Reply, Some(S::Replied), None)],
        ),
    ]
}

/// The clock-dependent counts: due, replied when due, on time, overdue now.
fn clocked(s: &Stats) -> [i64; 4] {
    [s.due, s.replied_when_due, s.on_time, s.overdue_now]
}

fn scope(code: Option<&str>) -> Scope {
    Scope {
        region_code: code.map(Into::into),
        department_id: None,
    }
}

#[tokio::test]
async fn deadlines_on_every_side_of_as_of_give_the_rollup_the_scans_answer() {
    for t in databases().await {
        insert(&t.db, &cases()).await;
        let f = StatsFilter::default();
        let april = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        // Whole days (the daily cells) and whole months (the monthly ones), the clock at
        // as-of; the same windows one second later are scans of the current rows.
        for (from, to) in [(sh(1, 0), sh(21, 0)), (sh(1, 0), april)] {
            let rollup = Window::new(from, to, Some(as_of()))
                .unwrap()
                .with_now(as_of());
            let scan = Window::new(from + Duration::seconds(1), to, Some(as_of()))
                .unwrap()
                .with_now(as_of());
            for code in [None, Some("510000"), Some("510100"), Some("510700")] {
                let ctx = format!("{} {code:?} {from}..{to}", t.name);
                let s = scope(code);
                let fast = stats(&t.db, &s, &f, &rollup).await.unwrap();
                assert_eq!(fast, stats(&t.db, &s, &f, &scan).await.unwrap(), "{ctx}");
                let groups = |w| breakdown(&t.db, Dimension::Region, &s, &f, w);
                assert_eq!(
                    groups(&rollup).await.unwrap(),
                    groups(&scan).await.unwrap(),
                    "{ctx}"
                );
                let points = |w| time_series(&t.db, Interval::Day, &s, &f, w);
                let values = |p: Vec<dashboard_queries::StatsPoint>| {
                    p.into_iter().map(|p| p.stats).collect::<Vec<_>>()
                };
                assert_eq!(
                    values(points(&rollup).await.unwrap()),
                    values(points(&scan).await.unwrap()),
                    "{ctx}"
                );
            }
            let sichuan = stats(&t.db, &scope(Some("510000")), &f, &rollup)
                .await
                .unwrap();
            assert_eq!(
                clocked(&sichuan),
                [2, 1, 1, 1],
                "{}: due are cases 3 and 5 (5 replied on time), overdue is case 3",
                t.name
            );
        }
    }
}

#[tokio::test]
async fn the_deadlines_after_as_of_day_are_read_from_the_deadline_cells() {
    for t in databases().await {
        insert(&t.db, &cases()).await;
        let f = StatsFilter::default();
        let w = Window::new(sh(1, 0), sh(21, 0), Some(as_of()))
            .unwrap()
            .with_now(as_of());
        let sichuan = scope(Some("510000"));
        assert_eq!(
            clocked(&stats(&t.db, &sichuan, &f, &w).await.unwrap()),
            [2, 1, 1, 1]
        );
        t.db.execute_unprepared("DELETE FROM case_rollup_deadline")
            .await
            .unwrap();
        // Without the cells, cases 1, 6, 8 and 9 count as due (6 and 8 replied on
        // time) and cases 1, 4, 5 and 9 as overdue; what is on as-of's day is still read
        // case by case.
        assert_eq!(
            clocked(&stats(&t.db, &sichuan, &f, &w).await.unwrap()),
            [6, 3, 3, 5],
            "{}",
            t.name
        );
    }
}
