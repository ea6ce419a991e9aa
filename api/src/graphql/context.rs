//! Typed access to what a resolver needs from the request context.

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::graphql::loaders::Loaders;
use async_graphql::Context;
use sea_orm::DatabaseConnection;

pub trait ContextExt {
    fn db(&self) -> ApiResult<&DatabaseConnection>;
    fn principal(&self) -> ApiResult<&Principal>;
    fn loaders(&self) -> ApiResult<&Loaders>;
}

fn missing(what: &str) -> ApiError {
    ApiError::Internal(format!("request context lacks {what}"))
}

impl ContextExt for Context<'_> {
    fn db(&self) -> ApiResult<&DatabaseConnection> {
        self.data_opt::<DatabaseConnection>()
            .ok_or_else(|| missing("the database"))
    }

    fn principal(&self) -> ApiResult<&Principal> {
        self.data_opt::<Principal>()
            .ok_or_else(|| missing("the principal"))
    }

    fn loaders(&self) -> ApiResult<&Loaders> {
        self.data_opt::<Loaders>()
            .ok_or_else(|| missing("the loaders"))
    }
}
