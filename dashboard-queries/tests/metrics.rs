//! Worked examples with hand-computed values, scope additivity, as-of stability and the
//! shape of breakdowns, series, rankings and hot topics.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use dashboard_queries::{
    breakdown, hot_topics, ranking, stats, time_series, Dimension, Error, HotTopicOptions,
    Interval, RankUnit, RankWeights, Scope, StatsFilter, Window,
};
use entities::{CaseAction as A, CaseKind, CaseStatus as S, Channel, RatingLevel};
use sea_orm::ConnectionTrait;

fn at(day: i64, hour: i64) -> DateTime<Utc> {
    base_time() + Duration::days(day) + Duration::hours(hour)
}

fn ev(day: i64, hour: i64, action: A, to: Option<S>, due: Option<DateTime<Utc>>) -> Ev {
    Ev {
        at: at(day, hour),
        action,
        to,
        due,
    }
}

fn case(id: i64, events: Vec<Ev>) -> CaseHistory {
    CaseHistory {
        id,
        place: 0,
        department_id: Some(2),
        category_id: None,
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        submitted_at: events[0].at,
        repeat_of: None,
        duplicate_of: None,
        events,
        ratings: vec![],
    }
}

fn submit(day: i64, hour: i64) -> Ev {
    ev(day, hour, A::Submit, Some(S::Submitted), None)
}

/// Six cases whose every metric at day 5 is worked out by hand in the test below.
fn worked_example() -> Vec<CaseHistory> {
    let mut c1 = case(
        1,
        vec![
            submit(0, 10),
            ev(0, 11, A::Accept, Some(S::Accepted), Some(at(2, 0))),
            ev(1, 11, A::Reply, Some(S::Replied), None),
            ev(1, 12, A::Rate, None, None),
            ev(1, 13, A::Close, Some(S::Closed), None),
        ],
    );
    c1.ratings = vec![(RatingLevel::Satisfied, at(1, 12))];
    let c2 = case(
        2,
        vec![
            submit(0, 10),
            ev(0, 12, A::Accept, Some(S::Accepted), Some(at(1, 0))),
            ev(0, 18, A::Respond, None, None),
            ev(3, 0, A::Reply, Some(S::Replied), None),
        ],
    );
    let c3 = case(
        3,
        vec![
            submit(0, 10),
            ev(0, 10, A::Accept, Some(S::Accepted), Some(at(1, 0))),
            ev(0, 14, A::Assign, Some(S::Assigned), None),
        ],
    );
    let c4 = case(
        4,
        vec![submit(0, 10), ev(0, 11, A::Reject, Some(S::Rejected), None)],
    );
    let mut c5 = case(
        5,
        vec![submit(0, 10), ev(0, 15, A::Merge, Some(S::Closed), None)],
    );
    c5.duplicate_of = Some(1);
    let mut c6 = case(
        6,
        vec![
            submit(1, 0),
            ev(1, 1, A::Accept, Some(S::Accepted), Some(at(10, 0))),
        ],
    );
    c6.repeat_of = Some(1);
    c6.channel = Channel::Wechat;
    c6.department_id = Some(3);
    c6.place = 3;
    vec![c1, c2, c3, c4, c5, c6]
}

