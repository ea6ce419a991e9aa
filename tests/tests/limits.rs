//! A public API that survives the internet: every request limit refuses its bomb with the
//! exact measure, introspection stays open, persisted queries make GETs cacheable, each
//! answer reports its cost, and the rate limit answers 429 with a Retry-After.
//!
//! The limits do not touch the database, so most tests run on SQLite only; the timeout,
//! which must stop database work, runs on both engines.

#[path = "limits/cost.rs"]
mod cost;

use minyi_tests::{data, errors_code, Backend, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

/// An HTTP answer: status, the headers a test looks at, and the JSON body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {status} answer that is not JSON ({e}): {text}"));
    Answer {
        status,
        headers,
        body,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
}

/// `POST /graphql` with any JSON body, optionally with a key.
async fn post(app: &TestApp, key: Option<&str>, body: Value) -> Answer {
    let mut request = client()
        .post(format!("{}/graphql", app.base_url))
        .json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    answer(request.send().await.expect("POST /graphql answers")).await
}

async fn post_query(app: &TestApp, query: &str) -> Answer {
    post(app, None, json!({ "query": query })).await
}

/// `GET /graphql` with the given parameters (URL-encoded here), optionally with a key.
async fn get(app: &TestApp, key: Option<&str>, params: &[(&str, String)]) -> Answer {
    let mut request = client()
        .get(format!("{}/graphql", app.base_url))
        .query(params);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    answer(request.send().await.expect("GET /graphql answers")).await
}

async fn sqlite_app() -> TestApp {
    TestApp::spawn(Backend::Sqlite).await
}

async fn sqlite_app_with(configure: impl FnOnce(&mut minyi::Config)) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, configure).await
}

/// Asserts the one refusal of a limit: HTTP 200 (GraphQL over HTTP with
/// `application/json`), `data: null`, and `{code, limit, measured, max}`.
fn assert_refused(answer: &Answer, limit: &str, measured: u64, max: u64) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["data"], Value::Null, "{}", answer.body);
    let errors = answer.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", answer.body);
    assert_eq!(
        errors[0]["extensions"],
        json!({"code": "QUERY_TOO_COMPLEX", "limit": limit, "measured": measured, "max": max}),
        "{}",
        answer.body
    );
    assert_eq!(
        errors[0]["message"],
        format!("the query exceeds the {limit} limit: {measured} is more than {max}")
    );
}

#[tokio::test]
async fn a_query_nested_ten_deep_is_refused_at_depth_8() {
    let app = sqlite_app().await;
    let nested = "children { ".repeat(8) + "code" + &" }".repeat(8);
    let answer = post_query(&app, &format!("{{ regions {{ {nested} }} }}")).await;
    assert_refused(&answer, "depth", 10, 8);

    let at_the_limit = "children { ".repeat(6) + "code" + &" }".repeat(6);
    let answer = post_query(&app, &format!("{{ regions {{ {at_the_limit} }} }}")).await;
    assert!(data(&answer.body)["regions"].is_array());
}

#[tokio::test]
async fn sixteen_aliases_are_refused_at_15() {
    let app = sqlite_app().await;
    let aliases: String = (0..16).map(|i| format!(" a{i}: __typename")).collect();
    let answer = post_query(&app, &format!("{{{aliases} }}")).await;
    assert_refused(&answer, "aliases", 16, 15);
}

#[tokio::test]
async fn thirty_one_directives_are_refused_at_30() {
    let app = sqlite_app().await;
    let fields = " __typename @include(if: true)".repeat(31);
    let answer = post_query(&app, &format!("{{{fields} }}")).await;
    assert_refused(&answer, "directives", 31, 30);
}

#[tokio::test]
async fn a_query_text_over_32_kib_is_refused_by_its_bytes() {
    let app = sqlite_app().await;
    let query = format!("{{ __typename }}\n#{}", "x".repeat(33_000));
    let answer = post_query(&app, &query).await;
    assert_refused(&answer, "queryBytes", query.len() as u64, 32 * 1024);
}

