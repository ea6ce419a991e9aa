//! A member of the reviewer pool from which evaluation panels are drawn (评审库).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Who a reviewer is: Mianyang's panels mix experts, cadres and citizen representatives.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewerKind {
    #[sea_orm(string_value = "expert")]
    Expert,
    #[sea_orm(string_value = "cadre")]
    Cadre,
    #[sea_orm(string_value = "citizen_representative")]
    CitizenRepresentative,
}

impl ReviewerKind {
    /// Every kind, in the order the draw takes them.
    pub const ALL: [Self; 3] = [Self::Expert, Self::Cadre, Self::CitizenRepresentative];
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviewers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub kind: ReviewerKind,
    /// Inactive reviewers stay for the record of past draws but are not drawn again.
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
