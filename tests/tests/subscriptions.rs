//! Live updates over `/graphql/ws` (graphql-transport-ws): what each audience's
//! `caseEvents` delivers, `statsChanged` pushes, refusals, and (on PostgreSQL) events
//! crossing from one instance to another through LISTEN/NOTIFY.
//!
//! Subscriptions start with `after` = the newest event id before the test acts, so an
//! event committed while the subscription is still being set up is replayed rather
//! than lost: the tests never depend on timing.

use chrono::{Duration, Utc};
use entities::{case_event, CaseStatus, Role};
use minyi::keys::KeyGrant;
use minyi_tests::fixtures::{self, NewCase};
use minyi_tests::live::{LiveClient, SecondInstance};
use minyi_tests::{data, db_test, Backend, TestApp};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{json, Value};

const CASE_EVENTS: &str = "subscription($after: ID, $scope: ScopeInput) { \
    caseEvents(after: $after, scope: $scope) { \
      id caseId event { action note } case { id title body published } } }";

const STATS_CHANGED: &str = "subscription($from: DateTime!, $to: DateTime!, $scope: ScopeInput) { \
    statsChanged(from: $from, to: $to, scope: $scope) { received } }";

const SUBMIT: &str =
    "mutation($input: SubmitCaseInput!) { submitCase(input: $input) { case { id } } }";

fn grant(role: Role, region: Option<&str>) -> KeyGrant {
    KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: None,
        panel_id: None,
        label: None,
    }
}

/// The newest event id, as the `after` of a subscription starting now.
async fn newest_event(app: &TestApp) -> String {
    let newest = case_event::Entity::find()
        .order_by_desc(case_event::Column::Id)
        .one(&app.db)
        .await
        .expect("reading the newest event");
    newest.map(|e| e.id).unwrap_or(0).to_string()
}

/// Submits a case in `region_code` as the public; returns its id.
async fn submit_in(base_url_app: &TestApp, region_code: &str, title: &str) -> String {
    let input = json!({
        "title": title,
        "body": "小区门口的路灯坏了一周，晚上出行很不安全。",
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": region_code,
        "citizen": { "name": "张三", "phone": "13900000001", "idNumber": null }
    });
    let resp = base_url_app
        .graphql(SUBMIT, json!({ "input": input }))
        .await;
    data(&resp)["submitCase"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no case id: {resp}"))
        .to_string()
}

fn event_of(payload: &Value) -> &Value {
    let has_errors = payload
        .get("errors")
        .is_some_and(|e| !e.as_array().is_some_and(Vec::is_empty));
    assert!(!has_errors, "the subscription sent errors: {payload}");
    &payload["data"]["caseEvents"]
}

fn first_error_code(payload: &Value) -> &str {
    payload["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {payload}"))
}

db_test!(
    a_leaders_subscription_sees_a_submission_in_their_region_and_not_one_elsewhere,
    |app| async move {
        let leader = app.create_key(grant(Role::Leader, Some("510100"))).await;
        let after = newest_event(&app).await;
        let mut live = LiveClient::connect(&app, Some(&leader)).await;
        live.subscribe("events", CASE_EVENTS, json!({ "after": after }))
            .await;

        // Guangzhou first, then Chengdu: events arrive in commit order, so Chengdu's
        // arriving first means Guangzhou's was filtered out.
        let _guangzhou = submit_in(&app, "440104", "广州的路灯").await;
        let chengdu = submit_in(&app, "510104", "成都的路灯").await;

        let payload = live.next_payload("events").await;
        let event = event_of(&payload);
        assert_eq!(event["caseId"], chengdu.as_str());
        assert_eq!(event["event"]["action"], "SUBMIT");
        assert_eq!(event["case"]["title"], "成都的路灯");
    }
);

db_test!(
    a_public_subscriber_sees_a_case_only_once_it_is_published_and_then_redacted,
    |app| async move {
        let now = Utc::now() - Duration::hours(1);
        let phone_title = "路灯不亮，请回电13912345678";
        let secret = fixtures::case(
            &app.db,
            NewCase::new("510104", now)
                .status(CaseStatus::Replied)
                .published(false)
                .title(phone_title),
        )
        .await;
        let sentinel = fixtures::case(
            &app.db,
            NewCase::new("510104", now)
                .status(CaseStatus::Replied)
                .published(false)
                .title("哨兵"),
        )
        .await;
        let leader = app.create_key(grant(Role::Leader, Some("510100"))).await;
        let after = newest_event(&app).await;
        let mut public = LiveClient::connect(&app, None).await;
        public
            .subscribe("events", CASE_EVENTS, json!({ "after": after }))
            .await;

        let act = |call: String| {
            let (app, leader) = (&app, leader.clone());
            async move {
                let resp = app
                    .graphql_as(
                        Some(&leader),
                        &format!("mutation {{ {call} {{ id }} }}"),
                        json!({}),
                    )
                    .await;
                data(&resp);
            }
        };
        // An event of the unpublished case, then the sentinel's publication.
        act(format!("closeCase(id: \"{}\")", secret.id)).await;
        act(format!("publishCase(id: \"{}\")", sentinel.id)).await;
        let payload = public.next_payload("events").await;
        let event = event_of(&payload);
        assert_eq!(
            (event["caseId"].as_str(), event["event"]["action"].as_str()),
            (Some(sentinel.id.to_string().as_str()), Some("PUBLISH")),
            "the close of the unpublished case was not delivered: {payload}"
        );

        act(format!("publishCase(id: \"{}\")", secret.id)).await;
        let payload = public.next_payload("events").await;
        let event = event_of(&payload);
        assert_eq!(event["caseId"], secret.id.to_string().as_str());
        assert_eq!(event["event"]["action"], "PUBLISH");
        assert_eq!(event["event"]["note"], Value::Null);
        assert_eq!(event["case"]["published"], true);
        let expected = minyi::open_data::redaction::public_text(phone_title, None);
        assert_eq!(event["case"]["title"], expected.as_str());
        assert!(
            !expected.contains("13912345678"),
            "the redaction masks the phone number: {expected}"
        );
    }
);

