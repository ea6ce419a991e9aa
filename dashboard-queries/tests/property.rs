//! Every metric from the engine equals a naive computation over the raw events, for
//! random case histories, scopes, filters, windows and as-of instants, on both paths:
//! the past path (as-of in the past: the cases touched later rebuilt from the trail,
//! the others read from their current rows; scan and rollups) and the fast path (as-of
//! at or after now: read from the current case rows, which the generator fills exactly
//! as the writers do).

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use dashboard_queries::calendar::WorkCalendar;
use dashboard_queries::percentile::summarize;
use dashboard_queries::{
    breakdown, rank, rank_history, ranking, stats, time_series, Dimension, Interval, RankUnit,
    RankWeights, Scope, Stats, StatsFilter, StatsGroup, Window,
};
use entities::{CaseKind, Channel};
use proptest::prelude::*;

fn scopes() -> Vec<Scope> {
    let r = |c: &str| Scope {
        region_code: Some(c.into()),
        department_id: None,
    };
    vec![
        Scope::default(),
        r("510000"),
        r("510100"),
        r("510104"),
        r("510104017"),
        r("441900"),
        Scope {
            region_code: None,
            department_id: Some(1),
        },
        Scope {
            region_code: Some("510100".into()),
            department_id: Some(2),
        },
    ]
}

