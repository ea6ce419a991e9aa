//! `GET /graphql/ws`: GraphQL subscriptions over WebSocket, `graphql-transport-ws`
//! (and the legacy `graphql-ws` of subscriptions-transport-ws, which async-graphql
//! speaks too). The caller is resolved like `POST /graphql` does: the
//! `connection_init` payload `{"authorization": "Bearer <key>"}`, else the upgrade
//! request's `Authorization` header, else the public. An unknown or revoked key closes
//! the socket with 4403 (a malformed one with 4400); a `subscribe` before the
//! connection is acknowledged closes it with 4401, as the protocol says.
//! Every operation passes the text and document limits of `crate::limits` and must be
//! a subscription (queries and mutations go to `POST /graphql`). Opening a
//! subscription draws its static cost from the caller's rate-limit bucket, the same
//! bucket `POST /graphql` draws from (the key's, else the client IP's): an empty bucket
//! answers the `subscribe` with `RATE_LIMITED`, and a refused document still costs a
//! point, so a socket cannot be used to probe or flood for free.

use crate::auth::Principal;
use crate::config::Limits;
use crate::error::ApiError;
use crate::graphql::loaders::Loaders;
use crate::graphql::RawSchema;
use crate::graphql_http::{graphql_error, peer_ip};
use crate::limits as request_limits;
use crate::limits::cost::Ledger;
use crate::rate_limit::{BucketKey, RateLimiter};
use crate::routes::AppState;
use async_graphql::http::{WebSocket as GraphqlWebSocket, WsMessage, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, Executor, ServerError};
use async_graphql_poem::GraphQLProtocol;
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use poem::http::{header, HeaderMap, StatusCode};
use poem::web::websocket::{Message, WebSocket};
use poem::web::Data as PoemData;
use poem::{handler, IntoResponse, Response};
use sea_orm::DatabaseConnection;
use std::any::TypeId;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Close codes of graphql-transport-ws.
const CLOSE_BAD_REQUEST: u16 = 4400;
const CLOSE_UNAUTHORIZED: u16 = 4401;
const CLOSE_FORBIDDEN: u16 = 4403;
const CLOSE_INTERNAL: u16 = 4500;

/// The message async-graphql closes with when a subscribe comes before the ack.
const HANDSHAKE_NOT_COMPLETED: &str = "The handshake is not completed.";

/// A bearer secret as sent, or why it is unusable.
fn bearer_secret(value: &str) -> Result<&str, &'static str> {
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("the authorization must be `Bearer <api key>`")
}