#[tokio::test]
async fn the_worked_example_gives_the_hand_computed_numbers() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        let w = window(0, 30, at(5, 0));
        let s = stats(&t.db, &Scope::default(), &StatsFilter::default(), &w)
            .await
            .unwrap();
        assert_eq!(
            s.received, 5,
            "{}: the merged duplicate counts once",
            t.name
        );
        assert_eq!((s.accepted, s.rejected), (4, 1));
        assert_eq!(s.due, 3, "case 6 is not due until day 10");
        assert_eq!((s.replied_when_due, s.on_time), (2, 1));
        assert_eq!(s.reply_rate, Some(2.0 / 3.0));
        assert_eq!(s.on_time_rate, Some(1.0 / 3.0));
        assert_eq!((s.closed, s.completion_rate), (1, Some(0.25)));
        assert_eq!((s.replied, s.rated, s.satisfied), (2, 1, 1));
        assert_eq!(s.satisfaction_rate, Some(1.0));
        assert_eq!(s.participation_rate, Some(0.5));
        assert_eq!(s.overdue_now, 1, "case 3 is assigned and past its deadline");
        assert_eq!((s.repeats, s.repeat_rate), (1, Some(0.2)));
        // Replies: case 1 after 24 h, case 2 after 60 h.
        assert_eq!(s.reply_hours.count, 2);
        assert_eq!(s.reply_hours.mean, Some(42.0));
        assert_eq!(s.reply_hours.median, Some(42.0));
        // Responses: case 1 by its reply (24 h), case 2 by its respond event (6 h).
        assert_eq!(s.response_hours.mean, Some(15.0));
        // Day 0 is Saturday 2025-03-01 (UTC): case 1 accepted Sat 19:00 Shanghai,
        // replied Sun 19:00 → no working time elapsed.
        assert!(s.reply_working_days.median.is_some());
    }
}

#[tokio::test]
async fn before_the_merge_a_duplicate_still_counts() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        let s = stats(
            &t.db,
            &Scope::default(),
            &StatsFilter::default(),
            &window(0, 30, at(0, 14)),
        )
        .await
        .unwrap();
        assert_eq!(s.received, 5, "cases 1–5 exist, case 5 not merged yet");
        assert_eq!(s.accepted, 3);
        assert_eq!(s.due, 0);
        assert_eq!(s.reply_rate, None, "no due case: the rate is absent, not 0");
    }
}

#[tokio::test]
async fn later_events_do_not_change_an_earlier_as_of_answer() {
    for t in databases().await {
        let mut cases = worked_example();
        insert(&t.db, &cases).await;
        let w = window(0, 30, at(5, 0));
        let scope = Scope::default();
        let filter = StatsFilter::default();
        let before = stats(&t.db, &scope, &filter, &w).await.unwrap();
        let series_before = time_series(&t.db, Interval::Day, &scope, &filter, &w)
            .await
            .unwrap();
        // Later, written as the writers write (row, rollups and trail together): case 3
        // is replied and rated, case 1 is reopened with a new deadline, case 6 is
        // closed; and a new case arrives inside the window.
        cases = write_later(&t.db, &cases, &later_writes(&cases)).await;
        let late_case = case(7, vec![submit(5, 1)]);
        insert(&t.db, std::slice::from_ref(&late_case)).await;
        cases.push(late_case);

        let after = stats(&t.db, &scope, &filter, &w).await.unwrap();
        assert_eq!(after, before, "{}", t.name);
        let series_after = time_series(&t.db, Interval::Day, &scope, &filter, &w)
            .await
            .unwrap();
        assert_eq!(series_after, series_before);
        // And the present does see them.
        let now = stats(&t.db, &scope, &filter, &w.at(at(10, 0)))
            .await
            .unwrap();
        assert_eq!(now.received, 6);
        assert_eq!(now.dissatisfied, 2, "the latest rating of case 1 counts");
        assert_eq!(now.closed, 1, "case 1 was reopened, case 6 closed");
    }
}

/// What happens to the worked example after day 5: case 3 is replied (day 6) and rated
/// dissatisfied, case 1 is rated dissatisfied again (day 6) and reopened with a new
/// deadline (day 7), case 6 is closed (day 8).
fn later_writes(cases: &[CaseHistory]) -> Vec<CaseHistory> {
    vec![
        CaseHistory {
            events: vec![ev(6, 0, A::Reply, Some(S::Replied), None)],
            ratings: vec![(RatingLevel::Dissatisfied, at(6, 1))],
            ..cases[2].clone()
        },
        CaseHistory {
            events: vec![ev(7, 0, A::Reopen, Some(S::InProgress), Some(at(9, 0)))],
            ratings: vec![(RatingLevel::Dissatisfied, at(6, 23))],
            ..cases[0].clone()
        },
        CaseHistory {
            events: vec![ev(8, 0, A::Close, Some(S::Closed), None)],
            ratings: vec![],
            ..cases[5].clone()
        },
    ]
}

