//! Drawing a panel's sample: the handled cases in its scope and window, chosen by the
//! panel's seeded stream so a draw can be re-done and checked.

use super::*;

/// The handled cases a panel samples from: replied to within its period (and still
/// replied, closed or archived), assigned to a department, not a merged duplicate,
/// inside its region and department scope.
pub fn handled_cases_condition(
    p: &panel::Model,
    scope_region: Option<&region::Model>,
    scope_department: Option<&department::Model>,
) -> Condition {
    let mut cond = Condition::all()
        .add(case::Column::DepartmentId.is_not_null())
        .add(case::Column::DuplicateOf.is_null())
        .add(case::Column::RepliedAt.gte(p.period_from))
        .add(case::Column::RepliedAt.lt(p.period_to))
        .add(case::Column::Status.is_in([
            CaseStatus::Replied,
            CaseStatus::Closed,
            CaseStatus::Archived,
        ]));
    if let Some(r) = scope_region {
        cond = cond.add(region_subtree(r));
    }
    if let Some(d) = scope_department {
        cond = cond.add(department_subtree(&d.path));
    }
    cond
}

/// DRAWN → SCORING: takes the stratified sample with the panel's seed.
pub async fn sample_cases(
    db: &DatabaseConnection,
    id: i32,
    now: DateTime<Utc>,
) -> ApiResult<panel::Model> {
    let current = panel_by_id(db, id).await?;
    if current.status != PanelStatus::Drawn {
        return Err(wrong_status(&current, "sample cases", PanelStatus::Drawn));
    }
    let scope_region = match &current.region_code {
        Some(code) => region::Entity::find_by_id(code.clone()).one(db).await?,
        None => None,
    };
    let scope_department = match current.department_id {
        Some(d) => department::Entity::find_by_id(d).one(db).await?,
        None => None,
    };
    let candidates: Vec<sampling::Candidate> = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .column(case::Column::DepartmentId)
        .column(case::Column::CategoryId)
        .filter(handled_cases_condition(
            &current,
            scope_region.as_ref(),
            scope_department.as_ref(),
        ))
        .into_tuple::<(i64, Option<i32>, Option<i32>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(case_id, department_id, category_id)| {
            department_id.map(|department_id| sampling::Candidate {
                case_id,
                department_id,
                category_id,
            })
        })
        .collect();
    if candidates.is_empty() {
        return Err(ApiError::bad_input(format!(
            "evaluation panel {id} has no handled cases in its scope and period to sample"
        )));
    }
    let plan = SamplePlan {
        size: current.sample_size as usize,
        min_per_department: current.min_per_department as usize,
        by_category: current.by_category,
    };
    let chosen = sampling::sample(&candidates, plan, current.seed as u64);
    let changes = panel::ActiveModel {
        status: Set(PanelStatus::Scoring),
        sampled_at: Set(Some(now)),
        ..Default::default()
    };
    let txn = begin_step(db, &current, PanelStatus::Drawn, changes, "sample cases").await?;
    for chunk in chosen.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|c| panel_sample::ActiveModel {
            panel_id: Set(id),
            case_id: Set(c.case_id),
            department_id: Set(c.department_id),
            category_id: Set(c.category_id),
            ..Default::default()
        });
        panel_sample::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    panel_by_id(db, id).await
}
