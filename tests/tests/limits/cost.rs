//! What a request costs: every answer reports its static cost and the caller's bucket,
//! the cost is drawn once (also for a mutation, checked on the guarded schema and run on
//! its bare twin), an empty bucket answers 429 with Retry-After, keys and addresses have
//! buckets of their own, and persisted queries make GETs cacheable without ever keeping a
//! bomb.

use super::*;
use minyi_tests::street_light_complaint;

#[tokio::test]
async fn every_answer_reports_its_cost_and_the_bucket() {
    let app = sqlite_app().await;
    let answer = post_query(&app, "{ cases(first: 100) { nodes { id } } }").await;
    assert_eq!(
        answer.body["extensions"]["cost"],
        json!({
            "requestedQueryCost": 200,
            "maximumQueryCost": 5000,
            "throttleStatus": {
                "maximumAvailable": 50_000,
                "currentlyAvailable": 49_800,
                "restoreRate": 1000,
            },
        })
    );
    // A refused query still reports the bucket; it was charged one point.
    let answer = post_query(&app, "{ regions { nope } }").await;
    assert_eq!(errors_code(&answer.body).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(
        answer.body["extensions"]["cost"]["requestedQueryCost"],
        Value::Null
    );
    let available = answer.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .expect("a number");
    // 49,800 less the point, plus what a thousand points a second refilled meanwhile.
    assert!((49_799..50_000).contains(&available), "{available}");
}

/// The cost guard checks a request in a run that stops before any resolver, and the
/// request then runs on the schema without extensions: a mutation still happens once
/// and is charged once.
#[tokio::test]
async fn a_mutation_is_checked_and_charged_once_and_runs_once() {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = sqlite_app().await;
    let submit = "mutation($input: SubmitCaseInput!) { submitCase(input: $input) { case { trackingNumber } } }";
    let input = street_light_complaint("路灯不亮", "13900000001");
    let answer = post(
        &app,
        None,
        json!({ "query": submit, "variables": { "input": input } }),
    )
    .await;
    assert_eq!(answer.body.get("errors"), None, "{}", answer.body);
    let number = data(&answer.body)["submitCase"]["case"]["trackingNumber"]
        .as_str()
        .unwrap_or_default();
    assert!(number.starts_with("MY"), "{}", answer.body);
    let cost = &answer.body["extensions"]["cost"];
    let requested = cost["requestedQueryCost"].as_u64().unwrap_or_default();
    assert!(requested > 0, "{cost}");
    let available = cost["throttleStatus"]["currentlyAvailable"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(available, 50_000 - requested, "{cost}");
    let cases = entities::case::Entity::find()
        .count(&app.db)
        .await
        .expect("cases count");
    assert_eq!(cases, 1);
}

/// Capacity 10 points, one point back per second: five `{ regions { code } }` (2 points
/// each) empty the bucket.
async fn app_with_a_tiny_bucket() -> TestApp {
    sqlite_app_with(|config| {
        config.limits.rate.capacity = 10;
        config.limits.rate.restore_per_second = 1;
    })
    .await
}

#[tokio::test]
async fn the_request_the_bucket_cannot_pay_gets_429_with_retry_after() {
    let app = app_with_a_tiny_bucket().await;
    for _ in 0..5 {
        let answer = post_query(&app, "{ regions { code } }").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let answer = post_query(&app, "{ regions { code } }").await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.body["data"], Value::Null);
    assert_eq!(errors_code(&answer.body).as_deref(), Some("RATE_LIMITED"));
    // Empty (a few hundredths of a point back at most): a whole point takes a second.
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(answer.body["errors"][0]["extensions"]["retryAfter"], 1);
    assert_eq!(
        answer.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        0
    );
    // Operators see the refusal in /metrics.
    let metrics = app
        .get("/metrics")
        .await
        .text()
        .await
        .expect("/metrics is readable");
    assert!(
        metrics
            .lines()
            .any(|line| line == "minyi_rate_limited_total{kind=\"ip\"} 1"),
        "{metrics}"
    );

    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let answer = post_query(&app, "{ regions { code } }").await;
    assert_eq!(answer.status, 200, "two seconds refilled two points");
}

#[tokio::test]
async fn a_key_has_its_own_bucket_apart_from_its_ip() {
    let app = app_with_a_tiny_bucket().await;
    let key = app.admin_key().await;
    for _ in 0..5 {
        assert_eq!(post_query(&app, "{ regions { code } }").await.status, 200);
    }
    assert_eq!(post_query(&app, "{ regions { code } }").await.status, 429);
    let keyed = post(&app, Some(&key), json!({ "query": "{ regions { code } }" })).await;
    assert_eq!(keyed.status, 200, "{}", keyed.body);
    assert_eq!(
        keyed.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        8
    );
}

#[tokio::test]
async fn a_persisted_query_is_registered_once_then_served_by_a_cacheable_get() {
    let app = sqlite_app().await;
    let query = "query Provinces { regions { code } }";
    let hash = hex_sha256(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();

    let unknown = get(&app, None, &[("extensions", extensions.clone())]).await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        errors_code(&unknown.body).as_deref(),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );
    assert_eq!(
        unknown.body["errors"][0]["message"],
        "PersistedQueryNotFound"
    );
    assert_eq!(unknown.header("cache-control"), Some("no-store"));

    let registered = post(
        &app,
        None,
        json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(
        data(&registered.body)["regions"].as_array().map(Vec::len),
        Some(31)
    );

    let served = get(&app, None, &[("extensions", extensions.clone())]).await;
    assert_eq!(served.status, 200);
    assert_eq!(
        data(&served.body)["regions"].as_array().map(Vec::len),
        Some(31)
    );
    assert_eq!(served.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(
        served.header("vary"),
        Some("Authorization, X-Minyi-Consistency")
    );

    let key = app.admin_key().await;
    let keyed = get(&app, Some(&key), &[("extensions", extensions)]).await;
    assert_eq!(keyed.status, 200);
    assert_eq!(keyed.header("cache-control"), Some("private, max-age=60"));

    let wrong_hash = post(
        &app,
        None,
        json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }),
    )
    .await;
    assert_eq!(
        errors_code(&wrong_hash.body).as_deref(),
        Some("BAD_USER_INPUT")
    );
    assert_eq!(
        wrong_hash.body["errors"][0]["message"],
        "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query"
    );
}

#[tokio::test]
async fn a_persisted_mutation_is_still_refused_over_get() {
    let app = sqlite_app().await;
    let mutation = "mutation { __typename }";
    let hash = hex_sha256(mutation);
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let registered = post(
        &app,
        None,
        json!({ "query": mutation, "extensions": persisted }),
    )
    .await;
    assert_eq!(data(&registered.body)["__typename"], "MutationRoot");

    let over_get = get(&app, None, &[("extensions", persisted.to_string())]).await;
    assert_eq!(over_get.status, 405);
    assert_eq!(over_get.header("allow"), Some("POST"));
    assert_eq!(
        errors_code(&over_get.body).as_deref(),
        Some("BAD_USER_INPUT")
    );
}

#[tokio::test]
async fn a_bomb_is_never_kept_as_a_persisted_query() {
    let app = sqlite_app().await;
    let aliases: String = (0..16).map(|i| format!(" a{i}: __typename")).collect();
    let bomb = format!("{{{aliases} }}");
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": hex_sha256(&bomb) } });
    let refused = post(
        &app,
        None,
        json!({ "query": bomb, "extensions": persisted }),
    )
    .await;
    assert_refused(&refused, "aliases", 16, 15);
    let by_hash = get(&app, None, &[("extensions", persisted.to_string())]).await;
    assert_eq!(
        errors_code(&by_hash.body).as_deref(),
        Some("PERSISTED_QUERY_NOT_FOUND")
    );
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}
