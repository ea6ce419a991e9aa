//! Fresh databases for tests, fast: migrating and loading the ~45k regions takes seconds,
//! so it happens once per version of the migrations into a template, and every test
//! gets a copy.
//!
//! - SQLite: the template is a file in `$TMPDIR/minyi-test-templates/`, written by
//!   `VACUUM INTO` to a unique name and renamed into place (atomic, so racing processes
//!   need no lock); a test copies it into its own temporary directory.
//! - PostgreSQL: the template is the database `minyi_tpl_<hash>`, built under
//!   `pg_advisory_lock` (one builder across nextest's processes); a test runs
//!   `CREATE DATABASE minyi_test_… TEMPLATE minyi_tpl_<hash>` and drops it at the end.
//!
//! `<hash>` is a hash of the migration crate's sources and data and of `api/src/db.rs`, so a
//! changed migration never reuses an old template. Old templates are left behind; on a
//! long-lived server remove them with `DROP DATABASE` (after `ALTER DATABASE … IS_TEMPLATE
//! false`), or delete the directory above.

use crate::Backend;
use sea_orm::sqlx::postgres::PgConnection;
// Names are generated here (never user input), hence `AssertSqlSafe` on the DDL.
use sea_orm::sqlx::{self, AssertSqlSafe, Connection};
use sea_orm::ConnectionTrait;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The advisory lock key that serialises template builds ("minyi" in ASCII).
const TEMPLATE_LOCK: i64 = 0x6d_69_6e_79_69;

/// One test's database; dropping it removes the database.
pub enum TestDatabase {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        server_url: String,
        name: String,
    },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => create_sqlite().await,
            Backend::Postgres => create_postgres().await,
        }
    }

    /// The connection URL of this database.
    pub fn url(&self) -> String {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let TestDatabase::Postgres {
            server_url, name, ..
        } = self
        else {
            return; // the temporary directory removes itself
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread
        // with a runtime of its own. `WITH (FORCE)` ends the app's pooled connections.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&server_url).await {
                    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

/// A name no other test (in this or another process) uses.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Hash of everything that decides what a migrated database contains.
fn migrations_fingerprint() -> String {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT
        .get_or_init(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let mut files = Vec::new();
            collect_files(&root.join("migration"), &mut files);
            files.push(root.join("api/src/db.rs"));
            files.sort();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            for file in files {
                file.strip_prefix(&root).unwrap_or(&file).hash(&mut hasher);
                std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
            }
            format!("{:016x}", hasher.finish())
        })
        .clone()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

async fn create_sqlite() -> TestDatabase {
    let template = sqlite_template().await;
    let dir = tempfile::tempdir().expect("a temporary directory for the SQLite database");
    let path = dir.path().join("minyi.db");
    std::fs::copy(&template, &path)
        .unwrap_or_else(|e| panic!("copying the SQLite template {}: {e}", template.display()));
    TestDatabase::Sqlite {
        url: format!("sqlite://{}?mode=rwc", path.display()),
        _dir: dir,
    }
}

/// The migrated SQLite template file, built if missing.
async fn sqlite_template() -> PathBuf {
    let dir = std::env::temp_dir().join("minyi-test-templates");
    let template = dir.join(format!("sqlite-{}.db", migrations_fingerprint()));
    if template.exists() {
        return template;
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let build_dir = tempfile::tempdir().expect("a temporary directory");
    let build = build_dir.path().join("build.db");
    let db = minyi::db::connect(&format!("sqlite://{}?mode=rwc", build.display()), None)
        .await
        .unwrap_or_else(|e| panic!("opening the SQLite template: {e}"));
    minyi::db::migrate(&db)
        .await
        .unwrap_or_else(|e| panic!("migrating the SQLite template: {e}"));
    // A unique name in the final directory, then an atomic rename: a racing process
    // either sees no template or a complete one.
    let staged = dir.join(format!("sqlite-staged-{}.db", unique_suffix()));
    db.execute_unprepared(&format!("VACUUM INTO '{}'", staged.display()))
        .await
        .unwrap_or_else(|e| panic!("writing the SQLite template: {e}"));
    let _ = db.close().await;
    std::fs::rename(&staged, &template)
        .unwrap_or_else(|e| panic!("moving the SQLite template into place: {e}"));
    template
}

async fn create_postgres() -> TestDatabase {
    let server_url = postgres_server_url();
    let template = postgres_template(&server_url).await;
    let name = format!("minyi_test_{}", unique_suffix());
    let mut conn = pg_connect(&server_url).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
    )))
    .execute(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
    let _ = conn.close().await;
    TestDatabase::Postgres {
        url: with_database(&server_url, &name),
        server_url,
        name,
    }
}

async fn pg_connect(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {url} is not reachable: {e}. Run the tests with scripts/test, or set \
             MINYI_TEST_DATABASE_URL to a server where CREATE DATABASE is allowed."
        )
    })
}

