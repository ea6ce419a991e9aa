//! The one error type of the metrics engine; the API maps it once to GraphQL codes.

use sea_orm::DbErr;

/// Everything that can go wrong while answering a metrics question.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scope names a region code that is not in `regions`.
    #[error("unknown region code {0}")]
    UnknownRegion(String),
    /// The scope names a department id that is not in `departments`.
    #[error("unknown department {0}")]
    UnknownDepartment(i32),
    /// The filter names a category id that is not in `categories`.
    #[error("unknown category {0}")]
    UnknownCategory(i32),
    /// `from` is not before `to`, or the window would need too many buckets.
    #[error("invalid window: {0}")]
    InvalidWindow(String),
    /// A parameter other than the window is out of range (weights, counts).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The database failed; never shown to a client verbatim.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl Error {
    /// True when the caller asked a bad question (as opposed to an internal failure).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Db(_))
    }
}
