//! A PostgreSQL primary with one streaming replica, started by the test itself (the
//! shared test server of `databases` has no replica), and minyi instances reading from it.
//!
//! The primary: `initdb`, `wal_level=replica`, fsync off, a free port, its socket in a
//! temporary directory. The replica: `pg_basebackup -R` of the primary, streaming. Debian's
//! binaries come from `MINYI_PG_BIN` or `/usr/lib/postgresql/15/bin`; as root every
//! PostgreSQL command runs as the `postgres` user (initdb refuses root). Dropping the
//! cluster stops both servers and removes their directory. Anything missing is a panic
//! that says what: `_on_postgres` tests fail, never skip.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// How long a test waits for something the cluster does by itself (replay, a restart,
/// the health checker noticing) on a loaded two-core machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The servers' settings: fast and disposable. `max_connections` matches on both, as a
/// hot standby requires.
const SERVER_OPTIONS: &str = "-c listen_addresses=127.0.0.1 -c wal_level=replica -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
    -c max_wal_senders=5 -c hot_standby=on -c wal_receiver_status_interval=1s";

pub struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
    pub primary_port: u16,
    pub replica_port: u16,
}

impl PgCluster {
    /// Starts the primary and a streaming replica of it; panics saying what failed.
    pub fn start() -> PgCluster {
        let bin = PathBuf::from(
            std::env::var("MINYI_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_string()),
        );
        for tool in ["initdb", "pg_ctl", "pg_basebackup"] {
            assert!(
                bin.join(tool).exists(),
                "PostgreSQL is unavailable: {} not found (install Debian's postgresql package or set MINYI_PG_BIN)",
                bin.join(tool).display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("minyi-replicas-")
            .tempdir()
            .unwrap_or_else(|e| panic!("no temporary directory: {e}"));
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(dir.path()));
        }
        let mut cluster = PgCluster {
            bin,
            dir,
            as_postgres,
            primary_port: 0,
            replica_port: 0,
        };
        cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data("primary"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        cluster.primary_port = cluster.start_on_free_port("primary");
        let primary_port = cluster.primary_port.to_string();
        cluster.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port,
                "-U",
                "postgres",
                "-D",
                &cluster.data("replica"),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        cluster.replica_port = cluster.start_on_free_port("replica");
        cluster
    }

    pub fn primary_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.primary_port
        )
    }

    pub fn replica_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres",
            self.replica_port
        )
    }

    /// Stops the replica (fast shutdown: its connections are cut).
    pub async fn stop_replica(&self) {
        let ctl = self.ctl_command(&[
            "stop",
            "-D",
            &self.data("replica"),
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
        ]);
        run_blocking(ctl).await;
    }

    /// Starts the replica again on its port; it resumes streaming from the primary.
    pub async fn start_replica(&self) {
        let ctl = self.start_command("replica", self.replica_port);
        run_blocking(ctl).await;
    }

    /// Stops applying WAL on the replica: it keeps receiving, but serves the old state.
    pub async fn pause_replay(&self) {
        let replica = connect(&self.replica_url()).await;
        execute(&replica, "SELECT pg_wal_replay_pause()").await;
        // Pausing takes effect between records: wait until the replica says it has.
        let replica = &replica;
        wait_for("replay to pause", move || async move {
            query_text(replica, "SELECT pg_get_wal_replay_pause_state() AS v").await == "paused"
        })
        .await;
    }

    pub async fn resume_replay(&self) {
        let replica = connect(&self.replica_url()).await;
        execute(&replica, "SELECT pg_wal_replay_resume()").await;
    }

    /// The primary's WAL position now. The insert position, not the write position:
    /// with `synchronous_commit = off` a commit record may still sit in the WAL buffers,
    /// behind the write position, and a replica that replayed up to the write position
    /// would not yet show that commit.
    pub async fn primary_lsn(&self) -> String {
        let primary = connect(&self.primary_url()).await;
        query_text(&primary, "SELECT pg_current_wal_insert_lsn()::text AS v").await
    }

    /// How far the replica has replayed.
    pub async fn replica_replayed(&self) -> String {
        let replica = connect(&self.replica_url()).await;
        query_text(&replica, "SELECT pg_last_wal_replay_lsn()::text AS v").await
    }

    /// Waits until the replica has replayed everything the primary had written when called.
    pub async fn wait_until_replica_caught_up(&self) {
        let target = self.primary_lsn().await;
        let replica = connect(&self.replica_url()).await;
        let sql = format!("SELECT (pg_last_wal_replay_lsn() >= '{target}'::pg_lsn)::text AS v");
        let (replica, sql) = (&replica, &sql);
        wait_for(
            "the replica to replay the primary's writes",
            move || async move { query_text(replica, sql).await == "true" },
        )
        .await;
    }

    fn data(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn pg(&self, tool: &str, args: &[&str]) {
        let mut command = self.command(tool);
        command.args(args);
        run(&mut command);
    }

    fn ctl_command(&self, args: &[&str]) -> Command {
        let mut command = self.command("pg_ctl");
        command.args(args);
        command
    }

    fn start_command(&self, name: &str, port: u16) -> Command {
        let log = self.dir.path().join(format!("{name}.log"));
        let options = format!(
            "-p {port} -k {} {SERVER_OPTIONS}",
            self.dir.path().display()
        );
        self.ctl_command(&[
            "start",
            "-D",
            &self.data(name),
            "-l",
            &log.display().to_string(),
            "-w",
            "-t",
            "120",
            "-o",
            &options,
        ])
    }

    /// Starts a server on a port that was free a moment ago; a lost race tries another.
    fn start_on_free_port(&self, name: &str) -> u16 {
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let output = self
                .start_command(name, port)
                .output()
                .unwrap_or_else(|e| panic!("pg_ctl start {name}: {e}"));
            if output.status.success() {
                return port;
            }
            last_error = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                    .unwrap_or_default()
            );
        }
        panic!("the {name} PostgreSQL did not start: {last_error}");
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        for name in ["replica", "primary"] {
            let _ = self
                .ctl_command(&["stop", "-D", &self.data(name), "-m", "immediate"])
                .output();
        }
        // The TempDir removes the directory after this (root may remove postgres's files;
        // otherwise they are ours).
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not run: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn run_blocking(mut command: Command) {
    tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .unwrap_or_else(|e| panic!("a PostgreSQL command panicked: {e}"));
}

