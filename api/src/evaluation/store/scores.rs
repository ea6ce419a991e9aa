//! Reviewers' scores: submitted once per member and case while the panel is open, and
//! shown to whom the panel's rules allow.

use super::*;

/// One member's scores of one sampled case, every criterion once.
pub async fn submit_scores(
    db: &DatabaseConnection,
    principal: &Principal,
    case_id: i64,
    given: &[(i32, i32)],
    now: DateTime<Utc>,
) -> ApiResult<Vec<panel_score::Model>> {
    match principal.role {
        Role::Public => return Err(ApiError::Unauthenticated),
        Role::Evaluator => {}
        _ => {
            return Err(ApiError::Forbidden(
                "only the members of a panel score its cases".into(),
            ))
        }
    }
    let member = member_of(db, principal).await?.ok_or_else(|| {
        ApiError::Forbidden(
            "this evaluator key belongs to no panel member (issuePanelMemberKey makes one)".into(),
        )
    })?;
    let current = panel_by_id(db, member.panel_id).await?;
    if current.status != PanelStatus::Scoring {
        return Err(wrong_status(
            &current,
            "submit scores",
            PanelStatus::Scoring,
        ));
    }
    let sampled = panel_sample::Entity::find()
        .filter(panel_sample::Column::PanelId.eq(current.id))
        .filter(panel_sample::Column::CaseId.eq(case_id))
        .one(db)
        .await?
        .is_some();
    if !sampled {
        return Err(ApiError::not_found(format!("case {case_id}")));
    }
    let criteria: Vec<Criterion> = criteria_of(db, current.id)
        .await?
        .into_iter()
        .map(|c| Criterion {
            id: c.id,
            weight: c.weight,
        })
        .collect();
    let scale = Scale {
        min: current.scale_min,
        max: current.scale_max,
    };
    scoring::check_submission(&criteria, scale, given).map_err(ApiError::BadUserInput)?;
    let duplicate = || {
        ApiError::Conflict(format!(
            "you have already scored case {case_id}; a submission is final"
        ))
    };
    let earlier = panel_score::Entity::find()
        .filter(panel_score::Column::MemberId.eq(member.id))
        .filter(panel_score::Column::CaseId.eq(case_id))
        .count(db)
        .await?;
    if earlier > 0 {
        return Err(duplicate());
    }
    // The guard (a no-op status write) orders this submission against the close: after
    // the close committed it matches no row and the scores are refused.
    let txn = begin_step(
        db,
        &current,
        PanelStatus::Scoring,
        <panel::ActiveModel as Default>::default(),
        "submit scores",
    )
    .await?;
    let rows = given
        .iter()
        .map(|(criterion_id, score)| panel_score::ActiveModel {
            panel_id: Set(current.id),
            member_id: Set(member.id),
            case_id: Set(case_id),
            criterion_id: Set(*criterion_id),
            score: Set(*score),
            submitted_at: Set(now),
            ..Default::default()
        });
    match panel_score::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await
    {
        Ok(_) => {}
        // The unique (member, case, criterion) index: a concurrent twin submission.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Err(duplicate());
        }
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(panel_score::Entity::find()
        .filter(panel_score::Column::MemberId.eq(member.id))
        .filter(panel_score::Column::CaseId.eq(case_id))
        .order_by_asc(panel_score::Column::CriterionId)
        .all(db)
        .await?)
}

/// The scores the caller may read: admins all; a member their own until the panel
/// closes and everyone's after; anyone else who sees the panel, none before it is
/// closed and all after.
pub async fn visible_scores(
    db: &DatabaseConnection,
    principal: &Principal,
    p: &panel::Model,
) -> ApiResult<Vec<panel_score::Model>> {
    let mut query = panel_score::Entity::find().filter(panel_score::Column::PanelId.eq(p.id));
    if principal.role != Role::Admin && !p.status.is_closed() {
        match member_of(db, principal).await? {
            Some(member) => query = query.filter(panel_score::Column::MemberId.eq(member.id)),
            None => return Ok(Vec::new()),
        }
    }
    Ok(query
        .order_by_asc(panel_score::Column::CaseId)
        .order_by_asc(panel_score::Column::MemberId)
        .order_by_asc(panel_score::Column::CriterionId)
        .all(db)
        .await?)
}
