//! The Case type and what hangs off it: events, rating, the citizen (restricted).

use super::category::Category;
use super::context::ContextExt;
use super::department::Department;
use super::region::Region;
use crate::error::{ApiError, ApiResult};
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{case, case_event, rating, CaseAction, CaseKind, CaseStatus, Channel, RatingLevel};

/// Statuses in which a case still waits for its reply.
pub const AWAITING_REPLY: [CaseStatus; 3] = [
    CaseStatus::Accepted,
    CaseStatus::Assigned,
    CaseStatus::InProgress,
];

/// Overdue = still awaiting its reply after the reply deadline.
pub fn is_overdue(case: &case::Model, now: DateTime<Utc>) -> bool {
    AWAITING_REPLY.contains(&case.status) && case.reply_due_at.is_some_and(|due| due < now)
}

pub struct CaseNode(pub case::Model);

impl CaseNode {
    /// Free text as this caller may see it: the raw column for roles that see personal
    /// data, otherwise the stored redacted copy (written with the text, see
    /// docs/OPEN_DATA.md). A missing copy is never made up from the raw text.
    fn free_text(
        &self,
        ctx: &Context<'_>,
        field: &str,
        raw: &str,
        public: Option<&str>,
    ) -> ApiResult<String> {
        if ctx.principal()?.sees_personal_data() {
            return Ok(raw.to_string());
        }
        Ok(public_or_blank(self.0.id, field, public))
    }
}

/// The stored public copy, or an empty string (and a warning for the operator, who
/// runs `minyi redact --all`) when no writer stored one: an empty string can never be
/// a redaction of a non-empty text, so clients can tell it apart.
pub fn public_or_blank(case_id: i64, field: &str, public: Option<&str>) -> String {
    match public {
        Some(text) => text.to_string(),
        None => {
            tracing::warn!(
                case_id,
                field,
                "no redacted public text stored; run `minyi redact --all`"
            );
            String::new()
        }
    }
}

