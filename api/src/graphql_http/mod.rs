//! GraphQL over HTTP: `POST /graphql` (a JSON body, or a JSON array when batches are
//! enabled) and `GET /graphql?query=…` (queries only, cacheable), with authentication,
//! persisted queries, the request limits, the rate limit, execution and error
//! classification. The limits themselves live in `crate::limits`.

use crate::auth::Principal;
use crate::config::Limits;
use crate::limits::cost::Ledger;
use crate::limits::persisted::{self, PersistedQueries, PersistedQueryRef};
use crate::limits::{self as request_limits, Exceeded};
use crate::rate_limit::{BucketKey, RateLimiter};
use crate::routes::AppState;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::ServerError;
use poem::http::{header, HeaderValue, StatusCode};
use poem::web::Data;
use poem::{handler, Body, IntoResponse, Request, Response};
use serde_json::json;
use std::sync::Arc;

mod caller;
mod get;
mod rerun;

use crate::graphql::copy_of;
use caller::{caller_of, Caller};
use rerun::{has_internal_error, with_context};

pub(crate) use caller::peer_ip;
pub use get::graphql_get;

/// What GraphQL over HTTP keeps between requests: the rate-limit buckets and the
/// persisted queries (both per server instance).
pub struct Guards {
    pub limiter: Arc<RateLimiter>,
    pub persisted: PersistedQueries,
}

impl Guards {
    pub fn new(limits: &Limits) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::new(&limits.rate)),
            persisted: PersistedQueries::new(limits.persisted_query_bytes),
        }
    }
}

/// A response in the GraphQL error shape with one error carrying `code`.
pub fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({"errors": [{"message": message, "extensions": {"code": code}}]}).to_string())
}

/// Gives every error a `code`: errors the server did not classify (syntax, validation)
/// are the client's.
fn classify(errors: &mut [ServerError]) {
    for error in errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_USER_INPUT");
        }
    }
}

