//! What an export reads: the public columns of the matching cases, in id order, as plain
//! rows (no entity models), and the names of the regions, departments and categories
//! from small maps loaded once per export (never a join or a lookup per row).

use entities::{case, category, department, region, CaseKind, CaseStatus, Channel, RatingLevel};
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Func, Query};
use sea_orm::{
    Condition, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use std::collections::HashMap;

/// One exported case as read from the database. Only public columns: the raw
/// title/body/reply and the citizen never leave the database through an export.
#[derive(Debug, FromQueryResult)]
pub struct ExportRow {
    pub id: i64,
    pub tracking_number: String,
    pub public_title: Option<String>,
    pub public_body: Option<String>,
    pub public_reply: Option<String>,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<i32>,
    pub region_code: String,
    pub province_code: String,
    pub city_code: Option<String>,
    pub county_code: Option<String>,
    pub department_id: Option<i32>,
    pub status: CaseStatus,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reply_due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub replied_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rating_level: Option<RatingLevel>,
    /// Only when the earlier case is itself public (see [`select`]).
    pub repeat_of: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// One exported case, borrowed: what the encoder reads. The generic reader lends it from an
/// [`ExportRow`]; the SQLite reader straight from the statement's current row, so text is
/// never copied between the database and the output buffer.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    pub id: i64,
    pub tracking_number: &'a str,
    pub public_title: Option<&'a str>,
    pub public_body: Option<&'a str>,
    pub public_reply: Option<&'a str>,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<i32>,
    pub region_code: &'a str,
    pub province_code: &'a str,
    pub city_code: Option<&'a str>,
    pub county_code: Option<&'a str>,
    pub department_id: Option<i32>,
    pub status: CaseStatus,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reply_due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub replied_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub rating_level: Option<RatingLevel>,
    pub repeat_of: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl ExportRow {
    pub fn view(&self) -> RowView<'_> {
        RowView {
            id: self.id,
            tracking_number: &self.tracking_number,
            public_title: self.public_title.as_deref(),
            public_body: self.public_body.as_deref(),
            public_reply: self.public_reply.as_deref(),
            channel: self.channel,
            kind: self.kind,
            category_id: self.category_id,
            region_code: &self.region_code,
            province_code: &self.province_code,
            city_code: self.city_code.as_deref(),
            county_code: self.county_code.as_deref(),
            department_id: self.department_id,
            status: self.status,
            submitted_at: self.submitted_at,
            accepted_at: self.accepted_at,
            reply_due_at: self.reply_due_at,
            replied_at: self.replied_at,
            closed_at: self.closed_at,
            rating_level: self.rating_level,
            repeat_of: self.repeat_of,
            latitude: self.latitude,
            longitude: self.longitude,
        }
    }
}

/// The matching cases in id order (stable: a release written twice is the same bytes).
pub fn select(condition: Condition) -> Select<case::Entity> {
    use case::Column as C;
    // `repeat_of` may point at a case the public cannot see; naming that id would reveal
    // that an unpublished case exists. One primary-key probe per repeat, inside the query.
    let earlier = Alias::new("earlier");
    let public_earlier = Query::select()
        .expr(Expr::val(1))
        .from_as(case::Entity, earlier.clone())
        .and_where(Expr::col((earlier.clone(), C::Id)).equals((case::Entity, C::RepeatOf)))
        .and_where(Expr::col((earlier.clone(), C::Published)).eq(true))
        .and_where(Expr::col((earlier, C::DuplicateOf)).is_null())
        .to_owned();
    let repeat_of = CaseStatement::new()
        .case(
            Expr::exists(public_earlier),
            Expr::col((case::Entity, C::RepeatOf)),
        )
        .finally(Expr::val(Option::<i64>::None));
    case::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::TrackingNumber,
            C::PublicTitle,
            C::PublicBody,
            C::PublicReply,
            C::Channel,
            C::Kind,
            C::CategoryId,
            C::RegionCode,
            C::ProvinceCode,
            C::CityCode,
            C::CountyCode,
            C::DepartmentId,
            C::Status,
            C::SubmittedAt,
            C::AcceptedAt,
            C::ReplyDueAt,
            C::RepliedAt,
            C::ClosedAt,
            C::RatingLevel,
        ])
        .expr_as(repeat_of, "repeat_of")
        .columns([C::Latitude, C::Longitude])
        .filter(condition)
        .order_by_asc(C::Id)
}

