//! The end of a panel: closing computes the department results from the scores in one
//! transaction; publishing makes them public.

use super::*;

/// SCORING → CLOSED: computes and stores the results in the same transaction.
pub async fn close_panel(
    db: &DatabaseConnection,
    id: i32,
    now: DateTime<Utc>,
) -> ApiResult<panel::Model> {
    let current = panel_by_id(db, id).await?;
    let changes = panel::ActiveModel {
        status: Set(PanelStatus::Closed),
        closed_at: Set(Some(now)),
        ..Default::default()
    };
    let txn = begin_step(
        db,
        &current,
        PanelStatus::Scoring,
        changes,
        "close the panel",
    )
    .await?;
    // Read after the guarded write: no score can slip in between.
    let criteria_rows = criteria_of(&txn, id).await?;
    let criteria: Vec<Criterion> = criteria_rows
        .iter()
        .map(|c| Criterion {
            id: c.id,
            weight: c.weight,
        })
        .collect();
    let sample: BTreeMap<i64, i32> = panel_sample::Entity::find()
        .select_only()
        .column(panel_sample::Column::CaseId)
        .column(panel_sample::Column::DepartmentId)
        .filter(panel_sample::Column::PanelId.eq(id))
        .into_tuple::<(i64, i32)>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let scores: Vec<Score> = panel_score::Entity::find()
        .filter(panel_score::Column::PanelId.eq(id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| Score {
            member_id: s.member_id,
            case_id: s.case_id,
            criterion_id: s.criterion_id,
            score: s.score,
        })
        .collect();
    let scale = Scale {
        min: current.scale_min,
        max: current.scale_max,
    };
    let results = scoring::results(&criteria, scale, &sample, &scores);
    for row in &criteria_rows {
        let mut a: panel_criterion::ActiveModel = row.clone().into();
        a.mean_score = Set(results.criterion_means.get(&row.id).copied().flatten());
        a.update(&txn).await?;
    }
    let rows: Vec<panel_department_result::ActiveModel> = results
        .departments
        .iter()
        .map(|d| panel_department_result::ActiveModel {
            panel_id: Set(id),
            department_id: Set(d.department_id),
            cases: Set(d.score.n as i32),
            mean_score: Set(d.score.mean),
            ci_low: Set(d.score.interval.map(|i| i.0)),
            ci_high: Set(d.score.interval.map(|i| i.1)),
            normalized_score: Set(d.normalized),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        panel_department_result::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    panel::Entity::update_many()
        .col_expr(panel::Column::Alpha, Expr::value(results.alpha))
        .filter(panel::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    panel_by_id(db, id).await
}

/// CLOSED → PUBLISHED: the results become public.
pub async fn publish_panel(
    db: &DatabaseConnection,
    id: i32,
    now: DateTime<Utc>,
) -> ApiResult<panel::Model> {
    let current = panel_by_id(db, id).await?;
    let changes = panel::ActiveModel {
        status: Set(PanelStatus::Published),
        published_at: Set(Some(now)),
        ..Default::default()
    };
    let txn = begin_step(
        db,
        &current,
        PanelStatus::Closed,
        changes,
        "publish the panel",
    )
    .await?;
    txn.commit().await?;
    panel_by_id(db, id).await
}