#[tokio::test]
async fn a_bulletin_as_of_a_past_instant_from_the_rollups_is_unchanged_by_later_events() {
    for t in databases().await {
        let cases = worked_example();
        insert(&t.db, &cases).await;
        // March 2025 in Shanghai (whole days and whole months), seen at day 5 with the
        // wall clock later: the past as-of path of both rollups.
        let march = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        let april = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        let w = Window::new(march, april, Some(at(5, 0))).unwrap();
        assert!(!w.is_current());
        let sichuan = Scope {
            region_code: Some("510000".into()),
            department_id: None,
        };
        let f = StatsFilter::default();
        // received, accepted, rejected, due, replied when due, on time, closed, replied,
        // rated, satisfied, dissatisfied, overdue now, repeats.
        let counts = |s: &dashboard_queries::Stats| {
            [
                s.received,
                s.accepted,
                s.rejected,
                s.due,
                s.replied_when_due,
                s.on_time,
                s.closed,
                s.replied,
                s.rated,
                s.satisfied,
                s.dissatisfied,
                s.overdue_now,
                s.repeats,
            ]
        };
        let bulletin = |w: Window| {
            let (db, f, sichuan) = (&t.db, &f, &sichuan);
            async move {
                let province = stats(db, sichuan, f, &w).await.unwrap();
                let cities = breakdown(db, Dimension::Region, sichuan, f, &w)
                    .await
                    .unwrap();
                let departments = breakdown(db, Dimension::Department, sichuan, f, &w)
                    .await
                    .unwrap();
                let mut rows = vec![("province".to_string(), counts(&province))];
                // Only the groups with cases (a region breakdown lists every city).
                for g in cities.into_iter().filter(|g| g.stats.received > 0) {
                    rows.push((format!("city {}", g.key), counts(&g.stats)));
                }
                for g in departments {
                    rows.push((format!("department {}", g.key), counts(&g.stats)));
                }
                rows
            }
        };
        // By hand, at day 5: cases 1–4 in Chengdu with department 2 (case 5, merged on
        // day 0, does not count), case 6 in Mianyang with department 3, accepted on day
        // 1 with its deadline on day 10 (not due). Case 1 replied on time and rated
        // satisfied and closed; case 2 replied late; case 3 assigned and overdue since
        // day 1; case 4 rejected.
        let chengdu = [4, 3, 1, 3, 2, 1, 1, 2, 1, 1, 0, 1, 0];
        let mianyang = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let want = vec![
            (
                "province".to_string(),
                [5, 4, 1, 3, 2, 1, 1, 2, 1, 1, 0, 1, 1],
            ),
            ("city 510100".to_string(), chengdu),
            ("city 510700".to_string(), mianyang),
            ("department 2".to_string(), chengdu),
            ("department 3".to_string(), mianyang),
        ];
        assert_eq!(
            bulletin(w).await,
            want,
            "{}: before the later events",
            t.name
        );

        // After day 5: cases 1, 3 and 6 change, case 7 arrives in March after day 5.
        let cases = write_later(&t.db, &cases, &later_writes(&cases)).await;
        insert(&t.db, &[case(7, vec![submit(5, 1)])]).await;
        assert_eq!(bulletin(w).await, want, "{}: after them", t.name);
        // The scan (one second off the month start: the same cases) agrees.
        let scan = Window::new(march + Duration::seconds(1), april, Some(at(5, 0))).unwrap();
        assert_eq!(bulletin(scan).await, want, "{}: the scan", t.name);
        // And a later bulletin sees the later events: case 6 due (day 10, inclusive)
        // and unreplied; case 1 reopened (not closed, overdue since day 9), rated
        // dissatisfied; case 3 replied late and rated dissatisfied; case 6 closed.
        let today = stats(&t.db, &sichuan, &f, &w.at(at(10, 0))).await.unwrap();
        assert_eq!(
            counts(&today),
            [6, 4, 1, 4, 3, 1, 1, 3, 2, 0, 2, 1, 1],
            "{}: at day 10 ({} cases written)",
            t.name,
            cases.len()
        );
        // The past answer was read from the cells: without them it counts no case.
        t.db.execute_unprepared("DELETE FROM case_rollup_daily")
            .await
            .unwrap();
        t.db.execute_unprepared("DELETE FROM case_rollup_monthly")
            .await
            .unwrap();
        t.db.execute_unprepared("DELETE FROM case_rollup_department_monthly")
            .await
            .unwrap();
        let province = stats(&t.db, &sichuan, &f, &w).await.unwrap();
        assert_ne!(province.received, 5, "{}: the cells were read", t.name);
    }
}

