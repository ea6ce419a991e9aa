//! Random and hostile requests to `/graphql`: valid documents built from the schema's
//! fields, mutated and garbage documents, random variables (numbers beyond i64 and f64,
//! deep nesting, wrong types), wrong content types, invalid UTF-8, empty bodies, JSON
//! arrays, broken GET query strings and bearer tokens.
//!
//! Every answer must be a well-formed GraphQL response: no 5xx, JSON, and each error with
//! a `message` and an `extensions.code` from the documented set (never INTERNAL: nothing
//! here is the server's fault). A panic would show as a dropped connection; the server
//! must still answer `/healthz` at the end.
//!
//! It runs on SQLite (the HTTP and GraphQL layers are engine-independent) with a fixed
//! seed and 2,000 cases (about a second). Longer or different runs:
//! `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo nextest run -p minyi-tests -E 'binary(fuzz)'`.

use minyi_tests::{Backend, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::Value;
use std::time::Duration;

/// The codes docs/API.md lists; an error outside this set is a bug.
const DOCUMENTED_CODES: &[&str] = &[
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "INVALID_TRANSITION",
    "CONFLICT",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
];

/// The seed when `PROPTEST_RNG_SEED` is not set: every CI run tries the same requests.
const DEFAULT_SEED: u64 = 0x6d_69_6e_79_69;
const DEFAULT_CASES: u32 = 2_000;

/// Valid operations over the schema's fields, with and without variables.
const DOCUMENTS: &[&str] = &[
    "{ regions { code name level } }",
    r#"{ region(code: "510104") { code name parent { code name } children { code } } }"#,
    "query($code: String!) { region(code: $code) { name level departments { id name } } }",
    "query($p: String, $l: RegionLevel) { regions(parentCode: $p, level: $l) { code } }",
    "{ categories { id code name parent { id } children { id } } }",
    "query($r: String, $f: Int, $a: String) { departments(regionCode: $r, first: $f, after: $a) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }",
    "query($id: ID!) { department(id: $id) { id name region { code } } }",
    "query($f: Int, $a: String, $filter: CaseFilter) { cases(first: $f, after: $a, filter: $filter) { edges { cursor node { id trackingNumber status } } pageInfo { hasNextPage } } }",
    "query($l: Int, $b: String) { cases(last: $l, before: $b) { edges { node { id title } } } }",
    "query($id: ID!) { case(id: $id) { id status events { action } rating { level } } }",
    "query($from: DateTime!, $to: DateTime!, $scope: ScopeInput) { stats(from: $from, to: $to, scope: $scope) { received } }",
    "query($from: DateTime!, $to: DateTime!) { breakdown(by: REGION, from: $from, to: $to) { key { code } stats { received } } }",
    "query($from: DateTime!, $to: DateTime!, $i: Interval!) { timeSeries(interval: $i, from: $from, to: $to) { stats { received } } }",
    "query($from: DateTime!, $to: DateTime!, $w: RankWeights) { ranking(unit: DEPARTMENT, weights: $w, from: $from, to: $to) { rank score } }",
    "{ __typename }",
    "{ __schema { queryType { name } types { name kind } } }",
    r#"{ __type(name: "Case") { fields { name type { name } } } }"#,
    "query A { regions { code } } query B { categories { id } }",
    "fragment R on Region { code name } { regions { ...R children { ...R } } }",
    "{ a: regions { code } b: regions { name } }",
    "mutation($input: SubmitCaseInput!, $key: String) { submitCase(input: $input, idempotencyKey: $key) { case { id trackingNumber } replayed } }",
    "mutation($id: ID!, $t: String) { rateCase(id: $id, level: SATISFIED, ratingToken: $t) { id } }",
    "mutation($id: ID!) { acceptCase(id: $id) { id } }",
    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
    "subscription { regions { code } }",
];

/// Names that appear as variables, arguments and input fields.
const KEYS: &[&str] = &[
    "code",
    "p",
    "l",
    "r",
    "f",
    "a",
    "b",
    "id",
    "t",
    "key",
    "from",
    "to",
    "i",
    "w",
    "scope",
    "filter",
    "input",
    "regionCode",
    "title",
    "body",
    "channel",
    "kind",
    "citizen",
    "name",
    "phone",
    "categoryId",
    "status",
    "first",
    "last",
    "role",
];

/// JSON text of numbers and strings that are hard to represent or hard to type.
const AWKWARD_SCALARS: &[&str] = &[
    "1e400",
    "-1e400",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890123456789",
    "2147483648",
    "-2147483649",
    "1.7976931348623157e308",
    "4.9e-324",
    "-0",
    "0.5",
    "\"510104\"",
    "\"2026-01-01T00:00:00Z\"",
    "\"2026-13-45T99:99:99Z\"",
    "\"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA\"",
    "\"WEBSITE\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"%s%n%x\"",
    "\"' OR 1=1 --\"",
];

/// A JSON string literal of `text`.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// JSON text (as text, so it can hold numbers no JSON library would produce).
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| if x.is_finite() {
            x.to_string()
        } else {
            "1e999".into()
        }),
        proptest::sample::select(AWKWARD_SCALARS).prop_map(str::to_string),
        "\\PC{0,40}".prop_map(|s| quoted(&s)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((proptest::sample::select(KEYS), inner), 0..6).prop_map(
                |fields| {
                    let fields: Vec<String> = fields
                        .into_iter()
                        .map(|(k, v)| format!("{}:{v}", quoted(k)))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }
            ),
        ]
    })
}

