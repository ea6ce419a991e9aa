//! The database side of panels: each lifecycle step is one transaction whose first
//! statement moves the panel's status under a guard (`WHERE status = <expected>`), so
//! two admins racing, or a score racing the close, end in CONFLICT instead of a panel
//! half in one state and half in another. The decisions are the pure functions of
//! `draw`, `sampling` and `scoring`.

use super::draw::{self, KindCounts};
use super::sampling::{self, SamplePlan};
use super::scoring::{self, Criterion, Scale, Score};
use crate::auth::{department_subtree, region_subtree, Principal};
use crate::error::{ApiError, ApiResult};
use crate::keys::hash_secret;
use chrono::{DateTime, Utc};
use entities::evaluation_panel::{self as panel, PanelStatus};
use entities::reviewer::{self, ReviewerKind};
use entities::{
    api_key, case, department, panel_criterion, panel_department_result, panel_member,
    panel_sample, panel_score, region, CaseStatus, Role,
};
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use std::collections::{BTreeMap, BTreeSet};

mod closing;
mod sample;
mod scores;

pub use closing::{close_panel, publish_panel};
pub use sample::{handled_cases_condition, sample_cases};
pub use scores::{submit_scores, visible_scores};

/// Rows inserted per statement (well under SQLite's bound-parameter limit).
const INSERT_CHUNK: usize = 500;
/// Most members or criteria a panel may have; a typo of 10 000 is refused.
const MAX_MEMBERS_PER_KIND: i32 = 200;
const MAX_CRITERIA: usize = 20;
/// A panel reads every sampled case; thousands is already more than people can review,
/// and it keeps the unpaged `samples` list of a panel bounded.
const MAX_SAMPLE: i32 = 5_000;

/// A panel's lookup by id, NOT_FOUND when missing.
pub async fn panel_by_id<C: ConnectionTrait>(db: &C, id: i32) -> ApiResult<panel::Model> {
    panel::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("evaluation panel {id}")))
}

/// May the caller see this panel at all? Admins every panel, an evaluator their own,
/// everyone else published panels only.
pub fn may_see(principal: &Principal, p: &panel::Model) -> bool {
    match principal.role {
        Role::Admin => true,
        Role::Evaluator => principal.panel_id == Some(p.id),
        _ => p.status == PanelStatus::Published,
    }
}

/// The panel if the caller may see it; an invisible panel is NOT_FOUND like a missing one.
pub async fn visible_panel(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
) -> ApiResult<panel::Model> {
    let p = panel_by_id(db, id).await?;
    if may_see(principal, &p) {
        Ok(p)
    } else {
        Err(ApiError::not_found(format!("evaluation panel {id}")))
    }
}

/// Opens a transaction whose first statement moves the panel from `from` to `to`
/// (with the other column changes), or reports CONFLICT naming the actual status.
async fn begin_step(
    db: &DatabaseConnection,
    current: &panel::Model,
    from: PanelStatus,
    mut changes: panel::ActiveModel,
    what: &str,
) -> ApiResult<DatabaseTransaction> {
    if current.status != from {
        return Err(wrong_status(current, what, from));
    }
    let txn = db.begin().await?;
    if let sea_orm::ActiveValue::NotSet = changes.status {
        changes.status = Set(from);
    }
    let result = panel::Entity::update_many()
        .set(changes)
        .filter(panel::Column::Id.eq(current.id))
        .filter(panel::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        txn.rollback().await?;
        return Err(ApiError::Conflict(format!(
            "evaluation panel {} changed while you acted; reload it",
            current.id
        )));
    }
    Ok(txn)
}

fn wrong_status(p: &panel::Model, what: &str, needed: PanelStatus) -> ApiError {
    ApiError::Conflict(format!(
        "cannot {what}: evaluation panel {} is {}, not {}",
        p.id,
        p.status.label(),
        needed.label()
    ))
}

// ---------------------------------------------------------------- reviewers

