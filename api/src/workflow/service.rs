//! Applying one action to one case: authorise, ask the state machine, then write the
//! case and its event in one transaction guarded by the case's version.
//!
//! Reads happen before the transaction and the guarded UPDATE is its first statement.
//! That order matters on SQLite: a transaction that read first and then tries to write
//! after another writer committed fails with SQLITE_BUSY_SNAPSHOT, whatever the busy
//! timeout; one that writes first simply waits for the lock, then finds the version
//! moved and reports CONFLICT. On PostgreSQL the UPDATE waits for the row lock and
//! re-checks the version the same way.

use super::authz::{self, Operation};
use super::policy;
use super::state_machine::{transition, Action};
use crate::auth::{region_contains, Principal};
use crate::error::{ApiError, ApiResult};
use crate::open_data::redaction::public_text;
use chrono::{DateTime, Utc};
use dashboard_queries::calendar::WorkCalendar;
use entities::{case, case_event, department, region, CaseStatus, Role};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};

/// Longest free text accepted in a reason, note or reply.
pub const MAX_TEXT: usize = 10_000;
/// Longest extension one decision may grant.
pub const MAX_EXTENSION_DAYS: i32 = 60;

/// What every action needs: the database, the calendar, the caller and the instant.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub db: &'a DatabaseConnection,
    pub calendar: &'a WorkCalendar,
    pub principal: &'a Principal,
    pub now: DateTime<Utc>,
}

/// An action with its arguments (rating and merging have their own modules).
#[derive(Debug, Clone)]
pub enum Command {
    Accept,
    Reject {
        reason: String,
    },
    Assign {
        department_id: i32,
        note: Option<String>,
    },
    Transfer {
        department_id: i32,
        reason: String,
    },
    Claim,
    Respond {
        note: Option<String>,
    },
    Remind {
        note: Option<String>,
    },
    Extend {
        working_days: i32,
        reason: String,
    },
    Reply {
        text: String,
    },
    Close {
        note: Option<String>,
    },
    Reopen {
        reason: String,
    },
    Supervise {
        reason: String,
    },
    Archive {
        note: Option<String>,
    },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Accept => Action::Accept,
            Command::Reject { .. } => Action::Reject,
            Command::Assign { .. } => Action::Assign,
            Command::Transfer { .. } => Action::Transfer,
            Command::Claim => Action::Claim,
            Command::Respond { .. } => Action::Respond,
            Command::Remind { .. } => Action::Remind,
            Command::Extend { .. } => Action::Extend,
            Command::Reply { .. } => Action::Reply,
            Command::Close { .. } => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
            Command::Supervise { .. } => Action::Supervise,
            Command::Archive { .. } => Action::Archive,
        }
    }

    /// The note the event records.
    fn note(&self) -> Option<String> {
        match self {
            Command::Reject { reason }
            | Command::Transfer { reason, .. }
            | Command::Extend { reason, .. }
            | Command::Reopen { reason }
            | Command::Supervise { reason } => Some(reason.trim().to_string()),
            Command::Assign { note, .. }
            | Command::Remind { note }
            | Command::Respond { note }
            | Command::Close { note }
            | Command::Archive { note } => note.as_deref().map(str::trim).map(str::to_string),
            Command::Accept | Command::Claim | Command::Reply { .. } => None,
        }
    }

    /// Checks the arguments alone, before the case is looked at.
    fn validate(&self) -> ApiResult<()> {
        match self {
            Command::Reject { reason }
            | Command::Transfer { reason, .. }
            | Command::Extend { reason, .. }
            | Command::Reopen { reason }
            | Command::Supervise { reason } => required_text("reason", reason)?,
            Command::Reply { text } => required_text("reply", text)?,
            Command::Assign { note, .. }
            | Command::Remind { note }
            | Command::Respond { note }
            | Command::Close { note }
            | Command::Archive { note } => optional_text("note", note.as_deref())?,
            Command::Accept | Command::Claim => {}
        }
        if let Command::Extend { working_days, .. } = self {
            if !(1..=MAX_EXTENSION_DAYS).contains(working_days) {
                return Err(ApiError::bad_input(format!(
                    "`workingDays` must be between 1 and {MAX_EXTENSION_DAYS}, got {working_days}"
                )));
            }
        }
        Ok(())
    }
}

