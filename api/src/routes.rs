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
    pub db: DatabaseConnection,
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
        .body(state.schema.sdl())
}

#[handler]
async fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    if crate::db::is_ready(&state.db).await {
        Response::builder().body("ready")
    } else {
        Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("database unreachable")
    }
}

#[handler]
async fn metrics(state: Data<&AppState>) -> Response {
    match state.counters.render(PoolUse::of(&state.db)) {
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
