//! Small-cell suppression of public township statistics, seen from outside: counts from
//! 1 to below the threshold are `null` with `suppressed: true` (never 0), the next
//! smallest sibling goes too so the county total minus the shown townships gives
//! nothing back, `stats` and `timeSeries` hide exactly what the breakdown hides, staff
//! see every number, and the threshold is configurable.

use entities::Role;
use minyi::keys::KeyGrant;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, db_test, errors_code, Backend, TestApp};
use serde_json::{json, Value};

/// The window: 1–3 March 2026, whole days in Asia/Shanghai.
const FROM: &str = "2026-02-28T16:00:00Z";
const TO: &str = "2026-03-03T16:00:00Z";

/// Four townships of Jinjiang district (510104) and their cases: 3, 6, 2 + 8 (two
/// days) and 10; the other seven townships have none.
async fn world(app: &TestApp) {
    let day2 = at(2026, 3, 2, 2, 0, 0);
    let day1 = at(2026, 3, 1, 2, 0, 0);
    for (code, day, n) in [
        ("510104017", day2, 3),
        ("510104018", day2, 6),
        ("510104019", day1, 2),
        ("510104019", day2, 8),
        ("510104022", day2, 10),
    ] {
        for _ in 0..n {
            fixtures::case(&app.db, NewCase::new(code, day)).await;
        }
    }
}

async fn leader(app: &TestApp) -> String {
    app.create_key(KeyGrant {
        role: Role::Leader,
        region_code: Some("510100".into()),
        department_id: None,
        panel_id: None,
        label: None,
    })
    .await
}

/// `breakdown(by: REGION)` of the county as `key` sees it: (township, suppressed,
/// received, repeatRate) for the townships named.
async fn townships(app: &TestApp, key: Option<&str>, codes: &[&str]) -> Vec<Value> {
    let query = "query($from: DateTime!, $to: DateTime!) { breakdown(by: REGION, \
        scope: { regionCode: \"510104\" }, from: $from, to: $to) \
        { key stats { suppressed received repeatRate accepted } } }";
    let resp = app
        .graphql_as(key, query, json!({ "from": FROM, "to": TO }))
        .await;
    let rows = data(&resp)["breakdown"]
        .as_array()
        .expect("breakdown rows")
        .clone();
    codes
        .iter()
        .map(|code| {
            let row = rows
                .iter()
                .find(|r| r["key"] == *code)
                .unwrap_or_else(|| panic!("no row for {code}"));
            let s = &row["stats"];
            json!([code, s["suppressed"], s["received"], s["repeatRate"]])
        })
        .collect()
}

async fn stats(app: &TestApp, key: Option<&str>, region: &str) -> Value {
    let query = "query($r: String!, $from: DateTime!, $to: DateTime!) { \
        stats(scope: { regionCode: $r }, from: $from, to: $to) { suppressed received accepted } }";
    let resp = app
        .graphql_as(key, query, json!({ "r": region, "from": FROM, "to": TO }))
        .await;
    data(&resp)["stats"].clone()
}

async fn series(app: &TestApp, key: Option<&str>, region: &str) -> Vec<Value> {
    let query = "query($r: String!, $from: DateTime!, $to: DateTime!) { \
        timeSeries(interval: DAY, scope: { regionCode: $r }, from: $from, to: $to) \
        { stats { suppressed received } } }";
    let resp = app
        .graphql_as(key, query, json!({ "r": region, "from": FROM, "to": TO }))
        .await;
    data(&resp)["timeSeries"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| json!([p["stats"]["suppressed"], p["stats"]["received"]]))
        .collect()
}

const SHOWN: &[&str] = &[
    "510104017",
    "510104018",
    "510104019",
    "510104022",
    "510104023",
];

db_test!(
    suppression_hides_a_small_township_and_its_smallest_sibling_from_the_public,
    |app| async move {
        world(&app).await;
        assert_eq!(
            townships(&app, None, SHOWN).await,
            [
                json!(["510104017", true, null, null]),
                // 6 goes too: 29 − (10 + 10 + 0) would otherwise give the 3 back.
                json!(["510104018", true, null, null]),
                json!(["510104019", false, 10, 0.0]),
                json!(["510104022", false, 10, 0.0]),
                json!(["510104023", false, 0, null]),
            ]
        );
        let county = stats(&app, None, "510104").await;
        assert_eq!(
            county,
            json!({ "suppressed": false, "received": 29, "accepted": 0 })
        );
        let key = leader(&app).await;
        assert_eq!(
            townships(&app, Some(&key), &SHOWN[..2]).await,
            [
                json!(["510104017", false, 3, 0.0]),
                json!(["510104018", false, 6, 0.0]),
            ],
            "staff see every number"
        );
    }
);