#[tokio::test]
async fn a_provinces_additive_numbers_are_the_sum_of_its_cities() {
    for t in databases().await {
        let cats = categories(&t.db).await;
        let cases = generate(7, 150, cats);
        insert(&t.db, &cases).await;
        let w = window(0, 60, at(45, 0));
        let filter = StatsFilter::default();
        let province = Scope {
            region_code: Some("510000".into()),
            department_id: None,
        };
        let whole = stats(&t.db, &province, &filter, &w).await.unwrap();
        assert!(whole.received > 50, "the sample is not trivial");
        let groups = breakdown(&t.db, Dimension::Region, &province, &filter, &w)
            .await
            .unwrap();
        assert!(groups
            .iter()
            .any(|g| g.key == "510100" && g.label == "成都市"));
        assert!(
            groups.len() >= 21,
            "every city of Sichuan is listed, zero-filled"
        );
        let mut sum = dashboard_queries::Stats::default();
        for g in &groups {
            // Each group equals the stats of its own scope.
            let own = stats(
                &t.db,
                &Scope {
                    region_code: Some(g.key.clone()),
                    department_id: None,
                },
                &filter,
                &w,
            )
            .await
            .unwrap();
            assert_eq!(own, g.stats, "{} {}", t.name, g.key);
            sum.received += own.received;
            sum.accepted += own.accepted;
            sum.rejected += own.rejected;
            sum.due += own.due;
            sum.replied_when_due += own.replied_when_due;
            sum.on_time += own.on_time;
            sum.closed += own.closed;
            sum.rated += own.rated;
            sum.satisfied += own.satisfied;
            sum.overdue_now += own.overdue_now;
            sum.repeats += own.repeats;
        }
        assert_eq!(
            (
                sum.received,
                sum.accepted,
                sum.rejected,
                sum.due,
                sum.replied_when_due,
                sum.on_time,
                sum.closed,
                sum.rated,
                sum.satisfied,
                sum.overdue_now,
                sum.repeats
            ),
            (
                whole.received,
                whole.accepted,
                whole.rejected,
                whole.due,
                whole.replied_when_due,
                whole.on_time,
                whole.closed,
                whole.rated,
                whole.satisfied,
                whole.overdue_now,
                whole.repeats
            ),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn a_time_series_is_zero_filled_and_adds_up_to_the_window() {
    for t in databases().await {
        let cats = categories(&t.db).await;
        insert(&t.db, &generate(11, 60, cats)).await;
        let w = window(0, 60, at(70, 0));
        let scope = Scope::default();
        let filter = StatsFilter::default();
        let whole = stats(&t.db, &scope, &filter, &w).await.unwrap();
        let days = time_series(&t.db, Interval::Day, &scope, &filter, &w)
            .await
            .unwrap();
        // 2025-03-01T00:00Z is 08:00 in Shanghai: 61 local days overlap the window.
        assert_eq!(days.len(), 61);
        assert_eq!(days[0].start, at(-1, 16));
        assert!(days.iter().any(|p| p.stats.received == 0));
        assert_eq!(
            days.iter().map(|p| p.stats.received).sum::<i64>(),
            whole.received
        );
        assert_eq!(
            days.iter().map(|p| p.stats.closed).sum::<i64>(),
            whole.closed
        );
        let months = time_series(&t.db, Interval::Month, &scope, &filter, &w)
            .await
            .unwrap();
        // The window ends 2025-04-30 08:00 in Shanghai.
        assert_eq!(months.len(), 2, "March and April");
        assert_eq!(months.iter().map(|p| p.stats.due).sum::<i64>(), whole.due);
    }
}

#[tokio::test]
async fn channel_and_kind_breakdowns_list_every_value() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        let w = window(0, 30, at(5, 0));
        let groups = breakdown(
            &t.db,
            Dimension::Channel,
            &Scope::default(),
            &StatsFilter::default(),
            &w,
        )
        .await
        .unwrap();
        assert_eq!(groups.len(), Channel::ALL.len());
        let hotline = groups.iter().find(|g| g.key == "hotline").unwrap();
        assert_eq!(
            (hotline.label.as_str(), hotline.stats.received),
            ("12345热线", 4)
        );
        let wechat = groups.iter().find(|g| g.key == "wechat").unwrap();
        assert_eq!(wechat.stats.repeats, 1);
        let kinds = breakdown(
            &t.db,
            Dimension::Kind,
            &Scope::default(),
            &StatsFilter::default(),
            &w,
        )
        .await
        .unwrap();
        assert_eq!(kinds.len(), CaseKind::ALL.len());
    }
}

#[tokio::test]
async fn a_department_scope_includes_its_sub_units() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        let w = window(0, 30, at(5, 0));
        let of = |d| Scope {
            region_code: None,
            department_id: Some(d),
        };
        let f = StatsFilter::default();
        assert_eq!(stats(&t.db, &of(1), &f, &w).await.unwrap().received, 4);
        assert_eq!(stats(&t.db, &of(2), &f, &w).await.unwrap().received, 4);
        assert_eq!(stats(&t.db, &of(3), &f, &w).await.unwrap().received, 1);
    }
}

