//! 留言/诉求: one citizen message and the current state of its handling. The history
//! lives in `case_events`; the timestamps here are the latest values, kept for fast reads.

use crate::{CaseKind, CaseStatus, Channel, RatingLevel};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub tracking_number: String,
    pub title: String,
    pub body: String,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<i32>,
    pub region_code: String,
    pub province_code: String,
    pub city_code: Option<String>,
    pub county_code: Option<String>,
    pub department_id: Option<i32>,
    pub citizen_id: Option<i64>,
    pub status: CaseStatus,
    pub submitted_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub rejected_at: Option<DateTimeUtc>,
    pub respond_due_at: Option<DateTimeUtc>,
    pub responded_at: Option<DateTimeUtc>,
    pub reply_due_at: Option<DateTimeUtc>,
    /// The deadline of the first handling round (set at acceptance, moved by extensions
    /// before any reopen): the one the reply and on-time rates are measured against.
    pub first_reply_due_at: Option<DateTimeUtc>,
    pub first_replied_at: Option<DateTimeUtc>,
    pub replied_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub archived_at: Option<DateTimeUtc>,
    pub reply: Option<String>,
    /// The latest rating's level, kept here so current-state dashboards need no join.
    pub rating_level: Option<RatingLevel>,
    pub duplicate_of: Option<i64>,
    pub repeat_of: Option<i64>,
    pub published: bool,
    pub supervised: bool,
    pub reopen_count: i32,
    pub version: i32,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub updated_at: DateTimeUtc,
    /// `title` with personal data masked (written at write/publish time; NULL = not yet).
    pub public_title: Option<String>,
    /// `body` with personal data masked.
    pub public_body: Option<String>,
    /// `reply` with personal data masked.
    pub public_reply: Option<String>,
    /// The source's identifier of an imported case (GeoReport v2 `service_request_id`).
    #[sea_orm(unique)]
    pub external_id: Option<String>,
    pub address: Option<String>,
    #[sea_orm(column_type = "Double", nullable)]
    pub latitude: Option<f64>,
    #[sea_orm(column_type = "Double", nullable)]
    pub longitude: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
