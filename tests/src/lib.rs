//! The black-box test harness of minyi: every test starts the real application on port 0
//! against its own fresh database (SQLite or PostgreSQL) and talks HTTP/GraphQL to it.
//!
//! `db_test!(a_thing_happens, |app| async move { … })` writes the test once and runs it on
//! both engines as `a_thing_happens_on_sqlite` and `a_thing_happens_on_postgres`.
//!
//! Databases:
//! - SQLite: a file in a temporary directory, copied from a template file that was migrated
//!   (schema + ~45k regions) once per migration source version (see [`databases`]).
//! - PostgreSQL: `MINYI_TEST_DATABASE_URL` (a server where `CREATE DATABASE` is allowed) or,
//!   without it, a throwaway cluster this process starts itself. Each test gets
//!   `CREATE DATABASE … TEMPLATE minyi_tpl_<hash>`, where the template was migrated once
//!   under a PostgreSQL advisory lock (nextest runs every test in its own process). The
//!   test database is dropped when the [`TestApp`] is dropped. If PostgreSQL cannot be
//!   reached or started, the `_on_postgres` tests fail; they never skip.

pub mod browser;
pub mod databases;
pub mod fixtures;
pub mod live;
pub mod pg_cluster;
pub mod process;
pub mod proxy;

use serde_json::{json, Value};

#[doc(hidden)]
pub use pastey;

/// The database engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    /// The application's own connection (statements on it are counted by `/metrics`).
    pub db: sea_orm::DatabaseConnection,
    pub backend: Backend,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _database: databases::TestDatabase,
}

impl TestApp {
    /// Starts the application with the default configuration on a fresh database.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the application on a fresh database after `configure` adjusted the config
    /// (limits, …). The database URL and the bind address (port 0) are set beforehand.
    pub async fn spawn_with(
        backend: Backend,
        configure: impl FnOnce(&mut minyi::Config),
    ) -> TestApp {
        let database = databases::TestDatabase::create(backend).await;
        let mut config = minyi::Config::new(database.url(), "127.0.0.1:0");
        configure(&mut config);
        let app = minyi::Application::build(config)
            .await
            .unwrap_or_else(|e| panic!("the application did not start on {backend:?}: {e}"));
        let base_url = format!("http://127.0.0.1:{}", app.port());
        let db = app.db().clone();
        let server = tokio::spawn(async move {
            if let Err(e) = app.run_until_stopped().await {
                panic!("the test server stopped with an error: {e}");
            }
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("a reqwest client builds");
        TestApp {
            base_url,
            db,
            backend,
            client,
            server,
            _database: database,
        }
    }

    /// The URL of this test's database (for running the `minyi` binary against it).
    pub fn database_url(&self) -> String {
        self._database.url()
    }

    /// Runs a GraphQL operation as the public (no key). Returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(None, query, variables).await
    }

    /// Runs a GraphQL operation with `Authorization: Bearer <key>` when `key` is given.
    /// Returns the whole response body, whatever the HTTP status.
    pub async fn graphql_as(&self, key: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("POST /graphql is answered");
        let status = response.status();
        let text = response
            .text()
            .await
            .expect("the response body is readable");
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("POST /graphql answered {status} with non-JSON ({e}): {text}")
        })
    }

    /// `GET <path>` (path starts with `/`).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// `POST <path>` with the given content type and raw body.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base_url))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Creates an API key for the grant and returns its secret.
    pub async fn create_key(&self, grant: minyi::keys::KeyGrant) -> String {
        match minyi::keys::create_key(&self.db, grant).await {
            Ok(created) => created.secret,
            Err(e) => panic!("create_key failed: {e:?}"),
        }
    }

    /// Creates a key of the administrator role (every region, no department, no panel).
    pub async fn admin_key(&self) -> String {
        self.create_key(minyi::keys::KeyGrant {
            role: entities::Role::Admin,
            region_code: None,
            department_id: None,
            panel_id: None,
            label: None,
        })
        .await
    }

    /// SQL statements executed so far (`minyi_db_statements_total` from `GET /metrics`).
    pub async fn statements(&self) -> u64 {
        let text = self
            .get("/metrics")
            .await
            .text()
            .await
            .expect("/metrics is readable");
        text.lines()
            .find_map(|line| line.strip_prefix("minyi_db_statements_total "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("/metrics has no minyi_db_statements_total:\n{text}"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop serving before the database goes away (`_database` drops after this).
        self.server.abort();
    }
}

/// A `SubmitCaseInput` for a street-light complaint in Chengdu's Jinjiang district
/// (510104) by 张三 from `phone`, titled `title`.
pub fn street_light_complaint(title: &str, phone: &str) -> Value {
    serde_json::json!({
        "title": title,
        "body": "小区门口的路灯坏了一周。",
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": "510104",
        "citizen": { "name": "张三", "phone": phone, "idNumber": null }
    })
}

/// The `extensions.code` of the response's first error.
pub fn errors_code(resp: &Value) -> Option<String> {
    resp.get("errors")?
        .get(0)?
        .get("extensions")?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

/// The response's `data`; panics with the whole response when it carries errors.
pub fn data(resp: &Value) -> &Value {
    let has_errors = resp
        .get("errors")
        .is_some_and(|e| !e.as_array().is_some_and(Vec::is_empty));
    if has_errors {
        panic!(
            "the response has errors:\n{}",
            serde_json::to_string_pretty(resp).unwrap_or_default()
        );
    }
    resp.get("data")
        .unwrap_or_else(|| panic!("the response has no data: {resp}"))
}

/// Writes each test once and runs it on both engines:
/// `db_test!(a_thing_happens, |app| async move { … });` generates the `#[tokio::test]`s
/// `a_thing_happens_on_sqlite` and `a_thing_happens_on_postgres`, each with a fresh
/// [`TestApp`] bound to `app`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:expr) => {
        $crate::pastey::paste! {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_sqlite>]() {
                let $app = $crate::TestApp::spawn($crate::Backend::Sqlite).await;
                $body.await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_postgres>]() {
                let $app = $crate::TestApp::spawn($crate::Backend::Postgres).await;
                $body.await;
            }
        }
    };
}

