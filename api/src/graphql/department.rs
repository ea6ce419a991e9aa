//! Departments (部门/单位) that handle cases.

use super::context::ContextExt;
use super::ids::{known_region, parse_id};
use super::region::Region;
use crate::error::{ApiError, ApiResult};
use async_graphql::{Context, Object, SimpleObject, ID};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use entities::{department, region, DepartmentKind};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

pub struct Department(pub department::Model);

#[Object]
impl Department {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> DepartmentKind {
        self.0.kind
    }
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        Ok(ctx
            .loaders()?
            .regions
            .load_one(self.0.region_code.clone())
            .await?
            .map(Region))
    }
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Department>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .departments
            .load_one(id)
            .await?
            .map(Department))
    }
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Department>> {
        let rows = ctx.loaders()?.child_departments.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Department)
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct DepartmentEdge {
    cursor: String,
    node: Department,
}

#[derive(SimpleObject)]
pub struct DepartmentPageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct DepartmentConnection {
    total_count: u64,
    page_info: DepartmentPageInfo,
    edges: Vec<DepartmentEdge>,
}

fn encode(id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("d1:{id}"))
}

fn decode(cursor: &str) -> ApiResult<i32> {
    let malformed = || ApiError::bad_input(format!("malformed cursor {cursor:?}"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    text.strip_prefix("d1:")
        .and_then(|id| id.parse().ok())
        .ok_or_else(malformed)
}

#[derive(Default)]
pub struct DepartmentQuery;

#[Object]
impl DepartmentQuery {
    /// Departments of a region subtree (all when omitted), ordered by id.
    async fn departments(
        &self,
        ctx: &Context<'_>,
        region_code: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<DepartmentConnection> {
        let db = ctx.db()?;
        let first = super::cases::page_size(first, "first")?.unwrap_or(20);
        let mut query = department::Entity::find();
        if let Some(code) = region_code {
            let region = known_region(db, &code).await?;
            let column = match region.level {
                entities::RegionLevel::Province => region::Column::ProvinceCode,
                entities::RegionLevel::City => region::Column::CityCode,
                entities::RegionLevel::County => region::Column::CountyCode,
                _ => region::Column::Code,
            };
            query = query.filter(
                department::Column::RegionCode.in_subquery(
                    Query::select()
                        .column(region::Column::Code)
                        .from(region::Entity)
                        .and_where(column.eq(region.code))
                        .to_owned(),
                ),
            );
        }
        let total_count = query.clone().count(db).await?;
        if let Some(after) = after {
            query = query.filter(department::Column::Id.gt(decode(&after)?));
        }
        let mut rows = query
            .order_by_asc(department::Column::Id)
            .limit(first + 1)
            .all(db)
            .await?;
        let has_next_page = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let end_cursor = rows.last().map(|d| encode(d.id));
        Ok(DepartmentConnection {
            total_count,
            page_info: DepartmentPageInfo {
                has_next_page,
                end_cursor,
            },
            edges: rows
                .into_iter()
                .map(|d| DepartmentEdge {
                    cursor: encode(d.id),
                    node: Department(d),
                })
                .collect(),
        })
    }

    async fn department(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Department>> {
        let id: i32 = parse_id(&id, "department")?;
        Ok(department::Entity::find_by_id(id)
            .one(ctx.db()?)
            .await?
            .map(Department))
    }
}
