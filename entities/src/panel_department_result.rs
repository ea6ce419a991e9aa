//! A closed panel's result for one department: the mean weighted score of its evaluated
//! cases with a 95 % confidence interval, and that mean normalised to 0–1 by the scale
//! (the third-party component of department rankings).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "panel_department_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub panel_id: i32,
    pub department_id: i32,
    /// Evaluated cases (sampled cases with at least one score).
    pub cases: i32,
    pub mean_score: f64,
    /// `None` with fewer than two evaluated cases.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub normalized_score: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
