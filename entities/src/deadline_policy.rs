//! 办理时限: how long a case may take, matched by channel, kind, category and region.
//! A `None` matcher matches anything; the most specific matching row wins.

use crate::{CaseKind, Channel};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deadline_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    pub category_id: Option<i32>,
    pub region_code: Option<String>,
    pub respond_hours: i32,
    pub reply_working_days: i32,
    /// A dissatisfied rating reopens the case (docs/WORKFLOW.md, "Ratings").
    pub reopen_on_dissatisfied: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
