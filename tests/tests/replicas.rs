//! Read replicas and read-your-writes on a real PostgreSQL primary with a streaming
//! replica (`minyi_tests::pg_cluster`): queries read from the replica, mutations write to
//! the primary, a consistency token lets a client read its own write through any
//! instance, and a replica that stops or falls behind leaves the rotation and comes back.

use entities::Role;
use minyi::keys::KeyGrant;
use minyi_tests::errors_code;
use minyi_tests::pg_cluster::{metric_in, wait_for, Answer, Instance, PgCluster};
use serde_json::{json, Value};
use std::time::Duration;

const SUBMIT: &str = "mutation($input: SubmitCaseInput!) { \
    submitCase(input: $input) { case { id trackingNumber status } } }";

const READ_CASE: &str = "query($id: ID!) { case(id: $id) { id trackingNumber status } }";

fn submission(title: &str) -> Value {
    json!({ "input": {
        "title": title,
        "body": "小区门口的路灯坏了一周，晚上出行很不安全。",
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": "510104",
        "citizen": { "name": "张三", "phone": "13900000001", "idNumber": null }
    }})
}

fn grant(role: Role, region: Option<&str>) -> KeyGrant {
    KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: None,
        panel_id: None,
        label: None,
    }
}

/// A case submitted through `instance`: its id, tracking number and the consistency token.
struct Submitted {
    id: Value,
    tracking_number: String,
    token: String,
}

async fn submit(instance: &Instance, title: &str) -> Submitted {
    let answer = instance
        .graphql(None, None, SUBMIT, submission(title))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let case = &answer.body["data"]["submitCase"]["case"];
    assert_eq!(case["status"], "SUBMITTED", "{:?}", answer.body);
    let token = answer.body["extensions"]["consistency"]
        .as_str()
        .unwrap_or_else(|| panic!("a mutation's answer carries a token: {:?}", answer.body))
        .to_string();
    assert_eq!(
        answer.consistency.as_deref(),
        Some(token.as_str()),
        "the X-Minyi-Consistency header repeats extensions.consistency"
    );
    Submitted {
        id: case["id"].clone(),
        tracking_number: case["trackingNumber"]
            .as_str()
            .unwrap_or_else(|| panic!("a tracking number: {case}"))
            .to_string(),
        token,
    }
}

async fn read_case(instance: &Instance, key: &str, token: Option<&str>, id: &Value) -> Answer {
    instance
        .graphql(Some(key), token, READ_CASE, json!({ "id": id }))
        .await
}

