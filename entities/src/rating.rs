//! 满意度评价: the citizen's rating of one reply, with optional sub-scores (1–5).

use crate::RatingLevel;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ratings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub level: RatingLevel,
    pub timeliness: Option<i16>,
    pub attitude: Option<i16>,
    pub result: Option<i16>,
    pub comment: Option<String>,
    pub rated_at: DateTimeUtc,
    /// `comment` with personal data masked (written at rating time).
    pub public_comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
