//! Newest-first pages on PostgreSQL ask the newest monthly partitions first and fall
//! back to all of them (`minyi::graphql::newest_first`): the pages are the same either
//! way, and the probe's plan leaves the older partitions out.

use chrono::{DateTime, Duration, Utc};
use entities::CaseStatus;
use minyi::auth::Principal;
use minyi::graphql::cases::page_of;
use minyi::graphql::newest_first::probe_floor;
use minyi_tests::fixtures::{self, NewCase};
use minyi_tests::{data, db_test, TestApp};
use sea_orm::{Condition, ConnectionTrait, DbBackend, Order, Statement};
use serde_json::{json, Value};

const PAGE: &str = "query($first: Int!, $after: String) { cases(first: $first, after: $after) { \
    nodes { id } pageInfo { hasNextPage endCursor } } }";

/// Three published cases of the last hours and five of four to six months ago; returns
/// their ids newest first.
async fn recent_and_old_cases(app: &TestApp, now: DateTime<Utc>) -> Vec<String> {
    let mut made = Vec::new();
    let ages = [
        Duration::hours(1),
        Duration::hours(2),
        Duration::hours(3),
        Duration::days(120),
        Duration::days(130),
        Duration::days(150),
        Duration::days(170),
        Duration::days(180),
    ];
    for age in ages {
        let row = fixtures::case(
            &app.db,
            NewCase::new("510104", now - age)
                .status(CaseStatus::Closed)
                .published(true),
        )
        .await;
        made.push(row.id.to_string());
    }
    made
}

/// Every page of `first` cases, newest first: the ids in page order and each page's
/// `hasNextPage`.
async fn walk(app: &TestApp, first: i64) -> (Vec<String>, Vec<bool>) {
    let (mut ids, mut more) = (Vec::new(), Vec::new());
    let mut after = Value::Null;
    loop {
        let resp = app
            .graphql(PAGE, json!({ "first": first, "after": after }))
            .await;
        let page = &data(&resp)["cases"];
        for node in page["nodes"].as_array().expect("nodes") {
            ids.push(node["id"].as_str().expect("an id").to_string());
        }
        let has_next = page["pageInfo"]["hasNextPage"]
            .as_bool()
            .expect("hasNextPage");
        more.push(has_next);
        if !has_next {
            return (ids, more);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

db_test!(
    newest_first_pages_are_the_same_whether_the_newest_months_fill_them_or_not,
    |app| async move {
        let want = recent_and_old_cases(&app, Utc::now()).await;
        // Pages of 2: the first is found in the newest months alone (3 there), the
        // second needs the older ones (1 recent left), then only old ones.
        let (ids, more) = walk(&app, 2).await;
        assert_eq!(ids, want, "every case once, newest first");
        assert_eq!(more, vec![true, true, true, false]);
        // A page exactly as large as the newest months hold: they alone cannot tell
        // whether older cases follow.
        let (ids, more) = walk(&app, 3).await;
        assert_eq!(ids, want);
        assert_eq!(more, vec![true, true, false]);
        // A page larger than the newest months hold: the recent three, then the old.
        let (ids, more) = walk(&app, 5).await;
        assert_eq!(ids, want);
        assert_eq!(more, vec![true, false]);
        // Exactly as many as there are: no next page.
        let (ids, more) = walk(&app, 8).await;
        assert_eq!(ids, want);
        assert_eq!(more, vec![false]);
    }
);

/// The `cases` partitions (PostgreSQL) a statement's plan reads.
async fn partitions_read(app: &TestApp, statement: &Statement) -> Vec<String> {
    let explain = Statement::from_string(DbBackend::Postgres, format!("EXPLAIN {}", statement.sql));
    let mut found: Vec<String> = app
        .db
        .query_all_raw(explain)
        .await
        .expect("explain")
        .into_iter()
        .map(|r| r.try_get::<String>("", "QUERY PLAN").expect("plan line"))
        .filter_map(|line| {
            let scanned = line.split(" on ").nth(1)?.split_whitespace().next()?;
            (scanned.starts_with("cases_p") || scanned == "cases_default")
                .then(|| scanned.to_string())
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

db_test!(
    the_probe_of_a_first_page_plans_only_the_partitions_from_the_month_before_now,
    |app| async move {
        let now = Utc::now();
        let backend = app.db.get_database_backend();
        let Some(floor) = probe_floor(backend, &Order::Desc, None, now) else {
            assert_eq!(backend, DbBackend::Sqlite, "only SQLite goes unprobed");
            return;
        };
        minyi::partitions::ensure_partitions(&app.db, now - Duration::days(200), now)
            .await
            .expect("partitions of the last seven months");
        let public = Principal::public().case_visibility();
        let whole = page_of(backend, public.clone(), Condition::all(), Order::Desc, 21);
        let probe = page_of(
            backend,
            public.add(floor),
            Condition::all(),
            Order::Desc,
            21,
        );
        assert!(
            probe.values.as_ref().is_none_or(|v| v.0.is_empty()),
            "the floor is written into the SQL: the first page still binds nothing"
        );
        let (whole, probed) = (
            partitions_read(&app, &whole).await,
            partitions_read(&app, &probe).await,
        );
        let old = |names: &[String]| {
            let month = |months_ago: u32| {
                let t = now - Duration::days(30 * i64::from(months_ago));
                format!("cases_p{}", t.format("%Y_%m"))
            };
            (3..=6).map(month).filter(|m| names.contains(m)).count()
        };
        assert_eq!(
            old(&whole),
            4,
            "the whole page plans every month: {whole:?}"
        );
        assert_eq!(old(&probed), 0, "the probe plans none of them: {probed:?}");
        assert!(!probed.is_empty(), "the probe reads the newest months");
    }
);
