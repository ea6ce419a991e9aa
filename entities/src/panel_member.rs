//! A reviewer drawn onto a panel; `draw_position` is the order the draw picked them in.
//! The member scores through the evaluator API key `api_key_id`.

use crate::reviewer::ReviewerKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "panel_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub panel_id: i32,
    pub reviewer_id: i32,
    pub kind: ReviewerKind,
    pub draw_position: i32,
    /// The member's evaluator key (`issuePanelMemberKey`); a new key replaces the old.
    pub api_key_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
