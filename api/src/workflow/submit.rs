//! Registering a case (登记): idempotent on the client's key, with a readable unique
//! tracking number, the respond deadline from the policy table, and automatic
//! supervision when the same citizen reports again while their earlier case on the
//! same topic is still unresolved (Guangyuan: 重复反映未解决 → 督查督办).

use super::authz::{self, Operation};
use super::policy;
use super::rating::issue_token;
use super::service::{optional_text, required_text, Env};
use crate::error::{ApiError, ApiResult};
use crate::open_data::redaction::public_text;
use entities::{
    case, case_event, category, citizen, region, CaseAction, CaseKind, CaseStatus, Channel,
};
use rand::Rng;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
    QueryOrder, SqlErr, TransactionTrait,
};

/// Unambiguous characters for tracking numbers (no 0/O, 1/I): they are read out on
/// the phone.
const TRACKING_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const MAX_IDEMPOTENCY_KEY: usize = 100;

#[derive(Debug, Clone)]
pub struct CitizenInput {
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SubmitInput {
    pub title: String,
    pub body: String,
    pub channel: Channel,
    pub kind: CaseKind,
    pub category_id: Option<i32>,
    pub region_code: String,
    pub citizen: CitizenInput,
}

/// The registered case and the citizen's rating token (shown this once).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub case: case::Model,
    pub rating_token: String,
    /// True when the idempotency key named an earlier submission.
    pub replayed: bool,
}

fn bounded(name: &str, value: Option<&str>, max: usize) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::bad_input(format!(
            "`{name}` is limited to {max} characters"
        ))),
        _ => Ok(()),
    }
}

fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn validate(input: &SubmitInput, key: Option<&str>) -> ApiResult<()> {
    required_text("title", &input.title)?;
    bounded("title", Some(&input.title), 200)?;
    required_text("body", &input.body)?;
    required_text("citizen.name", &input.citizen.name)?;
    bounded("citizen.name", Some(&input.citizen.name), 100)?;
    bounded("citizen.phone", input.citizen.phone.as_deref(), 32)?;
    bounded("citizen.idNumber", input.citizen.id_number.as_deref(), 32)?;
    bounded("citizen.email", input.citizen.email.as_deref(), 254)?;
    optional_text("citizen.address", input.citizen.address.as_deref())?;
    if let Some(key) = key {
        if key.trim().is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY {
            return Err(ApiError::bad_input(format!(
                "`idempotencyKey` must have 1 to {MAX_IDEMPOTENCY_KEY} characters"
            )));
        }
    }
    Ok(())
}

/// "MY" + the Shanghai date + 6 random characters, e.g. `MY20250127-K7Q2MZ`.
fn tracking_number(env: &Env<'_>) -> String {
    let date = env
        .now
        .with_timezone(&env.calendar.time_zone())
        .format("%Y%m%d");
    let mut rng = rand::rng();
    let suffix: String = (0..6)
        .map(|_| TRACKING_ALPHABET[rng.random_range(0..TRACKING_ALPHABET.len())] as char)
        .collect();
    format!("MY{date}-{suffix}")
}

/// The caller's earlier submission under `key`, replayed: same case, fresh token.
async fn replay(env: &Env<'_>, input: &SubmitInput, key: &str) -> ApiResult<Option<Submitted>> {
    let Some(existing) = case::Entity::find()
        .filter(case::Column::IdempotencyKey.eq(key))
        .one(env.db)
        .await?
    else {
        return Ok(None);
    };
    let same = existing.title == input.title.trim()
        && existing.body == input.body.trim()
        && existing.channel == input.channel
        && existing.kind == input.kind
        && existing.region_code == input.region_code;
    if !same {
        return Err(ApiError::Conflict(
            "this idempotency key was already used for a different submission".into(),
        ));
    }
    // Only the token's hash is kept, so a retry (whose client lost the first answer)
    // gets a new token and the old one stops working.
    let txn = env.db.begin().await?;
    let rating_token = issue_token(&txn, existing.id, env.now).await?;
    txn.commit().await?;
    Ok(Some(Submitted {
        case: existing,
        rating_token,
        replayed: true,
    }))
}

/// The same citizen's latest unresolved case in the same category, if any.
async fn earlier_unresolved(env: &Env<'_>, input: &SubmitInput) -> ApiResult<Option<i64>> {
    let (Some(category_id), phone, id_number) = (
        input.category_id,
        clean(&input.citizen.phone),
        clean(&input.citizen.id_number),
    ) else {
        return Ok(None);
    };
    if phone.is_none() && id_number.is_none() {
        return Ok(None);
    }
    let mut same_person = Condition::any();
    if let Some(phone) = phone {
        same_person = same_person.add(citizen::Column::Phone.eq(phone));
    }
    if let Some(id_number) = id_number {
        same_person = same_person.add(citizen::Column::IdNumber.eq(id_number));
    }
    let earlier = case::Entity::find()
        .filter(
            case::Column::CitizenId.in_subquery(
                Query::select()
                    .column(citizen::Column::Id)
                    .from(citizen::Entity)
                    .cond_where(same_person)
                    .to_owned(),
            ),
        )
        .filter(case::Column::CategoryId.eq(category_id))
        .filter(case::Column::Status.is_not_in([
            CaseStatus::Rejected,
            CaseStatus::Closed,
            CaseStatus::Archived,
        ]))
        .filter(case::Column::DuplicateOf.is_null())
        .order_by_desc(case::Column::SubmittedAt)
        .order_by_desc(case::Column::Id)
        .one(env.db)
        .await?;
    Ok(earlier.map(|c| c.id))
}

