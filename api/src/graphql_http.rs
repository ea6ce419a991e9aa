//! GraphQL over HTTP: `POST /graphql` (JSON body) and `GET /graphql?query=…` (queries
//! only), with authentication, request limits, execution and error classification.

use crate::auth::Principal;
use crate::graphql::loaders::Loaders;
use crate::routes::AppState;
use async_graphql::ServerError;
use poem::http::{header, StatusCode};
use poem::web::Data;
use poem::{handler, Body, IntoResponse, Request, Response};
use sea_orm::DatabaseConnection;
use serde_json::json;

/// A response in the GraphQL error shape with one error carrying `code`.
pub fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(json!({"errors": [{"message": message, "extensions": {"code": code}}]}).to_string())
}

async fn principal_of(req: &Request, db: &DatabaseConnection) -> Result<Principal, Response> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Principal::public());
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let unauthenticated =
        |message: &str| graphql_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    let Some(secret) = secret else {
        return Err(unauthenticated(
            "the Authorization header must be `Bearer <api key>`",
        ));
    };
    match Principal::from_secret(db, secret).await {
        Ok(principal) => Ok(principal),
        Err(crate::error::ApiError::Unauthenticated) => {
            Err(unauthenticated("the API key is unknown or revoked"))
        }
        Err(err) => {
            tracing::error!(error = ?err, "resolving an API key failed");
            Err(graphql_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "internal error",
            ))
        }
    }
}

/// Gives every error a `code`: validation limits become QUERY_TOO_COMPLEX, other
/// errors the server did not classify are the client's (BAD_USER_INPUT).
fn classify(errors: &mut [ServerError]) {
    for error in errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if has_code {
            continue;
        }
        let code = if error.message.starts_with("Query is too complex")
            || error.message.starts_with("Query is nested too deep")
        {
            "QUERY_TOO_COMPLEX"
        } else {
            "BAD_USER_INPUT"
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}

async fn execute(state: &AppState, req: &Request, request: async_graphql::Request) -> Response {
    let principal = match principal_of(req, &state.db).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let operation = request.operation_name.clone().unwrap_or_default();
    let span =
        tracing::info_span!("graphql", role = principal.role.as_str(), operation = %operation);
    let request = request
        .data(Loaders::new(&state.db))
        .data(principal.clone());
    let started = std::time::Instant::now();
    let timeout = state.config.limits.query_timeout;
    // Instrumented, not entered: a span guard held across an await would be attached
    // to whatever task the executor runs next.
    let run = tracing::Instrument::instrument(state.schema.execute(request), span);
    let mut response = match tokio::time::timeout(timeout, run).await {
        Ok(response) => response,
        Err(_) => {
            return graphql_error(
                StatusCode::OK,
                "QUERY_TOO_COMPLEX",
                &format!(
                    "the query ran longer than the {} s limit",
                    timeout.as_secs()
                ),
            )
        }
    };
    classify(&mut response.errors);
    let error_code = response.errors.first().and_then(|e| {
        e.extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
    });
    state
        .counters
        .observe_graphql(&crate::telemetry::GraphqlOutcome {
            request_id: "",
            operation: &operation,
            role: principal.role.as_str(),
            error_code: error_code.as_deref(),
            duration: started.elapsed(),
            cost: None,
        });
    match serde_json::to_string(&response) {
        Ok(body) => Response::builder()
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
    }
}

#[handler]
pub async fn graphql_post(req: &Request, body: Body, state: Data<&AppState>) -> Response {
    let limit = state.config.limits.max_body_bytes;
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
    if value.is_array() {
        return graphql_error(
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            "batched requests are not enabled on this server",
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(err) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body is not a GraphQL request: {err}"),
            )
        }
    };
    execute(&state, req, request).await
}

/// True when the selected operation of `query` is a mutation or subscription.
fn selects_non_query(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false; // the executor reports the syntax error itself
    };
    let is_query = |ty: OperationType| ty == OperationType::Query;
    match &doc.operations {
        DocumentOperations::Single(op) => !is_query(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| !is_query(op.node.ty)),
            None => ops.values().any(|op| !is_query(op.node.ty)),
        },
    }
}

#[handler]
pub async fn graphql_get(req: &Request, state: Data<&AppState>) -> Response {
    let query = req.uri().query().unwrap_or_default();
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if query.is_empty() && wants_html {
        return crate::graphiql::page().into_response();
    }
    let request = match async_graphql::http::parse_query_string(query) {
        Ok(request) => request,
        Err(err) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("GET /graphql needs ?query=…: {err}"),
            )
        }
    };
    if selects_non_query(&request) {
        // GraphQL over HTTP: GET must never change anything.
        let mut response = graphql_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_USER_INPUT",
            "mutations are only accepted with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, poem::http::HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, req, request).await
}
