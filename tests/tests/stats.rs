//! The dashboard statistics over GraphQL: numbers of a known world, the two engine
//! paths (as of now: current rows; as of the past: the event trail) agreeing on data
//! written by the real mutations, null rates, region breakdowns, scope rules and
//! as-of stability.

use chrono::SubsecRound;
use entities::Role;
use minyi::keys::KeyGrant;
use minyi_tests::fixtures::{self, NewCase};
use minyi_tests::{data, db_test, errors_code, TestApp};
use serde_json::{json, Value};

const STATS: &str =
    "query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, $asOf: DateTime) { \
    stats(scope: $scope, from: $from, to: $to, asOf: $asOf) { received accepted rejected due \
    repliedWhenDue replyRate onTimeRate closed completionRate rated satisfied basicallySatisfied \
    dissatisfied satisfactionRate participationRate overdueNow repeatRate replied \
    replyHours { count mean median p90 } replyWorkingDays { count mean median p90 } } }";

fn key(role: Role, region: Option<&str>) -> KeyGrant {
    KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: None,
        panel_id: None,
        label: None,
    }
}

fn window() -> (String, String) {
    let now = chrono::Utc::now();
    (
        (now - chrono::Duration::days(30)).to_rfc3339(),
        (now + chrono::Duration::days(1)).to_rfc3339(),
    )
}

/// Three Chengdu cases and one in Mianyang, submitted yesterday (no trail: fixtures).
async fn world(app: &TestApp) -> Vec<i64> {
    let t = (chrono::Utc::now() - chrono::Duration::days(1)).trunc_subsecs(0);
    let mut ids = Vec::new();
    for code in ["510104", "510104", "510105", "510703"] {
        ids.push(fixtures::case(&app.db, NewCase::new(code, t)).await.id);
    }
    ids
}

async fn act(app: &TestApp, key: &str, mutation: &str, id: i64) {
    let resp = app
        .graphql_as(
            Some(key),
            &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ id }} }}"),
            json!({ "id": id.to_string() }),
        )
        .await;
    data(&resp);
}

