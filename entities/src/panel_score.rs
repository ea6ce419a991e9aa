//! One member's score of one sampled case on one criterion of the rubric.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "panel_scores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub panel_id: i32,
    pub member_id: i32,
    pub case_id: i64,
    pub criterion_id: i32,
    pub score: i32,
    pub submitted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