fn first_error_code(response: &async_graphql::Response) -> Option<String> {
    response.errors.first().and_then(|e| {
        e.extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// What one operation came to.
struct Outcome {
    response: async_graphql::Response,
    /// Set when the caller's bucket refused the operation.
    retry_after: Option<u64>,
    /// A GET asked for a mutation: 405, nothing ran.
    mutation_over_get: bool,
    /// A mutation ran with replicas configured: the primary's WAL position after it.
    consistency: Option<crate::replicas::Lsn>,
}

/// Runs one operation through every limit. Anything refused costs one point.
async fn run_operation(
    state: &AppState,
    caller: &Caller,
    mut request: async_graphql::Request,
    method: Method,
) -> Outcome {
    let limits = &state.config.limits;
    let guards = &state.guards;
    let ledger = Ledger::new(
        guards.limiter.clone(),
        caller.bucket.clone(),
        limits.max_complexity,
    );
    let mut operation = request.operation_name.clone().unwrap_or_default();
    let started = std::time::Instant::now();
    let mut outcome = match prepare(guards, &ledger, &mut request, method, limits) {
        Err(error) => refused(*error),
        Ok(Prepared::MutationOverGet) => Outcome {
            response: async_graphql::Response::default(),
            retry_after: None,
            mutation_over_get: true,
            consistency: None,
        },
        Ok(Prepared::Ready {
            sole_operation,
            read_only,
        }) => {
            // The log and metrics name the operation even when the client did not.
            if operation.is_empty() {
                operation = sole_operation.unwrap_or_default();
            }
            // Queries read from a replica when one is healthy (and has replayed past the
            // caller's token); a mutation and everything inside it uses the primary. The
            // per-request connection overrides the schema's (the primary) in every
            // resolver and DataLoader.
            let route = if read_only {
                Some(state.reads.route_read(caller.consistency).await)
            } else {
                None
            };
            let db = route
                .as_ref()
                .map_or_else(|| state.db.clone(), |r| r.db.clone());
            // A replica may go down between two health checks: keep what is needed to run
            // a failed read once more, on the primary.
            let again = route
                .as_ref()
                .filter(|r| r.is_replica())
                .map(|_| copy_of(&mut request));
            let response = execute(
                state,
                &caller.principal,
                &operation,
                with_context(request, db, caller, &ledger),
                &ledger,
            )
            .await;
            let response = match (route, again) {
                (Some(route), Some(again)) if has_internal_error(&response) => {
                    match state.reads.retry_after_replica_failure(&route).await {
                        Some(primary) => {
                            tracing::warn!(operation = %operation, "a read failed on a replica that is now out of rotation: run again on the primary");
                            execute(
                                state,
                                &caller.principal,
                                &operation,
                                with_context(again, primary, caller, &ledger),
                                &ledger,
                            )
                            .await
                        }
                        None => response,
                    }
                }
                _ => response,
            };
            let consistency = if read_only {
                None
            } else {
                crate::replicas::token::after_mutation(&state.reads).await
            };
            Outcome {
                response,
                retry_after: None,
                mutation_over_get: false,
                consistency,
            }
        }
    };
    ledger.pay_minimum_if_unpaid();
    outcome.retry_after = ledger.retry_after();
    if outcome.retry_after.is_some() {
        state.counters.observe_rate_limited(match caller.bucket {
            BucketKey::Ip(_) => "ip",
            BucketKey::ApiKey(_) => "key",
        });
    }
    classify(&mut outcome.response.errors);
    if let Ok(cost) = async_graphql::Value::from_json(ledger.report()) {
        outcome.response.extensions.insert("cost".into(), cost);
    }
    if let Some(lsn) = outcome.consistency {
        outcome.response.extensions.insert(
            "consistency".into(),
            async_graphql::Value::String(lsn.to_string()),
        );
    }
    let error_code = first_error_code(&outcome.response);
    let requested_cost = ledger.report()["requestedQueryCost"].as_u64();
    state
        .counters
        .observe_graphql(&crate::telemetry::GraphqlOutcome {
            request_id: &caller.request_id,
            operation: &operation,
            role: caller.principal.role.as_str(),
            error_code: error_code.as_deref(),
            duration: started.elapsed(),
            cost: requested_cost,
        });
    outcome
}

enum Prepared {
    /// Parsed and within the limits; the name of the document's only operation, if named,
    /// and whether the selected operation is a query (a replica may serve it).
    Ready {
        sole_operation: Option<String>,
        read_only: bool,
    },
    MutationOverGet,
}

fn refused(error: ServerError) -> Outcome {
    Outcome {
        response: async_graphql::Response::from_errors(vec![error]),
        retry_after: None,
        mutation_over_get: false,
        consistency: None,
    }
}

/// Everything before execution: the bucket, persisted queries, the text limits,
/// parsing, the document limits and GET's never-mutate rule. On success the parsed
/// document is in `request`, so it is parsed once.
fn prepare(
    guards: &Guards,
    ledger: &Ledger,
    request: &mut async_graphql::Request,
    method: Method,
    limits: &Limits,
) -> Result<Prepared, Box<ServerError>> {
    ledger.check_not_empty().map_err(Box::new)?;
    let persisted_ref =
        PersistedQueryRef::from_extensions(&request.extensions).map_err(Box::new)?;
    let mut register = None;
    if let Some(persisted_ref) = persisted_ref {
        if request.query.is_empty() {
            let Some(query) = guards.persisted.get(&persisted_ref.sha256_hash) else {
                return Err(Box::new(persisted::not_found_error()));
            };
            request.query = query.to_string();
        } else if persisted::sha256_hex(&request.query) != persisted_ref.sha256_hash {
            return Err(Box::new(persisted::hash_mismatch_error()));
        } else {
            register = Some(persisted_ref.sha256_hash);
        }
    }
    request_limits::check_text(&request.query, limits)
        .map_err(|e| Box::new(e.to_server_error()))?;
    let doc = async_graphql::parser::parse_query(&request.query)
        .map_err(|err| Box::new(ServerError::from(err)))?;
    request_limits::check_document(&doc, &request.variables, limits)
        .map_err(|e| Box::new(e.to_server_error()))?;
    let read_only = !selects_non_query(&doc, request.operation_name.as_deref());
    if method == Method::Get && !read_only {
        return Ok(Prepared::MutationOverGet);
    }
    // Registered only once the query passed the limits: the cache never keeps a bomb.
    if let Some(hash) = register {
        guards.persisted.insert(hash, &request.query);
    }
    let sole_operation = match &doc.operations {
        DocumentOperations::Multiple(ops) if ops.len() == 1 => {
            ops.keys().next().map(|name| name.to_string())
        }
        _ => None,
    };
    request.set_parsed_query(doc);
    Ok(Prepared::Ready {
        sole_operation,
        read_only,
    })
}

/// Executes with the timeout. Dropping the future stops the work between statements;
/// PostgreSQL's `statement_timeout` (set to the same value) stops a statement in flight.
async fn execute(
    state: &AppState,
    principal: &Principal,
    operation: &str,
    request: async_graphql::Request,
    ledger: &Arc<Ledger>,
) -> async_graphql::Response {
    let span =
        tracing::info_span!("graphql", role = principal.role.as_str(), operation = %operation);
    let timeout = state.config.limits.query_timeout;
    let started = std::time::Instant::now();
    // Instrumented, not entered: a span guard held across an await would be attached
    // to whatever task the executor runs next.
    let run = tracing::Instrument::instrument(state.schema.execute(request, ledger), span);
    match tokio::time::timeout(timeout, run).await {
        Ok(response) => response,
        Err(_) => async_graphql::Response::from_errors(vec![request_limits::timeout_exceeded(
            started.elapsed(),
            timeout,
        )
        .to_server_error()]),
    }
}

/// True when the selected operation of `doc` is a mutation or subscription.
fn selects_non_query(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let is_query = |ty: OperationType| ty == OperationType::Query;
    match &doc.operations {
        DocumentOperations::Single(op) => !is_query(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name).is_some_and(|op| !is_query(op.node.ty)),
            None => ops.values().any(|op| !is_query(op.node.ty)),
        },
    }
}

/// The HTTP response of one operation (or of a batch when `body` is an array).
fn http_response(
    body: Result<String, serde_json::Error>,
    status: StatusCode,
    retry_after: Option<u64>,
    cache_control: Option<String>,
) -> Response {
    let mut response = match body {
        Ok(body) => Response::builder()
            .status(status)
            .content_type("application/json")
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "serialising a response failed");
            graphql_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
    };
    let headers = response.headers_mut();
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(value) = cache_control.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(header::CACHE_CONTROL, value);
        // A shared cache must not hand a public answer to a keyed caller or back, nor an
        // answer cached before a write to a caller whose consistency token demands it.
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Authorization, X-Minyi-Consistency"),
        );
    }
    response
}

