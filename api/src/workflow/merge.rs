//! Merging a duplicate (重复件) into its canonical case: the duplicate is closed with
//! `duplicate_of` set, and from then on counts once in statistics (via the canonical).

use super::authz::{self, Operation};
use super::service::{begin_versioned, check_version, load_visible, reload, Env, EventDraft};
use super::state_machine::{transition, validate_merge, Action};
use crate::error::{ApiError, ApiResult};
use entities::case;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

/// Closes `duplicate_id` as a duplicate of `canonical_id`; both must be in scope.
pub async fn merge_duplicate(
    env: Env<'_>,
    duplicate_id: i64,
    canonical_id: i64,
    expected_version: Option<i32>,
) -> ApiResult<case::Model> {
    authz::require(env.principal, Operation::Case(Action::MergeAsDuplicate))?;
    if duplicate_id == canonical_id {
        return Err(ApiError::bad_input(
            "a case cannot be a duplicate of itself",
        ));
    }
    let duplicate = load_visible(env.db, env.principal, duplicate_id).await?;
    let canonical = load_visible(env.db, env.principal, canonical_id).await?;
    check_version(&duplicate, expected_version)?;
    let to = transition(duplicate.status, Action::MergeAsDuplicate)?;
    validate_merge(
        duplicate.id,
        canonical.id,
        canonical.duplicate_of,
        canonical.status,
    )
    .map_err(ApiError::bad_input)?;

    let changes = case::ActiveModel {
        status: Set(to),
        closed_at: Set(Some(env.now)),
        duplicate_of: Set(Some(canonical.id)),
        ..Default::default()
    };
    let txn = begin_versioned(env.db, &duplicate, changes, env.now).await?;
    // The canonical must not have become a duplicate meanwhile (that would make a
    // chain): touching its version under the same condition serialises the two merges.
    let guarded = case::Entity::update_many()
        .col_expr(
            case::Column::Version,
            Expr::col(case::Column::Version).add(1),
        )
        .filter(case::Column::Id.eq(canonical.id))
        .filter(case::Column::Version.eq(canonical.version))
        .filter(case::Column::DuplicateOf.is_null())
        .exec(&txn)
        .await?;
    if guarded.rows_affected == 0 {
        txn.rollback().await?;
        return Err(ApiError::Conflict(format!(
            "case {} changed while merging; reload it and retry",
            canonical.id
        )));
    }
    // A case others were merged into stays canonical: re-point them first.
    let dependants = case::Entity::find()
        .filter(case::Column::DuplicateOf.eq(duplicate.id))
        .count(&txn)
        .await?;
    if dependants > 0 {
        txn.rollback().await?;
        return Err(ApiError::bad_input(format!(
            "case {} is canonical for {dependants} duplicate(s) and cannot itself be merged",
            duplicate.id
        )));
    }
    let event = EventDraft {
        action: Action::MergeAsDuplicate,
        to,
        department_id: duplicate.department_id,
        reply_due_at: None,
        note: Some(format!("duplicate of {}", canonical.tracking_number)),
    };
    event.into_model(&env, &duplicate).insert(&txn).await?;
    txn.commit().await?;
    crate::live::committed();
    reload(env.db, duplicate.id).await
}