/// Names of the dimensions, by id or code.
#[derive(Debug, Default)]
pub struct Names {
    pub regions: HashMap<String, Box<str>>,
    pub departments: HashMap<i32, Box<str>>,
    /// (code, name)
    pub categories: HashMap<i32, (Box<str>, Box<str>)>,
}

impl Names {
    /// Loads the three maps: departments and categories whole (hundreds of rows); regions
    /// only down to the level cases are filed at, which is all of them (~45k short rows,
    /// a few MB, read once per export).
    pub async fn load<C: sea_orm::ConnectionTrait>(db: &C) -> Result<Self, DbErr> {
        let regions = region::Entity::find()
            .select_only()
            .columns([region::Column::Code, region::Column::Name])
            .into_tuple::<(String, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(code, name)| (code, name.into_boxed_str()))
            .collect();
        let departments = department::Entity::find()
            .select_only()
            .columns([department::Column::Id, department::Column::Name])
            .into_tuple::<(i32, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, name)| (id, name.into_boxed_str()))
            .collect();
        let categories = category::Entity::find()
            .select_only()
            .columns([
                category::Column::Id,
                category::Column::Code,
                category::Column::Name,
            ])
            .into_tuple::<(i32, String, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, code, name)| (id, (code.into_boxed_str(), name.into_boxed_str())))
            .collect();
        Ok(Self {
            regions,
            departments,
            categories,
        })
    }
}

/// What names an export's content besides the case rows: the names of departments and
/// categories (renamed units change the files). Regions are reference data fixed by the
/// migrations. Part of the export's ETag.
pub async fn dimension_fingerprint(db: &DatabaseConnection) -> Result<Vec<u8>, DbErr> {
    let mut out = Vec::new();
    let departments = department::Entity::find()
        .select_only()
        .columns([department::Column::Id, department::Column::Name])
        .order_by_asc(department::Column::Id)
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?;
    for (id, name) in departments {
        out.extend_from_slice(format!("d{id}={name}\n").as_bytes());
    }
    let categories = category::Entity::find()
        .select_only()
        .columns([
            category::Column::Id,
            category::Column::Code,
            category::Column::Name,
        ])
        .order_by_asc(category::Column::Id)
        .into_tuple::<(i32, String, String)>()
        .all(db)
        .await?;
    for (id, code, name) in categories {
        out.extend_from_slice(format!("c{id}={code}:{name}\n").as_bytes());
    }
    Ok(out)
}

/// How many cases match and when the latest of them changed, plus how many are overdue
/// at the export's instant: a cheap name for the version of the matching data.
pub async fn data_version(
    db: &DatabaseConnection,
    condition: Condition,
    overdue: Condition,
) -> Result<String, DbErr> {
    let (count, latest): (i64, Option<chrono::DateTime<chrono::Utc>>) = case::Entity::find()
        .select_only()
        .expr(Func::count(Expr::col((case::Entity, case::Column::Id))))
        .expr(Func::max(Expr::col((
            case::Entity,
            case::Column::UpdatedAt,
        ))))
        .filter(condition.clone())
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let late: Option<i64> = case::Entity::find()
        .select_only()
        .expr(Func::count(Expr::col((case::Entity, case::Column::Id))))
        .filter(condition)
        .filter(overdue)
        .into_tuple()
        .one(db)
        .await?;
    Ok(format!(
        "{count}|{}|{}",
        latest.map(|t| t.to_rfc3339()).unwrap_or_default(),
        late.unwrap_or(0)
    ))
}