db_test!(
    suppression_stats_of_a_township_hide_what_the_breakdown_hides,
    |app| async move {
        world(&app).await;
        assert_eq!(
            stats(&app, None, "510104017").await,
            json!({ "suppressed": true, "received": null, "accepted": 0 })
        );
        assert_eq!(
            stats(&app, None, "510104018").await,
            json!({ "suppressed": true, "received": null, "accepted": 0 }),
            "the secondary cell is hidden on every door"
        );
        assert_eq!(
            stats(&app, None, "510104019").await,
            json!({ "suppressed": false, "received": 10, "accepted": 0 })
        );
    }
);

db_test!(
    suppression_a_township_series_gives_no_day_back_from_its_window_total,
    |app| async move {
        world(&app).await;
        // 2 on 1 March is small; 8 on 2 March goes too, since the window total 10 is
        // public.
        assert_eq!(
            series(&app, None, "510104019").await,
            [json!([true, null]), json!([true, null]), json!([false, 0])]
        );
        assert_eq!(
            series(&app, None, "510104022").await,
            [json!([false, 0]), json!([false, 10]), json!([false, 0])]
        );
        assert_eq!(
            series(&app, None, "510104017").await,
            [json!([true, null]), json!([true, null]), json!([false, 0])],
            "1 March hides a zero: its only small sibling needs a partner"
        );
        let key = leader(&app).await;
        assert_eq!(
            series(&app, Some(&key), "510104019").await,
            [json!([false, 2]), json!([false, 8]), json!([false, 0])]
        );
    }
);

db_test!(
    suppression_township_rankings_and_topics_stay_within_the_rules,
    |app| async move {
        world(&app).await;
        let ranking = "query($from: DateTime!, $to: DateTime!, $min: Int) { ranking(unit: REGION, \
            scope: { regionCode: \"510104\" }, from: $from, to: $to, minCases: $min) \
            { unit { id } score stats { suppressed received } } }";
        let resp = app
            .graphql(ranking, json!({ "from": FROM, "to": TO }))
            .await;
        let rows = data(&resp)["ranking"].as_array().expect("rows").clone();
        let row = |id: &str| {
            rows.iter()
                .find(|r| r["unit"]["id"] == id)
                .map(|r| json!([r["stats"]["suppressed"], r["stats"]["received"]]))
        };
        assert_eq!(row("510104017"), Some(json!([true, null])));
        assert_eq!(row("510104018"), Some(json!([true, null])));
        assert_eq!(row("510104019"), Some(json!([false, 10])));
        let resp = app
            .graphql(ranking, json!({ "from": FROM, "to": TO, "min": 3 }))
            .await;
        assert_eq!(errors_code(&resp).as_deref(), Some("BAD_USER_INPUT"));

        let history = "query($from: DateTime!, $to: DateTime!) { rankHistory(unit: REGION, \
            scope: { regionCode: \"510104\" }, from: $from, to: $to) { alerts { firstRank } } }";
        let resp = app
            .graphql(history, json!({ "from": FROM, "to": TO }))
            .await;
        assert_eq!(errors_code(&resp).as_deref(), Some("FORBIDDEN"));
        let topics = "query($from: DateTime!, $to: DateTime!) { hotTopics(\
            scope: { regionCode: \"510104017\" }, from: $from, to: $to) { key } }";
        let resp = app.graphql(topics, json!({ "from": FROM, "to": TO })).await;
        assert_eq!(errors_code(&resp).as_deref(), Some("FORBIDDEN"));
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suppression_the_threshold_is_configurable() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.suppression_threshold = 3).await;
    world(&app).await;
    assert_eq!(
        townships(&app, None, &SHOWN[..2]).await,
        [
            json!(["510104017", false, 3, 0.0]),
            json!(["510104018", false, 6, 0.0]),
        ]
    );
}
