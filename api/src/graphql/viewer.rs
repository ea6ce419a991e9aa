//! `viewer`: who the API key in this request belongs to, so a front end can start at
//! the caller's own scope (a leader's region, a handler's department) instead of
//! guessing and running into FORBIDDEN.

use super::context::ContextExt;
use super::department::Department;
use super::region::Region;
use crate::error::ApiResult;
use async_graphql::{Context, Object, SimpleObject, ID};
use entities::Role;

/// The caller of this request: the role and scope of its API key (`PUBLIC` without one).
#[derive(SimpleObject)]
pub struct Viewer {
    pub role: Role,
    /// The region subtree the key is limited to; `null` = not limited by region.
    pub region: Option<Region>,
    /// The department subtree the key is limited to; `null` = not limited by department.
    pub department: Option<Department>,
    /// The evaluation panel an evaluator's key belongs to.
    pub panel_id: Option<ID>,
    /// Whether free text is shown unmasked and citizens' contact data is readable.
    pub sees_personal_data: bool,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who is asking (from the `Authorization` header).
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let principal = ctx.principal()?;
        Ok(Viewer {
            role: principal.role,
            region: principal.region.clone().map(Region),
            department: principal.department.clone().map(Department),
            panel_id: principal.panel_id.map(|id| ID(id.to_string())),
            sees_personal_data: principal.sees_personal_data(),
        })
    }
}