/// A non-blank text of at most [`MAX_TEXT`] characters.
pub fn required_text(name: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_input(format!("`{name}` must not be blank")));
    }
    optional_text(name, Some(value))
}

pub fn optional_text(name: &str, value: Option<&str>) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => Err(ApiError::bad_input(format!(
            "`{name}` is limited to {MAX_TEXT} characters"
        ))),
        _ => Ok(()),
    }
}

/// The case if the caller may see it; a case outside the scope is NOT_FOUND, exactly
/// like a missing one.
pub async fn load_visible(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> ApiResult<case::Model> {
    case::Entity::find_by_id(id)
        .filter(principal.case_visibility())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("case {id}")))
}

/// A client that read version N and acts on it must still find version N.
pub fn check_version(current: &case::Model, expected: Option<i32>) -> ApiResult<()> {
    match expected {
        Some(v) if v != current.version => Err(ApiError::Conflict(format!(
            "case {} changed since it was read (version {} is now {})",
            current.id, v, current.version
        ))),
        _ => Ok(()),
    }
}

/// Opens the transaction with the guarded update: the case moves from `current.version`
/// to the next one, or nobody else's change is overwritten and the result is CONFLICT.
pub async fn begin_versioned(
    db: &DatabaseConnection,
    current: &case::Model,
    mut changes: case::ActiveModel,
    now: DateTime<Utc>,
) -> ApiResult<DatabaseTransaction> {
    let txn = db.begin().await?;
    changes.updated_at = Set(now);
    let result = case::Entity::update_many()
        .set(changes)
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .filter(case::Column::Id.eq(current.id))
        .filter(case::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        txn.rollback().await?;
        return Err(ApiError::Conflict(format!(
            "case {} was changed by someone else at the same time; reload it and retry",
            current.id
        )));
    }
    // The version guard held, so the row was `current` until this update: move its
    // contribution to the rollup in the same transaction.
    let updated = case::Entity::find_by_id(current.id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("case {} vanished in its update", current.id)))?;
    dashboard_queries::rollup::apply_delta(&txn, Some(current), &updated).await?;
    Ok(txn)
}

/// The event of an action on `current` that led to `to`.
pub struct EventDraft {
    pub action: Action,
    pub to: CaseStatus,
    pub department_id: Option<i32>,
    pub reply_due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl EventDraft {
    pub fn into_model(self, env: &Env<'_>, current: &case::Model) -> case_event::ActiveModel {
        case_event::ActiveModel {
            case_id: Set(current.id),
            at: Set(env.now),
            action: Set(self.action.event()),
            from_status: Set(Some(current.status)),
            to_status: Set(Some(self.to)),
            department_id: Set(self.department_id),
            reply_due_at: Set(self.reply_due_at),
            actor: Set(env.principal.actor()),
            note: Set(self.note),
            ..Default::default()
        }
    }
}

/// What a reopen does to the case beyond its status and deadline: the answer is no
/// longer the answer. Shared by `reopenCase` and the policy reopen after a dissatisfied
/// rating (`workflow::rating`).
pub fn reopen_changes(reopen_count: i32, changes: &mut case::ActiveModel) {
    changes.replied_at = Set(None);
    changes.closed_at = Set(None);
    changes.reopen_count = Set(reopen_count + 1);
}

/// Re-reads a case after a committed change.
pub async fn reload(db: &DatabaseConnection, id: i64) -> ApiResult<case::Model> {
    case::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("case {id} vanished after an update")))
}

/// A department the case may be given to. Leaders give cases only to departments of
/// their own region subtree; handlers may pass a case on to any department.
async fn target_department(env: &Env<'_>, id: i32) -> ApiResult<department::Model> {
    let target = department::Entity::find_by_id(id)
        .one(env.db)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("unknown department {id}")))?;
    if env.principal.role == Role::Leader {
        let home = region::Entity::find_by_id(target.region_code.clone())
            .one(env.db)
            .await?;
        let inside = match (&env.principal.region, home) {
            (Some(scope), Some(home)) => region_contains(scope, &home),
            _ => false,
        };
        if !inside {
            return Err(ApiError::Forbidden(format!(
                "department {id} is outside your region"
            )));
        }
    }
    Ok(target)
}

