//! Who is asking: an API key resolved once per request into a role and a scope, and
//! the conditions that apply that scope inside every query (never afterwards).

use crate::error::{ApiError, ApiResult};
use crate::keys::hash_secret;
use entities::{api_key, case, department, panel_sample, region, RegionLevel, Role};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    pub key_id: Option<i32>,
    pub region: Option<region::Model>,
    pub department: Option<department::Model>,
    pub panel_id: Option<i32>,
}

impl Principal {
    /// A caller without a key.
    pub fn public() -> Self {
        Self {
            role: Role::Public,
            key_id: None,
            region: None,
            department: None,
            panel_id: None,
        }
    }

    /// An administrator acting from the command line.
    pub fn system() -> Self {
        Self {
            role: Role::Admin,
            ..Self::public()
        }
    }

    /// Resolves a bearer secret. An unknown or revoked key is refused rather than
    /// silently treated as public, so a misconfigured client notices.
    pub async fn from_secret(db: &DatabaseConnection, secret: &str) -> ApiResult<Self> {
        let key = api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(hash_secret(secret)))
            .filter(api_key::Column::RevokedAt.is_null())
            // Rows of the public role are per-case rating tokens (workflow::rating),
            // never bearer keys.
            .filter(api_key::Column::Role.ne(Role::Public))
            .one(db)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        let region = match &key.region_code {
            Some(code) => region::Entity::find_by_id(code.clone()).one(db).await?,
            None => None,
        };
        let department = match key.department_id {
            Some(id) => department::Entity::find_by_id(id).one(db).await?,
            None => None,
        };
        Ok(Self {
            role: key.role,
            key_id: Some(key.id),
            region,
            department,
            panel_id: key.panel_id,
        })
    }

    /// How this caller appears in case events.
    pub fn actor(&self) -> String {
        match self.key_id {
            Some(id) => format!("{}:key{}", self.role.as_str(), id),
            None => self.role.as_str().to_string(),
        }
    }

    /// May this caller see citizens' personal data of the cases in its scope?
    pub fn sees_personal_data(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Leader | Role::Handler)
    }

    /// The condition on `cases` rows this caller may see.
    pub fn case_visibility(&self) -> Condition {
        match self.role {
            Role::Admin => Condition::all(),
            Role::Public => public_cases(),
            Role::Leader => match &self.region {
                Some(region) => region_subtree(region),
                None => nothing(),
            },
            Role::Handler => match &self.department {
                Some(department) => department_subtree(&department.path),
                None => nothing(),
            },
            // Evaluators see only the cases sampled for their panel (one indexed
            // subquery on `panel_samples (panel_id, case_id)`).
            Role::Evaluator => match self.panel_id {
                Some(panel_id) => panel_sample_of(panel_id),
                None => nothing(),
            },
        }
    }
}

/// Cases sampled for the evaluation panel.
pub fn panel_sample_of(panel_id: i32) -> Condition {
    Condition::all().add(
        case::Column::Id.in_subquery(
            Query::select()
                .column(panel_sample::Column::CaseId)
                .from(panel_sample::Entity)
                .and_where(panel_sample::Column::PanelId.eq(panel_id))
                .to_owned(),
        ),
    )
}

/// A condition no row satisfies.
fn nothing() -> Condition {
    Condition::all().add(Expr::cust("1 = 0"))
}

/// Cases located in the region or below it: one equality on the stored ancestor code.
pub fn region_subtree(region: &region::Model) -> Condition {
    let column = match region.level {
        RegionLevel::Province => case::Column::ProvinceCode,
        RegionLevel::City => case::Column::CityCode,
        RegionLevel::County => case::Column::CountyCode,
        RegionLevel::Township | RegionLevel::Village => case::Column::RegionCode,
    };
    Condition::all().add(column.eq(region.code.clone()))
}

/// The cases the public sees: published, not merged into another. `TRUE` is written
/// into the SQL, not bound: it is what both databases' partial index of these cases says
/// (`idx_cases_published_submitted_at`), and the public's first page of a list then has
/// no parameter at all, so PostgreSQL plans it once per connection instead of on every
/// call (see `graphql::cases::page_of`).
pub fn public_cases() -> Condition {
    Condition::all()
        .add(Expr::col((case::Entity, case::Column::Published)).eq(Expr::cust("TRUE")))
        .add(case::Column::DuplicateOf.is_null())
}

/// Is `r` the region `ancestor` or below it? The same rule as [`region_subtree`], on
/// the ancestor codes stored on the region row.
pub fn region_contains(ancestor: &region::Model, r: &region::Model) -> bool {
    match ancestor.level {
        RegionLevel::Province => r.province_code == ancestor.code,
        RegionLevel::City => r.city_code.as_deref() == Some(ancestor.code.as_str()),
        RegionLevel::County => r.county_code.as_deref() == Some(ancestor.code.as_str()),
        RegionLevel::Township | RegionLevel::Village => r.code == ancestor.code,
    }
}

/// Cases handled by the department or one of its sub-units.
pub fn department_subtree(path: &str) -> Condition {
    Condition::all().add(
        case::Column::DepartmentId.in_subquery(
            Query::select()
                .column(department::Column::Id)
                .from(department::Entity)
                .and_where(department::Column::Path.starts_with(path))
                .to_owned(),
        ),
    )
}
