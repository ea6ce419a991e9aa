//! The case mutations of api.md. Each parses its arguments and hands one command to
//! `crate::workflow`, which decides, authorises and writes in one transaction.
//!
//! Every mutation on an existing case takes an optional `expectedVersion`: a client
//! that shows a case and then acts on it passes the version it read, and gets CONFLICT
//! instead of acting on a case someone else changed meanwhile.

use super::case::CaseNode;
use super::context::ContextExt;
use super::ids::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::workflow::publish::{publish, unpublish};
use crate::workflow::rating::{rate, RatingInput};
use crate::workflow::service::{apply, Command, Env};
use crate::workflow::submit::{submit, CitizenInput as CitizenData, SubmitInput};
use crate::workflow::{merge::merge_duplicate, CalendarCache};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use entities::{CaseKind, Channel, RatingLevel};

/// The caller's environment for one mutation.
async fn env<'c>(ctx: &'c Context<'_>) -> ApiResult<Env<'c>> {
    let db = ctx.db()?;
    let cache = ctx
        .data_opt::<CalendarCache>()
        .ok_or_else(|| ApiError::Internal("schema data lacks the calendar".into()))?;
    Ok(Env {
        db,
        calendar: cache.get(db).await?,
        principal: ctx.principal()?,
        now: crate::clock::now(),
    })
}

async fn run(
    ctx: &Context<'_>,
    id: &ID,
    version: Option<i32>,
    cmd: Command,
) -> ApiResult<CaseNode> {
    let id: i64 = parse_id(id, "case")?;
    Ok(CaseNode(apply(env(ctx).await?, id, version, cmd).await?))
}

/// The submitting citizen (personal data: visible to staff roles only).
#[derive(InputObject)]
pub struct CitizenInput {
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

#[derive(InputObject)]
pub struct SubmitCaseInput {
    pub title: String,
    pub body: String,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<ID>,
    /// The division code where the issue is located (6 or 9 digits).
    pub region_code: String,
    pub citizen: CitizenInput,
}

#[derive(SimpleObject)]
pub struct SubmitCasePayload {
    pub case: CaseNode,
    /// The token with which the citizen rates the reply (`rateCase(ratingToken:)`).
    /// Shown once; a replayed submission gets a new one and the old one stops working.
    pub rating_token: String,
    /// True when `idempotencyKey` named an earlier submission: nothing new was created.
    pub replayed: bool,
}

#[derive(Default)]
pub struct WorkflowMutation;

#[Object]
impl WorkflowMutation {
    /// Registers a case (登记). Open to every caller but evaluators. A retry with the
    /// same `idempotencyKey` (per caller) returns the same case.
    async fn submit_case(
        &self,
        ctx: &Context<'_>,
        input: SubmitCaseInput,
        idempotency_key: Option<String>,
    ) -> ApiResult<SubmitCasePayload> {
        let category_id = match &input.category_id {
            Some(id) => Some(parse_id::<i32>(id, "category")?),
            None => None,
        };
        let data = SubmitInput {
            title: input.title,
            body: input.body,
            channel: input.channel,
            kind: input.kind,
            category_id,
            region_code: input.region_code,
            citizen: CitizenData {
                name: input.citizen.name,
                phone: input.citizen.phone,
                id_number: input.citizen.id_number,
                email: input.citizen.email,
                address: input.citizen.address,
            },
        };
        let done = submit(env(ctx).await?, data, idempotency_key).await?;
        Ok(SubmitCasePayload {
            case: CaseNode(done.case),
            rating_token: done.rating_token,
            replayed: done.replayed,
        })
    }

    /// 受理: sets `acceptedAt` and the reply deadline from the deadline policies.
    async fn accept_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Accept).await
    }

    /// 不予受理, with the reason the citizen is told.
    async fn reject_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Reject { reason }).await
    }

    /// 交办: gives an accepted case to a department.
    async fn assign_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        department_id: ID,
        note: Option<String>,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        let department_id = parse_id(&department_id, "department")?;
        run(
            ctx,
            &id,
            expected_version,
            Command::Assign {
                department_id,
                note,
            },
        )
        .await
    }

    /// 转办: passes the case on to another department.
    async fn transfer_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        department_id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        let department_id = parse_id(&department_id, "department")?;
        run(
            ctx,
            &id,
            expected_version,
            Command::Transfer {
                department_id,
                reason,
            },
        )
        .await
    }

    /// 认领: the department takes the case on.
    async fn claim_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Claim).await
    }

    /// 响应: the department has contacted the citizen (the 8-hour response); the status stays.
    async fn respond_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        note: Option<String>,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Respond { note }).await
    }

    /// 催办: a reminder to the department; the status stays.
    async fn remind_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        note: Option<String>,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Remind { note }).await
    }

    /// 延期: moves the reply deadline `workingDays` working days later.
    async fn extend_deadline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        working_days: i32,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(
            ctx,
            &id,
            expected_version,
            Command::Extend {
                working_days,
                reason,
            },
        )
        .await
    }

    /// 回复: the department's public answer.
    async fn reply_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reply: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Reply { text: reply }).await
    }

    /// 办结.
    async fn close_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        note: Option<String>,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Close { note }).await
    }

    /// 满意度评价, once per reply: with the case's rating token, or by an admin.
    #[allow(clippy::too_many_arguments)]
    async fn rate_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        level: RatingLevel,
        timeliness: Option<i32>,
        attitude: Option<i32>,
        result: Option<i32>,
        comment: Option<String>,
        rating_token: Option<String>,
    ) -> ApiResult<CaseNode> {
        let id: i64 = parse_id(&id, "case")?;
        let input = RatingInput {
            level,
            timeliness,
            attitude,
            result,
            comment,
        };
        Ok(CaseNode(
            rate(env(ctx).await?, id, rating_token.as_deref(), input).await?,
        ))
    }

    /// 重办: a replied or closed case goes back to the department with a fresh deadline.
    async fn reopen_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Reopen { reason }).await
    }

    /// 督办: flags the case for the supervision office.
    async fn supervise_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Supervise { reason }).await
    }

    /// 重复件: closes `caseId` as a duplicate of `canonicalId`; returns the duplicate.
    async fn merge_duplicate(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        canonical_id: ID,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        let duplicate: i64 = parse_id(&case_id, "case")?;
        let canonical: i64 = parse_id(&canonical_id, "case")?;
        let merged =
            merge_duplicate(env(ctx).await?, duplicate, canonical, expected_version).await?;
        Ok(CaseNode(merged))
    }

    /// 公开: shows a replied or closed case to the public, with its free text redacted
    /// anew by the current rules. Leaders of the case's region and admins.
    async fn publish_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        let id: i64 = parse_id(&id, "case")?;
        Ok(CaseNode(
            publish(env(ctx).await?, id, expected_version).await?,
        ))
    }

    /// 撤回公开: takes a published case off the public site, with the reason recorded.
    async fn unpublish_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        let id: i64 = parse_id(&id, "case")?;
        Ok(CaseNode(
            unpublish(env(ctx).await?, id, expected_version, reason).await?,
        ))
    }

    /// 归档: freezes a closed case.
    async fn archive_case(
        &self,
        ctx: &Context<'_>,
        id: ID,
        note: Option<String>,
        expected_version: Option<i32>,
    ) -> ApiResult<CaseNode> {
        run(ctx, &id, expected_version, Command::Archive { note }).await
    }
}
