//! 发布版本: a citable release of the open data, frozen on disk under its name
//! (`minyi release create`); its files are in `release_files`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The citable name, also the directory under `<data dir>/releases/`.
    #[sea_orm(unique)]
    pub name: String,
    pub created_at: DateTimeUtc,
    /// Cases submitted before this instant are in the release; `overdue` is evaluated here.
    pub cutoff: DateTimeUtc,
    /// The first submission time of the released cases (NULL for an empty release).
    pub first_submitted_at: Option<DateTimeUtc>,
    /// The last submission time of the released cases.
    pub last_submitted_at: Option<DateTimeUtc>,
    /// Which metric definitions (docs/METRICS.md) were in force.
    pub metric_definitions_version: String,
    /// Which column list (docs/DATA_DICTIONARY.md) the files follow.
    pub dictionary_version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
