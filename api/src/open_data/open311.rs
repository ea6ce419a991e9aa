//! Open311 GeoReport v2 read endpoints over published cases (`/open311/v2/…`), JSON and
//! XML (see docs/OPEN_DATA.md, "Open311 GeoReport v2"):
//!
//! - `GET /open311/v2/services.{json|xml}`: the categories.
//! - `GET /open311/v2/services/{service_code}.{json|xml}`: a service definition.
//! - `GET /open311/v2/requests.{json|xml}`: published cases, filtered and paged
//!   (parameters in [`params`]).
//! - `GET /open311/v2/requests/{service_request_id}.{json|xml}`: one published case.
//!
//! Every answer is built in memory (at most 1,000 requests), hashed into a strong ETag
//! and answered 304 when the client already has it. Errors use the Open311 error list
//! in the requested format (JSON when the format itself is the problem).

mod document;
mod error;
mod params;
mod requests;
mod services;
mod status;

use crate::routes::AppState;
use document::{Document, Format};
use error::Open311Error;
use poem::web::{Data, Path, Query};
use poem::{get, handler, FromRequest, Request, Response};

use super::http_cache;

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
        .at("/open311/v2/:file", get(collection))
        .at("/open311/v2/services/:file", get(service_definition))
        .at("/open311/v2/requests/:file", get(one_request))
}

/// `services.{format}` or `requests.{format}`.
#[handler]
async fn collection(req: &Request, Path(file): Path<String>, state: Data<&AppState>) -> Response {
    let (name, format) = match split_format(&file) {
        Ok(split) => split,
        Err(error) => return error_response(Format::Json, &error),
    };
    let db = state.reads.for_read(None).await;
    let answer = match name {
        "services" => services::list(&db).await,
        "requests" => match query_pairs(req).await {
            Ok(pairs) => match params::parse(&pairs, crate::clock::now()) {
                Ok(search) => requests::search(&db, &search).await,
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        },
        other => Err(Open311Error::NotFound(format!(
            "no resource `{other}`: use services or requests"
        ))),
    };
    respond(req, format, answer)
}

/// `services/{service_code}.{format}`.
#[handler]
async fn service_definition(
    req: &Request,
    Path(file): Path<String>,
    state: Data<&AppState>,
) -> Response {
    match split_format(&file) {
        Ok((code, format)) => {
            let db = state.reads.for_read(None).await;
            respond(req, format, services::definition(&db, code).await)
        }
        Err(error) => error_response(Format::Json, &error),
    }
}

/// `requests/{service_request_id}.{format}`.
#[handler]
async fn one_request(req: &Request, Path(file): Path<String>, state: Data<&AppState>) -> Response {
    match split_format(&file) {
        Ok((id, format)) => {
            let db = state.reads.for_read(None).await;
            respond(req, format, requests::one(&db, id).await)
        }
        Err(error) => error_response(Format::Json, &error),
    }
}

/// `T2026100100000001.json` → (`T2026100100000001`, JSON). The format is after the last
/// dot, so an identifier may itself contain dots.
fn split_format(file: &str) -> Result<(&str, Format), Open311Error> {
    let Some((name, extension)) = file.rsplit_once('.') else {
        return Err(Open311Error::NotFound(format!(
            "`{file}` names no format: add .json or .xml"
        )));
    };
    match Format::from_extension(extension) {
        Some(format) if !name.is_empty() => Ok((name, format)),
        Some(_) => Err(Open311Error::NotFound(format!("`{file}` names nothing"))),
        None => Err(Open311Error::NotFound(format!(
            "format `{extension}` is not served: use .json or .xml"
        ))),
    }
}

/// The decoded query string as pairs, in order (repeated names kept).
async fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, Open311Error> {
    Query::<Vec<(String, String)>>::from_request_without_body(req)
        .await
        .map(|Query(pairs)| pairs)
        .map_err(|_| Open311Error::BadRequest("the query string is malformed".to_string()))
}

fn respond(req: &Request, format: Format, answer: Result<Document, Open311Error>) -> Response {
    match answer {
        Ok(document) => http_cache::respond_with_body(
            req,
            document.render(format),
            format.content_type(),
            http_cache::DEFAULT_MAX_AGE_SECONDS,
        ),
        Err(error) => error_response(format, &error),
    }
}

fn error_response(format: Format, error: &Open311Error) -> Response {
    Response::builder()
        .status(error.status())
        .content_type(format.content_type())
        .body(error.document().render(format))
}