#[tokio::test]
async fn a_department_breakdown_from_the_monthly_rollup_equals_the_scan_and_the_trail() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        // March 2025 in Shanghai: the worked example's cases, seen at day 5 (case 6's
        // deadline is still ahead, so the rollup's due count needs its correction).
        let march = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        let april = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        let as_of = at(5, 0);
        // Whole months, clock at as-of: the monthly rollup.
        let rollup = Window::new(march, april, Some(as_of))
            .unwrap()
            .with_now(as_of);
        // One second later, the same cases: the scan of the current rows.
        let scan = Window::new(march + Duration::seconds(1), april, Some(as_of))
            .unwrap()
            .with_now(as_of);
        // The wall clock is later than as-of: the event trail.
        let trail = Window::new(march, april, Some(as_of)).unwrap();
        let f = StatsFilter::default();
        let by_department = |w: Window| {
            let (db, f) = (&t.db, &f);
            async move {
                breakdown(db, Dimension::Department, &Scope::default(), f, &w)
                    .await
                    .unwrap()
            }
        };
        let from_rollup = by_department(rollup).await;
        assert_eq!(from_rollup, by_department(scan).await, "{}", t.name);
        assert_eq!(from_rollup, by_department(trail).await, "{}", t.name);
        // Per department: received, accepted, due, replied when due, on time, overdue
        // now, repeats.
        let counts: Vec<(&str, [i64; 7])> = from_rollup
            .iter()
            .map(|g| {
                let s = &g.stats;
                (
                    g.key.as_str(),
                    [
                        s.received,
                        s.accepted,
                        s.due,
                        s.replied_when_due,
                        s.on_time,
                        s.overdue_now,
                        s.repeats,
                    ],
                )
            })
            .collect();
        assert_eq!(
            counts,
            vec![("2", [4, 3, 3, 2, 1, 1, 0]), ("3", [1, 1, 0, 0, 0, 0, 1])],
            "{}: case 6 of department 3 is not due until day 10",
            t.name
        );
        // The whole-month answer really is read from the monthly cells: without them
        // it counts no case, while the scan still finds the cases.
        t.db.execute_unprepared("DELETE FROM case_rollup_department_monthly")
            .await
            .unwrap();
        let received: i64 = by_department(rollup)
            .await
            .iter()
            .map(|g| g.stats.received)
            .sum();
        assert_eq!(received, 0, "{}", t.name);
        assert_eq!(by_department(scan).await.len(), 2, "{}", t.name);
    }
}

