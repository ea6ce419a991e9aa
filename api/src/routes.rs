//! HTTP routes: the router, the SDL, health and metrics. GraphQL over HTTP lives in
//! `graphql_http`, the open-data doors in `open_data`.

use crate::config::Config;
use crate::graphql::MinyiSchema;
use crate::telemetry::{AccessLog, Counters, PoolUse};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{get, handler, EndpointExt, Response, Route};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The primary: writes, mutations, API keys.
    pub db: DatabaseConnection,
    /// Where reads go: a healthy read replica, else the primary (`crate::replicas`).
    pub reads: crate::replicas::ReadRouter,
    pub schema: MinyiSchema,
    pub counters: Arc<Counters>,
    pub config: Arc<Config>,
    /// Rate-limit buckets and persisted queries of `/graphql`.
    pub guards: Arc<crate::graphql_http::Guards>,
}

/// Every route, behind the access log (request id, HTTP metrics, one log line a request).
pub fn router(state: AppState) -> impl poem::Endpoint {
    let access_log = AccessLog::new(state.counters.clone());
    crate::web::routes(crate::open_data::routes(Route::new()))
        .at(
            "/graphql",
            get(crate::graphql_http::graphql_get).post(crate::graphql_http::graphql_post),
        )
        .at("/graphql/ws", get(crate::live::ws::graphql_ws))
        .nest("/graphiql", crate::graphiql::routes())
        .at("/schema.graphql", get(schema_sdl))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics))
        .data(state)
        .with(access_log)
}

#[handler]
async fn schema_sdl(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(state.schema.guarded().sdl())
}

#[handler]
async fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    if !crate::db::is_ready(&state.db).await {
        Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("database unreachable")
    } else if state.reads.has_replicas() && !state.reads.has_healthy_replica() {
        // The primary serves the reads too: working, but without the capacity planned.
        Response::builder().body("degraded")
    } else {
        Response::builder().body("ready")
    }
}

#[handler]
async fn metrics(state: Data<&AppState>) -> Response {
    let rendered = state
        .counters
        .render(PoolUse::of(&state.db))
        .and_then(|mut text| {
            if let Some(replicas) = state.reads.render_metrics() {
                text.push_str(&replicas?);
            }
            Ok(text)
        });
    match rendered {
        Ok(text) => Response::builder()
            .content_type(prometheus::TEXT_FORMAT)
            .body(text),
        Err(err) => {
            tracing::error!(error = %err, "rendering the metrics failed");
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("application/json")
                .body(r#"{"error":{"code":"INTERNAL","message":"the metrics could not be rendered"}}"#)
        }
    }
}
