//! minyi's default two-level topic tree.

use super::csv_error;
use entities::category;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use std::collections::HashMap;

const CATEGORIES: &str = include_str!("../../data/categories.csv");

pub(super) async fn load<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let mut ids: HashMap<String, i32> = HashMap::new();
    let mut reader = csv::Reader::from_reader(CATEGORIES.as_bytes());
    // Parents come first in the file, so a child's parent id is always known.
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| csv_error("category", e))?;
        let (code, name, parent) = (&record[0], &record[1], &record[2]);
        let id = i32::try_from(index + 1).map_err(|e| csv_error("category", e))?;
        let parent_id = if parent.is_empty() {
            None
        } else {
            Some(
                *ids.get(parent)
                    .ok_or_else(|| csv_error("category", parent))?,
            )
        };
        category::Entity::insert(category::ActiveModel {
            id: Set(id),
            code: Set(code.to_string()),
            name: Set(name.to_string()),
            parent_id: Set(parent_id),
        })
        .exec_without_returning(db)
        .await?;
        ids.insert(code.to_string(), id);
    }
    crate::reference::policies::reset_sequence(db, "categories", ids.len()).await
}
