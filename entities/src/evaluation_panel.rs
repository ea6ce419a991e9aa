//! A third-party evaluation panel: its scope and period, rubric scale, draw and sample
//! parameters with the seed that makes both reproducible, and its lifecycle.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// DRAFT → DRAWN (members) → SCORING (sample taken) → CLOSED (results) → PUBLISHED.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PanelStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "drawn")]
    Drawn,
    #[sea_orm(string_value = "scoring")]
    Scoring,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "published")]
    Published,
}

impl PanelStatus {
    /// As shown to clients.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Drawn => "DRAWN",
            Self::Scoring => "SCORING",
            Self::Closed => "CLOSED",
            Self::Published => "PUBLISHED",
        }
    }

    /// Have the results been computed?
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed | Self::Published)
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluation_panels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub status: PanelStatus,
    /// Cases replied to in `[period_from, period_to)` are sampled.
    pub period_from: DateTimeUtc,
    pub period_to: DateTimeUtc,
    /// Scope: cases located in this region subtree…
    pub region_code: Option<String>,
    /// …and/or handled by this department subtree.
    pub department_id: Option<i32>,
    /// Stratify by department × category instead of department alone.
    pub by_category: bool,
    /// The rubric's scale; every criterion is scored on it.
    pub scale_min: i32,
    pub scale_max: i32,
    /// Seeds the member draw and the sample (0 ≤ seed ≤ 2⁶³−1).
    pub seed: i64,
    /// Members to draw of each kind.
    pub experts: i32,
    pub cadres: i32,
    pub citizen_representatives: i32,
    /// Cases to sample in all, and the least per department.
    pub sample_size: i32,
    pub min_per_department: i32,
    /// Krippendorff's alpha (interval) of the weighted scores, set at close.
    pub alpha: Option<f64>,
    pub created_at: DateTimeUtc,
    pub drawn_at: Option<DateTimeUtc>,
    pub sampled_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
