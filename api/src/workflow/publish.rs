//! Publishing a case (公开) and taking it off the public site again (撤回公开).
//!
//! The public sees only published cases, and only their stored `public_*` text. So
//! publishing re-redacts the title, body and reply with the rules of this build, in
//! the same transaction that sets `published`: whatever the rules were when the text
//! was written, the public gets today's masking. Who may publish (the platform office
//! of the case's region, admins) is in the role matrix of docs/WORKFLOW.md.

use super::authz::{self, Operation};
use super::service::{begin_versioned, check_version, load_visible, reload, Env, EventDraft};
use super::state_machine::{transition, Action};
use crate::error::{ApiError, ApiResult};
use crate::open_data::redaction::public_text;
use entities::{case, citizen};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// The name of the citizen who submitted a case (what redaction masks besides numbers).
pub async fn citizen_name<C: ConnectionTrait>(
    db: &C,
    citizen_id: Option<i64>,
) -> Result<Option<String>, DbErr> {
    let Some(id) = citizen_id else {
        return Ok(None);
    };
    Ok(citizen::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|c| c.name))
}

/// The public copies of a case's free text, redacted now.
pub fn public_columns(case: &case::Model, citizen_name: Option<&str>) -> case::ActiveModel {
    case::ActiveModel {
        public_title: Set(Some(public_text(&case.title, citizen_name))),
        public_body: Set(Some(public_text(&case.body, citizen_name))),
        public_reply: Set(case.reply.as_deref().map(|r| public_text(r, citizen_name))),
        ..Default::default()
    }
}

/// Publishes case `id` with freshly redacted public text.
pub async fn publish(
    env: Env<'_>,
    id: i64,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    authz::require(env.principal, Operation::Case(Action::Publish))?;
    let current = load_visible(env.db, env.principal, id).await?;
    check_version(&current, expected_version)?;
    let to = transition(current.status, Action::Publish)?;
    if current.published {
        return Err(ApiError::bad_input(format!(
            "case {id} is already published"
        )));
    }
    // A merged duplicate is shown through its canonical case; the public never lists it.
    if let Some(canonical) = current.duplicate_of {
        return Err(ApiError::bad_input(format!(
            "case {id} is a merged duplicate of case {canonical}; publish the canonical case"
        )));
    }
    let name = citizen_name(env.db, current.citizen_id).await?;
    let mut changes = public_columns(&current, name.as_deref());
    changes.published = Set(true);
    write(env, &current, changes, Action::Publish, to, None).await
}

/// Takes case `id` off the public site; its public text stays stored for a later publish.
pub async fn unpublish(
    env: Env<'_>,
    id: i64,
    expected_version: Option<i32>,
    reason: String,
) -> ApiResult<case::Model> {
    authz::require(env.principal, Operation::Case(Action::Unpublish))?;
    super::service::required_text("reason", &reason)?;
    let current = load_visible(env.db, env.principal, id).await?;
    check_version(&current, expected_version)?;
    let to = transition(current.status, Action::Unpublish)?;
    if !current.published {
        return Err(ApiError::bad_input(format!("case {id} is not published")));
    }
    let changes = case::ActiveModel {
        published: Set(false),
        ..Default::default()
    };
    let note = Some(reason.trim().to_string());
    write(env, &current, changes, Action::Unpublish, to, note).await
}

/// The guarded update and its event, in one transaction.
async fn write(
    env: Env<'_>,
    current: &case::Model,
    changes: case::ActiveModel,
    action: Action,
    to: entities::CaseStatus,
    note: Option<String>,
) -> ApiResult<case::Model> {
    let event = EventDraft {
        action,
        to,
        department_id: current.department_id,
        reply_due_at: None,
        note,
    };
    let txn = begin_versioned(env.db, current, changes, env.now).await?;
    event.into_model(&env, current).insert(&txn).await?;
    txn.commit().await?;
    crate::live::committed();
    reload(env.db, current.id).await
}
