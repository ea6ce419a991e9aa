//! Observability: the real binary logs one JSON line per request with its id, route,
//! status, duration and (for GraphQL) role, operation, outcome and cost; `/metrics`
//! counts exactly what was sent; and no log line carries the citizen's personal data,
//! even at `--log trace`. docs/OPERATIONS.md ("Metrics", "Logs") documents what these
//! tests pin down.

use entities::Role;
use minyi::keys::KeyGrant;
use minyi_tests::databases::TestDatabase;
use minyi_tests::process::ServerProcess;
use minyi_tests::{fixtures, Backend};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The planted personal data: a mobile number, a valid 18-digit ID number (checksum 8),
/// a name, an e-mail address and a street address.
const PHONE: &str = "13812345678";
const ID_NUMBER: &str = "510104198506121238";
const NAME: &str = "李明华";
const EMAIL: &str = "liminghua@example.com";
const ADDRESS: &str = "锦江区红星路三段99号";

/// How long the log reader may lag behind the responses.
const LOG_WAIT: Duration = Duration::from_secs(10);

/// What the test sent, and what its log line and the metrics must say about it.
#[derive(Debug, Clone)]
struct Sent {
    request_id: String,
    method: &'static str,
    route: &'static str,
    status: u16,
    graphql: Option<GraphqlSent>,
}

#[derive(Debug, Clone)]
struct GraphqlSent {
    role: &'static str,
    operation: &'static str,
    outcome: String,
}

/// A client that remembers every request it sent.
struct Client {
    http: reqwest::Client,
    base_url: String,
    sent: Vec<Sent>,
}

impl Client {
    fn new(base_url: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("a reqwest client builds"),
            base_url: base_url.to_string(),
            sent: Vec::new(),
        }
    }

    /// POSTs a named GraphQL operation; returns the response body.
    async fn graphql(
        &mut self,
        key: Option<&str>,
        role: &'static str,
        operation: &'static str,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "operationName": operation, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("POST /graphql is answered");
        let (request_id, status) = id_and_status(&response);
        let body: Value = response.json().await.expect("a JSON body");
        let outcome = match body["errors"][0]["extensions"]["code"].as_str() {
            Some(code) => code.to_string(),
            None => "ok".to_string(),
        };
        self.sent.push(Sent {
            request_id,
            method: "POST",
            route: "/graphql",
            status,
            graphql: Some(GraphqlSent {
                role,
                operation,
                outcome,
            }),
        });
        body
    }

    /// GETs `path_and_query`, expecting it to be served by `route` with `status`.
    async fn get(
        &mut self,
        path_and_query: &str,
        route: &'static str,
        graphql: Option<GraphqlSent>,
    ) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path_and_query}", self.base_url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"));
        let (request_id, status) = id_and_status(&response);
        self.sent.push(Sent {
            request_id,
            method: "GET",
            route,
            status,
            graphql,
        });
        response
    }
}

fn id_and_status(response: &reqwest::Response) -> (String, u16) {
    let id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no x-request-id on {}", response.url()))
        .to_string();
    assert!(
        id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "a request id is 16 hex digits, not {id:?}"
    );
    (id, response.status().as_u16())
}

fn data(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    &body["data"]
}

/// The submission with personal data everywhere a citizen might put it.
fn submission(region: &str) -> Value {
    json!({
        "title": format!("路灯坏了，请回电{PHONE}"),
        "body": format!("我是{NAME}，身份证号{ID_NUMBER}，电话{PHONE}，邮箱{EMAIL}，住{ADDRESS}。小区门口的路灯坏了一周。"),
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": region,
        "citizen": { "name": NAME, "phone": PHONE, "idNumber": ID_NUMBER, "email": EMAIL, "address": ADDRESS }
    })
}

const CASE: &str = "id status";

