//! Third-party evaluation panels (docs/EVALUATION.md): the reviewer pool, panels with
//! their rubric, members, sample, scores and results.
//!
//! Who sees what: admins everything; an evaluator their own panel, its sampled cases
//! (through `Case`, with personal data masked), their own scores until the panel closes
//! and everyone's after; everyone else published panels and their results only.

use super::case::CaseNode;
use super::context::ContextExt;
use super::department::Department;
use super::ids::parse_id;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::evaluation::store::{self, NewPanel};
use crate::workflow::authz::{require, Operation};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::evaluation_panel::{self as panel, PanelStatus};
use entities::reviewer::{self, ReviewerKind};
use entities::{
    case, panel_criterion, panel_department_result, panel_member, panel_sample, panel_score, Role,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

mod mutation;

pub use mutation::*;

fn admin<'c>(ctx: &'c Context<'_>) -> ApiResult<&'c DatabaseConnection> {
    require(ctx.principal()?, Operation::Admin)?;
    ctx.db()
}

fn id_of(id: impl ToString) -> ID {
    ID(id.to_string())
}

// ---------------------------------------------------------------- types

/// A member of the reviewer pool.
pub struct Reviewer(reviewer::Model);

#[Object]
impl Reviewer {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> ReviewerKind {
        self.0.kind
    }
    /// Inactive reviewers are not drawn.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A criterion of the rubric.
pub struct PanelCriterion(panel_criterion::Model);

#[Object]
impl PanelCriterion {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    /// 0-based order in the rubric.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn weight(&self) -> f64 {
        self.0.weight
    }
    /// Mean of all members' scores on this criterion; `null` until the panel closes.
    async fn mean_score(&self) -> Option<f64> {
        self.0.mean_score
    }
}

/// A drawn member (admins only).
pub struct PanelMember(panel_member::Model);

#[Object]
impl PanelMember {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    async fn kind(&self) -> ReviewerKind {
        self.0.kind
    }
    /// 0-based order in which the draw picked the member (kind by kind).
    async fn draw_position(&self) -> i32 {
        self.0.draw_position
    }
    async fn reviewer(&self, ctx: &Context<'_>) -> ApiResult<Reviewer> {
        let db = ctx.db()?;
        reviewer::Entity::find_by_id(self.0.reviewer_id)
            .one(db)
            .await?
            .map(Reviewer)
            .ok_or_else(|| ApiError::Internal(format!("reviewer {} vanished", self.0.reviewer_id)))
    }
    /// Whether the member holds an evaluator key (`issuePanelMemberKey`).
    async fn has_key(&self) -> bool {
        self.0.api_key_id.is_some()
    }
}

/// A sampled case with its stratum.
pub struct PanelSample {
    row: panel_sample::Model,
    case: Option<case::Model>,
}

#[Object]
impl PanelSample {
    async fn case_id(&self) -> ID {
        id_of(self.row.case_id)
    }
    async fn department(&self, ctx: &Context<'_>) -> ApiResult<Option<Department>> {
        Ok(ctx
            .loaders()?
            .departments
            .load_one(self.row.department_id)
            .await?
            .map(Department))
    }
    async fn category_id(&self) -> Option<ID> {
        self.row.category_id.map(id_of)
    }
    /// The case as the caller may see it (free text masked for evaluators).
    async fn case(&self) -> Option<CaseNode> {
        self.case.clone().map(CaseNode)
    }
}

/// One member's score of one case on one criterion.
#[derive(SimpleObject)]
pub struct PanelScore {
    pub member_id: ID,
    pub case_id: ID,
    pub criterion_id: ID,
    pub score: i32,
    pub submitted_at: DateTime<Utc>,
}

impl From<panel_score::Model> for PanelScore {
    fn from(s: panel_score::Model) -> Self {
        PanelScore {
            member_id: id_of(s.member_id),
            case_id: id_of(s.case_id),
            criterion_id: id_of(s.criterion_id),
            score: s.score,
            submitted_at: s.submitted_at,
        }
    }
}

/// A department's result on a closed panel.
pub struct PanelDepartmentResult(panel_department_result::Model);

#[Object]
impl PanelDepartmentResult {
    async fn department(&self, ctx: &Context<'_>) -> ApiResult<Option<Department>> {
        Ok(ctx
            .loaders()?
            .departments
            .load_one(self.0.department_id)
            .await?
            .map(Department))
    }
    /// Evaluated cases (sampled and scored by at least one member).
    async fn cases(&self) -> i32 {
        self.0.cases
    }
    /// Mean of the cases' weighted scores, on the rubric's scale.
    async fn mean_score(&self) -> f64 {
        self.0.mean_score
    }
    /// 95 % t-interval of the mean; `null` with fewer than two evaluated cases.
    async fn ci_low(&self) -> Option<f64> {
        self.0.ci_low
    }
    async fn ci_high(&self) -> Option<f64> {
        self.0.ci_high
    }
    /// `(meanScore − scaleMin) / (scaleMax − scaleMin)`: the third-party component of
    /// department rankings.
    async fn normalized_score(&self) -> f64 {
        self.0.normalized_score
    }
}

/// A closed panel's results.
#[derive(SimpleObject)]
pub struct PanelResults {
    /// Krippendorff's alpha (interval metric) of the members' weighted scores;
    /// `null` when fewer than two cases were scored by two members or scores never vary.
    pub alpha: Option<f64>,
    pub departments: Vec<PanelDepartmentResult>,
}

pub struct EvaluationPanel(panel::Model);

/// Members, samples and scores are listed only to those the panel concerns.
fn may_list(principal: &Principal, p: &panel::Model) -> bool {
    principal.role == Role::Admin
        || (principal.role == Role::Evaluator && principal.panel_id == Some(p.id))
}

#[Object]
impl EvaluationPanel {
    async fn id(&self) -> ID {
        id_of(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn status(&self) -> PanelStatus {
        self.0.status
    }
    /// Cases replied to in `[periodFrom, periodTo)` are sampled.
    async fn period_from(&self) -> DateTime<Utc> {
        self.0.period_from
    }
    async fn period_to(&self) -> DateTime<Utc> {
        self.0.period_to
    }
    async fn region_code(&self) -> Option<&str> {
        self.0.region_code.as_deref()
    }
    async fn department(&self, ctx: &Context<'_>) -> ApiResult<Option<Department>> {
        let Some(id) = self.0.department_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .departments
            .load_one(id)
            .await?
            .map(Department))
    }
    async fn by_category(&self) -> bool {
        self.0.by_category
    }
    async fn scale_min(&self) -> i32 {
        self.0.scale_min
    }
    async fn scale_max(&self) -> i32 {
        self.0.scale_max
    }
    /// The seed of the member draw and the sample (decimal; docs/EVALUATION.md says how
    /// to re-run both from it).
    async fn seed(&self) -> String {
        self.0.seed.to_string()
    }
    async fn experts(&self) -> i32 {
        self.0.experts
    }
    async fn cadres(&self) -> i32 {
        self.0.cadres
    }
    async fn citizen_representatives(&self) -> i32 {
        self.0.citizen_representatives
    }
    async fn sample_size(&self) -> i32 {
        self.0.sample_size
    }
    async fn min_per_department(&self) -> i32 {
        self.0.min_per_department
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn drawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.drawn_at
    }
    async fn sampled_at(&self) -> Option<DateTime<Utc>> {
        self.0.sampled_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn criteria(&self, ctx: &Context<'_>) -> ApiResult<Vec<PanelCriterion>> {
        Ok(store::criteria_of(ctx.db()?, self.0.id)
            .await?
            .into_iter()
            .map(PanelCriterion)
            .collect())
    }
    /// The drawn members in draw order (admins only).
    async fn members(&self, ctx: &Context<'_>) -> ApiResult<Vec<PanelMember>> {
        let db = admin(ctx)?;
        Ok(panel_member::Entity::find()
            .filter(panel_member::Column::PanelId.eq(self.0.id))
            .order_by_asc(panel_member::Column::DrawPosition)
            .all(db)
            .await?
            .into_iter()
            .map(PanelMember)
            .collect())
    }
    /// The sampled cases, by department then case id (admins and the panel's evaluators).
    async fn samples(&self, ctx: &Context<'_>) -> ApiResult<Vec<PanelSample>> {
        let principal = ctx.principal()?;
        if !may_list(principal, &self.0) {
            return Err(ApiError::Forbidden(
                "the sample is shown to admins and the panel's evaluators".into(),
            ));
        }
        let db = ctx.db()?;
        let rows = panel_sample::Entity::find()
            .filter(panel_sample::Column::PanelId.eq(self.0.id))
            .order_by_asc(panel_sample::Column::DepartmentId)
            .order_by_asc(panel_sample::Column::CaseId)
            .all(db)
            .await?;
        // One query for all the sampled cases, under the caller's visibility.
        let mut cases: HashMap<i64, case::Model> = case::Entity::find()
            .filter(crate::auth::panel_sample_of(self.0.id))
            .filter(principal.case_visibility())
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(rows
            .into_iter()
            .map(|row| PanelSample {
                case: cases.remove(&row.case_id),
                row,
            })
            .collect())
    }
    /// Scores, blind until the panel closes: a member sees only their own until then.
    async fn scores(&self, ctx: &Context<'_>) -> ApiResult<Vec<PanelScore>> {
        let principal = ctx.principal()?;
        if !may_list(principal, &self.0) && !self.0.status.is_closed() {
            return Err(ApiError::Forbidden(
                "scores are shown once the panel has closed".into(),
            ));
        }
        Ok(store::visible_scores(ctx.db()?, principal, &self.0)
            .await?
            .into_iter()
            .map(PanelScore::from)
            .collect())
    }
    /// The results; `null` until the panel closes.
    async fn results(&self, ctx: &Context<'_>) -> ApiResult<Option<PanelResults>> {
        if !self.0.status.is_closed() {
            return Ok(None);
        }
        let departments = panel_department_result::Entity::find()
            .filter(panel_department_result::Column::PanelId.eq(self.0.id))
            .order_by_desc(panel_department_result::Column::MeanScore)
            .order_by_asc(panel_department_result::Column::DepartmentId)
            .all(ctx.db()?)
            .await?
            .into_iter()
            .map(PanelDepartmentResult)
            .collect();
        Ok(Some(PanelResults {
            alpha: self.0.alpha,
            departments,
        }))
    }
}

// ---------------------------------------------------------------- queries

#[derive(Default)]
pub struct EvaluationQuery;

#[Object]
impl EvaluationQuery {
    /// The reviewer pool (admins only).
    async fn reviewers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] active_only: bool,
    ) -> ApiResult<Vec<Reviewer>> {
        let db = admin(ctx)?;
        let mut query = reviewer::Entity::find().order_by_asc(reviewer::Column::Id);
        if active_only {
            query = query.filter(reviewer::Column::Active.eq(true));
        }
        Ok(query.all(db).await?.into_iter().map(Reviewer).collect())
    }

    /// The panels the caller may see (admins all, an evaluator theirs, everyone else the
    /// published ones), newest first.
    async fn evaluation_panels(
        &self,
        ctx: &Context<'_>,
        status: Option<PanelStatus>,
    ) -> ApiResult<Vec<EvaluationPanel>> {
        let principal = ctx.principal()?;
        let mut query = panel::Entity::find().order_by_desc(panel::Column::Id);
        match principal.role {
            Role::Admin => {}
            Role::Evaluator => {
                query = query.filter(panel::Column::Id.eq(principal.panel_id.unwrap_or(-1)))
            }
            _ => query = query.filter(panel::Column::Status.eq(PanelStatus::Published)),
        }
        if let Some(status) = status {
            query = query.filter(panel::Column::Status.eq(status));
        }
        Ok(query
            .all(ctx.db()?)
            .await?
            .into_iter()
            .map(EvaluationPanel)
            .collect())
    }

    /// One panel; NOT_FOUND when missing or not visible to the caller.
    async fn evaluation_panel(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EvaluationPanel> {
        let id: i32 = parse_id(&id, "evaluation panel")?;
        Ok(EvaluationPanel(
            store::visible_panel(ctx.db()?, ctx.principal()?, id).await?,
        ))
    }
}
