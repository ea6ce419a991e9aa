//! Faults: the database going away and coming back, lock contention, an exhausted pool,
//! `kill -9` during writes and a graceful stop. docs/OPERATIONS.md ("Faults") documents
//! the behaviour these tests pin down.

use entities::{case, case_event, CaseAction};
use minyi_tests::databases::TestDatabase;
use minyi_tests::process::ServerProcess;
use minyi_tests::proxy::{authority_of, through, TcpProxy};
use minyi_tests::{assert_rollup_exact, data, errors_code, Backend, TestApp};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SUBMIT: &str = "mutation($input: SubmitCaseInput!) { \
    submitCase(input: $input) { case { id trackingNumber } } }";

/// The `n`th citizen's message (distinct phones, so none is a repeat of another).
fn submission(n: usize) -> Value {
    json!({
        "title": format!("第{n}号路灯不亮"),
        "body": "小区门口的路灯坏了一周，晚上出行很不安全。",
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": "510104",
        "citizen": { "name": "张三", "phone": format!("139{n:08}"), "idNumber": null }
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a reqwest client builds")
}

/// POSTs a GraphQL operation; the status and the body as JSON.
async fn post(
    client: &reqwest::Client,
    base_url: &str,
    query: &str,
    variables: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let response = client
        .post(format!("{base_url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("POST /graphql answered {status} with non-JSON ({e}): {text}"));
    Ok((status, body))
}

/// The tracking number of an acknowledged submit: HTTP 200 with data and no errors.
fn acknowledged(status: u16, body: &Value) -> Option<String> {
    if status != 200 || body.get("errors").is_some() {
        return None;
    }
    body["data"]["submitCase"]["case"]["trackingNumber"]
        .as_str()
        .map(str::to_string)
}

/// Runs `$body(backend)` as `<name>_on_sqlite` and `<name>_on_postgres`.
macro_rules! on_both_engines {
    ($name:ident, $body:ident) => {
        minyi_tests::pastey::paste! {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_sqlite>]() {
                $body(Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_postgres>]() {
                $body(Backend::Postgres).await;
            }
        }
    };
}

// ─── The database unreachable, then back ───────────────────────────────────────────────

/// Words of database errors that must never reach a client.
fn assert_no_database_text(body: &str, database_address: &str) {
    let lower = body.to_lowercase();
    for leak in [
        "connection",
        "sqlx",
        "error returned from database",
        "pool",
        "timed out",
        "refused",
        "postgres",
        database_address,
    ] {
        assert!(
            !lower.contains(&leak.to_lowercase()),
            "the answer leaks {leak:?}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_503_and_internal_until_it_returns_on_postgres() {
    let mut proxy = None;
    let mut upstream = String::new();
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        upstream = authority_of(&config.database_url);
        let cut_able = TcpProxy::start(&upstream);
        config.database_url = through(&config.database_url, cut_able.address());
        config.pool.acquire_timeout = Duration::from_secs(1);
        proxy = Some(cut_able);
    })
    .await;
    let proxy = proxy.expect("the proxy started");
    let proxy_address = proxy.address().to_string();
    let key = app
        .create_key(minyi::keys::KeyGrant {
            role: entities::Role::Leader,
            region_code: Some("510100".into()),
            department_id: None,
            panel_id: None,
            label: None,
        })
        .await;
    let region = r#"{ region(code: "510104") { name } }"#;
    assert_eq!(
        data(&app.graphql(region, json!({})).await)["region"]["name"],
        "锦江区"
    );
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.cut().await;

    let started = Instant::now();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "/readyz took {:?} to say 503",
        started.elapsed()
    );
    assert_eq!(app.get("/healthz").await.status(), 200);

    let http = client();
    for (who, query, variables) in [
        ("public read", region, json!({})),
        ("public submit", SUBMIT, json!({ "input": submission(1) })),
    ] {
        let started = Instant::now();
        let response = http
            .post(format!("{}/graphql", app.base_url))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("an answer while the database is away");
        assert_eq!(response.status(), 200, "{who}");
        let text = response.text().await.expect("a body");
        let body: Value = serde_json::from_str(&text).expect("a JSON body");
        assert_eq!(
            errors_code(&body).as_deref(),
            Some("INTERNAL"),
            "{who}: {text}"
        );
        assert_eq!(body["errors"][0]["message"], "internal error", "{who}");
        assert_no_database_text(&text, &proxy_address);
        assert_no_database_text(&text, &upstream);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{who} took {:?}: it must fail after the 1 s acquire timeout, not hang",
            started.elapsed()
        );
    }
    // With a key, authentication itself needs the database: 503 before any resolver runs.
    let response = http
        .post(format!("{}/graphql", app.base_url))
        .bearer_auth(&key)
        .json(&json!({ "query": region }))
        .send()
        .await
        .expect("an answer while the database is away");
    assert_eq!(response.status(), 503);
    let text = response.text().await.expect("a body");
    let body: Value = serde_json::from_str(&text).expect("a JSON body");
    assert_eq!(errors_code(&body).as_deref(), Some("INTERNAL"), "{text}");
    assert_no_database_text(&text, &proxy_address);

    proxy.restore();

    // The same process, the same pool: broken connections are replaced on their own.
    let restored = Instant::now();
    let deadline = restored + Duration::from_secs(10);
    while app.get("/readyz").await.status() != 200 {
        assert!(
            Instant::now() < deadline,
            "/readyz stayed 503 after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "ready again {:?} after the database returned",
        restored.elapsed()
    );
    assert_eq!(
        data(&app.graphql(region, json!({})).await)["region"]["name"],
        "锦江区"
    );
    let submitted = app.graphql(SUBMIT, json!({ "input": submission(2) })).await;
    assert!(data(&submitted)["submitCase"]["case"]["trackingNumber"].is_string());
    let (status, body) = post(&http, &app.base_url, region, json!({}))
        .await
        .expect("an answer");
    assert_eq!(status, 200);
    assert_eq!(data(&body)["region"]["name"], "锦江区");
    let with_key = http
        .post(format!("{}/graphql", app.base_url))
        .bearer_auth(&key)
        .json(&json!({ "query": region }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(with_key.status(), 200);
}

// ─── Concurrent writers ─────────────────────────────────────────────────────────────────

async fn sixty_four_concurrent_submits_all_succeed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let http = client();
    let mut submits = tokio::task::JoinSet::new();
    for n in 0..64 {
        let (http, base_url) = (http.clone(), app.base_url.clone());
        submits.spawn(async move {
            post(&http, &base_url, SUBMIT, json!({ "input": submission(n) })).await
        });
    }
    let mut numbers = BTreeSet::new();
    while let Some(joined) = submits.join_next().await {
        let (status, body) = joined.expect("a submit task").expect("an answer");
        let number = acknowledged(status, &body)
            .unwrap_or_else(|| panic!("a concurrent submit failed ({status}): {body}"));
        numbers.insert(number);
    }
    assert_eq!(numbers.len(), 64, "64 distinct tracking numbers");
    let stored = case::Entity::find()
        .count(&app.db)
        .await
        .expect("counting cases");
    assert_eq!(stored, 64);
    assert_rollup_exact(&app.db).await;
}

on_both_engines!(
    sixty_four_concurrent_submits_all_succeed_without_lock_errors,
    sixty_four_concurrent_submits_all_succeed
);

// ─── An exhausted pool ──────────────────────────────────────────────────────────────────

/// A connection from outside the app that keeps every writer of `cases` waiting.
enum WriteBlocker {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteBlocker {
    async fn hold(url: &str) -> WriteBlocker {
        if url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(url)
                .await
                .expect("a second SQLite connection");
            // The write lock: every other writer waits (busy timeout) until the rollback.
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .expect("BEGIN IMMEDIATE");
            WriteBlocker::Sqlite(conn)
        } else {
            let mut conn = sqlx::PgConnection::connect(url)
                .await
                .expect("a second PostgreSQL connection");
            // EXCLUSIVE lets reads through and makes every INSERT/UPDATE of cases wait.
            sqlx::raw_sql("BEGIN; LOCK TABLE cases IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .expect("LOCK TABLE cases");
            WriteBlocker::Postgres(conn)
        }
    }

    async fn release(self) {
        match self {
            WriteBlocker::Sqlite(mut conn) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("ROLLBACK");
            }
            WriteBlocker::Postgres(mut conn) => {
                sqlx::raw_sql("ROLLBACK")
                    .execute(&mut conn)
                    .await
                    .expect("ROLLBACK");
            }
        }
    }
}

/// A pool of 2 and 6 concurrent submits that each hold a connection while they wait for
/// the write lock: what happens to the 4 that wait for a connection.
async fn submits_against_a_held_lock(
    backend: Backend,
    hold_for: Duration,
) -> Vec<(Duration, u16, Value)> {
    let mut url = String::new();
    let app = TestApp::spawn_with(backend, |config| {
        url = config.database_url.clone();
        config.pool.max_connections = Some(2);
        config.pool.acquire_timeout = Duration::from_secs(2);
    })
    .await;
    let blocker = WriteBlocker::hold(&url).await;
    let http = client();
    let started = Instant::now();
    let mut submits = tokio::task::JoinSet::new();
    for n in 0..6 {
        let (http, base_url) = (http.clone(), app.base_url.clone());
        submits.spawn(async move {
            let (status, body) = post(&http, &base_url, SUBMIT, json!({ "input": submission(n) }))
                .await
                .expect("an answer");
            (started.elapsed(), status, body)
        });
    }
    tokio::time::sleep(hold_for).await;
    blocker.release().await;
    let mut outcomes = Vec::new();
    while let Some(joined) = submits.join_next().await {
        outcomes.push(joined.expect("a submit task"));
    }
    outcomes.sort_by_key(|(elapsed, ..)| *elapsed);
    outcomes
}

async fn requests_queue_for_a_busy_pool_and_succeed(backend: Backend) {
    // The lock is held for 0.5 s, less than the 2 s acquire timeout: everyone waits, nobody fails.
    let outcomes = submits_against_a_held_lock(backend, Duration::from_millis(500)).await;
    for (elapsed, status, body) in &outcomes {
        assert!(
            acknowledged(*status, body).is_some(),
            "a submit that waited {elapsed:?} failed ({status}): {body}"
        );
        assert!(
            *elapsed >= Duration::from_millis(450),
            "{elapsed:?}: it did wait"
        );
    }
    assert_eq!(outcomes.len(), 6);
}

on_both_engines!(
    requests_queue_for_a_busy_pool_and_succeed,
    requests_queue_for_a_busy_pool_and_succeed
);

async fn waiting_longer_than_the_acquire_timeout_fails_fast_with_internal(backend: Backend) {
    // The lock is held for 5 s: the 2 submits holding connections wait it out and succeed;
    // the others give up when the 2 s acquire timeout passes, long before the lock goes.
    let outcomes = submits_against_a_held_lock(backend, Duration::from_secs(5)).await;
    let (succeeded, failed): (Vec<_>, Vec<_>) = outcomes
        .iter()
        .partition(|(_, status, body)| acknowledged(*status, body).is_some());
    assert_eq!(failed.len(), 4, "{outcomes:?}");
    assert_eq!(succeeded.len(), 2, "{outcomes:?}");
    for (elapsed, status, body) in failed {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(errors_code(body).as_deref(), Some("INTERNAL"), "{body}");
        assert_eq!(body["errors"][0]["message"], "internal error");
        assert!(
            *elapsed >= Duration::from_millis(1900) && *elapsed < Duration::from_millis(4000),
            "failed after {elapsed:?}: at the 2 s acquire timeout, not when the lock went"
        );
    }
    for (elapsed, ..) in succeeded {
        assert!(*elapsed >= Duration::from_secs(5), "{elapsed:?}");
    }
}

on_both_engines!(
    waiting_longer_than_the_acquire_timeout_fails_fast_with_internal,
    waiting_longer_than_the_acquire_timeout_fails_fast_with_internal
);

// ─── kill -9 during a write load ────────────────────────────────────────────────────────

async fn no_acknowledged_submit_is_lost_to_kill_9(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let url = database.url();
    let mut server = ServerProcess::start(&url, &[]);
    let acknowledged_numbers = Arc::new(Mutex::new(Vec::<String>::new()));
    let attempted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let http = client();
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (http, base_url) = (http.clone(), server.base_url.clone());
        let (acked, attempted) = (acknowledged_numbers.clone(), attempted.clone());
        workers.spawn(async move {
            for n in 0.. {
                let input = submission(worker * 100_000 + n);
                attempted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // The kill ends the loop: the connection breaks or is refused.
                let Ok((status, body)) =
                    post(&http, &base_url, SUBMIT, json!({ "input": input })).await
                else {
                    return;
                };
                if let Some(number) = acknowledged(status, &body) {
                    if let Ok(mut acked) = acked.lock() {
                        acked.push(number);
                    }
                }
            }
        });
    }
    // Kill in the middle of the load: once a good number of submits were acknowledged.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged_numbers.lock().map(|a| a.len()).unwrap_or(0) < 100 {
        assert!(Instant::now() < deadline, "fewer than 100 submits in 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill_hard();
    while workers.join_next().await.is_some() {}
    let acked: BTreeSet<String> = acknowledged_numbers
        .lock()
        .map(|a| a.iter().cloned().collect())
        .unwrap_or_default();
    let attempted = attempted.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        attempted > acked.len(),
        "some submits were in flight at the kill"
    );

    // The same database, a new process (recovery of SQLite's WAL happens on open).
    let restarted = ServerProcess::start(&url, &[]);
    let ready = http
        .get(format!("{}/readyz", restarted.base_url))
        .send()
        .await
        .expect("/readyz answers");
    assert_eq!(ready.status(), 200);
    let db = minyi::db::connect(&url, None).await.expect("connect");
    let cases = case::Entity::find().all(&db).await.expect("reading cases");
    let stored: BTreeSet<String> = cases.iter().map(|c| c.tracking_number.clone()).collect();
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged submits lost: {lost:?}",
        lost.len()
    );
    // Nothing half-written: every stored case has its one submit event, and the rollup
    // matches the case rows exactly.
    let submit_events = case_event::Entity::find()
        .filter(case_event::Column::Action.eq(CaseAction::Submit))
        .all(&db)
        .await
        .expect("reading events");
    let mut events_per_case = std::collections::BTreeMap::<i64, usize>::new();
    for event in &submit_events {
        *events_per_case.entry(event.case_id).or_default() += 1;
    }
    for c in &cases {
        assert_eq!(
            events_per_case.get(&c.id),
            Some(&1),
            "case {}",
            c.tracking_number
        );
    }
    assert_eq!(submit_events.len(), cases.len());
    assert_rollup_exact(&db).await;
    eprintln!(
        "{backend:?}: {} submits attempted, {} acknowledged, {} stored after kill -9",
        attempted,
        acked.len(),
        cases.len()
    );
    drop(restarted);
}

on_both_engines!(
    no_acknowledged_submit_is_lost_to_kill_9,
    no_acknowledged_submit_is_lost_to_kill_9
);

// ─── SIGTERM ────────────────────────────────────────────────────────────────────────────

/// A POST /graphql whose body arrives in two parts: the request is in flight in between.
struct SlowRequest {
    stream: tokio::net::TcpStream,
    rest: Vec<u8>,
}

impl SlowRequest {
    async fn begin(address: &str) -> SlowRequest {
        let body = json!({ "query": r#"{ region(code: "510104") { name } }"# }).to_string();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connecting to the server");
        let (first, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("the head");
        stream.write_all(first).await.expect("half the body");
        stream.flush().await.expect("flush");
        SlowRequest {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest of the body and reads the whole response.
    async fn finish(mut self) -> String {
        self.stream
            .write_all(&self.rest)
            .await
            .expect("the rest of the body");
        let mut response = Vec::new();
        self.stream
            .read_to_end(&mut response)
            .await
            .expect("the response");
        String::from_utf8_lossy(&response).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut server = ServerProcess::start(&database.url(), &["--shutdown-grace", "10"]);
    let in_flight = SlowRequest::begin(&server.address).await;
    // Let the server read the head and start the handler.
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = tokio::net::TcpStream::connect(&server.address).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after SIGTERM"
    );
    assert_eq!(
        server.wait_for_exit(Duration::ZERO),
        None,
        "it waits for the request"
    );

    let response = in_flight.finish().await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""name":"锦江区""#), "{response}");
    let status = server
        .wait_for_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running after the drain:\n{}", server.stderr()));
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_gives_up_on_a_request_that_outlives_the_grace_period() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut server = ServerProcess::start(&database.url(), &["--shutdown-grace", "1"]);
    let _never_finished = SlowRequest::begin(&server.address).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.terminate();
    let status = server
        .wait_for_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("still running 5 s after SIGTERM:\n{}", server.stderr()));
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited the 1 s grace period, exited after {:?}",
        started.elapsed()
    );
}