fn assert_found(answer: &Answer, case: &Submitted) {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(
        answer.body["data"]["case"]["trackingNumber"], case.tracking_number,
        "{:?}",
        answer.body
    );
    assert_eq!(answer.body["data"]["case"]["status"], "SUBMITTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_written_through_one_instance_is_read_through_another_with_its_token_on_postgres() {
    let cluster = PgCluster::start();
    let a = Instance::start(&cluster).await;
    let b = Instance::start(&cluster).await;
    let admin = a.create_key(grant(Role::Admin, None)).await;
    cluster.wait_until_replica_caught_up().await;
    b.wait_until_replica_in_rotation().await;
    cluster.pause_replay().await;

    let case = submit(&a, "路灯不亮").await;

    let without_token = read_case(&b, &admin, None, &case.id).await;
    assert_eq!(
        errors_code(&without_token.body).as_deref(),
        Some("NOT_FOUND"),
        "the paused replica has not replayed the case, and B read from it: {:?}",
        without_token.body
    );
    assert_eq!(b.reads_on("replica").await, 1.0);
    assert_eq!(b.reads_on("primary").await, 0.0);

    let with_token = read_case(&b, &admin, Some(&case.token), &case.id).await;
    assert_found(&with_token, &case);
    assert_eq!(
        b.reads_on("primary").await,
        1.0,
        "no replica replayed past the token within the wait: the primary served it"
    );
    assert_eq!(with_token.consistency, None, "a query hands out no token");

    cluster.resume_replay().await;
    cluster.wait_until_replica_caught_up().await;
    let with_token = read_case(&b, &admin, Some(&case.token), &case.id).await;
    assert_found(&with_token, &case);
    assert_eq!(
        b.reads_on("replica").await,
        2.0,
        "a replica that replayed past the token serves it"
    );
    assert_eq!(b.reads_on("primary").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_stay_correct_while_the_replica_is_down_and_return_to_it_on_postgres() {
    let cluster = PgCluster::start();
    let a = Instance::start(&cluster).await;
    let admin = a.create_key(grant(Role::Admin, None)).await;
    let case = submit(&a, "路灯不亮").await;
    cluster.wait_until_replica_caught_up().await;
    a.wait_until_replica_in_rotation().await;
    assert_found(&read_case(&a, &admin, None, &case.id).await, &case);
    assert_eq!(a.reads_on("replica").await, 1.0);

    cluster.stop_replica().await;
    wait_for(
        "the health checker to take the stopped replica out",
        || async { a.get("/readyz").await == (200, "degraded".to_string()) },
    )
    .await;
    let primary_before = a.reads_on("primary").await;
    assert_found(&read_case(&a, &admin, None, &case.id).await, &case);
    assert_eq!(a.reads_on("primary").await, primary_before + 1.0);
    assert_eq!(a.reads_on("replica").await, 1.0);
    let healthy = format!(
        "minyi_db_replica_healthy{{address=\"127.0.0.1:{}\",replica=\"0\"}}",
        cluster.replica_port
    );
    assert_eq!(a.metric(&healthy).await, Some(0.0));

    cluster.start_replica().await;
    a.wait_until_replica_in_rotation().await;
    assert_eq!(a.metric(&healthy).await, Some(1.0));
    assert_found(&read_case(&a, &admin, None, &case.id).await, &case);
    assert_eq!(
        a.reads_on("replica").await,
        2.0,
        "reads went back to the replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_on_a_replica_that_went_down_between_health_checks_is_answered_by_the_primary_on_postgres(
) {
    let cluster = PgCluster::start();
    // Health checks an hour apart: only the failing read itself can notice the replica is gone.
    let a = Instance::start_with(&cluster, |config| {
        config.replicas.check_interval = Duration::from_secs(3600);
    })
    .await;
    let admin = a.create_key(grant(Role::Admin, None)).await;
    let case = submit(&a, "路灯不亮").await;
    cluster.wait_until_replica_caught_up().await;
    assert_eq!(a.get("/readyz").await, (200, "ready".to_string()));
    assert_found(&read_case(&a, &admin, None, &case.id).await, &case);
    assert_eq!(a.reads_on("replica").await, 1.0);
    let primary_before = a.reads_on("primary").await;

    cluster.stop_replica().await;
    assert_eq!(
        a.get("/readyz").await,
        (200, "ready".to_string()),
        "no health check has run since the replica stopped"
    );
    let answer = read_case(&a, &admin, None, &case.id).await;
    assert_found(&answer, &case);
    assert!(answer.body.get("errors").is_none(), "{:?}", answer.body);
    assert_eq!(
        a.reads_on("replica").await,
        2.0,
        "the read went to the replica first"
    );
    assert_eq!(
        a.reads_on("primary").await,
        primary_before + 1.0,
        "and ran again on the primary"
    );
    assert_eq!(
        a.get("/readyz").await,
        (200, "degraded".to_string()),
        "the failed read took the replica out of rotation at once"
    );
    assert_found(&read_case(&a, &admin, None, &case.id).await, &case);
    assert_eq!(a.reads_on("replica").await, 2.0, "no read tries it again");
    assert_eq!(a.reads_on("primary").await, primary_before + 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_the_replica_lag_and_a_malformed_token_is_refused_on_postgres() {
    let cluster = PgCluster::start();
    let a = Instance::start(&cluster).await;
    let labels = format!(
        "{{address=\"127.0.0.1:{}\",replica=\"0\"}}",
        cluster.replica_port
    );
    let lag_bytes = format!("minyi_db_replica_lag_bytes{labels}");
    let lag_seconds = format!("minyi_db_replica_lag_seconds{labels}");
    let healthy = format!("minyi_db_replica_healthy{labels}");

    cluster.wait_until_replica_caught_up().await;
    wait_for("a caught-up replica to report no lag", || async {
        let (_, text) = a.get("/metrics").await;
        metric_in(&text, &lag_bytes) == Some(0.0) && metric_in(&text, &lag_seconds) == Some(0.0)
    })
    .await;
    a.wait_until_replica_in_rotation().await;
    assert_eq!(a.metric(&healthy).await, Some(1.0));

    cluster.pause_replay().await;
    let replayed: minyi::replicas::Lsn = cluster
        .replica_replayed()
        .await
        .parse()
        .expect("the replica's position is an LSN");
    let case = submit(&a, "路灯不亮").await;
    let token: minyi::replicas::Lsn = case.token.parse().expect("the token is an LSN");
    let behind = replayed.bytes_until(token) as f64;
    assert!(
        behind > 0.0,
        "the submission wrote WAL past the paused replica"
    );
    wait_for(
        "the lag gauges to show the paused replica behind",
        || async {
            let (_, text) = a.get("/metrics").await;
            metric_in(&text, &lag_bytes).is_some_and(|lag| lag >= behind)
                && metric_in(&text, &lag_seconds).is_some_and(|lag| lag > 0.0)
        },
    )
    .await;
    assert_eq!(
        a.metric(&healthy).await,
        Some(1.0),
        "a few KiB behind is within the default 16 MiB"
    );

    for malformed in ["not-an-lsn", "0/", "123456789/0", "0/1/2"] {
        let answer = a
            .graphql(None, Some(malformed), "{ categories { id } }", json!({}))
            .await;
        assert_eq!(answer.status, 400, "{malformed:?}: {:?}", answer.body);
        assert_eq!(
            errors_code(&answer.body).as_deref(),
            Some("BAD_USER_INPUT"),
            "{malformed:?}"
        );
    }
    cluster.resume_replay().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_lagging_past_the_limit_leaves_the_rotation_on_postgres() {
    let cluster = PgCluster::start();
    let a = Instance::start_with(&cluster, |config| config.replicas.max_lag_bytes = 1).await;
    cluster.wait_until_replica_caught_up().await;
    a.wait_until_replica_in_rotation().await;
    cluster.pause_replay().await;
    submit(&a, "路灯不亮").await;
    wait_for("the lagging replica to leave the rotation", || async {
        a.get("/readyz").await == (200, "degraded".to_string())
    })
    .await;
    cluster.resume_replay().await;
    a.wait_until_replica_in_rotation().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_never_go_to_the_replica_on_postgres() {
    let cluster = PgCluster::start();
    let a = Instance::start(&cluster).await;
    let leader = a.create_key(grant(Role::Leader, Some("510100"))).await;
    cluster.wait_until_replica_caught_up().await;
    a.wait_until_replica_in_rotation().await;
    cluster.pause_replay().await;

    let case = submit(&a, "路灯不亮").await;
    // The case exists only on the primary: a mutation that reads it succeeds only there,
    // even when it carries a token no replica has reached.
    let accepted = a
        .graphql(
            Some(&leader),
            Some(&case.token),
            "mutation($id: ID!) { acceptCase(id: $id) { id status } }",
            json!({ "id": case.id }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(
        accepted.body["data"]["acceptCase"]["status"], "ACCEPTED",
        "{:?}",
        accepted.body
    );
    let second: minyi::replicas::Lsn = accepted.body["extensions"]["consistency"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a token: {:?}", accepted.body));
    let first: minyi::replicas::Lsn = case.token.parse().expect("an LSN");
    assert!(second > first, "the second write's token is further on");
    assert_eq!(a.reads_on("replica").await, 0.0);
    assert_eq!(a.reads_on("primary").await, 0.0, "mutations are not reads");
    cluster.resume_replay().await;
}

#[tokio::test]
async fn a_sqlite_primary_refuses_read_replicas() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("minyi.db").display()
    );
    let mut config = minyi::Config::new(url, "127.0.0.1:0");
    config.replicas.urls = vec!["postgres://reader@127.0.0.1:5433/minyi".into()];
    let refused = minyi::Application::build(config)
        .await
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        refused.as_deref(),
        Some("--read-database-urls needs a PostgreSQL primary: SQLite has no streaming replicas (leave MINYI_READ_DATABASE_URLS empty)")
    );
}