/// Submit, accept, assign, claim, reply, rate, public and staff reads, and a few refusals:
/// every kind of request a day brings, each carrying the planted personal data somewhere.
async fn full_workflow(client: &mut Client, leader: &str, handler: &str, department: i32) {
    let submitted = client
        .graphql(
            None,
            "public",
            "SubmitCase",
            "mutation SubmitCase($input: SubmitCaseInput!) { submitCase(input: $input) { case { id trackingNumber } ratingToken } }",
            json!({ "input": submission("510104") }),
        )
        .await;
    let id = data(&submitted)["submitCase"]["case"]["id"].clone();
    let token = data(&submitted)["submitCase"]["ratingToken"].clone();
    let tracking_number = data(&submitted)["submitCase"]["case"]["trackingNumber"]
        .as_str()
        .expect("a tracking number")
        .to_string();
    let on_case = |extra: Value| {
        let mut vars = json!({ "id": id });
        if let (Some(vars), Value::Object(extra)) = (vars.as_object_mut(), extra) {
            vars.extend(extra);
        }
        vars
    };

    let accept = format!("mutation AcceptCase($id: ID!) {{ acceptCase(id: $id) {{ {CASE} }} }}");
    data(
        &client
            .graphql(
                Some(leader),
                "leader",
                "AcceptCase",
                &accept,
                on_case(json!({})),
            )
            .await,
    );
    let assign = format!("mutation AssignCase($id: ID!, $d: ID!) {{ assignCase(id: $id, departmentId: $d) {{ {CASE} }} }}");
    let vars = on_case(json!({ "d": department.to_string() }));
    data(
        &client
            .graphql(Some(leader), "leader", "AssignCase", &assign, vars)
            .await,
    );
    let claim = format!("mutation ClaimCase($id: ID!) {{ claimCase(id: $id) {{ {CASE} }} }}");
    data(
        &client
            .graphql(
                Some(handler),
                "handler",
                "ClaimCase",
                &claim,
                on_case(json!({})),
            )
            .await,
    );
    let reply = format!("mutation ReplyCase($id: ID!, $r: String!) {{ replyCase(id: $id, reply: $r) {{ {CASE} }} }}");
    let text = format!("{NAME}您好：已于今日联系您（{PHONE}），路灯已修复。");
    let vars = on_case(json!({ "r": text }));
    data(
        &client
            .graphql(Some(handler), "handler", "ReplyCase", &reply, vars)
            .await,
    );
    let publish = format!("mutation PublishCase($id: ID!) {{ publishCase(id: $id) {{ {CASE} }} }}");
    data(
        &client
            .graphql(
                Some(leader),
                "leader",
                "PublishCase",
                &publish,
                on_case(json!({})),
            )
            .await,
    );
    let rate = format!("mutation RateCase($id: ID!, $t: String, $c: String) {{ rateCase(id: $id, level: SATISFIED, ratingToken: $t, comment: $c) {{ {CASE} }} }}");
    let vars = on_case(json!({ "t": token, "c": format!("很满意，{NAME} {PHONE}") }));
    data(
        &client
            .graphql(None, "public", "RateCase", &rate, vars)
            .await,
    );

    // Reads: the public's lists and case, the leader's view with the citizen's contact.
    let search = "query SearchCases($s: String) { cases(first: 10, filter: { search: $s }) { totalCount nodes { id title body reply } } }";
    data(
        &client
            .graphql(None, "public", "SearchCases", search, json!({ "s": PHONE }))
            .await,
    );
    let one = "query OneCase($id: ID!) { case(id: $id) { id title body reply rating { level comment } events { action } } }";
    data(
        &client
            .graphql(None, "public", "OneCase", one, on_case(json!({})))
            .await,
    );
    let contact = "query CaseContact($id: ID!) { case(id: $id) { citizen { name phone idNumber email address } } }";
    let seen = client
        .graphql(
            Some(leader),
            "leader",
            "CaseContact",
            contact,
            on_case(json!({})),
        )
        .await;
    assert_eq!(
        data(&seen)["case"]["citizen"]["phone"],
        PHONE,
        "the leader sees the contact"
    );
    // The phone as a literal in a GET query string.
    let literal = format!(
        "query PhoneLiteral {{ cases(filter: {{ search: \"{PHONE}\" }}) {{ totalCount }} }}"
    );
    let url = format!("/graphql?query={}", urlencode(&literal));
    // Named in the document only (no `operationName`): the document's one name counts.
    let graphql = Some(GraphqlSent {
        role: "public",
        operation: "PhoneLiteral",
        outcome: "ok".into(),
    });
    let response = client.get(&url, "/graphql", graphql).await;
    assert_eq!(response.status().as_u16(), 200);
    let response = client
        .get(
            &format!("/open311/v2/requests/{tracking_number}.json"),
            "/open311/v2/requests/:file",
            None,
        )
        .await;
    assert_eq!(
        response.status().as_u16(),
        200,
        "the replied case is published"
    );

    // Refusals: an illegal transition, bad input echoing the phone, an unknown key made of
    // personal data, a path made of personal data.
    let again = client
        .graphql(
            Some(leader),
            "leader",
            "AcceptCase",
            &accept,
            on_case(json!({})),
        )
        .await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"],
        "INVALID_TRANSITION"
    );
    let bad = client
        .graphql(
            None,
            "public",
            "SubmitCase",
            "mutation SubmitCase($input: SubmitCaseInput!) { submitCase(input: $input) { case { id } } }",
            json!({ "input": submission(PHONE) }),
        )
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let unknown_key = format!("{PHONE}{ID_NUMBER}");
    let response = client
        .http
        .post(format!("{}/graphql", client.base_url))
        .bearer_auth(&unknown_key)
        .json(&json!({ "query": "query Who { categories { code } }", "operationName": "Who" }))
        .send()
        .await
        .expect("POST /graphql is answered");
    let (request_id, status) = id_and_status(&response);
    assert_eq!(status, 401);
    client.sent.push(Sent {
        request_id,
        method: "POST",
        route: "/graphql",
        status,
        graphql: None,
    });
    let response = client
        .get(&format!("/cases/{PHONE}/{ID_NUMBER}"), "unmatched", None)
        .await;
    assert_eq!(response.status().as_u16(), 404);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The server's access-log lines (JSON objects with target `minyi::access`), waiting
