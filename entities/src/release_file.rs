//! One frozen file of a release, with the checksum every later download is held to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub release_id: i32,
    /// The file name inside the release directory (`cases.csv`, `cases.ndjson`, `dictionary.json`).
    pub file_name: String,
    pub media_type: String,
    pub bytes: i64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Data rows (cases) in the file; NULL for the dictionary.
    pub rows: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
