//! The schema as the server runs it: two instances of the same types. The guarded one
//! carries the cost guard (`crate::limits::cost`), which only needs async-graphql's
//! validation hook; but once a schema has any extension, async-graphql wraps every
//! field and list item of every response in the extensions' resolve chain (a registry
//! lookup and type-name strings each), ~28 ms of a 6,918-row department ranking's
//! ~140 ms. So a query or mutation is checked on the guarded instance in a run that stops
//! before any resolver ([`CheckOnly`]), then executed on the bare twin, which has no
//! extension and validates with async-graphql's fast pass only. Subscriptions stay on
//! the guarded instance: they price and run in one stream.

use crate::limits::cost::{CheckOnly, Ledger};
use async_graphql::{Request, Response};
use std::sync::Arc;

use super::RawSchema;

/// The guarded schema and its bare twin (`build_schema`).
#[derive(Clone)]
pub struct MinyiSchema {
    guarded: RawSchema,
    bare: RawSchema,
}

impl MinyiSchema {
    pub(super) fn new(guarded: RawSchema, bare: RawSchema) -> Self {
        Self { guarded, bare }
    }

    /// The instance with the cost guard: subscriptions and the SDL.
    pub fn guarded(&self) -> &RawSchema {
        &self.guarded
    }

    /// Validates and prices `request` (drawing its cost from `ledger`), then runs it
    /// without the per-field extension chain. A request the check refuses (invalid,
    /// too complex, out of budget) answers with the check's errors; nothing ran.
    pub async fn execute(&self, mut request: Request, ledger: &Arc<Ledger>) -> Response {
        let check = copy_of(&mut request).data(ledger.clone()).data(CheckOnly);
        let checked = self.guarded.execute(check).await;
        if checked.is_err() {
            return checked;
        }
        self.bare.execute(request).await
    }
}

/// The operation of `request` without its per-request data (a check run, or a read run
/// again on the primary): text, variables, operation name, extensions, introspection
/// mode and the document if it is parsed already (a persisted query may have no text).
pub fn copy_of(request: &mut Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    copy.operation_name = request.operation_name.clone();
    copy.extensions = request.extensions.clone();
    copy.introspection_mode = request.introspection_mode;
    if let Ok(doc) = request.parsed_query() {
        copy.set_parsed_query(doc.clone());
    }
    copy
}
