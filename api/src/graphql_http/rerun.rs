//! Running a read a second time: a replica may go down between two health checks, and
//! a read that failed on it is answered by the primary instead (see `run_operation`).

use super::caller::Caller;
use crate::graphql::loaders::Loaders;
use crate::limits::cost::Ledger;
use std::sync::Arc;

/// The request with what every resolver reads: its connection (and loaders on it), the
/// caller and the cost ledger.
pub(super) fn with_context(
    request: async_graphql::Request,
    db: sea_orm::DatabaseConnection,
    caller: &Caller,
    ledger: &Arc<Ledger>,
) -> async_graphql::Request {
    request
        .data(Loaders::new(&db))
        .data(db)
        .data(caller.principal.clone())
        .data(ledger.clone())
}

/// True when an error is INTERNAL: what a failed database read gives.
pub(super) fn has_internal_error(response: &async_graphql::Response) -> bool {
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .is_some_and(|code| matches!(code, async_graphql::Value::String(c) if c == "INTERNAL"))
    })
}