/// The rollup kept by the writers equals the sum of the current case rows'
/// contributions, and so does the seeder's one-statement rebuild on this backend.
pub async fn assert_rollup_exact(db: &sea_orm::DatabaseConnection) {
    use dashboard_queries::rollup::{contribution, read_all, Counters, RollupKey};
    use sea_orm::EntityTrait;
    let rows = entities::case::Entity::find()
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("reading cases: {e}"));
    let mut want: std::collections::BTreeMap<RollupKey, [i64; 14]> = Default::default();
    for row in &rows {
        if let Some((key, c)) = contribution(row) {
            let cell = want.entry(key).or_insert([0; 14]);
            for (a, b) in cell.iter_mut().zip(c.values()) {
                *a += b;
            }
        }
    }
    let values = |m: std::collections::BTreeMap<RollupKey, Counters>| {
        m.into_iter()
            .map(|(k, c)| (k, c.values()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let kept = values(read_all(db).await.unwrap_or_else(|e| panic!("rollup: {e}")));
    assert_eq!(kept, want, "the rollup kept by the writers");
    rebuild(db, &migration::rollups::DAILY).await;
    let rebuilt = values(read_all(db).await.unwrap_or_else(|e| panic!("rollup: {e}")));
    assert_eq!(rebuilt, want, "the rollup rebuilt in one statement");
    assert_monthly_rollup_exact(db, &want).await;
    assert_department_rollup_exact(db, &rows).await;
    assert_deadline_rollup_exact(db, &rows).await;
}

/// Empties `rollup` and fills it again from the cases in one statement.
async fn rebuild(db: &sea_orm::DatabaseConnection, rollup: &migration::rollups::Rollup) {
    rollup
        .rebuild(db)
        .await
        .unwrap_or_else(|e| panic!("rebuilding {}: {e}", rollup.table));
}

/// The monthly region cells kept by the writers are the daily cells `daily` summed by
/// month, and so is their one-statement rebuild on this backend.
async fn assert_monthly_rollup_exact(
    db: &sea_orm::DatabaseConnection,
    daily: &std::collections::BTreeMap<dashboard_queries::rollup::RollupKey, [i64; 14]>,
) {
    use dashboard_queries::rollup::{by_month, read_all_monthly};
    let want = by_month(daily);
    let read = || async {
        read_all_monthly(db)
            .await
            .unwrap_or_else(|e| panic!("monthly rollup: {e}"))
            .into_iter()
            .map(|(k, c)| (k, c.values()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(read().await, want, "the monthly rollup kept by the writers");
    rebuild(db, &migration::rollups::MONTHLY).await;
    assert_eq!(
        read().await,
        want,
        "the monthly rollup rebuilt in one statement"
    );
}

/// The monthly department rollup kept by the writers equals the sum of the current
/// rows' contributions, and so does its one-statement rebuild on this backend.
async fn assert_department_rollup_exact(
    db: &sea_orm::DatabaseConnection,
    rows: &[entities::case::Model],
) {
    use dashboard_queries::department_rollup::{expected, read_all};
    let want = expected(rows);
    let kept = read_all(db)
        .await
        .unwrap_or_else(|e| panic!("department rollup: {e}"));
    assert_eq!(kept, want, "the department rollup kept by the writers");
    rebuild(db, &migration::rollups::DEPARTMENT_MONTHLY).await;
    let rebuilt = read_all(db)
        .await
        .unwrap_or_else(|e| panic!("department rollup: {e}"));
    assert_eq!(
        rebuilt, want,
        "the department rollup rebuilt in one statement"
    );
}

/// The deadline cells kept by the writers equal the sum of the current rows'
/// contributions, and so does their one-statement rebuild on this backend.
async fn assert_deadline_rollup_exact(
    db: &sea_orm::DatabaseConnection,
    rows: &[entities::case::Model],
) {
    use dashboard_queries::deadline_rollup::{expected, read_all};
    let want = expected(rows);
    let read = || async {
        read_all(db)
            .await
            .unwrap_or_else(|e| panic!("deadline rollup: {e}"))
    };
    assert_eq!(
        read().await,
        want,
        "the deadline rollup kept by the writers"
    );
    rebuild(db, &migration::rollups::DEADLINE).await;
    assert_eq!(
        read().await,
        want,
        "the deadline rollup rebuilt in one statement"
    );
}