/// The template database for the current migrations, built (once across processes) if missing.
async fn postgres_template(server_url: &str) -> String {
    let template = format!("minyi_tpl_{}", migrations_fingerprint());
    let mut conn = pg_connect(server_url).await;
    let fail = |what: &str, e: sqlx::Error| -> ! { panic!("{what} (template {template}): {e}") };
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| fail("taking the template lock", e));
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut conn)
        .await
        .unwrap_or_else(|e| fail("looking for the template", e));
    if exists.is_none() {
        let building = format!("{template}_build");
        for statement in [
            format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{building}\""),
        ] {
            sqlx::raw_sql(AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| fail(&statement, e));
        }
        let db = minyi::db::connect(&with_database(server_url, &building), None)
            .await
            .unwrap_or_else(|e| panic!("opening the template {building}: {e}"));
        minyi::db::migrate(&db)
            .await
            .unwrap_or_else(|e| panic!("migrating the template {building}: {e}"));
        let _ = db.close().await;
        // Renamed only when complete; no connections allowed, so CREATE DATABASE … TEMPLATE
        // never finds it busy.
        for statement in [
            format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""),
            format!("ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"),
        ] {
            sqlx::raw_sql(AssertSqlSafe(statement.clone()))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| fail(&statement, e));
        }
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| fail("releasing the template lock", e));
    let _ = conn.close().await;
    template
}

/// `url` with its database name replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// `MINYI_TEST_DATABASE_URL`, or the URL of a cluster this process started (once).
fn postgres_server_url() -> String {
    if let Ok(url) = std::env::var("MINYI_TEST_DATABASE_URL") {
        if !url.trim().is_empty() {
            return url;
        }
    }
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start_cluster) {
        Ok(url) => url.clone(),
        Err(e) => panic!(
            "PostgreSQL is unavailable: {e}. Install it with scripts/setup (Debian's \
             postgresql package) or set MINYI_TEST_DATABASE_URL."
        ),
    }
}

/// Debian's PostgreSQL 15 binaries, else the newest installed version's.
fn default_pg_bin() -> String {
    let fifteen = "/usr/lib/postgresql/15/bin";
    if Path::new(fifteen).join("initdb").exists() {
        return fifteen.to_string();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions
        .pop()
        .map_or_else(|| fifteen.to_string(), |(_, bin)| bin.display().to_string())
}

/// Starts a throwaway cluster (trust auth, fsync off) on a free port. A watcher shell
/// stops it and removes its directory when this process exits.
fn start_cluster() -> Result<String, String> {
    let bin = std::env::var("MINYI_PG_BIN").unwrap_or_else(|_| default_pg_bin());
    if !Path::new(&bin).join("initdb").exists() {
        return Err(format!("{bin}/initdb not found"));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))?;
    let dir = tempfile::Builder::new()
        .prefix("minyi-pg-")
        .tempdir()
        .map_err(|e| format!("no temporary directory: {e}"))?
        .keep();
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if is_root {
        // initdb refuses to run as root.
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !status.success() {
            return Err(
                "chown postgres of the cluster directory failed (no postgres user?)".into(),
            );
        }
    }
    let script = r#"set -e
dir="$1"; bin="$2"; port="$3"; owner="$4"
"$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
"$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
( while [ -d "/proc/$owner" ]; do sleep 1; done
  "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir" ) </dev/null >/dev/null 2>&1 &
"#;
    let mut command = if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c"]);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c");
        c
    };
    let output = command
        .arg(script)
        .arg("minyi-pg")
        .arg(&dir)
        .arg(&bin)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| format!("starting PostgreSQL: {e}"))?;
    if !output.status.success() {
        let log = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        return Err(format!(
            "starting PostgreSQL in {} failed: {}{}\n{}\n{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            log("initdb.log"),
            log("server.log"),
        ));
    }
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t1"),
            "postgres://h:5432/t1"
        );
        assert_eq!(with_database("postgres://h/", "t1"), "postgres://h/t1");
    }
}
