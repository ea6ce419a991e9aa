//! 部门/单位: a unit that handles cases. `path` is the materialised chain of ancestor
//! ids (`/1/7/12/`) so a department subtree is one prefix match.

use crate::DepartmentKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "departments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub region_code: String,
    pub parent_id: Option<i32>,
    pub kind: DepartmentKind,
    pub path: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