/// Resolves a secret; the refusal is a close code and its reason.
async fn principal_of_secret(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<Principal, (u16, String)> {
    match Principal::from_secret(db, secret).await {
        Ok(principal) => Ok(principal),
        Err(ApiError::Unauthenticated) => Err((
            CLOSE_FORBIDDEN,
            "UNAUTHENTICATED: the API key is unknown or revoked".into(),
        )),
        Err(err) => {
            tracing::error!(error = ?err, "resolving an API key failed");
            Err((CLOSE_INTERNAL, "INTERNAL: internal error".into()))
        }
    }
}

/// The `Authorization` header of the upgrade request: `None` without one.
async fn header_principal(
    headers: &HeaderMap,
    db: &DatabaseConnection,
) -> Result<Option<Principal>, Response> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unauthenticated =
        |message: &str| graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| bearer_secret(v).ok())
        .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <api key>`"))?;
    match principal_of_secret(db, secret).await {
        Ok(principal) => Ok(Some(principal)),
        Err((CLOSE_FORBIDDEN, _)) => Err(unauthenticated("the API key is unknown or revoked")),
        Err(_) => Err(graphql_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "INTERNAL",
            "internal error",
        )),
    }
}

/// The caller named by a `connection_init` payload, or `fallback` when it names none.
async fn init_principal(
    db: &DatabaseConnection,
    payload: &serde_json::Value,
    fallback: Principal,
) -> Result<Principal, (u16, String)> {
    let value = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"));
    match value {
        None | Some(serde_json::Value::Null) => Ok(fallback),
        Some(serde_json::Value::String(value)) => {
            let secret = bearer_secret(value)
                .map_err(|why| (CLOSE_BAD_REQUEST, format!("UNAUTHENTICATED: {why}")))?;
            principal_of_secret(db, secret).await
        }
        Some(_) => Err((
            CLOSE_BAD_REQUEST,
            "UNAUTHENTICATED: `authorization` must be a string `Bearer <api key>`".into(),
        )),
    }
}

/// The schema behind the request limits, for subscriptions only.
#[derive(Clone)]
struct LimitedSchema {
    schema: RawSchema,
    db: DatabaseConnection,
    limits: Arc<Limits>,
    limiter: Arc<RateLimiter>,
    /// The client's address: the public's bucket.
    peer: IpAddr,
}

impl LimitedSchema {
    /// The text and document limits of `POST /graphql`, and the subscriptions-only rule.
    fn check(&self, request: &mut async_graphql::Request) -> Result<(), ServerError> {
        request_limits::check_text(&request.query, &self.limits)
            .map_err(|e| e.to_server_error())?;
        let doc = async_graphql::parser::parse_query(&request.query).map_err(ServerError::from)?;
        request_limits::check_document(&doc, &request.variables, &self.limits)
            .map_err(|e| e.to_server_error())?;
        let subscription = |ty: OperationType| ty == OperationType::Subscription;
        let selected = match &doc.operations {
            DocumentOperations::Single(op) => subscription(op.node.ty),
            DocumentOperations::Multiple(ops) => match request.operation_name.as_deref() {
                Some(name) => ops.get(name).is_some_and(|op| subscription(op.node.ty)),
                None => ops.len() == 1 && ops.values().all(|op| subscription(op.node.ty)),
            },
        };
        if !selected {
            let mut error = ServerError::new(
                "only subscriptions are served over /graphql/ws; send queries and mutations \
                 to POST /graphql",
                None,
            );
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
            return Err(error);
        }
        request.set_parsed_query(doc);
        Ok(())
    }

    /// The ledger of one `subscribe`: the connection's caller (set by `connection_init`)
    /// pays from their key's bucket, the public from their IP's.
    fn ledger(&self, session_data: Option<&Data>) -> Arc<Ledger> {
        let key_id = session_data
            .and_then(|data| data.get(&TypeId::of::<Principal>()))
            .and_then(|principal| principal.downcast_ref::<Principal>())
            .and_then(|principal| principal.key_id);
        let bucket = match key_id {
            Some(id) => BucketKey::ApiKey(id),
            None => BucketKey::Ip(self.peer),
        };
        Ledger::new(self.limiter.clone(), bucket, self.limits.max_complexity)
    }
}

impl Executor for LimitedSchema {
    async fn execute(&self, mut request: async_graphql::Request) -> async_graphql::Response {
        match self.check(&mut request) {
            Ok(()) => self.schema.execute(request).await,
            Err(error) => async_graphql::Response::from_errors(vec![error]),
        }
    }

    fn execute_stream(
        &self,
        mut request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let ledger = self.ledger(session_data.as_deref());
        let checked = ledger
            .check_not_empty()
            .and_then(|()| self.check(&mut request));
        if let Err(mut error) = checked {
            ledger.pay_minimum_if_unpaid();
            if error
                .extensions
                .as_ref()
                .is_none_or(|e| e.get("code").is_none())
            {
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", "BAD_USER_INPUT");
            }
            return futures::stream::once(async move {
                async_graphql::Response::from_errors(vec![error])
            })
            .boxed();
        }
        // The schema's cost guard draws the document's complexity through the ledger
        // while it validates, before the first event is computed.
        let request = request.data(Loaders::new(&self.db)).data(ledger);
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
    }
}

#[handler]
pub async fn graphql_ws(
    req: &poem::Request,
    websocket: WebSocket,
    protocol: GraphQLProtocol,
    state: PoemData<&AppState>,
) -> Response {
    let header_caller = match header_principal(req.headers(), &state.db).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let executor = LimitedSchema {
        schema: state.schema.guarded().clone(),
        db: state.db.clone(),
        limits: Arc::new(state.config.limits.clone()),
        limiter: state.guards.limiter.clone(),
        peer: peer_ip(req),
    };
    let db = state.db.clone();
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let (mut sink, stream) = socket.split();
            let input = stream
                .take_while(|message| futures::future::ready(message.is_ok()))
                .filter_map(|message| {
                    futures::future::ready(match message {
                        Ok(m) if m.is_text() || m.is_binary() => Some(m.into_bytes()),
                        _ => None,
                    })
                });
            // async-graphql closes a refused connection_init with 1002; the close code
            // the protocol asks for is kept here and put in its place.
            let refusal: Arc<Mutex<Option<(u16, String)>>> = Arc::default();
            let on_init = {
                let refusal = refusal.clone();
                move |payload: serde_json::Value| async move {
                    let fallback = header_caller.unwrap_or_else(Principal::public);
                    match init_principal(&db, &payload, fallback).await {
                        Ok(principal) => {
                            let mut data = Data::default();
                            data.insert(principal);
                            Ok(data)
                        }
                        Err((code, reason)) => {
                            if let Ok(mut slot) = refusal.lock() {
                                *slot = Some((code, reason.clone()));
                            }
                            Err(async_graphql::Error::new(reason))
                        }
                    }
                }
            };
            let mut output = GraphqlWebSocket::new(executor, input, protocol.0)
                .on_connection_init(on_init)
                .map(move |message| match message {
                    WsMessage::Text(text) => Message::text(text),
                    WsMessage::Close(code, reason) => {
                        let kept = refusal.lock().ok().and_then(|mut slot| slot.take());
                        let (code, reason) = match kept {
                            Some(kept) => kept,
                            None if reason == HANDSHAKE_NOT_COMPLETED => {
                                (CLOSE_UNAUTHORIZED, "Unauthorized".to_string())
                            }
                            None => (code, reason),
                        };
                        Message::close_with(code, reason)
                    }
                })
                .boxed();
            while let Some(message) = output.next().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        })
        .into_response()
}
