//! Administration: departments (with their materialised `path`), deadline policies and
//! API keys. Admin role only: no key is UNAUTHENTICATED, another role FORBIDDEN.

use super::context::ContextExt;
use super::department::Department;
use super::ids::{known_region, parse_id};
use crate::error::{ApiError, ApiResult};
use crate::keys::{create_key, KeyGrant};
use crate::workflow::authz::{require, Operation};
use crate::workflow::service::required_text;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{
    api_key, category, deadline_policy, department, CaseKind, Channel, DepartmentKind, Role,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};

fn admin<'c>(ctx: &'c Context<'_>) -> ApiResult<&'c DatabaseConnection> {
    require(ctx.principal()?, Operation::Admin)?;
    ctx.db()
}

async fn existing_department(
    db: &DatabaseConnection,
    id: &ID,
    what: &str,
) -> ApiResult<department::Model> {
    let id: i32 = parse_id(id, what)?;
    department::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("unknown {what} {id}")))
}

#[derive(InputObject)]
pub struct CreateDepartmentInput {
    pub name: String,
    pub region_code: String,
    pub parent_id: Option<ID>,
    pub kind: DepartmentKind,
}

/// Only the fields given change; `parentId: null` makes the department top-level.
#[derive(InputObject)]
pub struct UpdateDepartmentInput {
    pub name: Option<String>,
    pub region_code: Option<String>,
    pub parent_id: MaybeUndefined<ID>,
    pub kind: Option<DepartmentKind>,
}

/// Omit `id` to add a policy; give it to replace that policy. A `null` matcher matches
/// anything; the most specific matching policy wins.
#[derive(InputObject)]
pub struct DeadlinePolicyInput {
    pub id: Option<ID>,
    pub name: String,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    pub category_id: Option<ID>,
    pub region_code: Option<String>,
    pub respond_hours: i32,
    pub reply_working_days: i32,
    /// A dissatisfied rating reopens the case (docs/WORKFLOW.md); false when omitted.
    #[graphql(default)]
    pub reopen_on_dissatisfied: bool,
}

#[derive(SimpleObject)]
pub struct DeadlinePolicy {
    pub id: ID,
    pub name: String,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    pub category_id: Option<ID>,
    pub region_code: Option<String>,
    pub respond_hours: i32,
    pub reply_working_days: i32,
    pub reopen_on_dissatisfied: bool,
}

impl From<deadline_policy::Model> for DeadlinePolicy {
    fn from(p: deadline_policy::Model) -> Self {
        Self {
            id: ID(p.id.to_string()),
            name: p.name,
            channel: p.channel,
            kind: p.kind,
            category_id: p.category_id.map(|id| ID(id.to_string())),
            region_code: p.region_code,
            respond_hours: p.respond_hours,
            reply_working_days: p.reply_working_days,
            reopen_on_dissatisfied: p.reopen_on_dissatisfied,
        }
    }
}

#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub role: Role,
    pub region_code: Option<String>,
    pub department_id: Option<ID>,
    pub panel_id: Option<ID>,
    pub label: Option<String>,
}