db_test!(
    stats_changed_pushes_the_stats_on_subscribe_and_again_after_a_submission,
    |app| async move {
        let leader = app.create_key(grant(Role::Leader, Some("510100"))).await;
        let mut live = LiveClient::connect(&app, Some(&leader)).await;
        let window = json!({
            "from": (Utc::now() - Duration::days(1)).to_rfc3339(),
            "to": (Utc::now() + Duration::days(1)).to_rfc3339(),
        });
        live.subscribe("stats", STATS_CHANGED, window).await;
        let first = live.next_payload("stats").await;
        assert_eq!(first["data"]["statsChanged"]["received"], 0, "{first}");

        submit_in(&app, "510104", "成都的路灯").await;
        let second = live.next_payload("stats").await;
        assert_eq!(second["data"]["statsChanged"]["received"], 1, "{second}");
    }
);

db_test!(
    a_subscription_outside_the_leaders_region_is_forbidden,
    |app| async move {
        let leader = app.create_key(grant(Role::Leader, Some("510100"))).await;
        let mut live = LiveClient::connect(&app, Some(&leader)).await;
        let guangzhou = json!({ "scope": { "regionCode": "440100" } });
        live.subscribe("events", CASE_EVENTS, guangzhou.clone())
            .await;
        let refused = live.message("events").await;
        assert_eq!(refused["type"], "next", "{refused}");
        assert_eq!(first_error_code(&refused["payload"]), "FORBIDDEN");
        assert_eq!(live.message("events").await["type"], "complete");

        let window = json!({
            "from": "2026-01-01T00:00:00Z",
            "to": "2026-02-01T00:00:00Z",
            "scope": guangzhou["scope"],
        });
        live.subscribe("stats", STATS_CHANGED, window).await;
        let refused = live.message("stats").await;
        assert_eq!(first_error_code(&refused["payload"]), "FORBIDDEN");
    }
);

db_test!(
    an_unknown_key_closes_the_connection_with_4403,
    |app| async move {
        let mut live = LiveClient::open(&app.base_url, None).await;
        live.init(json!({ "authorization": "Bearer not-a-key" }))
            .await;
        let closed = live.closed().await;
        assert_eq!(closed.code, 4403, "{closed:?}");
        assert!(closed.reason.contains("unknown or revoked"), "{closed:?}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_before_the_handshake_closes_with_4401() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut live = LiveClient::open(&app.base_url, None).await;
    live.subscribe("early", CASE_EVENTS, json!({})).await;
    assert_eq!(live.closed().await.code, 4401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_the_websocket_is_refused_with_a_pointer_to_post() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut live = LiveClient::connect(&app, None).await;
    live.subscribe("q", "{ viewer { role } }", json!({})).await;
    let refused = live.message("q").await;
    assert_eq!(first_error_code(&refused["payload"]), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribe_draws_from_the_callers_rate_limit_bucket() {
    // Ten points, one back per second: five `{ regions { code } }` (2 points each)
    // over POST empty the public's bucket for this IP.
    let app = TestApp::spawn_with(Backend::Sqlite, |config| {
        config.limits.rate.capacity = 10;
        config.limits.rate.restore_per_second = 1;
    })
    .await;
    for _ in 0..5 {
        let answer = app.graphql("{ regions { code } }", json!({})).await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let mut live = LiveClient::connect(&app, None).await;
    let window = json!({ "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z" });
    live.subscribe("stats", STATS_CHANGED, window).await;
    let refused = live.message("stats").await;
    assert_eq!(first_error_code(&refused["payload"]), "RATE_LIMITED");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["retryAfter"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_in_the_upgrade_header_authenticates_the_connection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let leader = app.create_key(grant(Role::Leader, Some("510100"))).await;
    let mut live = LiveClient::open(&app.base_url, Some(&leader)).await;
    live.init(json!({})).await;
    assert_eq!(live.message("none").await["type"], "connection_ack");
    // A leader's default scope is their region: outside it is refused, so the header
    // key is in force (the public may subscribe anywhere).
    let guangzhou = json!({ "scope": { "regionCode": "440100" } });
    live.subscribe("events", CASE_EVENTS, guangzhou).await;
    let refused = live.message("events").await;
    assert_eq!(first_error_code(&refused["payload"]), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_through_one_instance_reaches_a_subscriber_of_another_on_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let second = SecondInstance::start(&app.database_url()).await;
    let admin = app.create_key(grant(Role::Admin, None)).await;
    let after = newest_event(&app).await;
    let mut live = LiveClient::connect_to(&second.base_url, Some(&admin)).await;
    live.subscribe("events", CASE_EVENTS, json!({ "after": after }))
        .await;

    // The first event may come by replay; once it is here the subscription is live,
    // so the second can only come through NOTIFY from the other instance's write.
    let first = submit_in(&app, "510104", "第一件").await;
    let payload = live.next_payload("events").await;
    assert_eq!(event_of(&payload)["caseId"], first.as_str());

    let second_case = submit_in(&app, "440104", "第二件").await;
    let payload = live.next_payload("events").await;
    let event = event_of(&payload);
    assert_eq!(event["caseId"], second_case.as_str());
    assert_eq!(event["event"]["action"], "SUBMIT");
}
