//! The real `minyi` binary as a child process, for what an in-process server cannot show:
//! `kill -9`, SIGTERM and the exit status.
//!
//! The binary is `target/<profile>/minyi` next to the running test (whose executable is
//! `target/<profile>/deps/<test>-<hash>`). `cargo nextest run -p minyi-tests` does not build
//! other packages' binaries, so when the binary is older than the sources (api, entities,
//! migration, dashboard-queries, Cargo.toml/lock), the first [`ServerProcess::start`] of a
//! test process runs `cargo build -p minyi --bin minyi` (at most 90 s). Run that build before
//! the tests (CI) to keep it out of the tests' time. `MINYI_BIN` points at a prebuilt binary
//! instead and skips all this.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// How long the server may take to migrate and bind.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long building the binary may take (a link when the library is built already).
const BUILD_TIMEOUT: Duration = Duration::from_secs(90);

/// The path of the `minyi` binary, built first if needed (once per test process).
pub fn minyi_binary() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BINARY.get_or_init(locate_or_build) {
        Ok(path) => path.clone(),
        Err(e) => panic!("the minyi binary is not available: {e}"),
    }
}

fn locate_or_build() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("MINYI_BIN") {
        return Ok(PathBuf::from(path));
    }
    let test_exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // target/<profile>/deps/<test> → target/<profile>
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| format!("{} is not in target/<profile>/deps", test_exe.display()))?;
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| format!("{} has no parent", profile_dir.display()))?;
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = profile_dir.join("minyi");
    if is_fresh(&binary, &workspace) {
        return Ok(binary);
    }
    let mut build = Command::new(env!("CARGO"));
    build
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "-p",
            "minyi",
            "--bin",
            "minyi",
            "--target-dir",
        ])
        .arg(target_dir);
    if profile != "debug" {
        build.args(["--profile", profile]);
    }
    // Bounded: another cargo holding the build lock would otherwise stall the test until
    // nextest kills it, with no word of why.
    let log = tempfile::NamedTempFile::new().map_err(|e| format!("a log file: {e}"))?;
    let stderr = log.reopen().map_err(|e| format!("the log file: {e}"))?;
    let mut child = build
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("running cargo build: {e}"))?;
    let deadline = Instant::now() + BUILD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "cargo build -p minyi --bin minyi did not finish in {} s (is another cargo \
                     holding the build lock?); build it first or set MINYI_BIN",
                    BUILD_TIMEOUT.as_secs()
                ));
            }
        }
    };
    if !status.success() {
        return Err(format!(
            "cargo build -p minyi failed:\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        ));
    }
    if !binary.exists() {
        return Err(format!("{} missing after the build", binary.display()));
    }
    Ok(binary)
}

/// True when `binary` is newer than every source it is built from (cargo's own rule), so
/// tests need not wait for cargo's build lock, which another build may hold for minutes.
fn is_fresh(binary: &Path, workspace: &Path) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return false;
    };
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut pending: Vec<PathBuf> = ["api", "entities", "migration", "dashboard-queries"]
        .iter()
        .map(|dir| workspace.join(dir))
        .chain([workspace.join("Cargo.toml"), workspace.join("Cargo.lock")])
        .collect();
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|e| e.path()));
            }
        } else if let Ok(modified) = meta.modified() {
            newest = newest.max(modified);
        }
    }
    built > newest
}

/// A running `minyi serve` on `127.0.0.1:<free port>`; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base_url: String,
    /// `127.0.0.1:<port>`.
    pub address: String,
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `minyi --database-url <url> serve --bind 127.0.0.1:0 <extra_args>` and waits
    /// until it prints the address it listens on.
    pub fn start(database_url: &str, extra_args: &[&str]) -> ServerProcess {
        let mut child = Command::new(minyi_binary())
            .args([
                "--database-url",
                database_url,
                "serve",
                "--bind",
                "127.0.0.1:0",
            ])
            .args(extra_args)
            .env("MINYI_LOG", "warn")
            .env_remove("MINYI_DATABASE_URL")
            .env_remove("MINYI_BIND")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting minyi serve: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr is piped");
        let log = stderr.clone();
        // Reads stderr to the end (a full pipe would block the server) and reports the
        // address line when it appears.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("minyi listening on http://") {
                    let address = rest.trim_end_matches("/graphiql").to_string();
                    let _ = address_tx.send(address);
                }
                if let Ok(mut log) = log.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let address = match address_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(address) => address,
            Err(_) => {
                let exited = child.try_wait().ok().flatten();
                let _ = child.kill();
                let _ = child.wait();
                // The reader thread may still be copying the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let log = stderr.lock().map(|l| l.clone()).unwrap_or_default();
                match exited {
                    Some(status) => {
                        panic!("minyi serve exited ({status}) before listening:\n{log}")
                    }
                    None => panic!("minyi serve did not report its address in time:\n{log}"),
                }
            }
        };
        ServerProcess {
            child,
            base_url: format!("http://{address}"),
            address,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill_hard(&mut self) {
        self.child
            .kill()
            .unwrap_or_else(|e| panic!("SIGKILL to minyi: {e}"));
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (a graceful stop) and returns at once.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("running kill -TERM: {e}"));
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// The exit status, if the process exits within `timeout`.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => return None,
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
