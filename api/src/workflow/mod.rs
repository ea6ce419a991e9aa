//! The write side of a case's life: one pure state machine decides what is legal,
//! deadline policies and the working-day calendar set the time limits, and the service
//! applies one action as one transaction guarded by the case's version. See
//! docs/WORKFLOW.md for the lifecycle, the role matrix and the refusal order.

pub mod authz;
pub mod merge;
pub mod policy;
pub mod publish;
pub mod rating;
pub mod service;
pub mod state_machine;
pub mod submit;
pub mod supervision;

use crate::error::{ApiError, ApiResult};
use dashboard_queries::calendar::WorkCalendar;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The official calendar, read from the `holidays` table once per process (on first
/// use: building the schema is synchronous) and shared by every request.
#[derive(Clone, Default)]
pub struct CalendarCache(Arc<OnceCell<WorkCalendar>>);

impl CalendarCache {
    pub async fn get(&self, db: &DatabaseConnection) -> ApiResult<&WorkCalendar> {
        self.0
            .get_or_try_init(|| WorkCalendar::load(db))
            .await
            .map_err(ApiError::from)
    }
}