/// until every id in `ids` has appeared.
fn access_lines(server: &ServerProcess, ids: &[String]) -> (String, Vec<Value>) {
    let started = Instant::now();
    loop {
        let log = server.stderr();
        if ids.iter().all(|id| log.contains(id.as_str())) || started.elapsed() > LOG_WAIT {
            let lines = log
                .lines()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|line| line["target"] == "minyi::access")
                .collect();
            return (log, lines);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of one series in a Prometheus text exposition.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

async fn a_full_workflow_is_logged_once_per_request_without_personal_data(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let url = database.url();
    let (leader, handler, department) = {
        let db = minyi::db::connect(&url, None).await.expect("connect");
        let dept = fixtures::department(&db, "成都市锦江区城市管理局", "510104", None).await;
        let grant = |role, region: Option<&str>, department: Option<i32>| KeyGrant {
            role,
            region_code: region.map(str::to_string),
            department_id: department,
            panel_id: None,
            label: None,
        };
        let key = |grant| async {
            minyi::keys::create_key(&db, grant)
                .await
                .expect("a key")
                .secret
        };
        let leader = key(grant(Role::Leader, Some("510100"), None)).await;
        let handler = key(grant(Role::Handler, None, Some(dept.id))).await;
        db.close().await.expect("closing the set-up connection");
        (leader, handler, dept.id)
    };
    let server = ServerProcess::start(&url, &["--log", "trace", "--log-format", "json"]);
    let mut client = Client::new(&server.base_url);

    full_workflow(&mut client, &leader, &handler, department).await;
    let metrics_response = client.get("/metrics", "/metrics", None).await;
    assert_eq!(
        metrics_response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4")
    );
    let metrics = metrics_response.text().await.expect("the metrics");

    let ids: Vec<String> = client.sent.iter().map(|s| s.request_id.clone()).collect();
    let (log, lines) = access_lines(&server, &ids);

    // No personal data (nor the keys), anywhere in the log, even at trace level.
    for planted in [
        PHONE,
        ID_NUMBER,
        NAME,
        EMAIL,
        ADDRESS,
        leader.as_str(),
        handler.as_str(),
    ] {
        assert!(
            !log.contains(planted),
            "the log holds {planted:?}:\n{}",
            log.lines()
                .filter(|l| l.contains(planted))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    // One line per request, with the fields of its request.
    assert_eq!(
        lines.len(),
        client.sent.len(),
        "one access line per request:\n{}",
        lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for sent in &client.sent {
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| l["request_id"] == sent.request_id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "exactly one line for {sent:?}");
        let line = mine[0];
        assert_eq!(line["message"], "request", "{line}");
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["method"], sent.method, "{line}");
        assert_eq!(line["route"], sent.route, "{line}");
        assert_eq!(line["status"], sent.status, "{line}");
        assert!(
            line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
            "{line}"
        );
        match &sent.graphql {
            Some(g) => {
                assert_eq!(line["role"], g.role, "{line}");
                assert_eq!(line["operation"], g.operation, "{line}");
                assert_eq!(line["outcome"], g.outcome.as_str(), "{line}");
                assert!(
                    line["cost"].as_u64().is_some(),
                    "a GraphQL line has its cost: {line}"
                );
            }
            None => {
                for field in ["role", "operation", "outcome", "cost"] {
                    assert!(
                        line.get(field).is_none(),
                        "{field} on a non-GraphQL line: {line}"
                    );
                }
            }
        }
    }

    // The metrics count exactly what was sent (the scrape itself is counted after it).
    let mut graphql: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut http: BTreeMap<(String, u16), u64> = BTreeMap::new();
    for sent in &client.sent[..client.sent.len() - 1] {
        *http
            .entry((sent.route.to_string(), sent.status))
            .or_default() += 1;
        if let Some(g) = &sent.graphql {
            *graphql
                .entry((g.operation.to_string(), g.outcome.clone()))
                .or_default() += 1;
        }
    }
    assert_eq!(
        graphql.get(&("AcceptCase".to_string(), "INVALID_TRANSITION".to_string())),
        Some(&1)
    );
    for ((operation, outcome), count) in &graphql {
        let series = format!(
            "minyi_graphql_requests_total{{operation=\"{operation}\",outcome=\"{outcome}\"}}"
        );
        assert_eq!(
            sample(&metrics, &series),
            Some(*count as f64),
            "{series}\n{metrics}"
        );
    }
    let graphql_series = metrics
        .lines()
        .filter(|l| l.starts_with("minyi_graphql_requests_total{"))
        .count();
    assert_eq!(
        graphql_series,
        graphql.len(),
        "no other GraphQL series:\n{metrics}"
    );
    for ((route, status), count) in &http {
        let series = format!("minyi_http_requests_total{{route=\"{route}\",status=\"{status}\"}}");
        assert_eq!(
            sample(&metrics, &series),
            Some(*count as f64),
            "{series}\n{metrics}"
        );
    }
    let http_series = metrics
        .lines()
        .filter(|l| l.starts_with("minyi_http_requests_total{"))
        .count();
    assert_eq!(http_series, http.len(), "no other HTTP series:\n{metrics}");
    let graphql_200 = http[&("/graphql".to_string(), 200)];
    assert_eq!(
        sample(
            &metrics,
            "minyi_http_request_duration_seconds_count{route=\"/graphql\"}"
        ),
        Some((graphql_200 + 1) as f64),
        "every /graphql request is timed (the 401 too)"
    );
    assert_eq!(
        sample(
            &metrics,
            "minyi_graphql_request_duration_seconds_count{operation=\"SubmitCase\"}"
        ),
        Some(2.0)
    );

    // The pool and the build.
    let max = match backend {
        Backend::Sqlite => 8.0,
        Backend::Postgres => 20.0,
    };
    assert_eq!(sample(&metrics, "minyi_db_pool_max_connections"), Some(max));
    let in_use = sample(&metrics, "minyi_db_pool_connections{state=\"in_use\"}");
    let idle = sample(&metrics, "minyi_db_pool_connections{state=\"idle\"}");
    let open = in_use.unwrap_or(-1.0) + idle.unwrap_or(-1.0);
    assert!(
        (1.0..=max).contains(&open),
        "in use {in_use:?}, idle {idle:?}"
    );
    assert!(
        sample(&metrics, "minyi_db_statements_total").is_some_and(|n| n > 0.0),
        "{metrics}"
    );
    assert_eq!(sample(&metrics, "minyi_db_errors_total"), Some(0.0));
    assert_eq!(
        sample(
            &metrics,
            &format!(
                "minyi_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_workflow_is_logged_once_per_request_without_personal_data_on_sqlite() {
    a_full_workflow_is_logged_once_per_request_without_personal_data(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_workflow_is_logged_once_per_request_without_personal_data_on_postgres() {
    a_full_workflow_is_logged_once_per_request_without_personal_data(Backend::Postgres).await;
}

/// A bad `--log` filter is refused with a one-line error, not replaced by the default.
#[test]
fn a_bad_log_filter_is_refused_with_a_one_line_error() {
    let output = std::process::Command::new(minyi_tests::process::minyi_binary())
        .args(["--log", "minyi=loud", "schema"])
        .output()
        .expect("minyi runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: --log / MINYI_LOG \"minyi=loud\" is not a tracing filter"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}