pub async fn create_reviewer(
    db: &DatabaseConnection,
    name: &str,
    kind: ReviewerKind,
    now: DateTime<Utc>,
) -> ApiResult<reviewer::Model> {
    crate::workflow::service::required_text("name", name)?;
    Ok(reviewer::ActiveModel {
        name: Set(name.trim().to_string()),
        kind: Set(kind),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn set_reviewer_active(
    db: &DatabaseConnection,
    id: i32,
    active: bool,
) -> ApiResult<reviewer::Model> {
    let row = reviewer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("reviewer {id}")))?;
    let mut a: reviewer::ActiveModel = row.into();
    a.active = Set(active);
    Ok(a.update(db).await?)
}

// ---------------------------------------------------------------- panel creation

/// A new panel as the admin describes it.
#[derive(Debug, Clone)]
pub struct NewPanel {
    pub name: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    pub region_code: Option<String>,
    pub department_id: Option<i32>,
    pub by_category: bool,
    pub scale_min: i32,
    pub scale_max: i32,
    /// (name, weight) in rubric order.
    pub criteria: Vec<(String, f64)>,
    pub experts: i32,
    pub cadres: i32,
    pub citizen_representatives: i32,
    pub sample_size: i32,
    pub min_per_department: i32,
    /// `None`: a fresh random seed, recorded on the panel.
    pub seed: Option<i64>,
}

fn check_new_panel(p: &NewPanel) -> ApiResult<()> {
    crate::workflow::service::required_text("name", &p.name)?;
    if p.period_from >= p.period_to {
        return Err(ApiError::bad_input(
            "`periodFrom` must be before `periodTo`",
        ));
    }
    if p.scale_min >= p.scale_max {
        return Err(ApiError::bad_input("`scaleMin` must be below `scaleMax`"));
    }
    if p.criteria.is_empty() || p.criteria.len() > MAX_CRITERIA {
        return Err(ApiError::bad_input(format!(
            "a rubric has 1 to {MAX_CRITERIA} criteria"
        )));
    }
    let mut names = BTreeSet::new();
    for (name, weight) in &p.criteria {
        crate::workflow::service::required_text("criterion name", name)?;
        if !names.insert(name.trim()) {
            return Err(ApiError::bad_input(format!(
                "criterion {:?} appears twice",
                name.trim()
            )));
        }
        if !weight.is_finite() || *weight <= 0.0 {
            return Err(ApiError::bad_input(format!(
                "the weight of criterion {:?} must be a positive number",
                name.trim()
            )));
        }
    }
    for (field, n) in [
        ("experts", p.experts),
        ("cadres", p.cadres),
        ("citizenRepresentatives", p.citizen_representatives),
    ] {
        if !(0..=MAX_MEMBERS_PER_KIND).contains(&n) {
            return Err(ApiError::bad_input(format!(
                "`{field}` must be between 0 and {MAX_MEMBERS_PER_KIND}"
            )));
        }
    }
    if p.experts + p.cadres + p.citizen_representatives < 2 {
        return Err(ApiError::bad_input(
            "a panel needs at least two members (agreement needs two raters)",
        ));
    }
    if !(1..=MAX_SAMPLE).contains(&p.sample_size) {
        return Err(ApiError::bad_input(format!(
            "`sampleSize` must be between 1 and {MAX_SAMPLE}"
        )));
    }
    if !(0..=p.sample_size).contains(&p.min_per_department) {
        return Err(ApiError::bad_input(
            "`minPerDepartment` must be between 0 and `sampleSize`",
        ));
    }
    if p.seed.is_some_and(|s| s < 0) {
        return Err(ApiError::bad_input("`seed` must be between 0 and 2^63-1"));
    }
    Ok(())
}

/// Creates a DRAFT panel with its rubric.
pub async fn create_panel(
    db: &DatabaseConnection,
    input: NewPanel,
    now: DateTime<Utc>,
) -> ApiResult<(panel::Model, Vec<panel_criterion::Model>)> {
    check_new_panel(&input)?;
    if let Some(code) = &input.region_code {
        region::Entity::find_by_id(code.clone())
            .one(db)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown region code {code}")))?;
    }
    if let Some(id) = input.department_id {
        department::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown department {id}")))?;
    }
    let seed = input
        .seed
        .unwrap_or_else(|| rand::rng().random_range(0..=i64::MAX));
    let txn = db.begin().await?;
    let row = panel::ActiveModel {
        name: Set(input.name.trim().to_string()),
        status: Set(PanelStatus::Draft),
        period_from: Set(input.period_from),
        period_to: Set(input.period_to),
        region_code: Set(input.region_code),
        department_id: Set(input.department_id),
        by_category: Set(input.by_category),
        scale_min: Set(input.scale_min),
        scale_max: Set(input.scale_max),
        seed: Set(seed),
        experts: Set(input.experts),
        cadres: Set(input.cadres),
        citizen_representatives: Set(input.citizen_representatives),
        sample_size: Set(input.sample_size),
        min_per_department: Set(input.min_per_department),
        alpha: Set(None),
        created_at: Set(now),
        drawn_at: Set(None),
        sampled_at: Set(None),
        closed_at: Set(None),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut criteria = Vec::with_capacity(input.criteria.len());
    for (position, (name, weight)) in (0..).zip(input.criteria) {
        criteria.push(
            panel_criterion::ActiveModel {
                panel_id: Set(row.id),
                position: Set(position),
                name: Set(name.trim().to_string()),
                weight: Set(weight),
                mean_score: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
    }
    txn.commit().await?;
    Ok((row, criteria))
}

pub async fn criteria_of<C: ConnectionTrait>(
    db: &C,
    panel_id: i32,
) -> Result<Vec<panel_criterion::Model>, DbErr> {
    panel_criterion::Entity::find()
        .filter(panel_criterion::Column::PanelId.eq(panel_id))
        .order_by_asc(panel_criterion::Column::Position)
        .all(db)
        .await
}

// ---------------------------------------------------------------- draw and sample

/// DRAFT → DRAWN: draws the members from the active reviewers with the panel's seed.
pub async fn draw_members(
    db: &DatabaseConnection,
    id: i32,
    now: DateTime<Utc>,
) -> ApiResult<panel::Model> {
    let current = panel_by_id(db, id).await?;
    if current.status != PanelStatus::Draft {
        return Err(wrong_status(&current, "draw members", PanelStatus::Draft));
    }
    let pool: Vec<draw::Candidate> = reviewer::Entity::find()
        .filter(reviewer::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|r| draw::Candidate {
            id: r.id,
            kind: r.kind,
        })
        .collect();
    let counts = KindCounts {
        experts: current.experts as usize,
        cadres: current.cadres as usize,
        citizen_representatives: current.citizen_representatives as usize,
    };
    let drawn = draw::draw_members(&pool, counts, current.seed as u64).map_err(|s| {
        let kind = match s.kind {
            ReviewerKind::Expert => "EXPERT",
            ReviewerKind::Cadre => "CADRE",
            ReviewerKind::CitizenRepresentative => "CITIZEN_REPRESENTATIVE",
        };
        ApiError::bad_input(format!(
            "the reviewer pool has {} active {kind} reviewers, the panel wants {}",
            s.available, s.wanted
        ))
    })?;
    let changes = panel::ActiveModel {
        status: Set(PanelStatus::Drawn),
        drawn_at: Set(Some(now)),
        ..Default::default()
    };
    let txn = begin_step(db, &current, PanelStatus::Draft, changes, "draw members").await?;
    let rows: Vec<panel_member::ActiveModel> = (0..)
        .zip(&drawn)
        .map(|(position, c)| panel_member::ActiveModel {
            panel_id: Set(id),
            reviewer_id: Set(c.id),
            kind: Set(c.kind),
            draw_position: Set(position),
            api_key_id: Set(None),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        panel_member::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    panel_by_id(db, id).await
}

// ---------------------------------------------------------------- member keys

/// A member's new evaluator key: the secret is shown once. An earlier key of the member
/// is revoked in the same transaction.
pub async fn issue_member_key(
    db: &DatabaseConnection,
    member_id: i32,
    now: DateTime<Utc>,
) -> ApiResult<(panel_member::Model, api_key::Model, String)> {
    let member = panel_member::Entity::find_by_id(member_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("panel member {member_id}")))?;
    let p = panel_by_id(db, member.panel_id).await?;
    if !matches!(p.status, PanelStatus::Drawn | PanelStatus::Scoring) {
        return Err(ApiError::Conflict(format!(
            "cannot issue a member key: evaluation panel {} is {}",
            p.id,
            p.status.label()
        )));
    }
    let secret = format!("minyi_{}", Alphanumeric.sample_string(&mut rand::rng(), 40));
    let txn = db.begin().await?;
    if let Some(old) = member.api_key_id {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::RevokedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(old))
            .filter(api_key::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    }
    let key = api_key::ActiveModel {
        key_hash: Set(hash_secret(&secret)),
        prefix: Set(secret.chars().take(12).collect()),
        role: Set(Role::Evaluator),
        region_code: Set(None),
        department_id: Set(None),
        panel_id: Set(Some(p.id)),
        label: Set(Some(format!("panel {} member {}", p.id, member.id))),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut a: panel_member::ActiveModel = member.into();
    a.api_key_id = Set(Some(key.id));
    let member = a.update(&txn).await?;
    txn.commit().await?;
    Ok((member, key, secret))
}

/// The member the caller's key belongs to, if any.
pub async fn member_of(
    db: &DatabaseConnection,
    principal: &Principal,
) -> ApiResult<Option<panel_member::Model>> {
    let (Some(panel_id), Some(key_id)) = (principal.panel_id, principal.key_id) else {
        return Ok(None);
    };
    if principal.role != Role::Evaluator {
        return Ok(None);
    }
    Ok(panel_member::Entity::find()
        .filter(panel_member::Column::PanelId.eq(panel_id))
        .filter(panel_member::Column::ApiKeyId.eq(key_id))
        .one(db)
        .await?)
}

// ---------------------------------------------------------------- scores

// ---------------------------------------------------------------- close and publish