pub async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The text column `v` of the one row `sql` returns.
pub async fn query_text(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql} returned no row"));
    row.try_get::<String>("", "v")
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Polls `condition` every 50 ms until it holds; panics after [`PATIENCE`].
pub async fn wait_for<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A minyi instance (its own `Application` on port 0) reading from the cluster's replica.
pub struct Instance {
    pub base_url: String,
    /// The instance's primary connection.
    pub db: DatabaseConnection,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

/// One HTTP answer of `/graphql`: status, the consistency header and the JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub consistency: Option<String>,
    pub body: Value,
}

impl Instance {
    /// Starts minyi on the cluster's primary (migrating it when needed) with the replica
    /// as its read database.
    pub async fn start(cluster: &PgCluster) -> Instance {
        Self::start_with(cluster, |_| {}).await
    }

    pub async fn start_with(
        cluster: &PgCluster,
        configure: impl FnOnce(&mut minyi::Config),
    ) -> Instance {
        let mut config = minyi::Config::new(cluster.primary_url(), "127.0.0.1:0");
        config.replicas.urls = vec![cluster.replica_url()];
        configure(&mut config);
        let app = minyi::Application::build(config)
            .await
            .unwrap_or_else(|e| panic!("minyi did not start on the cluster: {e}"));
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
            .unwrap_or_else(|e| panic!("a reqwest client: {e}"));
        Instance {
            base_url,
            db,
            client,
            server,
        }
    }

    /// `POST /graphql` with an optional key and consistency token.
    pub async fn graphql(
        &self,
        key: Option<&str>,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(token) = token {
            request = request.header("X-Minyi-Consistency", token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /graphql: {e}"));
        let status = response.status().as_u16();
        let consistency = response
            .headers()
            .get("x-minyi-consistency")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading /graphql: {e}"));
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("/graphql answered {status} with non-JSON ({e}): {text}"));
        Answer {
            status,
            consistency,
            body,
        }
    }

    /// `GET <path>`: status and body text.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        (status, text)
    }

    /// Waits until `/readyz` answers 200 `ready`: the primary answers and the replica is in
    /// rotation (the health checker looks once a second).
    pub async fn wait_until_replica_in_rotation(&self) {
        wait_for("the replica to be in rotation", || async {
            self.get("/readyz").await == (200, "ready".to_string())
        })
        .await;
    }

    /// The value of one series of `/metrics` (`name{labels}` exactly as rendered, or a bare name).
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics").await;
        metric_in(&text, series)
    }

    /// Reads served by `target` (`primary` or `replica`) so far.
    pub async fn reads_on(&self, target: &str) -> f64 {
        let series = format!("minyi_db_reads_routed_total{{target=\"{target}\"}}");
        self.metric(&series)
            .await
            .unwrap_or_else(|| panic!("/metrics has no {series}"))
    }

    /// Creates an API key on the primary and returns its secret.
    pub async fn create_key(&self, grant: minyi::keys::KeyGrant) -> String {
        minyi::keys::create_key(&self.db, grant)
            .await
            .unwrap_or_else(|e| panic!("create_key: {e:?}"))
            .secret
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The value of `series` in a Prometheus text exposition.
pub fn metric_in(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}
