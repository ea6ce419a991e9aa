//! The topic tree (分类).

use super::context::ContextExt;
use crate::error::ApiResult;
use async_graphql::{Context, Object, ID};
use entities::category;
use sea_orm::{EntityTrait, QueryOrder};

pub struct Category(pub category::Model);

#[Object]
impl Category {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// A stable English identifier, e.g. `environment.noise`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Category>> {
        let Some(id) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(ctx.loaders()?.categories.load_one(id).await?.map(Category))
    }
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Category>> {
        let rows = ctx.loaders()?.child_categories.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Category).collect())
    }
}

#[derive(Default)]
pub struct CategoryQuery;

#[Object]
impl CategoryQuery {
    /// Every category, first-level ones before their children.
    async fn categories(&self, ctx: &Context<'_>) -> ApiResult<Vec<Category>> {
        Ok(category::Entity::find()
            .order_by_asc(category::Column::Id)
            .all(ctx.db()?)
            .await?
            .into_iter()
            .map(Category)
            .collect())
    }
}