#[tokio::test]
async fn three_thousand_and_two_tokens_are_refused_at_3000() {
    let app = sqlite_app().await;
    // `{`, 3000 names, `}`: 3002 tokens in 6003 bytes, refused before parsing.
    let query = format!("{{{}}}", " a".repeat(3000));
    let answer = post_query(&app, &query).await;
    assert_refused(&answer, "tokens", 3002, 3000);
}

#[tokio::test]
async fn brackets_nested_37_deep_are_refused_before_the_parser_recurses() {
    let app = sqlite_app().await;
    let list = "[".repeat(35) + &"]".repeat(35);
    let answer = post_query(&app, &format!("{{ __typename(x: {list}) }}")).await;
    assert_refused(&answer, "nesting", 37, 32);
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_by_its_inlined_fields() {
    let app = sqlite_app().await;
    // Each fragment spreads the next twice: 2^10 = 1024 fields once inlined.
    let mut query = String::from("{ ...F0 }");
    for i in 0..10 {
        query.push_str(&format!(
            " fragment F{i} on QueryRoot {{ ...F{n} ...F{n} }}",
            n = i + 1
        ));
    }
    query.push_str(" fragment F10 on QueryRoot { __typename }");
    let answer = post_query(&app, &query).await;
    assert_refused(&answer, "fields", 1024, 1000);
}

#[tokio::test]
async fn a_list_costs_its_page_size_times_its_children_and_too_much_is_refused() {
    let app = sqlite_app().await;
    let answer = post_query(&app, "{ cases(first: 100) { nodes { id } } }").await;
    data(&answer.body);
    // cases: 100 × (nodes 1 + id 1)
    assert_eq!(answer.body["extensions"]["cost"]["requestedQueryCost"], 200);

    let pages: String = (0..11)
        .map(|i| format!(" p{i}: cases(first: 100) {{ nodes {{ id title body status }} }}"))
        .collect();
    let answer = post_query(&app, &format!("{{{pages} }}")).await;
    // 11 × 100 × (nodes 1 + 4 fields)
    assert_refused(&answer, "complexity", 5500, 5000);
}

/// The node limit multiplies along nested connections; our connections are top-level
/// today, so the test lowers the limit to see it act.
#[tokio::test]
async fn two_hundred_sixty_possible_nodes_are_refused_at_250() {
    let app = sqlite_app_with(|config| config.limits.max_nodes = 250).await;
    let query = "{ a: cases(first: 100) { nodes { id } } b: cases(last: 100) { nodes { id } } \
                 c: departments(first: 60) { totalCount } }";
    let answer = post_query(&app, query).await;
    assert_refused(&answer, "nodes", 260, 250);

    let page_from_a_variable = post(
        &app,
        None,
        json!({
            "query": "query($n: Int) { a: cases(first: $n) { nodes { id } } b: cases { nodes { id } } }",
            "variables": { "n": 240 },
        }),
    )
    .await;
    // 240 from the variable, 20 for the connection without a page size.
    assert_refused(&page_from_a_variable, "nodes", 260, 250);
}

#[tokio::test]
async fn the_public_may_run_the_standard_introspection_query() {
    let app = sqlite_app().await;
    let answer = post_query(&app, INTROSPECTION_QUERY).await;
    assert_eq!(answer.status, 200);
    let schema = &data(&answer.body)["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot");
    assert_eq!(schema["mutationType"]["name"], "MutationRoot");
    let types = schema["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Case"), "{types:?}");
}

