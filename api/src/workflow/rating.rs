//! The citizen's satisfaction rating (满意度评价): one per reply, given with the rating
//! token that `submitCase` returned to the citizen's front end, or entered by an admin
//! (e.g. from a phone callback).
//!
//! The token is stored like an API key, as its SHA-256 only, in `api_keys` with the
//! `public` role and the label `rating:<case id>`. `Principal::from_secret` never
//! accepts such a row as a bearer key, and `createApiKey` cannot make one.

use super::authz::{self, Operation};
use super::policy;
use super::service::{begin_versioned, optional_text, reload, reopen_changes, Env, EventDraft};
use super::state_machine::{transition, Action};
use crate::error::{ApiError, ApiResult};
use crate::keys::hash_secret;
use crate::open_data::redaction::public_text;
use entities::{api_key, case, case_event, rating, CaseAction, CaseStatus, RatingLevel, Role};
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

fn label(case_id: i64) -> String {
    format!("rating:{case_id}")
}

/// Issues a fresh rating token for the case, replacing any earlier one, and returns it.
pub async fn issue_token<C: ConnectionTrait>(
    db: &C,
    case_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, DbErr> {
    api_key::Entity::delete_many()
        .filter(api_key::Column::Role.eq(Role::Public))
        .filter(api_key::Column::Label.eq(label(case_id)))
        .exec(db)
        .await?;
    let token = format!("rt_{}", Alphanumeric.sample_string(&mut rand::rng(), 32));
    api_key::ActiveModel {
        key_hash: Set(hash_secret(&token)),
        prefix: Set(token.chars().take(8).collect()),
        role: Set(Role::Public),
        label: Set(Some(label(case_id))),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Does `token` belong to the case?
async fn token_matches<C: ConnectionTrait>(db: &C, case_id: i64, token: &str) -> ApiResult<bool> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_secret(token)))
        .filter(api_key::Column::Role.eq(Role::Public))
        .filter(api_key::Column::Label.eq(label(case_id)))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .is_some())
}

/// The note of a reopen the rating policy made.
pub const REOPEN_NOTE: &str = "reopened: dissatisfied rating (policy reopen_on_dissatisfied)";

/// A reopen the rating triggers.
struct PolicyReopen {
    to: CaseStatus,
    due: chrono::DateTime<chrono::Utc>,
}

/// A dissatisfied rating reopens the case when the deadline policy matching the case
/// says `reopen_on_dissatisfied` (docs/WORKFLOW.md): the workflow's own Reopen
/// transition, with a fresh reply deadline from the same policy.
async fn policy_reopen(
    env: &Env<'_>,
    current: &case::Model,
    level: RatingLevel,
) -> ApiResult<Option<PolicyReopen>> {
    if level != RatingLevel::Dissatisfied {
        return Ok(None);
    }
    let limits = policy::limits_of(
        env.db,
        current.channel,
        current.kind,
        current.category_id,
        &current.region_code,
    )
    .await?;
    if !limits.reopen_on_dissatisfied {
        return Ok(None);
    }
    Ok(Some(PolicyReopen {
        to: transition(current.status, Action::Reopen)?,
        due: limits.reply_due(env.calendar, env.now),
    }))
}

/// What the citizen says.
#[derive(Debug, Clone)]
pub struct RatingInput {
    pub level: RatingLevel,
    pub timeliness: Option<i32>,
    pub attitude: Option<i32>,
    pub result: Option<i32>,
    pub comment: Option<String>,
}

fn sub_score(name: &str, value: Option<i32>) -> ApiResult<Option<i16>> {
    match value {
        None => Ok(None),
        Some(v @ 1..=5) => Ok(Some(v as i16)),
        Some(v) => Err(ApiError::bad_input(format!(
            "`{name}` must be between 1 and 5, got {v}"
        ))),
    }
}

/// Records the rating of the case's current reply.
pub async fn rate(
    env: Env<'_>,
    id: i64,
    token: Option<&str>,
    input: RatingInput,
) -> ApiResult<case::Model> {
    authz::require(env.principal, Operation::Case(Action::Rate))?;
    let timeliness = sub_score("timeliness", input.timeliness)?;
    let attitude = sub_score("attitude", input.attitude)?;
    let result = sub_score("result", input.result)?;
    optional_text("comment", input.comment.as_deref())?;

    // The token is the citizen's scope: it reaches the case even where the caller's
    // role would not. Without it only admins rate; a caller who can see the case is
    // FORBIDDEN, anyone else learns nothing (NOT_FOUND).
    let not_found = || ApiError::not_found(format!("case {id}"));
    let current = case::Entity::find_by_id(id)
        .one(env.db)
        .await?
        .ok_or_else(not_found)?;
    let holds_token = match token {
        Some(t) => token_matches(env.db, id, t).await?,
        None => false,
    };
    if !(holds_token || env.principal.role == Role::Admin) {
        let visible = case::Entity::find_by_id(id)
            .filter(env.principal.case_visibility())
            .one(env.db)
            .await?
            .is_some();
        return Err(if visible {
            ApiError::Forbidden("rating a case needs its rating token".into())
        } else {
            not_found()
        });
    }
    let to = transition(current.status, Action::Rate)?;
    // Once per reply: the latest of the case's reply and rate events must be the reply.
    // Both bump the version, so this read stays true up to the guarded update.
    let latest = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(id))
        .filter(case_event::Column::Action.is_in([CaseAction::Reply, CaseAction::Rate]))
        .order_by_desc(case_event::Column::Id)
        .one(env.db)
        .await?;
    if latest.is_some_and(|e| e.action == CaseAction::Rate) {
        return Err(ApiError::InvalidTransition {
            action: "rate again".into(),
            status: current.status,
        });
    }

    let comment = input
        .comment
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let public_comment = match &comment {
        Some(text) => {
            let name = super::publish::citizen_name(env.db, current.citizen_id).await?;
            Some(public_text(text, name.as_deref()))
        }
        None => None,
    };
    let mut changes = case::ActiveModel {
        rating_level: Set(Some(input.level)),
        ..Default::default()
    };
    let reopen = policy_reopen(&env, &current, input.level).await?;
    if let Some(reopen) = &reopen {
        changes.status = Set(reopen.to);
        changes.reply_due_at = Set(Some(reopen.due));
        reopen_changes(current.reopen_count, &mut changes);
    }
    let txn = begin_versioned(env.db, &current, changes, env.now).await?;
    rating::ActiveModel {
        case_id: Set(id),
        level: Set(input.level),
        timeliness: Set(timeliness),
        attitude: Set(attitude),
        result: Set(result),
        comment: Set(comment),
        public_comment: Set(public_comment),
        rated_at: Set(env.now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let event = EventDraft {
        action: Action::Rate,
        to,
        department_id: current.department_id,
        reply_due_at: None,
        note: Some(input.level.as_str().to_string()),
    };
    event.into_model(&env, &current).insert(&txn).await?;
    if let Some(reopen) = reopen {
        let event = EventDraft {
            action: Action::Reopen,
            to: reopen.to,
            department_id: current.department_id,
            reply_due_at: Some(reopen.due),
            note: Some(REOPEN_NOTE.to_string()),
        };
        event.into_model(&env, &current).insert(&txn).await?;
    }
    txn.commit().await?;
    crate::live::committed();
    reload(env.db, id).await
}