/// Assigns the case to a new department, claims and replies to it (as admin).
async fn reply(app: &TestApp, key: &str, id: i64) {
    let department = fixtures::department(&app.db, &format!("住建局{id}"), "510100", None).await;
    let resp = app
        .graphql_as(
            Some(key),
            "mutation($id: ID!, $d: ID!) { assignCase(id: $id, departmentId: $d) { id } }",
            json!({ "id": id.to_string(), "d": department.id.to_string() }),
        )
        .await;
    data(&resp);
    act(app, key, "claimCase", id).await;
    let resp = app
        .graphql_as(
            Some(key),
            "mutation($id: ID!) { replyCase(id: $id, reply: \"已处理\") { id } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    data(&resp);
}

async fn stats(app: &TestApp, key: Option<&str>, scope: Value, as_of: Option<String>) -> Value {
    let (from, to) = window();
    let resp = app
        .graphql_as(
            key,
            STATS,
            json!({ "scope": scope, "from": from, "to": to, "asOf": as_of }),
        )
        .await;
    data(&resp)["stats"].clone()
}

db_test!(
    stats_count_a_known_world_and_both_paths_agree,
    |app| async move {
        let ids = world(&app).await;
        let admin = app.create_key(key(Role::Admin, None)).await;
        act(&app, &admin, "acceptCase", ids[0]).await;
        act(&app, &admin, "acceptCase", ids[1]).await;
        reply(&app, &admin, ids[0]).await;
        let chengdu = json!({ "regionCode": "510100" });
        let now = stats(&app, Some(&admin), chengdu.clone(), None).await;
        assert_eq!(now["received"], 3, "{now}");
        assert_eq!(now["accepted"], 2);
        assert_eq!(now["replied"], 1);
        assert_eq!(now["due"], 0, "deadlines are days away");
        assert_eq!(now["replyRate"], Value::Null, "no due case: no reply rate");
        assert_eq!(now["onTimeRate"], Value::Null);
        assert_eq!(now["completionRate"], 0.0);
        assert_eq!(now["satisfactionRate"], Value::Null);
        assert_eq!(now["participationRate"], 0.0);
        assert_eq!(now["replyHours"]["count"], 1);
        // The same question as of an instant already past (rebuilt from the events
        // the mutations wrote) gives the same answer.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let just_past = (chrono::Utc::now() - chrono::Duration::milliseconds(500)).to_rfc3339();
        let past = stats(&app, Some(&admin), chengdu, Some(just_past)).await;
        // The fixtures wrote no events: their cases exist for both paths alike.
        assert_eq!(past, now);
        // The public sees the same aggregates.
        let public = stats(&app, None, json!({ "regionCode": "510100" }), None).await;
        assert_eq!(public, now);
    }
);

db_test!(rates_are_null_when_nothing_is_there, |app| async move {
    let s = stats(&app, None, json!({ "regionCode": "110000" }), None).await;
    assert_eq!(s["received"], 0);
    for rate in [
        "replyRate",
        "onTimeRate",
        "completionRate",
        "satisfactionRate",
        "participationRate",
        "repeatRate",
    ] {
        assert_eq!(s[rate], Value::Null, "{rate}: {s}");
    }
    assert_eq!(s["replyHours"]["mean"], Value::Null);
});

db_test!(
    a_province_breakdown_lists_its_cities_summing_to_it,
    |app| async move {
        world(&app).await;
        let (from, to) = window();
        let resp = app
            .graphql(
                "query($from: DateTime!, $to: DateTime!) { \
                 breakdown(by: REGION, scope: { regionCode: \"510000\" }, from: $from, to: $to) \
                 { key label stats { received } } \
                 stats(scope: { regionCode: \"510000\" }, from: $from, to: $to) { received } }",
                json!({ "from": from, "to": to }),
            )
            .await;
        let d = data(&resp);
        let groups = d["breakdown"].as_array().expect("a list");
        assert!(groups.len() >= 21, "every city of Sichuan: {groups:?}");
        let chengdu = groups.iter().find(|g| g["key"] == "510100").expect("成都");
        assert_eq!(chengdu["label"], "成都市");
        assert_eq!(chengdu["stats"]["received"], 3);
        let mianyang = groups.iter().find(|g| g["key"] == "510700").expect("绵阳");
        assert_eq!(mianyang["stats"]["received"], 1);
        let sum: i64 = groups
            .iter()
            .map(|g| g["stats"]["received"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(sum, d["stats"]["received"].as_i64().unwrap_or(-1));
        assert_eq!(sum, 4);
    }
);

db_test!(scopes_follow_the_callers_role, |app| async move {
    world(&app).await;
    let leader = app.create_key(key(Role::Leader, Some("510100"))).await;
    let (from, to) = window();
    let ask = |scope: Value| {
        let leader = leader.clone();
        let (from, to) = (from.clone(), to.clone());
        let app = &app;
        async move {
            app.graphql_as(
                Some(&leader),
                "query($scope: ScopeInput, $from: DateTime!, $to: DateTime!) { \
                 stats(scope: $scope, from: $from, to: $to) { received } }",
                json!({ "scope": scope, "from": from, "to": to }),
            )
            .await
        }
    };
    let outside = ask(json!({ "regionCode": "510000" })).await;
    assert_eq!(
        errors_code(&outside).as_deref(),
        Some("FORBIDDEN"),
        "{outside}"
    );
    let elsewhere = ask(json!({ "regionCode": "510703" })).await;
    assert_eq!(errors_code(&elsewhere).as_deref(), Some("FORBIDDEN"));
    let inside = ask(json!({ "regionCode": "510104" })).await;
    assert_eq!(data(&inside)["stats"]["received"], 2);
    let default = ask(Value::Null).await;
    assert_eq!(
        data(&default)["stats"]["received"],
        3,
        "defaults to Chengdu"
    );
    let bad = ask(json!({ "regionCode": "999999" })).await;
    assert_eq!(
        errors_code(&bad).as_deref(),
        Some("BAD_USER_INPUT"),
        "{bad}"
    );
    let public_bad = app
        .graphql(
            "query($from: DateTime!, $to: DateTime!) { stats(scope: { regionCode: \"12\" }, \
             from: $from, to: $to) { received } }",
            json!({ "from": from, "to": to }),
        )
        .await;
    assert_eq!(errors_code(&public_bad).as_deref(), Some("BAD_USER_INPUT"));
});

db_test!(
    a_past_as_of_answer_does_not_change_after_later_mutations,
    |app| async move {
        let ids = world(&app).await;
        let admin = app.create_key(key(Role::Admin, None)).await;
        act(&app, &admin, "acceptCase", ids[0]).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let t = chrono::Utc::now().to_rfc3339();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let scope = json!({ "regionCode": "510000" });
        let before = stats(&app, Some(&admin), scope.clone(), Some(t.clone())).await;
        assert_eq!(before["accepted"], 1, "{before}");
        reply(&app, &admin, ids[0]).await;
        act(&app, &admin, "acceptCase", ids[1]).await;
        act(&app, &admin, "acceptCase", ids[3]).await;
        let after = stats(&app, Some(&admin), scope.clone(), Some(t)).await;
        assert_eq!(after, before);
        let now = stats(&app, Some(&admin), scope, None).await;
        assert_eq!(now["accepted"], 3);
        assert_eq!(now["replied"], 1);
    }
);
