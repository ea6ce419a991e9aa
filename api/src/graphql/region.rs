//! Regions (行政区划): the administrative tree, read-only reference data.

use super::context::ContextExt;
use super::department::Department;
use super::ids::known_region;
use crate::error::ApiResult;
use async_graphql::{Context, Object};
use entities::{region, RegionLevel};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

pub struct Region(pub region::Model);

#[Object]
impl Region {
    /// The statistical division code: 6 digits down to counties, 9 for townships.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn level(&self) -> RegionLevel {
        self.0.level
    }
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        let Some(code) = &self.0.parent_code else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .regions
            .load_one(code.clone())
            .await?
            .map(Region))
    }
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Region>> {
        let rows = ctx
            .loaders()?
            .child_regions
            .load_one(self.0.code.clone())
            .await?;
        Ok(rows.unwrap_or_default().into_iter().map(Region).collect())
    }
    /// Departments located directly in this region.
    async fn departments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Department>> {
        let rows = ctx
            .loaders()?
            .region_departments
            .load_one(self.0.code.clone())
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Department)
            .collect())
    }
}

#[derive(Default)]
pub struct RegionQuery;

#[Object]
impl RegionQuery {
    /// Regions under `parentCode` (provinces when omitted), optionally of one level.
    async fn regions(
        &self,
        ctx: &Context<'_>,
        parent_code: Option<String>,
        level: Option<RegionLevel>,
    ) -> ApiResult<Vec<Region>> {
        let db = ctx.db()?;
        let mut query = region::Entity::find().order_by_asc(region::Column::Code);
        match (&parent_code, level) {
            (Some(code), _) => {
                known_region(db, code).await?;
                query = query.filter(region::Column::ParentCode.eq(code.clone()));
            }
            (None, None) => query = query.filter(region::Column::ParentCode.is_null()),
            (None, Some(_)) => {}
        }
        if let Some(level) = level {
            query = query.filter(region::Column::Level.eq(level));
        }
        Ok(query.all(db).await?.into_iter().map(Region).collect())
    }

    /// One region by code; an unknown code is BAD_USER_INPUT.
    async fn region(&self, ctx: &Context<'_>, code: String) -> ApiResult<Option<Region>> {
        Ok(Some(Region(known_region(ctx.db()?, &code).await?)))
    }
}
