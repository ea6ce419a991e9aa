//! The access log: the outermost middleware. It gives every request an id (echoed in the
//! `x-request-id` response header), times it, counts it by route template and status, and
//! writes exactly one `request` line when the response head is ready.
//!
//! GraphQL requests add role, operation name, outcome and cost to that line: the GraphQL
//! handler runs inside the request's task, and [`Counters::observe_graphql`] leaves them
//! in a task-local slot the middleware reads when the handler returns. A batch lists its
//! operations and outcomes comma-separated and adds up their costs.
//!
//! The line never holds the URI (query strings carry filters and search text), headers
//! (keys), bodies or variables: method, route template, status, timings and ids only.
//!
//! [`Counters::observe_graphql`]: super::Counters::observe_graphql

use super::Counters;
use poem::http::HeaderValue;
use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The log target of the request lines (`MINYI_LOG=minyi::access=off` silences them).
pub const TARGET: &str = "minyi::access";
/// The response header that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The route label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The id of one request: 16 hex digits, random, made by the server. An id sent by the
/// client is not reused: it would be client text in every log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    fn new() -> Self {
        Self(format!("{:016x}", rand::random::<u64>()).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the GraphQL handler adds to its request's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GraphqlFields {
    pub role: String,
    pub operation: String,
    pub outcome: String,
    pub cost: Option<u64>,
}

struct RequestScope {
    id: RequestId,
    graphql: Mutex<Vec<GraphqlFields>>,
}

tokio::task_local! {
    static REQUEST: Arc<RequestScope>;
}

/// The id of the request this task is serving, when called inside a request.
pub fn current_request_id() -> Option<RequestId> {
    REQUEST.try_with(|scope| scope.id.clone()).ok()
}

/// Leaves the GraphQL fields for the current request's line (no-op outside a request).
pub(super) fn note_graphql(fields: GraphqlFields) {
    let _ = REQUEST.try_with(|scope| {
        scope
            .graphql
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(fields);
    });
}

/// The middleware; wrap the whole router with it.
pub struct AccessLog {
    counters: Arc<Counters>,
}

impl AccessLog {
    pub fn new(counters: Arc<Counters>) -> Self {
        Self { counters }
    }
}

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AccessLogEndpoint {
            inner,
            counters: self.counters.clone(),
        }
    }
}

pub struct AccessLogEndpoint<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let started = Instant::now();
        let id = RequestId::new();
        req.set_data(id.clone());
        let method = req.method().clone();
        let scope = Arc::new(RequestScope {
            id: id.clone(),
            graphql: Mutex::new(Vec::new()),
        });
        let result = REQUEST.scope(scope.clone(), self.inner.call(req)).await;
        // The router leaves the matched template on the response or the error.
        let (route, mut response) = match result {
            Ok(output) => {
                let response = output.into_response();
                (route_of(response.data::<PathPattern>()), response)
            }
            Err(err) => (route_of(err.data::<PathPattern>()), err.into_response()),
        };
        let duration = started.elapsed();
        let status = response.status().as_u16();
        self.counters.observe_http(&route, status, duration);
        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        let graphql =
            std::mem::take(&mut *scope.graphql.lock().unwrap_or_else(PoisonError::into_inner));
        let duration_ms = duration.as_micros() as f64 / 1000.0;
        match GraphqlSummary::of(&graphql) {
            Some(g) => tracing::info!(
                target: TARGET,
                request_id = %id,
                method = %method,
                route = %route,
                status,
                duration_ms,
                role = %g.role,
                operation = %g.operation,
                outcome = %g.outcome,
                cost = g.cost,
                "request"
            ),
            None => tracing::info!(
                target: TARGET,
                request_id = %id,
                method = %method,
                route = %route,
                status,
                duration_ms,
                "request"
            ),
        }
        Ok(response)
    }
}

fn route_of(pattern: Option<&PathPattern>) -> String {
    pattern.map_or_else(|| UNMATCHED_ROUTE.to_string(), |p| p.0.to_string())
}

/// The GraphQL fields of one request's line: one operation's, or a batch's joined.
struct GraphqlSummary {
    role: String,
    operation: String,
    outcome: String,
    cost: Option<u64>,
}

impl GraphqlSummary {
    fn of(operations: &[GraphqlFields]) -> Option<Self> {
        let first = operations.first()?;
        let join = |field: fn(&GraphqlFields) -> &str| {
            operations.iter().map(field).collect::<Vec<_>>().join(",")
        };
        Some(Self {
            // One caller per HTTP request: every operation has the same role.
            role: first.role.clone(),
            operation: join(|f| &f.operation),
            outcome: join(|f| &f.outcome),
            cost: operations
                .iter()
                .map(|f| f.cost)
                .try_fold(0u64, |sum, cost| cost.map(|c| sum.saturating_add(c))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(operation: &str, outcome: &str, cost: Option<u64>) -> GraphqlFields {
        GraphqlFields {
            role: "public".into(),
            operation: operation.into(),
            outcome: outcome.into(),
            cost,
        }
    }

    #[test]
    fn a_batch_lists_its_operations_and_adds_up_their_costs() {
        let summary = GraphqlSummary::of(&[
            fields("Cases", "ok", Some(40)),
            fields("Stats", "FORBIDDEN", Some(2)),
        ])
        .expect("a summary");
        assert_eq!(summary.operation, "Cases,Stats");
        assert_eq!(summary.outcome, "ok,FORBIDDEN");
        assert_eq!(summary.cost, Some(42));
        assert_eq!(summary.role, "public");
    }

    #[test]
    fn a_cost_is_known_only_when_every_operation_reported_one() {
        let summary = GraphqlSummary::of(&[fields("A", "ok", Some(1)), fields("B", "ok", None)])
            .expect("a summary");
        assert_eq!(summary.cost, None);
        assert!(GraphqlSummary::of(&[]).is_none());
    }
}
