//! The one error type of the API, mapped once to GraphQL `extensions.code`.
//! Internal errors are logged with their cause and shown to clients as an opaque INTERNAL.

use async_graphql::ErrorExtensions;
use entities::CaseStatus;

/// Deliberately not `Display`: async-graphql converts any `Display` error into a bare
/// message, and every error of ours must keep its `extensions.code`.
#[derive(Debug, Clone)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    NotFound(String),
    BadUserInput(String),
    InvalidTransition {
        action: String,
        status: CaseStatus,
    },
    Conflict(String),
    /// A live subscription fell behind the events and stopped (the client reloads).
    Lagged(String),
    /// The cause is logged, never shown.
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::InvalidTransition { .. } => "INVALID_TRANSITION",
            Self::Conflict(_) => "CONFLICT",
            Self::Lagged(_) => "LAGGED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client sees.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated => {
                "authentication required: the API key is missing, unknown or revoked".into()
            }
            Self::Forbidden(what) => format!("forbidden: {what}"),
            Self::NotFound(what) => format!("not found: {what}"),
            Self::BadUserInput(message) => message.clone(),
            Self::InvalidTransition { action, status } => format!(
                "cannot {action} a case whose status is {}",
                status.as_str().to_uppercase()
            ),
            Self::Conflict(what) => format!("conflict: {what}"),
            Self::Lagged(what) => format!("lagged: {what}"),
            Self::Internal(_) => "internal error".into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::BadUserInput(message.into())
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<dashboard_queries::Error> for ApiError {
    fn from(err: dashboard_queries::Error) -> Self {
        if err.is_bad_input() {
            Self::BadUserInput(err.to_string())
        } else {
            Self::Internal(err.to_string())
        }
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(err: sea_orm::TransactionError<ApiError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        let base = async_graphql::Error::new(self.message());
        base.extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Self::InvalidTransition { status, action } = self {
                ext.set("status", status.as_str().to_uppercase());
                ext.set("action", action.clone());
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

/// The result type of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;
