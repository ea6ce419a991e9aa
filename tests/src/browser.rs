//! A real browser for the web front end's tests: Debian's `chromedriver` started on a
//! free loopback port, driving headless `chromium`, through the `fantoccini` WebDriver
//! client. `scripts/setup` installs both packages; a missing one fails the test with a
//! message saying so (browser tests never skip).

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A browser window of the given size, and the driver process behind it.
pub struct Browser {
    pub client: Client,
    _driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("finding a free port for chromedriver: {e}"))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a `width`×`height` window.
    pub async fn start(width: u32, height: u32) -> Browser {
        let chromedriver =
            std::env::var("MINYI_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium =
            std::env::var("MINYI_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting {chromedriver}: {e} (scripts/setup installs chromium-driver)")
            });
        let capabilities = json!({
            // Keep the console log so tests can read it (`console_errors`).
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--lang=zh-CN",
                    format!("--window-size={width},{height}"),
                ],
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        // chromedriver takes a moment to listen; Chromium a moment more to start.
        let mut last_error = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from {chromedriver} at {url}: {last_error}");
    }

    /// Opens `url` and waits until the page says it has loaded its data
    /// (`body[data-loaded]` reaching `loads`).
    pub async fn open(&self, url: &str, loads: u32) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        self.wait_loaded(loads).await;
    }

    /// Waits until the page has finished its `loads`-th round of loading.
    pub async fn wait_loaded(&self, loads: u32) {
        let selector = format!("body[data-loaded='{loads}']");
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(&selector))
            .await
            .unwrap_or_else(|e| panic!("waiting for {selector}: {e}"));
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("running {script:?}: {e}"))
    }

    /// The errors the page collected (script errors, failed loads, console.error).
    pub async fn page_errors(&self) -> Vec<String> {
        let errors = self
            .eval("return window.__minyiErrors || ['errors.js did not run'];")
            .await;
        serde_json::from_value(errors).unwrap_or_default()
    }

    /// The SEVERE entries of Chromium's console log since the last call: script errors,
    /// failed loads, CSP violations, `console.error`: what a developer would see in red.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(ReadBrowserLog)
            .await
            .unwrap_or_else(|e| panic!("reading the browser's console log: {e}"));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Everything that went wrong on the page: the page's own collector and the
    /// browser's console log (empty = the page ran cleanly).
    pub async fn all_errors(&self) -> Vec<String> {
        let mut errors = self.page_errors().await;
        errors.extend(self.console_errors().await);
        errors
    }

    /// The page's HTML as rendered now.
    pub async fn html(&self) -> String {
        self.client
            .source()
            .await
            .unwrap_or_else(|e| panic!("reading the page source: {e}"))
    }

    /// Saves a PNG of the window to `target/screenshots/<name>.png` for review.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("taking screenshot {name}: {e}"));
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        path
    }

    /// Ends the WebDriver session (closing Chromium); the driver stops when dropped.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), which Chromium keeps
/// alongside the W3C protocol.
#[derive(Debug)]
struct ReadBrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ReadBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

/// `target/screenshots/` of the workspace (or of `CARGO_TARGET_DIR`).
pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("screenshots")
}