/// `[[[…]]]` nested `depth` deep: JSON parsers and GraphQL list coercion must refuse, not overflow.
fn deeply_nested() -> impl Strategy<Value = String> {
    (1usize..4000).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
}

/// A document with random edits: deleted spans, inserted punctuation and names, repeats.
fn mutated_document() -> impl Strategy<Value = String> {
    let edit = (
        any::<usize>(),
        0u8..4,
        proptest::sample::select(
            &[
                "{",
                "}",
                "(",
                ")",
                "[",
                "]",
                "!",
                "$",
                ":",
                "...",
                "@skip(if: true)",
                "\"",
                "#",
                " first: 100000",
                " id: 99999999999999999999",
                " __typename",
                "\u{0}",
                "中",
                " { x }",
                "query",
                "mutation",
                ",",
            ][..],
        ),
    );
    (
        proptest::sample::select(DOCUMENTS),
        proptest::collection::vec(edit, 1..6),
    )
        .prop_map(|(document, edits)| {
            let mut chars: Vec<char> = document.chars().collect();
            for (at, kind, piece) in edits {
                let at = if chars.is_empty() {
                    0
                } else {
                    at % chars.len()
                };
                match kind {
                    0 => {
                        let end = (at + 1 + at % 7).min(chars.len());
                        chars.drain(at..end);
                    }
                    1 | 2 => {
                        chars.splice(at..at, piece.chars());
                    }
                    _ => {
                        let end = (at + 12).min(chars.len());
                        let copy: Vec<char> = chars[at..end].to_vec();
                        chars.splice(at..at, copy);
                    }
                }
            }
            chars.into_iter().collect()
        })
}

/// A GraphQL document nested `depth` selections or list literals deep.
fn deep_document() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..300).prop_map(|d| format!(
            "{{ regions {}code{} }}",
            "{ children ".repeat(d),
            " }".repeat(d)
        )),
        (1usize..3000).prop_map(|d| format!(
            "{{ regions(parentCode: {}\"51\"{}) {{ code }} }}",
            "[".repeat(d),
            "]".repeat(d)
        )),
        (1usize..200).prop_map(|d| format!(
            "{{ {} }}",
            (0..d)
                .map(|i| format!("a{i}: regions {{ code }}"))
                .collect::<Vec<_>>()
                .join(" ")
        )),
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(DOCUMENTS).prop_map(str::to_string),
        4 => mutated_document(),
        1 => deep_document(),
        1 => "[{}()!:$@,.= a-z0-9\"]{0,120}",
        1 => "\\PC{0,100}",
    ]
}

