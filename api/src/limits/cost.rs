//! The static cost of a request: async-graphql computes the complexity while it
//! validates (list fields count `first`/`last` times their children); this extension
//! refuses it above the limit with the measured value, draws it from the caller's
//! bucket, and writes both into the request's [`Ledger`] for `extensions.cost`.

use super::{check_complexity, rate_limited_error};
use crate::rate_limit::{BucketKey, RateLimiter, ThrottleStatus, Throttled};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextValidation,
};
use async_graphql::{Response, ServerError, ValidationResult};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// What one request cost and how its caller's bucket stands (one per request, shared
/// by the HTTP layer and this extension through the request data).
pub struct Ledger {
    limiter: Arc<RateLimiter>,
    key: BucketKey,
    max_complexity: usize,
    state: Mutex<LedgerState>,
}

#[derive(Debug, Default, Clone, Copy)]
struct LedgerState {
    requested: Option<u64>,
    paid: bool,
    throttle: Option<ThrottleStatus>,
    throttled: Option<Throttled>,
}

impl Ledger {
    pub fn new(limiter: Arc<RateLimiter>, key: BucketKey, max_complexity: usize) -> Arc<Self> {
        Arc::new(Self {
            limiter,
            key,
            max_complexity,
            state: Mutex::default(),
        })
    }

    /// Refuses before any work when the bucket is empty.
    pub fn check_not_empty(&self) -> Result<(), ServerError> {
        match self.limiter.check(&self.key) {
            Ok(status) => {
                self.update(|s| s.throttle = Some(status));
                Ok(())
            }
            Err(throttled) => {
                self.update(|s| {
                    s.throttle = Some(throttled.status);
                    s.throttled = Some(throttled);
                });
                Err(rate_limited_error(1, &throttled))
            }
        }
    }

    /// Draws the request's static cost (at least 1 point) from the caller's bucket, once:
    /// a request run again (a read retried on the primary after its replica failed) is
    /// not charged twice, and one refused stays refused.
    fn pay(&self, cost: u64) -> Result<(), ServerError> {
        let earlier = self.read();
        if earlier.paid {
            return match earlier.throttled {
                Some(throttled) => Err(rate_limited_error(cost.max(1), &throttled)),
                None => Ok(()),
            };
        }
        let result = self.limiter.draw(&self.key, cost.max(1));
        self.update(|s| {
            s.paid = true;
            match result {
                Ok(status) => s.throttle = Some(status),
                Err(throttled) => {
                    s.throttle = Some(throttled.status);
                    s.throttled = Some(throttled);
                }
            }
        });
        result
            .map(|_| ())
            .map_err(|throttled| rate_limited_error(cost.max(1), &throttled))
    }

    /// A request refused before its cost was known (syntax, limits) still costs one
    /// point, so invalid requests cannot be sent for free.
    pub fn pay_minimum_if_unpaid(&self) {
        let paid = self.read().paid;
        if !paid {
            let _ = self.pay(1);
        }
    }

    /// Seconds the caller should wait, when the bucket refused this request.
    pub fn retry_after(&self) -> Option<u64> {
        self.read().throttled.map(|t| t.retry_after_secs)
    }

    /// `extensions.cost` (Shopify's shape plus the complexity limit).
    pub fn report(&self) -> Value {
        let state = self.read();
        let mut cost = json!({
            "requestedQueryCost": state.requested,
            "maximumQueryCost": self.max_complexity,
        });
        if let (true, Some(status)) = (self.limiter.is_enabled(), state.throttle) {
            cost["throttleStatus"] = json!({
                "maximumAvailable": status.maximum_available,
                "currentlyAvailable": status.currently_available,
                "restoreRate": status.restore_rate,
            });
        }
        cost
    }

    fn read(&self) -> LedgerState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut LedgerState)) {
        change(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// Request data that makes a run validation only: the cost guard prices the request,
/// then stops it before any resolver (`crate::graphql::MinyiSchema::execute`).
pub struct CheckOnly;

/// Registered on the guarded schema by `build_schema`.
pub struct CostGuard {
    pub max_complexity: usize,
}

impl ExtensionFactory for CostGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostGuardExtension {
            max_complexity: self.max_complexity,
        })
    }
}

struct CostGuardExtension {
    max_complexity: usize,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostGuardExtension {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let ledger = ctx.data_opt::<Arc<Ledger>>();
        let cost = result.complexity as u64;
        if let Some(ledger) = ledger {
            ledger.update(|s| s.requested = Some(cost));
        }
        check_complexity(result.complexity, self.max_complexity)
            .map_err(|exceeded| vec![exceeded.to_server_error()])?;
        if let Some(ledger) = ledger {
            ledger.pay(cost).map_err(|error| vec![error])?;
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<CheckOnly>().is_some() {
            return Response::default();
        }
        next.run(ctx, operation_name).await
    }
}
