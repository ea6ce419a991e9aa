//! Rows inserted directly with the sea-orm entities, for tests that need a known world
//! (the write API is under test elsewhere). Every function returns the stored model.

use chrono::{DateTime, TimeZone, Utc};
use entities::{
    case, case_event, category, citizen, department, rating, region, CaseAction, CaseKind,
    CaseStatus, Channel, DepartmentKind, RatingLevel,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use std::sync::atomic::{AtomicU64, Ordering};

/// A UTC instant (whole seconds: cursors carry seconds).
pub fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .unwrap_or_else(|| {
            panic!("{year}-{month}-{day} {hour}:{minute}:{second} is not a valid instant")
        })
}

/// A region of the loaded reference tree.
pub async fn region(db: &DatabaseConnection, code: &str) -> region::Model {
    region::Entity::find_by_id(code.to_string())
        .one(db)
        .await
        .unwrap_or_else(|e| panic!("reading region {code}: {e}"))
        .unwrap_or_else(|| panic!("region {code} is not in the reference data"))
}

/// A government department in `region_code`, under `parent` when given; its `path` is the
/// parent's path followed by its own id (`/1/7/`).
pub async fn department(
    db: &DatabaseConnection,
    name: &str,
    region_code: &str,
    parent: Option<&department::Model>,
) -> department::Model {
    let inserted = department::ActiveModel {
        name: Set(name.to_string()),
        region_code: Set(region_code.to_string()),
        parent_id: Set(parent.map(|p| p.id)),
        kind: Set(DepartmentKind::Government),
        // Not known before the id is; set right below.
        path: Set("/".to_string()),
        created_at: Set(at(2024, 1, 1, 0, 0, 0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap_or_else(|e| panic!("inserting department {name}: {e}"));
    let path = format!(
        "{}{}/",
        parent.map_or("/", |p| p.path.as_str()),
        inserted.id
    );
    let mut active: department::ActiveModel = inserted.into();
    active.path = Set(path);
    active
        .update(db)
        .await
        .unwrap_or_else(|e| panic!("setting the path of department {name}: {e}"))
}

/// A citizen with a name and a phone number.
pub async fn citizen(db: &DatabaseConnection, name: &str) -> citizen::Model {
    citizen::ActiveModel {
        name: Set(name.to_string()),
        phone: Set(Some("13800000000".to_string())),
        id_number: Set(None),
        email: Set(None),
        address: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap_or_else(|e| panic!("inserting citizen {name}: {e}"))
}

/// A category of the seeded default tree, by its code; `None` gives the first leaf.
pub async fn category(db: &DatabaseConnection, code: Option<&str>) -> category::Model {
    let query = category::Entity::find().order_by_asc(category::Column::Id);
    let found = match code {
        Some(code) => query.filter(category::Column::Code.eq(code)).one(db).await,
        None => {
            query
                .filter(category::Column::ParentId.is_not_null())
                .one(db)
                .await
        }
    };
    found
        .unwrap_or_else(|e| panic!("reading category {code:?}: {e}"))
        .unwrap_or_else(|| panic!("no category {code:?} in the seeded tree"))
}

/// What a fixture case looks like; start from [`NewCase::new`] and set fields.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub title: String,
    pub body: String,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<i32>,
    /// Any region code of the tree; the ancestor codes are filled in from it.
    pub region_code: String,
    pub department_id: Option<i32>,
    pub citizen_id: Option<i64>,
    pub status: CaseStatus,
    pub submitted_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub reply_due_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub reply: Option<String>,
    pub published: bool,
    pub duplicate_of: Option<i64>,
}

impl NewCase {
    /// A published, just-submitted website complaint in `region_code`.
    pub fn new(region_code: &str, submitted_at: DateTime<Utc>) -> Self {
        Self {
            title: "小区门口路灯不亮".to_string(),
            body: "晚上小区门口的路灯已经坏了一周，行人出行不便，请尽快维修。".to_string(),
            channel: Channel::Website,
            kind: CaseKind::Complaint,
            category_id: None,
            region_code: region_code.to_string(),
            department_id: None,
            citizen_id: None,
            status: CaseStatus::Submitted,
            submitted_at,
            accepted_at: None,
            reply_due_at: None,
            replied_at: None,
            closed_at: None,
            reply: None,
            published: true,
            duplicate_of: None,
        }
    }

    pub fn status(mut self, status: CaseStatus) -> Self {
        self.status = status;
        self
    }

    pub fn department(mut self, department: &department::Model) -> Self {
        self.department_id = Some(department.id);
        self
    }

    pub fn category(mut self, category: &category::Model) -> Self {
        self.category_id = Some(category.id);
        self
    }

    pub fn published(mut self, published: bool) -> Self {
        self.published = published;
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }
}

/// Inserts the case, with province/city/county codes taken from its region.
pub async fn case(db: &DatabaseConnection, new: NewCase) -> case::Model {
    static NUMBER: AtomicU64 = AtomicU64::new(1);
    let region = region(db, &new.region_code).await;
    let number = NUMBER.fetch_add(1, Ordering::Relaxed);
    // Like every writer: the public text is redacted once, at write time.
    let name = match new.citizen_id {
        Some(id) => citizen::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap_or_else(|e| panic!("reading citizen {id}: {e}"))
            .map(|c| c.name),
        None => None,
    };
    let public = |text: &str| minyi::open_data::redaction::public_text(text, name.as_deref());
    let public_title = public(&new.title);
    let public_body = public(&new.body);
    let public_reply = new.reply.as_deref().map(public);
    let row = case::ActiveModel {
        tracking_number: Set(format!("T{}{number:08}", new.submitted_at.format("%Y%m%d"))),
        title: Set(new.title),
        body: Set(new.body),
        channel: Set(new.channel),
        kind: Set(new.kind),
        category_id: Set(new.category_id),
        region_code: Set(region.code),
        province_code: Set(region.province_code),
        city_code: Set(region.city_code),
        county_code: Set(region.county_code),
        department_id: Set(new.department_id),
        citizen_id: Set(new.citizen_id),
        status: Set(new.status),
        submitted_at: Set(new.submitted_at),
        accepted_at: Set(new.accepted_at),
        rejected_at: Set(None),
        respond_due_at: Set(None),
        responded_at: Set(None),
        reply_due_at: Set(new.reply_due_at),
        first_reply_due_at: Set(new.reply_due_at),
        first_replied_at: Set(new.replied_at),
        replied_at: Set(new.replied_at),
        closed_at: Set(new.closed_at),
        archived_at: Set(None),
        reply: Set(new.reply),
        // Set by `rating()`, like the write path keeps it.
        rating_level: Set(None),
        duplicate_of: Set(new.duplicate_of),
        repeat_of: Set(None),
        published: Set(new.published),
        supervised: Set(false),
        reopen_count: Set(0),
        version: Set(1),
        idempotency_key: Set(None),
        updated_at: Set(new.submitted_at),
        public_title: Set(Some(public_title)),
        public_body: Set(Some(public_body)),
        public_reply: Set(public_reply),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap_or_else(|e| panic!("inserting a case in {}: {e}", new.region_code));
    // Like every writer: the rollup follows the row.
    dashboard_queries::rollup::apply_delta(db, None, &row)
        .await
        .unwrap_or_else(|e| panic!("rolling up case {}: {e}", row.id));
    row
}

/// A rating of the case at `rated_at`; the case's `rating_level` follows it.
pub async fn rating(
    db: &DatabaseConnection,
    case: &case::Model,
    level: RatingLevel,
    rated_at: DateTime<Utc>,
) -> rating::Model {
    let before = case::Entity::find_by_id(case.id)
        .one(db)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("case {} is not there to be rated", case.id));
    case::Entity::update_many()
        .col_expr(case::Column::RatingLevel, Expr::value(level))
        .filter(case::Column::Id.eq(case.id))
        .exec(db)
        .await
        .unwrap_or_else(|e| panic!("setting the rating level of case {}: {e}", case.id));
    let after = case::Model {
        rating_level: Some(level),
        ..before.clone()
    };
    dashboard_queries::rollup::apply_delta(db, Some(&before), &after)
        .await
        .unwrap_or_else(|e| panic!("rolling up the rating of case {}: {e}", case.id));
    rating::ActiveModel {
        case_id: Set(case.id),
        level: Set(level),
        timeliness: Set(None),
        attitude: Set(None),
        result: Set(None),
        comment: Set(None),
        // Like every writer: the public copy follows the comment (none here).
        public_comment: Set(None),
        rated_at: Set(rated_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap_or_else(|e| panic!("rating case {}: {e}", case.id))
}

/// An event in the case's trail.
pub async fn event(
    db: &DatabaseConnection,
    case: &case::Model,
    action: CaseAction,
    from: Option<CaseStatus>,
    to: Option<CaseStatus>,
    at: DateTime<Utc>,
) -> case_event::Model {
    case_event::ActiveModel {
        case_id: Set(case.id),
        at: Set(at),
        action: Set(action),
        from_status: Set(from),
        to_status: Set(to),
        department_id: Set(case.department_id),
        reply_due_at: Set(None),
        actor: Set("test".to_string()),
        note: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap_or_else(|e| panic!("adding a {action:?} event to case {}: {e}", case.id))
}