/// Variables as JSON text: mostly an object, sometimes anything.
fn variables() -> impl Strategy<Value = String> {
    let object = proptest::collection::vec(
        (
            proptest::sample::select(KEYS),
            prop_oneof![4 => json_text(), 1 => deeply_nested()],
        ),
        0..5,
    )
    .prop_map(|fields| {
        let fields: Vec<String> = fields
            .into_iter()
            .map(|(k, v)| format!("{}:{v}", quoted(k)))
            .collect();
        format!("{{{}}}", fields.join(","))
    });
    prop_oneof![6 => object, 1 => json_text(), 1 => deeply_nested()]
}

/// A POST body.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let request = (
        document(),
        proptest::option::of(variables()),
        proptest::option::of(prop_oneof![
            Just("null".to_string()),
            Just("\"A\"".to_string()),
            Just("\"Missing\"".to_string()),
            json_text(),
        ]),
    )
        .prop_map(|(document, variables, operation)| {
            let mut fields = vec![format!("\"query\":{}", quoted(&document))];
            if let Some(variables) = variables {
                fields.push(format!("\"variables\":{variables}"));
            }
            if let Some(operation) = operation {
                fields.push(format!("\"operationName\":{operation}"));
            }
            format!("{{{}}}", fields.join(",")).into_bytes()
        });
    let invalid_utf8 = (
        document(),
        any::<usize>(),
        proptest::collection::vec(0x80u8..=0xff, 1..4),
    )
        .prop_map(|(document, at, bad)| {
            let mut bytes = format!("{{\"query\":{}}}", quoted(&document)).into_bytes();
            let at = 1 + at % (bytes.len() - 1);
            bytes.splice(at..at, bad);
            bytes
        });
    prop_oneof![
        8 => request,
        1 => json_text().prop_map(String::into_bytes),
        1 => proptest::collection::vec(json_text(), 0..4)
            .prop_map(|items| format!("[{}]", items.join(",")).into_bytes()),
        1 => deeply_nested().prop_map(String::into_bytes),
        1 => invalid_utf8,
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => Just(Vec::new()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        30 => Just(Some("application/json".to_string())),
        1 => Just(Some("application/json; charset=utf-8".to_string())),
        1 => Just(Some("application/graphql-response+json".to_string())),
        1 => Just(Some("application/graphql".to_string())),
        1 => Just(Some("text/plain".to_string())),
        1 => Just(Some("application/x-www-form-urlencoded".to_string())),
        1 => Just(Some("multipart/form-data; boundary=x".to_string())),
        1 => Just(None),
        1 => "[ -~]{0,30}".prop_map(Some),
    ]
}

/// Percent-encodes everything but unreserved characters.
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn get_query_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (document(), proptest::option::of(variables())).prop_map(|(d, v)| match v {
            Some(v) => format!("query={}&variables={}", url_encoded(&d), url_encoded(&v)),
            None => format!("query={}", url_encoded(&d)),
        }),
        1 => "[ -~]{0,100}",
        1 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| {
            let encoded: String = bytes.iter().map(|b| format!("%{b:02X}")).collect();
            format!("query={encoded}")
        }),
        1 => Just("query=%ZZ%".to_string()),
        1 => Just("variables={}".to_string()),
        1 => Just(String::new()),
    ]
}

#[derive(Debug, Clone)]
enum FuzzRequest {
    Post {
        content_type: Option<String>,
        bearer: Option<String>,
        body: Vec<u8>,
    },
    Get {
        query_string: String,
    },
}

