//! The JSON error answers of the open-data HTTP doors:
//! `{"error": {"code": "BAD_USER_INPUT", "parameter": "regionCode", "message": "…"}}`.
//! Internal causes are logged here and never shown.

use poem::http::StatusCode;
use poem::Response;
use serde_json::json;

/// Something wrong with one query parameter (or CLI flag) of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The HTTP parameter name (camelCase, e.g. `regionCode`).
    pub parameter: String,
    pub message: String,
}

impl ParamError {
    pub fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_string(),
            message: message.into(),
        }
    }

    /// 400 with the parameter named.
    pub fn response(&self) -> Response {
        json_error(
            StatusCode::BAD_REQUEST,
            json!({
                "code": "BAD_USER_INPUT",
                "parameter": self.parameter,
                "message": format!("{}: {}", self.parameter, self.message),
            }),
        )
    }
}

/// 404 naming what was not found.
pub fn not_found(what: &str) -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        json!({ "code": "NOT_FOUND", "message": format!("not found: {what}") }),
    )
}

/// 500; the cause goes to the log only.
pub fn internal(cause: &dyn std::fmt::Display) -> Response {
    tracing::error!(%cause, "open data: internal error");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({ "code": "INTERNAL", "message": "internal error" }),
    )
}

fn json_error(status: StatusCode, error: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(json!({ "error": error }).to_string())
}