/// Registers a case; a retry with the same idempotency key returns the same case.
pub async fn submit(env: Env<'_>, input: SubmitInput, key: Option<String>) -> ApiResult<Submitted> {
    authz::require(env.principal, Operation::Submit)?;
    validate(&input, key.as_deref())?;
    // Keys are the caller's own namespace: another client's key never replays its case.
    let key = key.map(|k| format!("{}|{}", env.principal.actor(), k.trim()));
    if let Some(key) = &key {
        if let Some(done) = replay(&env, &input, key).await? {
            return Ok(done);
        }
    }
    let place = region::Entity::find_by_id(input.region_code.clone())
        .one(env.db)
        .await?
        .ok_or_else(|| ApiError::bad_input(format!("unknown region code {}", input.region_code)))?;
    if let Some(id) = input.category_id {
        category::Entity::find_by_id(id)
            .one(env.db)
            .await?
            .ok_or_else(|| ApiError::bad_input(format!("unknown category {id}")))?;
    }
    let limits = policy::limits_of(
        env.db,
        input.channel,
        input.kind,
        input.category_id,
        &place.code,
    )
    .await?;
    let repeat_of = earlier_unresolved(&env, &input).await?;

    // A tracking-number collision (1 in 10^9 a day) is retried with a new number; a
    // concurrent retry under the same key is answered as a replay.
    for _ in 0..3 {
        match insert(&env, &input, &place, limits, repeat_of, key.clone()).await {
            Ok(done) => return Ok(done),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                if let Some(key) = &key {
                    if let Some(done) = replay(&env, &input, key).await? {
                        return Ok(done);
                    }
                }
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Internal(
        "no free tracking number after 3 attempts".into(),
    ))
}

/// One transaction: citizen, case, submit event, the repeat's supervision, the token.
async fn insert(
    env: &Env<'_>,
    input: &SubmitInput,
    place: &region::Model,
    limits: policy::Limits,
    repeat_of: Option<i64>,
    key: Option<String>,
) -> Result<Submitted, DbErr> {
    let now = env.now;
    let txn = env.db.begin().await?;
    let person = citizen::ActiveModel {
        name: Set(input.citizen.name.trim().to_string()),
        phone: Set(clean(&input.citizen.phone)),
        id_number: Set(clean(&input.citizen.id_number)),
        email: Set(clean(&input.citizen.email)),
        address: Set(clean(&input.citizen.address)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let row = case::ActiveModel {
        tracking_number: Set(tracking_number(env)),
        title: Set(input.title.trim().to_string()),
        body: Set(input.body.trim().to_string()),
        // Redacted once here, with the citizen's own name, so public reads stay fast.
        public_title: Set(Some(public_text(input.title.trim(), Some(&person.name)))),
        public_body: Set(Some(public_text(input.body.trim(), Some(&person.name)))),
        channel: Set(input.channel),
        kind: Set(input.kind),
        category_id: Set(input.category_id),
        region_code: Set(place.code.clone()),
        province_code: Set(place.province_code.clone()),
        city_code: Set(place.city_code.clone()),
        county_code: Set(place.county_code.clone()),
        department_id: Set(None),
        citizen_id: Set(Some(person.id)),
        status: Set(CaseStatus::Submitted),
        submitted_at: Set(now),
        respond_due_at: Set(Some(limits.respond_due(now))),
        repeat_of: Set(repeat_of),
        published: Set(false),
        supervised: Set(false),
        reopen_count: Set(0),
        version: Set(1),
        idempotency_key: Set(key),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    dashboard_queries::rollup::apply_delta(&txn, None, &row).await?;
    let event =
        |case_id, action, from, to, department_id, actor: String, note| case_event::ActiveModel {
            case_id: Set(case_id),
            at: Set(now),
            action: Set(action),
            from_status: Set(from),
            to_status: Set(Some(to)),
            department_id: Set(department_id),
            reply_due_at: Set(None),
            actor: Set(actor),
            note: Set(note),
            ..Default::default()
        };
    event(
        row.id,
        CaseAction::Submit,
        None,
        CaseStatus::Submitted,
        None,
        env.principal.actor(),
        None,
    )
    .insert(&txn)
    .await?;
    if let Some(earlier_id) = repeat_of {
        // Read inside the transaction, after its first write: the status is current.
        if let Some(earlier) = case::Entity::find_by_id(earlier_id).one(&txn).await? {
            // A flag, not a state change: no version bump, so a handler working the
            // earlier case is not sent a CONFLICT by a citizen's new message.
            case::Entity::update_many()
                .col_expr(case::Column::Supervised, Expr::value(true))
                .filter(case::Column::Id.eq(earlier.id))
                .exec(&txn)
                .await?;
            let note = format!(
                "reported again by the same citizen as {}",
                row.tracking_number
            );
            event(
                earlier.id,
                CaseAction::Supervise,
                Some(earlier.status),
                earlier.status,
                earlier.department_id,
                "system:repeat".into(),
                Some(note),
            )
            .insert(&txn)
            .await?;
        }
    }
    let rating_token = issue_token(&txn, row.id, now).await?;
    txn.commit().await?;
    crate::live::committed();
    Ok(Submitted {
        case: row,
        rating_token,
        replayed: false,
    })
}