fn fuzz_request() -> impl Strategy<Value = FuzzRequest> {
    prop_oneof![
        4 => (
            content_type(),
            proptest::option::weighted(0.1, "[!-~]{0,40}"),
            body()
        )
            .prop_map(|(content_type, bearer, body)| FuzzRequest::Post {
                content_type,
                bearer,
                body,
            }),
        1 => get_query_string().prop_map(|query_string| FuzzRequest::Get { query_string }),
    ]
}

/// Sends the request and checks the answer is a well-formed GraphQL response.
async fn answer_is_well_formed(
    client: &reqwest::Client,
    base_url: &str,
    request: &FuzzRequest,
) -> Result<u16, String> {
    let builder = match request {
        FuzzRequest::Post {
            content_type,
            bearer,
            body,
        } => {
            let mut builder = client
                .post(format!("{base_url}/graphql"))
                .body(body.clone());
            if let Some(content_type) = content_type {
                builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
            }
            if let Some(bearer) = bearer {
                builder = builder.bearer_auth(bearer);
            }
            builder
        }
        FuzzRequest::Get { query_string } => {
            client.get(format!("{base_url}/graphql?{query_string}"))
        }
    };
    let response = builder
        .send()
        .await
        .map_err(|e| format!("no answer (did the server panic?): {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{status} with an unreadable body: {e}"))?;
    if status >= 500 {
        return Err(format!("answered {status}: {text}"));
    }
    let body: Value =
        serde_json::from_str(&text).map_err(|e| format!("{status} with non-JSON ({e}): {text}"))?;
    let Some(errors) = body.get("errors") else {
        return match (status, body.get("data")) {
            (200, Some(_)) => Ok(status),
            _ => Err(format!("{status} without errors or data: {text}")),
        };
    };
    let errors = errors
        .as_array()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| format!("`errors` is not a non-empty list: {text}"))?;
    for error in errors {
        let message = error["message"].as_str().unwrap_or_default();
        if message.is_empty() {
            return Err(format!("an error without a message: {text}"));
        }
        let code = error["extensions"]["code"].as_str().unwrap_or_default();
        if !DOCUMENTED_CODES.contains(&code) {
            return Err(format!("an error with code {code:?}: {text}"));
        }
    }
    Ok(status)
}

fn runner() -> TestRunner {
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(DEFAULT_SEED);
    }
    TestRunner::new(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client builds")
}

#[test]
fn random_and_hostile_requests_get_well_formed_answers_and_never_a_5xx() {
    let runtime = runtime();
    let app = runtime.block_on(TestApp::spawn(Backend::Sqlite));
    let client = client();
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let outcome = runner().run(&fuzz_request(), |request| {
        let status = runtime
            .block_on(answer_is_well_formed(&client, &app.base_url, &request))
            .map_err(TestCaseError::fail)?;
        if let Ok(mut statuses) = statuses.lock() {
            *statuses.entry(status).or_default() += 1;
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // Shown with --no-capture: how the cases spread over the answers.
    eprintln!("answers by HTTP status: {statuses:?}");
    let health = runtime.block_on(app.get("/healthz"));
    assert_eq!(health.status(), 200, "the server still answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413_with_a_graphql_error() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let limit = minyi::config::Limits::default().max_body_bytes;
    let padding = " ".repeat(limit);
    let body = format!("{{\"query\":\"{{ regions {{ code }} }}\"{padding}}}");
    let response = app
        .post_raw("/graphql", "application/json", body.into_bytes())
        .await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["message"],
        format!("the request body is larger than {limit} bytes")
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_just_under_the_limit_is_answered() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let limit = minyi::config::Limits::default().max_body_bytes;
    let head = "{\"query\":\"{ __typename }\"";
    let body = format!("{head}{}}}", " ".repeat(limit - head.len() - 1));
    assert_eq!(body.len(), limit);
    let response = app
        .post_raw("/graphql", "application/json", body.into_bytes())
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["data"]["__typename"], "QueryRoot");
}