#[Object(name = "Case")]
impl CaseNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// Free text is shown as written to staff and with personal data masked to everyone
    /// else (see docs/OPEN_DATA.md).
    async fn title(&self, ctx: &Context<'_>) -> ApiResult<String> {
        self.free_text(ctx, "title", &self.0.title, self.0.public_title.as_deref())
    }
    async fn body(&self, ctx: &Context<'_>) -> ApiResult<String> {
        self.free_text(ctx, "body", &self.0.body, self.0.public_body.as_deref())
    }
    async fn channel(&self) -> Channel {
        self.0.channel
    }
    async fn kind(&self) -> CaseKind {
        self.0.kind
    }
    async fn category(&self, ctx: &Context<'_>) -> ApiResult<Option<Category>> {
        let Some(id) = self.0.category_id else {
            return Ok(None);
        };
        Ok(ctx.loaders()?.categories.load_one(id).await?.map(Category))
    }
    async fn region(&self, ctx: &Context<'_>) -> ApiResult<Option<Region>> {
        Ok(ctx
            .loaders()?
            .regions
            .load_one(self.0.region_code.clone())
            .await?
            .map(Region))
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
    async fn status(&self) -> CaseStatus {
        self.0.status
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
    /// When the department must first respond (clock hours after submission).
    async fn respond_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.respond_due_at
    }
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.responded_at
    }
    /// The reply deadline in force (end of the last working day, Asia/Shanghai).
    async fn reply_due_at(&self) -> Option<DateTime<Utc>> {
        self.0.reply_due_at
    }
    async fn replied_at(&self) -> Option<DateTime<Utc>> {
        self.0.replied_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    /// The department's public answer.
    async fn reply(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        match &self.0.reply {
            Some(text) => Ok(Some(self.free_text(
                ctx,
                "reply",
                text,
                self.0.public_reply.as_deref(),
            )?)),
            None => Ok(None),
        }
    }
    /// Still awaiting its reply after the deadline.
    async fn is_overdue(&self) -> bool {
        is_overdue(&self.0, crate::clock::now())
    }
    async fn published(&self) -> bool {
        self.0.published
    }
    /// Flagged for the supervision office (督办).
    async fn supervised(&self) -> bool {
        self.0.supervised
    }
    async fn reopen_count(&self) -> i32 {
        self.0.reopen_count
    }
    /// Optimistic-lock version: pass it back as `expectedVersion` to refuse a write
    /// that would overwrite someone else's change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The latest rating's level, if rated.
    async fn rating_level(&self) -> Option<entities::RatingLevel> {
        self.0.rating_level
    }
    /// The canonical case this one was merged into as a duplicate.
    async fn duplicate_of(&self) -> Option<ID> {
        self.0.duplicate_of.map(|id| ID(id.to_string()))
    }
    /// The handling history, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEvent>> {
        let hide_notes = !ctx.principal()?.sees_personal_data();
        let rows = ctx.loaders()?.events.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|e| CaseEvent::from_model(e, hide_notes))
            .collect())
    }
    /// The citizen's latest rating.
    async fn rating(&self, ctx: &Context<'_>) -> ApiResult<Option<Rating>> {
        let rows = ctx.loaders()?.ratings.load_one(self.0.id).await?;
        let Some(latest) = rows.unwrap_or_default().into_iter().last() else {
            return Ok(None);
        };
        let comment = match &latest.comment {
            Some(raw) => Some(self.free_text(
                ctx,
                "rating comment",
                raw,
                latest.public_comment.as_deref(),
            )?),
            None => None,
        };
        Ok(Some(Rating {
            comment,
            ..Rating::from(latest)
        }))
    }
    /// The submitting citizen's personal data: leaders, handlers and admins only.
    async fn citizen(&self, ctx: &Context<'_>) -> ApiResult<Option<Citizen>> {
        if !ctx.principal()?.sees_personal_data() {
            return Err(ApiError::Forbidden(
                "personal data is not visible to this role".into(),
            ));
        }
        let Some(id) = self.0.citizen_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .citizens
            .load_one(id)
            .await?
            .map(|c| Citizen {
                name: c.name,
                phone: c.phone,
                id_number: c.id_number,
                email: c.email,
                address: c.address,
            }))
    }
}

/// One entry of the audit trail.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CaseEvent {
    pub at: DateTime<Utc>,
    pub action: CaseAction,
    pub from_status: Option<CaseStatus>,
    pub to_status: Option<CaseStatus>,
    #[graphql(skip)]
    pub department_id: Option<i32>,
    pub reply_due_at: Option<DateTime<Utc>>,
    /// Internal notes are visible to staff roles only.
    pub note: Option<String>,
}

#[async_graphql::ComplexObject]
impl CaseEvent {
    async fn department(&self, ctx: &Context<'_>) -> ApiResult<Option<Department>> {
        let Some(id) = self.department_id else {
            return Ok(None);
        };
        Ok(ctx
            .loaders()?
            .departments
            .load_one(id)
            .await?
            .map(Department))
    }
}

impl CaseEvent {
    pub(super) fn from_model(e: case_event::Model, hide_notes: bool) -> Self {
        Self {
            at: e.at,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            department_id: e.department_id,
            reply_due_at: e.reply_due_at,
            note: if hide_notes { None } else { e.note },
        }
    }
}

#[derive(SimpleObject)]
pub struct Rating {
    pub level: RatingLevel,
    pub timeliness: Option<i16>,
    pub attitude: Option<i16>,
    pub result: Option<i16>,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

impl From<rating::Model> for Rating {
    fn from(r: rating::Model) -> Self {
        Self {
            level: r.level,
            timeliness: r.timeliness,
            attitude: r.attitude,
            result: r.result,
            comment: r.comment,
            rated_at: r.rated_at,
        }
    }
}

/// Personal data of the submitting citizen.
#[derive(SimpleObject)]
pub struct Citizen {
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}