#[tokio::test]
async fn unknown_scopes_and_empty_windows_are_refused() {
    for t in databases().await {
        let f = StatsFilter::default();
        let w = window(0, 30, at(5, 0));
        let region = Scope {
            region_code: Some("999999".into()),
            department_id: None,
        };
        assert!(matches!(
            stats(&t.db, &region, &f, &w).await,
            Err(Error::UnknownRegion(code)) if code == "999999"
        ));
        let dept = Scope {
            region_code: None,
            department_id: Some(4242),
        };
        assert!(matches!(
            stats(&t.db, &dept, &f, &w).await,
            Err(Error::UnknownDepartment(4242))
        ));
        assert!(matches!(
            Window::new(at(3, 0), at(3, 0), None),
            Err(Error::InvalidWindow(_))
        ));
    }
}

#[tokio::test]
async fn departments_rank_by_composite_score_with_min_cases() {
    for t in databases().await {
        insert(&t.db, &worked_example()).await;
        let w = window(0, 30, at(5, 0));
        let rows = ranking(
            &t.db,
            RankUnit::Department,
            &RankWeights::default(),
            &Scope::default(),
            &StatsFilter::default(),
            &w,
            2,
        )
        .await
        .unwrap();
        let summary: Vec<(&str, Option<u32>, bool)> = rows
            .iter()
            .map(|r| (r.unit_id.as_str(), r.rank, r.eligible))
            .collect();
        assert_eq!(
            summary,
            vec![("2", Some(1), true), ("3", None, false)],
            "department 3 has one case, below min_cases"
        );
        // Department 2: reply 2/3, on time 1/3, satisfaction 1 → 0.4·⅔ + 0.3·⅓ + 0.3·1.
        let expected = 0.4 * (2.0 / 3.0) + 0.3 * (1.0 / 3.0) + 0.3;
        assert!((rows[0].score.unwrap() - expected).abs() < 1e-9);
        assert_eq!(rows[0].unit_name, "部门2");
    }
}

#[tokio::test]
async fn a_category_that_surges_above_its_baseline_is_a_hot_topic() {
    for t in databases().await {
        let cats = categories(&t.db).await;
        let mut cases = Vec::new();
        let mut id = 0;
        // Two cases a week for four weeks, then ten in the fifth week.
        for week in 0..5 {
            let n = if week == 4 { 10 } else { 2 };
            for i in 0..n {
                id += 1;
                let mut c = case(id, vec![submit(week * 7 + 1, i)]);
                c.category_id = Some(cats.1);
                cases.push(c);
            }
        }
        insert(&t.db, &cases).await;
        let w = window(28, 35, at(40, 0));
        let hot = hot_topics(
            &t.db,
            &Scope::default(),
            &StatsFilter::default(),
            &w,
            &HotTopicOptions::default(),
        )
        .await
        .unwrap();
        let urban = hot
            .iter()
            .find(|h| h.dimension == Dimension::Category)
            .expect("the category is hot");
        assert_eq!(
            urban.key,
            cats.0.to_string(),
            "grouped by the top-level category"
        );
        assert_eq!(
            (urban.count, urban.baseline, urban.ratio),
            (10, 2.0, Some(5.0))
        );
        let province = hot
            .iter()
            .find(|h| h.dimension == Dimension::Region)
            .unwrap();
        assert_eq!(province.key, "510000");
    }
}
