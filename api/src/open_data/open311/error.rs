//! The Open311 error answer: `[{"code":400,"description":"…"}]`, or
//! `<errors><error><code>400</code><description>…</description></error></errors>`.

use super::document::{Document, Field};
use poem::http::StatusCode;

/// Why a request got no data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Open311Error {
    /// A parameter is malformed; the description names it.
    BadRequest(String),
    /// No such resource, format, service or (published) request.
    NotFound(String),
    /// The database failed; the cause is logged, never shown.
    Internal,
}

impl Open311Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Self::BadRequest(text) | Self::NotFound(text) => text,
            Self::Internal => "internal error",
        }
    }

    /// The error list of the answer (GeoReport v2 always answers errors as a list).
    pub fn document(&self) -> Document {
        Document::List {
            root: "errors",
            item: "error",
            records: vec![vec![
                ("code", Field::Int(i64::from(self.status().as_u16()))),
                ("description", Field::Text(self.description().to_string())),
            ]],
        }
    }
}

impl From<sea_orm::DbErr> for Open311Error {
    fn from(error: sea_orm::DbErr) -> Self {
        tracing::error!(%error, "an Open311 query failed");
        Self::Internal
    }
}
