//! The `cases` list (a Relay connection with keyset cursors) and the `case` lookup.
//! The caller's scope is part of every query's WHERE clause.

use super::case::{CaseNode, AWAITING_REPLY};
use super::context::ContextExt;
use super::cursor::CaseCursor;
use super::ids::{known_region, parse_id};
use super::newest_first;
use super::page_relations::{self, Joined, PageRows};
use crate::auth::{department_subtree, region_subtree};
use crate::error::{ApiError, ApiResult};
use async_graphql::{Context, Enum, InputObject, Lookahead, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{case, category, department, CaseKind, CaseStatus, Channel};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QueryTrait, Statement,
};

/// The largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;

/// Validates `first`/`last`: 1–100.
pub fn page_size(value: Option<i32>, name: &str) -> ApiResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(Some(n as u64)),
        Some(n) => Err(ApiError::bad_input(format!(
            "`{name}` must be between 1 and {MAX_PAGE}, got {n}"
        ))),
    }
}

#[derive(InputObject, Default, Clone)]
pub struct CaseFilter {
    /// A region and everything below it.
    pub region_code: Option<String>,
    /// A department and its sub-units.
    pub department_id: Option<ID>,
    /// A category and its children.
    pub category_id: Option<ID>,
    pub channel: Option<Channel>,
    pub kind: Option<CaseKind>,
    pub status: Option<CaseStatus>,
    /// Submitted at or after this instant.
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before this instant.
    pub submitted_to: Option<DateTime<Utc>>,
    /// Only cases awaiting a reply past their deadline (true) or not (false).
    pub overdue: Option<bool>,
    /// Words in the title or body.
    pub search: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum CaseOrder {
    #[default]
    SubmittedAtDesc,
    SubmittedAtAsc,
}

impl CaseFilter {
    /// The filter as a WHERE condition; unknown references are BAD_USER_INPUT.
    /// `search` looks in the text the caller may read: the raw title and body for staff,
    /// the masked copies for everyone else, so a search for a phone number cannot tell
    /// the public which case holds it.
    pub async fn condition(
        &self,
        db: &DatabaseConnection,
        sees_personal_data: bool,
    ) -> ApiResult<Condition> {
        let mut cond = Condition::all();
        if let Some(code) = &self.region_code {
            cond = cond.add(region_subtree(&known_region(db, code).await?));
        }
        if let Some(id) = &self.department_id {
            let id: i32 = parse_id(id, "department")?;
            let department = department::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ApiError::bad_input(format!("unknown department {id}")))?;
            cond = cond.add(department_subtree(&department.path));
        }
        if let Some(id) = &self.category_id {
            let id: i32 = parse_id(id, "category")?;
            category::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| ApiError::bad_input(format!("unknown category {id}")))?;
            cond = cond.add(
                case::Column::CategoryId.in_subquery(
                    Query::select()
                        .column(category::Column::Id)
                        .from(category::Entity)
                        .cond_where(
                            Condition::any()
                                .add(category::Column::Id.eq(id))
                                .add(category::Column::ParentId.eq(id)),
                        )
                        .to_owned(),
                ),
            );
        }
        if let Some(channel) = self.channel {
            cond = cond.add(case::Column::Channel.eq(channel));
        }
        if let Some(kind) = self.kind {
            cond = cond.add(case::Column::Kind.eq(kind));
        }
        if let Some(status) = self.status {
            cond = cond.add(case::Column::Status.eq(status));
        }
        if let Some(from) = self.submitted_from {
            cond = cond.add(case::Column::SubmittedAt.gte(from));
        }
        if let Some(to) = self.submitted_to {
            cond = cond.add(case::Column::SubmittedAt.lt(to));
        }
        if let Some(overdue) = self.overdue {
            let late = overdue_at(crate::clock::now());
            cond = cond.add(if overdue { late } else { late.not() });
        }
        if let Some(search) = self
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if search.chars().count() > 100 {
                return Err(ApiError::bad_input("`search` is limited to 100 characters"));
            }
            cond = cond.add(search_condition(search, sees_personal_data));
        }
        Ok(cond)
    }
}

/// Cases awaiting a reply past their deadline at `at` (the `overdue` filter and the
/// exports' `overdue` column, which is evaluated at the export's instant).
pub fn overdue_at(at: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(case::Column::Status.is_in(AWAITING_REPLY))
        .add(case::Column::ReplyDueAt.lt(at))
}