async fn check(seed: u64, n: usize, picks: [u64; 4]) {
    for t in databases().await {
        let db = &t.db;
        let cats = categories(db).await;
        let kids = [cats.1, cats.2];
        let top = (cats.0, &kids[..]);
        let cal = WorkCalendar::load(db).await.unwrap();
        let cases = generate(seed, n, cats);
        clear(db).await;
        insert(db, &cases).await;
        let filters = [
            StatsFilter::default(),
            StatsFilter {
                channel: Some(Channel::ALL[0]),
                ..Default::default()
            },
            StatsFilter {
                kind: Some(CaseKind::ALL[1]),
                category_id: Some(cats.0),
                ..Default::default()
            },
            StatsFilter {
                category_id: Some(cats.1),
                ..Default::default()
            },
        ];
        let scopes = scopes();
        for (i, pick) in picks.iter().enumerate() {
            // as-of anywhere from before the first case to after the last event. The
            // clock stays the wall clock (2026 on): the event path.
            let as_of = base_time() + Duration::seconds((pick % (100 * 86_400)) as i64 - 86_400);
            let (from, to) = match i {
                0 => (0, 60),
                1 => (-5, 90),
                _ => (
                    (pick % 30) as i64,
                    (pick % 30) as i64 + 1 + (pick % 29) as i64,
                ),
            };
            let w = window(from, to, as_of);
            let scope = &scopes[(pick / 7) as usize % scopes.len()];
            let filter = &filters[(pick / 11) as usize % filters.len()];
            let got = stats(db, scope, filter, &w).await.unwrap();
            let want = naive(&cases, scope, filter, &w, &cal, top);
            assert_same(
                &got,
                &want,
                &format!("{} seed {seed} {scope:?} {filter:?} {w:?}", t.name),
            );
            // Each channel group of a breakdown is the stats of that channel.
            if i == 0 {
                let groups = breakdown(db, Dimension::Channel, scope, filter, &w)
                    .await
                    .unwrap();
                for g in groups {
                    let ch = Channel::from_db(&g.key).unwrap();
                    if filter.channel.is_some_and(|c| c != ch) {
                        assert_eq!(g.stats.received, 0);
                        continue;
                    }
                    let f = StatsFilter {
                        channel: Some(ch),
                        ..filter.clone()
                    };
                    let want = naive(&cases, scope, &f, &w, &cal, top);
                    assert_same(&g.stats, &want, &format!("{} channel {}", t.name, g.key));
                }
            }
        }
        // Once everything has happened, with the clock at as-of: the fast path must
        // give the naive answer, and so must the event path at the same instant.
        let end = last_instant(&cases) + Duration::seconds((picks[0] % 5_000) as i64);
        let (from, to) = (-1 - (picks[1] % 3) as i64, 60 + (picks[2] % 40) as i64);
        let past = window(from, to, end);
        let current = past.with_now(end);
        assert!(current.is_current() && !past.is_current());
        for (k, scope) in scopes.iter().enumerate() {
            let filter = &filters[(picks[3] as usize + k) % filters.len()];
            let want = naive(&cases, scope, filter, &current, &cal, top);
            let ctx = format!("{} seed {seed} {scope:?} {filter:?} {current:?}", t.name);
            let fast = stats(db, scope, filter, &current).await.unwrap();
            assert_same(&fast, &want, &format!("fast path: {ctx}"));
            let slow = stats(db, scope, filter, &past).await.unwrap();
            assert_same(&slow, &want, &format!("event path: {ctx}"));
        }
        // Groups of the fast path: each child region's group is the naive stats of its
        // own scope (Dongguan's townships hang under the city), each category group the
        // naive stats of that category, each month point the naive stats of the month.
        let filter = &filters[(picks[3] % 4) as usize];
        for code in [
            None,
            Some("510000"),
            Some("510100"),
            Some("440000"),
            Some("441900"),
        ] {
            let scope = Scope {
                region_code: code.map(Into::into),
                department_id: None,
            };
            for w in [current, past] {
                let groups = breakdown(db, Dimension::Region, &scope, filter, &w)
                    .await
                    .unwrap();
                let mut received = 0;
                for g in &groups {
                    received += g.stats.received;
                    if Some(g.key.as_str()) == code || g.key == "other" {
                        continue;
                    }
                    let own = Scope {
                        region_code: Some(g.key.clone()),
                        department_id: None,
                    };
                    let want = naive(&cases, &own, filter, &w, &cal, top);
                    assert_same(
                        &g.stats,
                        &want,
                        &format!("{} region {} of {code:?} {w:?}", t.name, g.key),
                    );
                }
                let whole = naive(&cases, &scope, filter, &w, &cal, top);
                assert_eq!(received, whole.received, "{} groups of {code:?}", t.name);
            }
        }
        if filter.category_id.is_none() {
            let scope = Scope::default();
            let groups = breakdown(db, Dimension::Category, &scope, filter, &current)
                .await
                .unwrap();
            for g in groups.iter().filter(|g| g.key != "none") {
                let f = StatsFilter {
                    category_id: Some(g.key.parse().unwrap()),
                    ..filter.clone()
                };
                let want = naive(&cases, &scope, &f, &current, &cal, top);
                assert_same(&g.stats, &want, &format!("{} category {}", t.name, g.key));
            }
        }
        // Whole Shanghai days, region scopes, no filter: the rollup answers (with the
        // corrections for deadlines still ahead of as-of); it must give the naive answer
        // too, for stats, child regions and day/week/month points.
        let midnight = base_time() - Duration::hours(8);
        let aligned_now = dashboard_queries::Window::new(
            midnight + Duration::days(from),
            midnight + Duration::days(to),
            Some(end),
        )
        .unwrap()
        .with_now(end);
        // The same days as of an instant inside the histories, the clock later: the
        // rollups set right for the past (cases submitted or touched after it, and
        // deadlines ahead of it), with events after it in the tables.
        let mid = base_time() + Duration::seconds((picks[1] % (70 * 86_400)) as i64);
        let aligned_past = dashboard_queries::Window {
            as_of: mid,
            ..aligned_now.with_now(Utc::now())
        };
        assert!(!aligned_past.is_current());
        // Whole Shanghai months (below): the same region questions from the monthly
        // region cells, now and as of the instant inside the histories.
        let month =
            |m: u32| Utc.with_ymd_and_hms(2025, m, 1, 0, 0, 0).unwrap() - Duration::hours(8);
        let (m0, m1) = [(3, 4), (3, 5), (2, 6), (4, 5)][(picks[1] / 5 % 4) as usize];
        let months = Window::new(month(m0), month(m1), Some(end))
            .unwrap()
            .with_now(end);
        let months_past = Window {
            as_of: mid,
            ..months.with_now(Utc::now())
        };
        let none = StatsFilter::default();
        let windows = [aligned_now, aligned_past, months, months_past];
        for (aligned, code) in windows.into_iter().flat_map(|w| {
            [
                None,
                Some("510000"),
                Some("510100"),
                Some("440000"),
                Some("441900"),
            ]
            .map(|code| (w, code))
        }) {
            let scope = Scope {
                region_code: code.map(Into::into),
                department_id: None,
            };
            let ctx = format!("{} seed {seed} rollup {code:?} {aligned:?}", t.name);
            let want = naive(&cases, &scope, &none, &aligned, &cal, top);
            let got = stats(db, &scope, &none, &aligned).await.unwrap();
            assert_same(&got, &want, &ctx);
            let groups = breakdown(db, Dimension::Region, &scope, &none, &aligned)
                .await
                .unwrap();
            let mut received = 0;
            for g in &groups {
                received += g.stats.received;
                if Some(g.key.as_str()) == code || g.key == "other" {
                    continue;
                }
                let own = Scope {
                    region_code: Some(g.key.clone()),
                    department_id: None,
                };
                let want = naive(&cases, &own, &none, &aligned, &cal, top);
                assert_same(&g.stats, &want, &format!("{ctx} region {}", g.key));
            }
            assert_eq!(received, want.received, "{ctx}: groups");
            let interval = [Interval::Day, Interval::Week, Interval::Month][k_of(picks[2])];
            let points = time_series(db, interval, &scope, &none, &aligned)
                .await
                .unwrap();
            for p in points {
                let part = dashboard_queries::Window {
                    from: p.start.max(aligned.from),
                    to: p.end.min(aligned.to),
                    ..aligned
                };
                let want = naive(&cases, &scope, &none, &part, &cal, top);
                assert_same(&p.stats, &want, &format!("{ctx} {interval:?} {}", p.start));
            }
        }
        // Whole Shanghai months: department breakdowns, rankings and rank histories,
        // and department-scoped questions come from the monthly department rollup
        // (with the same corrections).
        let min_cases = 1 + (picks[2] % 4) as i64;
        let ctx = format!("{} seed {seed} months {m0}..{m1}", t.name);
        check_departments(db, &cases, &cal, top, &months, min_cases, picks[3], &ctx).await;
        // The same months as of the instant inside the histories (the monthly rollup
        // set right for the past).
        let ctx = format!("{ctx} as of {mid}");
        let pick = picks[3] / 125;
        check_departments(db, &cases, &cal, top, &months_past, min_cases, pick, &ctx).await;
        for w in [current, past] {
            let points = time_series(db, Interval::Week, &Scope::default(), filter, &w)
                .await
                .unwrap();
            for p in points {
                let part = dashboard_queries::Window {
                    from: p.start.max(w.from),
                    to: p.end.min(w.to),
                    ..w
                };
                let want = naive(&cases, &Scope::default(), filter, &part, &cal, top);
                assert_same(&p.stats, &want, &format!("{} week {}", t.name, p.start));
            }
        }
    }
}

