//! A graphql-transport-ws client for the subscription tests, and a second application
//! instance on a test's database (live updates across instances).

use crate::TestApp;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for one message: generous, the machine may be loaded.
pub const WAIT: Duration = Duration::from_secs(20);

/// How a connection ended: the close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

/// One WebSocket connection speaking graphql-transport-ws.
pub struct LiveClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Messages of other subscriptions read while waiting for one.
    held: HashMap<String, VecDeque<Value>>,
}

impl LiveClient {
    /// Opens `/graphql/ws` of `base_url` (`http://…`), optionally with an
    /// `Authorization` header on the upgrade request.
    pub async fn open(base_url: &str, header_key: Option<&str>) -> LiveClient {
        let url = format!("{}/graphql/ws", base_url.replacen("http://", "ws://", 1));
        let mut request = url
            .as_str()
            .into_client_request()
            .unwrap_or_else(|e| panic!("a WebSocket request for {url}: {e}"));
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        if let Some(key) = header_key {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).expect("a header value");
            headers.insert("Authorization", value);
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .unwrap_or_else(|e| panic!("the WebSocket upgrade of {url} failed: {e}"));
        assert_eq!(
            response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws"),
            "the server speaks graphql-transport-ws"
        );
        LiveClient {
            socket,
            held: HashMap::new(),
        }
    }

    /// Opens a connection and initialises it with `payload`; panics unless acknowledged.
    pub async fn connect(app: &TestApp, key: Option<&str>) -> LiveClient {
        Self::connect_to(&app.base_url, key).await
    }

    /// Like [`connect`](Self::connect), to any instance's base URL.
    pub async fn connect_to(base_url: &str, key: Option<&str>) -> LiveClient {
        let mut client = Self::open(base_url, None).await;
        let payload = match key {
            Some(key) => json!({ "authorization": format!("Bearer {key}") }),
            None => json!({}),
        };
        client.init(payload).await;
        let ack = client.read().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("sending on the WebSocket");
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables }
        }))
        .await;
    }

    /// The next JSON message from the server (pings answered on the way).
    async fn read(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no message from the server within {WAIT:?}"));
            let Some(frame) = frame else {
                panic!("the server closed the connection")
            };
            let frame = frame.unwrap_or_else(|e| panic!("reading the WebSocket failed: {e}"));
            match frame {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("a non-JSON message ({e}): {text}"));
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("the server closed the connection: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next message of subscription `id` (`next`, `error` or `complete`).
    pub async fn message(&mut self, id: &str) -> Value {
        if let Some(message) = self.held.get_mut(id).and_then(VecDeque::pop_front) {
            return message;
        }
        loop {
            let message = self.read().await;
            match message["id"].as_str() {
                Some(other) if other != id => {
                    self.held
                        .entry(other.to_string())
                        .or_default()
                        .push_back(message);
                }
                _ => return message,
            }
        }
    }

    /// The `payload` of the next `next` message of `id`; panics on anything else.
    pub async fn next_payload(&mut self, id: &str) -> Value {
        let message = self.message(id).await;
        assert_eq!(
            message["type"], "next",
            "expected a `next` for {id}: {message}"
        );
        message["payload"].clone()
    }

    /// Waits for the server to close the connection and returns how.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("the server did not close within {WAIT:?}"));
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Closed {
                        code: u16::from(frame.code),
                        reason: frame.reason.to_string(),
                    }
                }
                Some(Ok(Message::Close(None))) | None => {
                    return Closed {
                        code: u16::from(CloseCode::Status),
                        reason: String::new(),
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("reading the WebSocket failed before a close: {e}"),
            }
        }
    }
}

/// A second application instance on an existing database: another process in
/// production, another server in this one here.
pub struct SecondInstance {
    pub base_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl SecondInstance {
    pub async fn start(database_url: &str) -> SecondInstance {
        let config = minyi::Config::new(database_url.to_string(), "127.0.0.1:0");
        let app = minyi::Application::build(config)
            .await
            .unwrap_or_else(|e| panic!("the second instance did not start: {e}"));
        let base_url = format!("http://127.0.0.1:{}", app.port());
        let server = tokio::spawn(async move {
            if let Err(e) = app.run_until_stopped().await {
                panic!("the second instance stopped with an error: {e}");
            }
        });
        SecondInstance { base_url, server }
    }
}

impl Drop for SecondInstance {
    fn drop(&mut self) {
        self.server.abort();
    }
}
