//! Services: the categories (分类) of cases. `service_code` is the category code,
//! `group` the parent category's name. No service asks for extra attributes
//! (`metadata: false`), so a service definition has an empty attribute list.

use super::document::{Document, Field, Record};
use super::error::Open311Error;
use entities::category;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use std::collections::HashMap;

/// `GET services`: every category, by code.
pub async fn list(db: &DatabaseConnection) -> Result<Document, Open311Error> {
    let categories = category::Entity::find()
        .order_by_asc(category::Column::Code)
        .all(db)
        .await?;
    let names: HashMap<i32, &str> = categories.iter().map(|c| (c.id, c.name.as_str())).collect();
    let records = categories
        .iter()
        .map(|c| record(c, c.parent_id.and_then(|id| names.get(&id).copied())))
        .collect();
    Ok(Document::List {
        root: "services",
        item: "service",
        records,
    })
}

/// `GET services/{code}`: the definition of one service, 404 for an unknown code.
pub async fn definition(db: &DatabaseConnection, code: &str) -> Result<Document, Open311Error> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let found = category::Entity::find()
        .filter(category::Column::Code.eq(code))
        .one(db)
        .await?;
    let Some(service) = found else {
        return Err(Open311Error::NotFound(format!("no service `{code}`")));
    };
    Ok(Document::Object {
        root: "service_definition",
        record: vec![
            ("service_code", Field::Text(service.code)),
            (
                "attributes",
                Field::List {
                    item: "attribute",
                    records: Vec::new(),
                },
            ),
        ],
    })
}

fn record(category: &category::Model, group: Option<&str>) -> Record {
    // The spec wants a description; the tree has none, so it is the path in the tree.
    let description = match group {
        Some(group) => format!("{group} / {}", category.name),
        None => category.name.clone(),
    };
    vec![
        ("service_code", Field::Text(category.code.clone())),
        ("service_name", Field::Text(category.name.clone())),
        ("description", Field::Text(description)),
        ("metadata", Field::Bool(false)),
        ("type", Field::Text("realtime".to_string())),
        ("keywords", Field::Null),
        ("group", Field::text_or_null(group.map(str::to_string))),
    ]
}