/// Applies `cmd` to case `id` and returns the case as it now is.
pub async fn apply(
    env: Env<'_>,
    id: i64,
    expected_version: Option<i32>,
    cmd: Command,
) -> ApiResult<case::Model> {
    let action = cmd.action();
    authz::require(env.principal, Operation::Case(action))?;
    cmd.validate()?;
    let current = load_visible(env.db, env.principal, id).await?;
    check_version(&current, expected_version)?;
    let to = transition(current.status, action)?;
    let now = env.now;

    let mut changes = <case::ActiveModel as Default>::default();
    if to != current.status {
        changes.status = Set(to);
    }
    let mut department_id = current.department_id;
    let mut reply_due_at = None;
    match &cmd {
        Command::Accept | Command::Reopen { .. } => {
            let limits = policy::limits_of(
                env.db,
                current.channel,
                current.kind,
                current.category_id,
                &current.region_code,
            )
            .await?;
            let due = limits.reply_due(env.calendar, now);
            reply_due_at = Some(due);
            changes.reply_due_at = Set(Some(due));
            if matches!(cmd, Command::Accept) {
                changes.accepted_at = Set(Some(now));
                changes.first_reply_due_at = Set(Some(due));
            } else {
                reopen_changes(current.reopen_count, &mut changes);
            }
        }
        Command::Reject { .. } => changes.rejected_at = Set(Some(now)),
        Command::Assign {
            department_id: target,
            ..
        }
        | Command::Transfer {
            department_id: target,
            ..
        } => {
            let target = target_department(&env, *target).await?;
            if current.department_id == Some(target.id) {
                return Err(ApiError::bad_input(format!(
                    "the case is already with department {}",
                    target.id
                )));
            }
            changes.department_id = Set(Some(target.id));
            department_id = Some(target.id);
        }
        // Taking a case on is not yet answering the citizen: the response time runs
        // until the first `respond` (or the reply, when no contact came first).
        Command::Claim => {}
        Command::Respond { .. } => {
            if current.responded_at.is_none() {
                changes.responded_at = Set(Some(now));
            }
        }
        Command::Extend { working_days, .. } => {
            // An extension adds working days to the deadline in force, not to today.
            let base = current.reply_due_at.unwrap_or(now);
            let days = u32::try_from(*working_days).unwrap_or(0);
            let due = env.calendar.add_working_days(base, days);
            reply_due_at = Some(due);
            changes.reply_due_at = Set(Some(due));
            // Before any reopen the extension moves the first-round deadline too,
            // the one reply and on-time rates are measured against.
            if current.reopen_count == 0 {
                changes.first_reply_due_at = Set(Some(due));
            }
        }
        Command::Reply { text } => {
            changes.reply = Set(Some(text.trim().to_string()));
            // The public copy is written with the reply, in the same transaction.
            let name = super::publish::citizen_name(env.db, current.citizen_id).await?;
            changes.public_reply = Set(Some(public_text(text.trim(), name.as_deref())));
            changes.replied_at = Set(Some(now));
            if current.first_replied_at.is_none() {
                changes.first_replied_at = Set(Some(now));
            }
            if current.responded_at.is_none() {
                changes.responded_at = Set(Some(now));
            }
        }
        Command::Close { .. } => changes.closed_at = Set(Some(now)),
        Command::Supervise { .. } => changes.supervised = Set(true),
        Command::Archive { .. } => changes.archived_at = Set(Some(now)),
        Command::Remind { .. } => {}
    }

    let event = EventDraft {
        action,
        to,
        department_id,
        reply_due_at,
        note: cmd.note(),
    };
    let txn = begin_versioned(env.db, &current, changes, now).await?;
    event.into_model(&env, &current).insert(&txn).await?;
    txn.commit().await?;
    crate::live::committed();
    reload(env.db, id).await
}