/// `search` in the title or body the caller may read: the raw text for staff, the
/// masked copies for everyone else, so a search for a phone number cannot tell the
/// public which case holds it. `%` and `_` are dropped, not interpreted.
pub fn search_condition(search: &str, sees_personal_data: bool) -> Condition {
    let pattern = format!("%{}%", search.replace(['%', '_'], ""));
    let (title, body) = if sees_personal_data {
        (case::Column::Title, case::Column::Body)
    } else {
        (case::Column::PublicTitle, case::Column::PublicBody)
    };
    Condition::any()
        .add(title.like(pattern.clone()))
        .add(body.like(pattern))
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<String>,
    end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct CaseEdge {
    cursor: String,
    node: CaseNode,
}

pub struct CaseConnection {
    condition: Condition,
    page_info: PageInfo,
    rows: Vec<case::Model>,
    /// The regions and departments the page's statement joined (fed to the loaders).
    joined: PageRows,
}

#[Object]
impl CaseConnection {
    /// All cases matching the filter within the caller's scope (not just this page).
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<u64> {
        Ok(case::Entity::find()
            .filter(self.condition.clone())
            .count(ctx.db()?)
            .await?)
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    async fn edges(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseEdge>> {
        prefetch(
            ctx,
            &self.rows,
            &self.joined,
            ctx.look_ahead().field("node"),
        )
        .await?;
        Ok(self
            .rows
            .iter()
            .map(|row| CaseEdge {
                cursor: cursor_of(row).encode(),
                node: CaseNode(row.clone()),
            })
            .collect())
    }
    async fn nodes(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNode>> {
        prefetch(ctx, &self.rows, &self.joined, ctx.look_ahead()).await?;
        Ok(self.rows.iter().cloned().map(CaseNode).collect())
    }
}

/// Loads, in one batch per relation, every relation the client selected on a page of
/// cases. Relying on the DataLoader's delay alone splits batches when a long page takes
/// longer to walk than the delay; priming the loaders with the page's keys makes one
/// query per relation certain and waits no delay (1 ms per relation before).
/// Regions and departments the page's statement joined are fed as they are.
async fn prefetch(
    ctx: &Context<'_>,
    rows: &[case::Model],
    joined: &PageRows,
    node: Lookahead<'_>,
) -> ApiResult<()> {
    let loaders = ctx.loaders()?;
    let wants = |field: &str| node.field(field).exists();
    // Each relation the page asks for is one query, one after the other: run side by
    // side they were faster alone (PostgreSQL 1M, 20 cases with region and department:
    // c1 p50 9.9 → 5.3–5.9 ms) but took three pooled connections a request, and under load
    // slower (c8 119–133 → 82–97 req/s).
    // Staff asking for the submitting citizen (the public's free text is stored
    // redacted and needs none).
    if wants("citizen") && ctx.principal()?.sees_personal_data() {
        let citizens = rows.iter().filter_map(|r| r.citizen_id);
        loaders.prime(&loaders.citizens, citizens).await?;
    }
    if !joined.regions.is_empty() {
        loaders.regions.feed_many(joined.regions.clone()).await;
    }
    if !joined.departments.is_empty() {
        loaders
            .departments
            .feed_many(joined.departments.clone())
            .await;
    }
    if wants("region") {
        let regions = rows.iter().map(|r| r.region_code.clone());
        loaders.prime(&loaders.regions, regions).await?;
    }
    if wants("department") {
        let departments = rows.iter().filter_map(|r| r.department_id);
        loaders.prime(&loaders.departments, departments).await?;
    }
    if wants("category") {
        let categories = rows.iter().filter_map(|r| r.category_id);
        loaders.prime(&loaders.categories, categories).await?;
    }
    if wants("rating") {
        loaders
            .prime(&loaders.ratings, rows.iter().map(|r| r.id))
            .await?;
    }
    if wants("events") {
        loaders
            .prime(&loaders.events, rows.iter().map(|r| r.id))
            .await?;
    }
    Ok(())
}

/// The statement of a page: the cases matching `condition` and `page` (the cursor's
/// bound), `limit` of them walking `walk` by `(submitted_at, id)`, the order of the
/// `(…, submitted_at)` indexes and of the public's partial index
/// (`idx_cases_published_submitted_at`).
///
/// The limit is written into the SQL rather than bound (it is one of the 101 values
/// `page_size` allows, so the statements cached per connection stay few). With the
/// public's condition also literal, a first page binds nothing, and PostgreSQL reuses
/// one plan for it: a statement with parameters gets a custom plan on every call under
/// the pool's `plan_cache_mode = force_custom_plan` (`db.rs`), planned across every
/// monthly partition (~2–3 ms at 1M cases, three times the page's execution).
pub fn page_of(
    backend: DbBackend,
    condition: Condition,
    page: Condition,
    walk: Order,
    limit: u64,
) -> Statement {
    page_with(backend, condition, page, walk, limit, Joined::NONE)
}

/// [`page_of`] bringing the `joined` relations along (`page_relations`).
pub fn page_with(
    backend: DbBackend,
    condition: Condition,
    page: Condition,
    walk: Order,
    limit: u64,
    joined: Joined,
) -> Statement {
    let mut select = case::Entity::find()
        .filter(condition)
        .filter(page)
        .order_by(case::Column::SubmittedAt, walk.clone())
        .order_by(case::Column::Id, walk);
    joined.apply(QueryTrait::query(&mut select));
    let mut statement = select.build(backend);
    statement.sql.push_str(&format!(" LIMIT {limit}"));
    statement
}

fn cursor_of(row: &case::Model) -> CaseCursor {
    CaseCursor {
        submitted_at: row.submitted_at,
        id: row.id,
    }
}

/// Rows strictly beyond `cursor` when walking in `order`.
fn beyond(cursor: CaseCursor, order: Order) -> Condition {
    let (t, id) = (cursor.submitted_at, cursor.id);
    match order {
        Order::Asc => Condition::any().add(case::Column::SubmittedAt.gt(t)).add(
            Condition::all()
                .add(case::Column::SubmittedAt.eq(t))
                .add(case::Column::Id.gt(id)),
        ),
        _ => Condition::any().add(case::Column::SubmittedAt.lt(t)).add(
            Condition::all()
                .add(case::Column::SubmittedAt.eq(t))
                .add(case::Column::Id.lt(id)),
        ),
    }
}

fn reverse(order: Order) -> Order {
    match order {
        Order::Asc => Order::Desc,
        _ => Order::Asc,
    }
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// Cases visible to the caller, newest first by default. `first`/`last` 1–100.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilter>,
        order_by: Option<CaseOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<CaseConnection> {
        let db = ctx.db()?;
        let first_n = page_size(first, "first")?;
        let last_n = page_size(last, "last")?;
        if first_n.is_some() && last_n.is_some() {
            return Err(ApiError::bad_input(
                "pass either `first` or `last`, not both",
            ));
        }
        let after = after.as_deref().map(CaseCursor::decode).transpose()?;
        let before = before.as_deref().map(CaseCursor::decode).transpose()?;
        let principal = ctx.principal()?;
        let condition = Condition::all().add(principal.case_visibility()).add(
            filter
                .unwrap_or_default()
                .condition(db, principal.sees_personal_data())
                .await?,
        );

        let order = match order_by.unwrap_or_default() {
            CaseOrder::SubmittedAtDesc => Order::Desc,
            CaseOrder::SubmittedAtAsc => Order::Asc,
        };
        // Walking backwards (`last`) reads in the reverse order, then flips the page.
        let backwards = last_n.is_some();
        let limit = last_n.or(first_n).unwrap_or(20);
        let walk = if backwards {
            reverse(order.clone())
        } else {
            order.clone()
        };
        let mut page = Condition::all();
        if let Some(cursor) = after {
            page = page.add(beyond(cursor, order.clone()));
        }
        if let Some(cursor) = before {
            page = page.add(beyond(cursor, reverse(order.clone())));
        }
        // The newest row the page may hold: the cursor that bounds the walk from above.
        let upper = match order {
            Order::Desc => after,
            _ => before,
        }
        .map(|c| c.submitted_at);
        let backend = db.get_database_backend();
        let joined = Joined::asked_by(ctx.look_ahead());
        let page_rows = |floor: Option<Condition>| {
            let scoped = match floor {
                Some(floor) => condition.clone().add(floor),
                None => condition.clone(),
            };
            let statement = page_with(
                backend,
                scoped,
                page.clone(),
                walk.clone(),
                limit + 1,
                joined,
            );
            page_relations::read(db, statement, joined)
        };
        let probed = match newest_first::probe_floor(backend, &walk, upper, crate::clock::now()) {
            Some(floor) => Some(page_rows(Some(floor)).await?)
                .filter(|found| newest_first::probe_answers(found.cases.len(), limit)),
            None => None,
        };
        let mut found = match probed {
            Some(found) => found,
            None => page_rows(None).await?,
        };
        let mut rows = std::mem::take(&mut found.cases);
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        if backwards {
            rows.reverse();
        }
        let page_info = PageInfo {
            has_next_page: if backwards {
                before.is_some()
            } else {
                has_more
            },
            has_previous_page: if backwards { has_more } else { after.is_some() },
            start_cursor: rows.first().map(|r| cursor_of(r).encode()),
            end_cursor: rows.last().map(|r| cursor_of(r).encode()),
        };
        Ok(CaseConnection {
            condition,
            page_info,
            rows,
            joined: found,
        })
    }

    /// One case; a case outside the caller's scope is indistinguishable from a missing one.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<CaseNode>> {
        let id: i64 = parse_id(&id, "case")?;
        let found = case::Entity::find_by_id(id)
            .filter(ctx.principal()?.case_visibility())
            .one(ctx.db()?)
            .await?;
        match found {
            Some(row) => Ok(Some(CaseNode(row))),
            None => Err(ApiError::not_found(format!("case {id}"))),
        }
    }
}