/// A new key. `secret` is shown this once; only its hash is stored.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    pub id: ID,
    pub role: Role,
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct RevokedApiKey {
    pub id: ID,
    pub revoked_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        input: CreateDepartmentInput,
    ) -> ApiResult<Department> {
        let db = admin(ctx)?;
        required_text("name", &input.name)?;
        let region = known_region(db, &input.region_code).await?;
        let parent = match &input.parent_id {
            Some(id) => Some(existing_department(db, id, "parent department").await?),
            None => None,
        };
        let txn = db.begin().await?;
        let row = department::ActiveModel {
            name: Set(input.name.trim().to_string()),
            region_code: Set(region.code),
            parent_id: Set(parent.as_ref().map(|p| p.id)),
            kind: Set(input.kind),
            // The path holds the row's own id, known only after the insert.
            path: Set(String::new()),
            created_at: Set(crate::clock::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let path = format!("{}{}/", parent.map_or("/".to_string(), |p| p.path), row.id);
        let mut active = row.into_active_model();
        active.path = Set(path);
        let row = active.update(&txn).await?;
        txn.commit().await?;
        Ok(Department(row))
    }

    /// Renames, re-kinds, moves to another region or parent. Moving rewrites the path
    /// of the whole subtree in the same transaction.
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateDepartmentInput,
    ) -> ApiResult<Department> {
        let db = admin(ctx)?;
        let current = department::Entity::find_by_id(parse_id::<i32>(&id, "department")?)
            .one(db)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("department {}", id.as_str())))?;
        let mut active = current.clone().into_active_model();
        if let Some(name) = &input.name {
            required_text("name", name)?;
            active.name = Set(name.trim().to_string());
        }
        if let Some(code) = &input.region_code {
            active.region_code = Set(known_region(db, code).await?.code);
        }
        if let Some(kind) = input.kind {
            active.kind = Set(kind);
        }
        let new_parent = match &input.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(pid) => Some(Some(
                existing_department(db, pid, "parent department").await?,
            )),
        };
        let moves_below_itself = new_parent
            .as_ref()
            .and_then(Option::as_ref)
            .is_some_and(|p| p.path.starts_with(&current.path));
        if moves_below_itself {
            return Err(ApiError::bad_input("a department cannot move below itself"));
        }
        let txn = db.begin().await?;
        if let Some(parent) = new_parent {
            let path = format!(
                "{}{}/",
                parent.as_ref().map_or("/", |p| p.path.as_str()),
                current.id
            );
            active.parent_id = Set(parent.map(|p| p.id));
            // The subtree is small (a unit's sub-units); rewriting it row by row keeps
            // the prefix swap identical on SQLite and PostgreSQL.
            let subtree = department::Entity::find()
                .filter(department::Column::Path.starts_with(&current.path))
                .filter(department::Column::Id.ne(current.id))
                .all(&txn)
                .await?;
            for d in subtree {
                let moved = format!("{path}{}", &d.path[current.path.len()..]);
                let mut a = d.into_active_model();
                a.path = Set(moved);
                a.update(&txn).await?;
            }
            active.path = Set(path);
        }
        let row = active.update(&txn).await?;
        txn.commit().await?;
        Ok(Department(row))
    }

    async fn set_deadline_policy(
        &self,
        ctx: &Context<'_>,
        input: DeadlinePolicyInput,
    ) -> ApiResult<DeadlinePolicy> {
        let db = admin(ctx)?;
        required_text("name", &input.name)?;
        if !(1..=720).contains(&input.respond_hours) {
            return Err(ApiError::bad_input(
                "`respondHours` must be between 1 and 720",
            ));
        }
        if !(1..=365).contains(&input.reply_working_days) {
            return Err(ApiError::bad_input(
                "`replyWorkingDays` must be between 1 and 365",
            ));
        }
        let category_id = match &input.category_id {
            Some(id) => {
                let id: i32 = parse_id(id, "category")?;
                category::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .ok_or_else(|| ApiError::bad_input(format!("unknown category {id}")))?;
                Some(id)
            }
            None => None,
        };
        let region_code = match &input.region_code {
            Some(code) => Some(known_region(db, code).await?.code),
            None => None,
        };
        let mut active = match &input.id {
            Some(id) => {
                deadline_policy::Entity::find_by_id(parse_id::<i32>(id, "deadline policy")?)
                    .one(db)
                    .await?
                    .ok_or_else(|| ApiError::not_found(format!("deadline policy {}", id.as_str())))?
                    .into_active_model()
            }
            None => <deadline_policy::ActiveModel as Default>::default(),
        };
        active.name = Set(input.name.trim().to_string());
        active.channel = Set(input.channel);
        active.kind = Set(input.kind);
        active.category_id = Set(category_id);
        active.region_code = Set(region_code);
        active.respond_hours = Set(input.respond_hours);
        active.reply_working_days = Set(input.reply_working_days);
        active.reopen_on_dissatisfied = Set(input.reopen_on_dissatisfied);
        let row = if input.id.is_some() {
            active.update(db).await?
        } else {
            active.insert(db).await?
        };
        Ok(row.into())
    }

    /// Deletes a policy and returns its id. Cases already accepted keep their deadline.
    async fn delete_deadline_policy(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let db = admin(ctx)?;
        let key: i32 = parse_id(&id, "deadline policy")?;
        let result = deadline_policy::Entity::delete_by_id(key).exec(db).await?;
        if result.rows_affected == 0 {
            return Err(ApiError::not_found(format!("deadline policy {key}")));
        }
        Ok(id)
    }

    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> ApiResult<CreatedApiKey> {
        let db = admin(ctx)?;
        let grant = KeyGrant {
            role: input.role,
            region_code: input.region_code,
            department_id: input
                .department_id
                .as_ref()
                .map(|id| parse_id(id, "department"))
                .transpose()?,
            panel_id: input
                .panel_id
                .as_ref()
                .map(|id| parse_id(id, "panel"))
                .transpose()?,
            label: input.label,
        };
        let key = create_key(db, grant).await?;
        Ok(CreatedApiKey {
            id: ID(key.id.to_string()),
            role: key.role,
            secret: key.secret,
        })
    }

    /// Revokes a key at once (idempotent: a revoked key keeps its first revocation time).
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> ApiResult<RevokedApiKey> {
        let db = admin(ctx)?;
        let key_id: i32 = parse_id(&id, "API key")?;
        let key = api_key::Entity::find_by_id(key_id)
            .filter(api_key::Column::Role.ne(Role::Public))
            .one(db)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("API key {key_id}")))?;
        let revoked_at = match key.revoked_at {
            Some(at) => at,
            None => {
                let now = crate::clock::now();
                let mut active = key.into_active_model();
                active.revoked_at = Set(Some(now));
                active.update(db).await?;
                now
            }
        };
        Ok(RevokedApiKey { id, revoked_at })
    }
}