#[tokio::test]
async fn a_body_over_256_kib_is_refused_with_413() {
    let app = sqlite_app().await;
    let body = json!({ "query": "{ __typename }", "variables": { "pad": "x".repeat(300 * 1024) } });
    let answer = post(&app, None, body).await;
    assert_eq!(answer.status, 413);
    assert_eq!(errors_code(&answer.body).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(
        answer.body["errors"][0]["message"],
        "the request body is larger than 262144 bytes"
    );
}

#[tokio::test]
async fn batches_are_refused_unless_enabled_and_then_bounded() {
    let app = sqlite_app().await;
    let two = json!([{ "query": "{ __typename }" }, { "query": "{ regions { code } }" }]);
    let answer = post(&app, None, two.clone()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(errors_code(&answer.body).as_deref(), Some("BAD_USER_INPUT"));
    assert_eq!(
        answer.body["errors"][0]["message"],
        "batched requests are not enabled on this server"
    );

    let app = sqlite_app_with(|config| {
        config.limits.max_batch = 2;
        // No refill between the two operations, so the balance shows both costs exactly.
        config.limits.rate.restore_per_second = 0;
    })
    .await;
    let answer = post(&app, None, two).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let results = answer.body.as_array().expect("an array of results");
    assert_eq!(results.len(), 2);
    assert_eq!(data(&results[0])["__typename"], "QueryRoot");
    assert_eq!(
        data(&results[1])["regions"].as_array().map(Vec::len),
        Some(31)
    );
    // Each operation paid its own cost: `__typename` is free but every request pays at
    // least one point, then 2 (regions + code).
    assert_eq!(results[0]["extensions"]["cost"]["requestedQueryCost"], 0);
    assert_eq!(results[1]["extensions"]["cost"]["requestedQueryCost"], 2);
    assert_eq!(
        results[1]["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        50_000 - 3
    );

    let three = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let answer = post(&app, None, three).await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["errors"][0]["extensions"],
        json!({"code": "QUERY_TOO_COMPLEX", "limit": "batch", "measured": 3, "max": 2})
    );

    // Each operation of a batch passes every limit on its own.
    let deep = "{ regions { children { children { children { children { children { children { children { children { code } } } } } } } } } }";
    let answer = post(
        &app,
        None,
        json!([{ "query": "{ __typename }" }, { "query": deep }]),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(data(&answer.body[0])["__typename"], "QueryRoot");
    assert_eq!(answer.body[1]["errors"][0]["extensions"]["limit"], "depth");
}

/// The timeout stops a slow query with its own refusal, and on PostgreSQL every
/// statement of the app's pool carries a `statement_timeout` one second longer (the
/// request answers first, then the database stops the orphaned statement).
async fn a_slow_query_is_cut_at_the_timeout(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.limits.query_timeout = Duration::from_millis(5);
    })
    .await;
    // All ~40,000 townships with their names, ten times over (ten statements and
    // 400,000 rows): far beyond 5 ms on any machine, even an idle one.
    let copies: String = (0..10)
        .map(|i| format!(" t{i}: regions(level: TOWNSHIP) {{ code name }}"))
        .collect();
    let answer = post_query(&app, &format!("{{{copies} }}")).await;
    let shown: String = answer.body.to_string().chars().take(300).collect();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["data"], Value::Null, "{shown}");
    let extensions = &answer.body["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "QUERY_TOO_COMPLEX", "{shown}");
    assert_eq!(extensions["limit"], "timeout");
    assert_eq!(extensions["max"], 5);
    assert!(extensions["measured"].as_u64().is_some_and(|ms| ms >= 5));

    if backend == Backend::Postgres {
        use sea_orm::{ConnectionTrait, Statement};
        let shown = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SHOW statement_timeout",
            ))
            .await
            .expect("SHOW answers")
            .expect("one row");
        let value: String = shown.try_get_by_index(0).expect("a text");
        assert_eq!(value, "1005ms");
        let slept = app.db.execute_unprepared("SELECT pg_sleep(2)").await;
        let error = slept
            .expect_err("PostgreSQL cancels the statement")
            .to_string();
        assert!(error.contains("statement timeout"), "{error}");
    }
}

#[tokio::test]
async fn a_slow_query_is_cut_at_the_timeout_on_sqlite() {
    a_slow_query_is_cut_at_the_timeout(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_slow_query_is_cut_at_the_timeout_on_postgres() {
    a_slow_query_is_cut_at_the_timeout(Backend::Postgres).await;
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it.
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description
  type { ...TypeRef }
  defaultValue
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;
