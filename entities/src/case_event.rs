//! The append-only audit trail of a case: every transition, reminder, extension,
//! supervision flag and edit. Every duration in the metrics is computed from it.

use crate::{CaseAction, CaseStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub at: DateTimeUtc,
    pub action: CaseAction,
    pub from_status: Option<CaseStatus>,
    pub to_status: Option<CaseStatus>,
    pub department_id: Option<i32>,
    /// The reply deadline this event put in force (accept, extend, reopen), so that
    /// the deadline at any past instant can be read back from the trail.
    pub reply_due_at: Option<DateTimeUtc>,
    pub actor: String,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