/// One operation's HTTP answer: 429 with `Retry-After` when rate limited, 405 for a
/// mutation over GET, otherwise 200 (GraphQL over HTTP with `application/json`).
fn single_response(outcome: Outcome, caller: &Caller, method: Method, limits: &Limits) -> Response {
    if outcome.mutation_over_get {
        // GraphQL over HTTP: GET must never change anything.
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "mutations are only accepted with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let status = if outcome.retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    };
    let cache_control = (method == Method::Get).then(|| {
        if !outcome.response.errors.is_empty() {
            "no-store".to_string()
        } else {
            let scope = if caller.principal.key_id.is_some() {
                "private"
            } else {
                "public"
            };
            format!("{scope}, max-age={}", limits.get_max_age.as_secs())
        }
    });
    let mut response = http_response(
        serde_json::to_string(&outcome.response),
        status,
        outcome.retry_after,
        cache_control,
    );
    crate::replicas::token::set_header(&mut response, outcome.consistency);
    response
}

#[handler]
pub async fn graphql_post(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    let limits = &state.config.limits;
    let limit = limits.max_body_bytes;
    let bytes = match body.into_bytes_limit(limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return graphql_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                &format!("the request body is larger than {limit} bytes"),
            )
        }
    };
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/graphql-response+json")
        });
    if !json_body {
        return graphql_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_USER_INPUT",
            "POST /graphql takes a JSON body (Content-Type: application/json)",
        );
    }
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(err) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body is not valid JSON: {err}"),
            )
        }
    };
    let batch = match value {
        serde_json::Value::Array(items) => Some(items),
        single => {
            let request = match serde_json::from_value(single) {
                Ok(request) => request,
                Err(err) => return not_a_request(&err),
            };
            let caller = match caller_of(req, &state).await {
                Ok(caller) => caller,
                Err(response) => return response,
            };
            let outcome = run_operation(&state, &caller, request, Method::Post).await;
            return single_response(outcome, &caller, Method::Post, limits);
        }
    };
    let items = batch.unwrap_or_default();
    if let Some(refusal) = refuse_batch(items.len(), limits.max_batch) {
        return refusal;
    }
    let mut requests = Vec::with_capacity(items.len());
    for item in items {
        match serde_json::from_value::<async_graphql::Request>(item) {
            Ok(request) => requests.push(request),
            Err(err) => return not_a_request(&err),
        }
    }
    let mut caller = match caller_of(req, &state).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    // One after the other: a batch gets no more of the server at once than a request.
    let mut responses = Vec::with_capacity(requests.len());
    let mut retry_after = None;
    let mut all_throttled = true;
    let mut consistency = None;
    for request in requests {
        let outcome = run_operation(&state, &caller, request, Method::Post).await;
        all_throttled &= outcome.retry_after.is_some();
        consistency = consistency.max(outcome.consistency);
        // A query after a mutation in the same batch reads that mutation's write.
        caller.consistency = caller.consistency.max(outcome.consistency);
        retry_after = retry_after.max(outcome.retry_after);
        responses.push(outcome.response);
    }
    let status = if all_throttled {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::OK
    };
    let mut response = http_response(serde_json::to_string(&responses), status, retry_after, None);
    crate::replicas::token::set_header(&mut response, consistency);
    response
}

fn not_a_request(err: &serde_json::Error) -> Response {
    graphql_error(
        StatusCode::BAD_REQUEST,
        "BAD_USER_INPUT",
        &format!("the body is not a GraphQL request: {err}"),
    )
}

/// Batches (a JSON array body) are off unless `max_batch` > 0, and never empty or
/// longer than `max_batch`.
fn refuse_batch(len: usize, max_batch: usize) -> Option<Response> {
    if max_batch == 0 {
        return Some(graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "batched requests are not enabled on this server",
        ));
    }
    if len == 0 {
        return Some(graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "a batch needs at least one operation",
        ));
    }
    let exceeded = Exceeded {
        limit: "batch",
        measured: len as u64,
        max: max_batch as u64,
    };
    (len > max_batch).then(|| {
        let body = async_graphql::Response::from_errors(vec![exceeded.to_server_error()]);
        Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .content_type("application/json")
            .body(serde_json::to_string(&body).unwrap_or_default())
    })
}