/// The naive stats of each handling department (then the unassigned cases) that has
/// cases in `scope` and `w`, as the engine lists them: keyed by id, `none` last.
fn naive_departments(
    cases: &[CaseHistory],
    scope: &Scope,
    w: &Window,
    cal: &WorkCalendar,
    top: (i32, &[i32]),
) -> Vec<StatsGroup> {
    let mut out = Vec::new();
    for department in [Some(1), Some(2), Some(3), None] {
        let own: Vec<CaseHistory> = cases
            .iter()
            .filter(|c| c.department_id == department)
            .cloned()
            .collect();
        let stats = naive(&own, scope, &StatsFilter::default(), w, cal, top);
        if stats.received > 0 {
            let (key, label) = match department {
                Some(d) => (d.to_string(), format!("部门{d}")),
                None => ("none".into(), "（未交办）".into()),
            };
            out.push(StatsGroup { key, label, stats });
        }
    }
    out
}

/// The same stats without the duration summaries (rankings are compared whole).
fn counts_only(mut s: Stats) -> Stats {
    let none = summarize(&mut Vec::new());
    s.reply_hours = none;
    s.reply_working_days = none;
    s.response_hours = none;
    s.response_working_days = none;
    s
}

/// Department breakdowns, rankings, rank histories, department-scoped stats, series
/// and child-region breakdowns over the whole months of `months` (as of now) equal
/// the naive computation. `pick` chooses two region scopes, the weights and one
/// department scope (each run checks a share, so the test stays within its time).
#[allow(clippy::too_many_arguments)]
async fn check_departments(
    db: &sea_orm::DatabaseConnection,
    cases: &[CaseHistory],
    cal: &WorkCalendar,
    top: (i32, &[i32]),
    months: &Window,
    min_cases: i64,
    pick: u64,
    ctx: &str,
) {
    let none = StatsFilter::default();
    let guangyuan = RankWeights {
        reply_rate: 0.0,
        on_time_rate: 0.0,
        satisfaction_rate: 0.0,
        completion_rate: 1.0,
        third_party: 0.0,
    };
    let codes = [
        None,
        Some("510000"),
        Some("510100"),
        Some("440000"),
        Some("441900"),
    ];
    let chosen = [codes[(pick % 5) as usize], codes[(pick / 5 % 5) as usize]];
    for code in chosen {
        let scope = Scope {
            region_code: code.map(Into::into),
            department_id: None,
        };
        let ctx = format!("{ctx} {code:?}");
        let want = naive_departments(cases, &scope, months, cal, top);
        let got = breakdown(db, Dimension::Department, &scope, &none, months)
            .await
            .unwrap();
        let keys = |g: &[StatsGroup]| g.iter().map(|g| g.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&got), keys(&want), "{ctx}: department groups");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.label, w.label, "{ctx}: label of {}", g.key);
            assert_same(&g.stats, &w.stats, &format!("{ctx}: department {}", g.key));
        }
        let units: Vec<StatsGroup> = want
            .into_iter()
            .filter(|g| g.key != "none")
            .map(|g| StatsGroup {
                stats: counts_only(g.stats),
                ..g
            })
            .collect();
        let counts = months.without_durations();
        let weights = [RankWeights::default(), guangyuan][(pick / 25 % 2) as usize];
        {
            let got = ranking(
                db,
                RankUnit::Department,
                &weights,
                &scope,
                &none,
                &counts,
                min_cases,
            )
            .await
            .unwrap();
            assert_eq!(
                got,
                rank(units.clone(), &weights, min_cases),
                "{ctx}: ranking"
            );
        }
        let history = rank_history(
            db,
            RankUnit::Department,
            &RankWeights::default(),
            &scope,
            &none,
            &counts,
            min_cases,
        )
        .await
        .unwrap();
        for m in history {
            let next = dashboard_queries::intervals(Interval::Month, m.month_start, counts.to)
                .unwrap()[0]
                .1;
            let part = Window {
                from: m.month_start,
                to: next,
                ..counts
            };
            let units: Vec<StatsGroup> = naive_departments(cases, &scope, &part, cal, top)
                .into_iter()
                .filter(|g| g.key != "none")
                .map(|g| StatsGroup {
                    stats: counts_only(g.stats),
                    ..g
                })
                .collect();
            assert_eq!(
                m.rows,
                rank(units, &RankWeights::default(), min_cases),
                "{ctx}: rank history of {}",
                m.month_start
            );
        }
    }
    // Department scopes (alone and within a region): stats, monthly points, and the
    // child regions under no region or a province.
    {
        let department = 1 + (pick / 50 % 3) as i32;
        for code in [None, Some("510000"), Some("510100")] {
            let scope = Scope {
                region_code: code.map(Into::into),
                department_id: Some(department),
            };
            let ctx = format!("{ctx} {scope:?}");
            let want = naive(cases, &scope, &none, months, cal, top);
            let got = stats(db, &scope, &none, months).await.unwrap();
            assert_same(&got, &want, &ctx);
            let points = time_series(db, Interval::Month, &scope, &none, months)
                .await
                .unwrap();
            for p in points {
                let part = Window {
                    from: p.start.max(months.from),
                    to: p.end.min(months.to),
                    ..*months
                };
                let want = naive(cases, &scope, &none, &part, cal, top);
                assert_same(&p.stats, &want, &format!("{ctx} month {}", p.start));
            }
            if code == Some("510100") {
                continue;
            }
            let groups = breakdown(db, Dimension::Region, &scope, &none, months)
                .await
                .unwrap();
            let mut received = 0;
            for g in &groups {
                received += g.stats.received;
                if Some(g.key.as_str()) == code || g.key == "other" {
                    continue;
                }
                let own = Scope {
                    region_code: Some(g.key.clone()),
                    department_id: Some(department),
                };
                let want = naive(cases, &own, &none, months, cal, top);
                assert_same(&g.stats, &want, &format!("{ctx} region {}", g.key));
            }
            assert_eq!(received, want.received, "{ctx}: region groups");
        }
    }
}

fn k_of(pick: u64) -> usize {
    (pick / 13 % 3) as usize
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn every_metric_equals_the_naive_computation_over_the_raw_events(
        seed in any::<u64>(),
        n in 20usize..80,
        picks in any::<[u64; 4]>(),
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(check(seed, n, picks));
    }
}
