//! The evaluation mutations: the reviewer pool, creating and running a panel (draw,
//! sample, member keys), scoring, closing and publishing.

use super::*;

#[derive(InputObject)]
pub struct CreateReviewerInput {
    pub name: String,
    pub kind: ReviewerKind,
}

#[derive(InputObject)]
pub struct PanelCriterionInput {
    pub name: String,
    pub weight: f64,
}

#[derive(InputObject)]
pub struct CreateEvaluationPanelInput {
    pub name: String,
    pub period_from: DateTime<Utc>,
    pub period_to: DateTime<Utc>,
    /// Limit the sample to cases located in this region subtree.
    pub region_code: Option<String>,
    /// Limit the sample to cases of this department subtree.
    pub department_id: Option<ID>,
    /// Stratify by department × category instead of department alone.
    #[graphql(default)]
    pub by_category: bool,
    pub scale_min: i32,
    pub scale_max: i32,
    pub criteria: Vec<PanelCriterionInput>,
    pub experts: i32,
    pub cadres: i32,
    pub citizen_representatives: i32,
    pub sample_size: i32,
    pub min_per_department: i32,
    /// Decimal 0 … 2^63−1; omitted, a random seed is chosen and recorded.
    pub seed: Option<String>,
}

#[derive(InputObject)]
pub struct CriterionScoreInput {
    pub criterion_id: ID,
    pub score: i32,
}

/// A member's new evaluator key: `secret` is shown this once.
#[derive(SimpleObject)]
pub struct PanelMemberKey {
    pub member: PanelMember,
    pub key_id: ID,
    pub secret: String,
}

#[derive(Default)]
pub struct EvaluationMutation;

#[Object]
impl EvaluationMutation {
    /// Adds a reviewer to the pool (admins).
    async fn create_reviewer(
        &self,
        ctx: &Context<'_>,
        input: CreateReviewerInput,
    ) -> ApiResult<Reviewer> {
        let db = admin(ctx)?;
        Ok(Reviewer(
            store::create_reviewer(db, &input.name, input.kind, crate::clock::now()).await?,
        ))
    }

    /// Takes a reviewer out of (or back into) future draws (admins).
    async fn set_reviewer_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> ApiResult<Reviewer> {
        let db = admin(ctx)?;
        let id: i32 = parse_id(&id, "reviewer")?;
        Ok(Reviewer(store::set_reviewer_active(db, id, active).await?))
    }

    /// Creates a DRAFT panel with its rubric (admins).
    async fn create_evaluation_panel(
        &self,
        ctx: &Context<'_>,
        input: CreateEvaluationPanelInput,
    ) -> ApiResult<EvaluationPanel> {
        let db = admin(ctx)?;
        let seed = match &input.seed {
            Some(s) => Some(s.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_input(format!("`seed` {s:?} is not a number between 0 and 2^63-1"))
            })?),
            None => None,
        };
        let department_id = input
            .department_id
            .as_ref()
            .map(|id| parse_id::<i32>(id, "department"))
            .transpose()?;
        let new = NewPanel {
            name: input.name,
            period_from: input.period_from,
            period_to: input.period_to,
            region_code: input.region_code,
            department_id,
            by_category: input.by_category,
            scale_min: input.scale_min,
            scale_max: input.scale_max,
            criteria: input
                .criteria
                .into_iter()
                .map(|c| (c.name, c.weight))
                .collect(),
            experts: input.experts,
            cadres: input.cadres,
            citizen_representatives: input.citizen_representatives,
            sample_size: input.sample_size,
            min_per_department: input.min_per_department,
            seed,
        };
        let (row, _) = store::create_panel(db, new, crate::clock::now()).await?;
        Ok(EvaluationPanel(row))
    }

    /// DRAFT → DRAWN: draws the members from the active reviewers with the panel's seed.
    async fn draw_panel_members(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EvaluationPanel> {
        let db = admin(ctx)?;
        let id: i32 = parse_id(&id, "evaluation panel")?;
        Ok(EvaluationPanel(
            store::draw_members(db, id, crate::clock::now()).await?,
        ))
    }

    /// DRAWN → SCORING: takes the stratified sample of handled cases with the seed.
    async fn sample_panel_cases(&self, ctx: &Context<'_>, id: ID) -> ApiResult<EvaluationPanel> {
        let db = admin(ctx)?;
        let id: i32 = parse_id(&id, "evaluation panel")?;
        Ok(EvaluationPanel(
            store::sample_cases(db, id, crate::clock::now()).await?,
        ))
    }

    /// Issues the member's evaluator key (revoking an earlier one); shown once (admins).
    async fn issue_panel_member_key(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
    ) -> ApiResult<PanelMemberKey> {
        let db = admin(ctx)?;
        let member_id: i32 = parse_id(&member_id, "panel member")?;
        let (member, key, secret) =
            store::issue_member_key(db, member_id, crate::clock::now()).await?;
        Ok(PanelMemberKey {
            member: PanelMember(member),
            key_id: id_of(key.id),
            secret,
        })
    }

    /// The calling member's scores of one sampled case, every criterion once. Final:
    /// a second submission for the same case is CONFLICT (it contradicts the stored
    /// state, not the rules of the input); out-of-range, missing or unknown criteria
    /// are BAD_USER_INPUT.
    async fn submit_panel_scores(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        scores: Vec<CriterionScoreInput>,
    ) -> ApiResult<Vec<PanelScore>> {
        let case_id: i64 = parse_id(&case_id, "case")?;
        let given = scores
            .iter()
            .map(|s| Ok((parse_id::<i32>(&s.criterion_id, "criterion")?, s.score)))
            .collect::<ApiResult<Vec<(i32, i32)>>>()?;
        Ok(store::submit_scores(
            ctx.db()?,
            ctx.principal()?,
            case_id,
            &given,
            crate::clock::now(),
        )
        .await?
        .into_iter()
        .map(PanelScore::from)
        .collect())
    }

    /// SCORING → CLOSED: computes the results (admins).
    async fn close_evaluation_panel(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<EvaluationPanel> {
        let db = admin(ctx)?;
        let id: i32 = parse_id(&id, "evaluation panel")?;
        Ok(EvaluationPanel(
            store::close_panel(db, id, crate::clock::now()).await?,
        ))
    }

    /// CLOSED → PUBLISHED: the panel and its results become public (admins).
    async fn publish_evaluation_panel(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<EvaluationPanel> {
        let db = admin(ctx)?;
        let id: i32 = parse_id(&id, "evaluation panel")?;
        Ok(EvaluationPanel(
            store::publish_panel(db, id, crate::clock::now()).await?,
        ))
    }
}
