//! Writes checked rows, one transaction a batch: regions resolved, departments and
//! categories found or created, cases inserted with multi-row statements that skip any
//! `external_id` already stored, the case events that replay to each stored status, and
//! the batch's exact delta to `case_rollup_daily` and `case_rollup_department_monthly`.

use super::case_rows::{case_values, new_cases_text, CASE_COLUMNS};
use super::row::ImportRow;
use super::trail::trail_sql;
use crate::clock;
use chrono::{DateTime, Utc};
use dashboard_queries::deadline_rollup::{self, DeadlineKey};
use dashboard_queries::department_rollup::{self, DepartmentKey};
use dashboard_queries::rollup::{self, RollupKey};
use entities::{case, category, department, region, CaseStatus, DepartmentKind, RegionLevel};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter, Statement, TransactionTrait,
    Value,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// SQLite's default maximum number of bound parameters per statement.
const MAX_PARAMS: usize = 32_766;
/// Cases one INSERT writes (32 parameters each, within [`MAX_PARAMS`]).
const CASES_PER_STATEMENT: usize = 1_000;
const _: () = assert!(CASES_PER_STATEMENT * CASE_COLUMNS.len() <= MAX_PARAMS);

/// The region of rows that name none when the import has no `--region`: a root of its
/// own (code 99 is no province's), so region validation and the tree queries treat it
/// like any other division, and a leader of a real province never sees these cases.
pub const UNASSIGNED_REGION_CODE: &str = "990000";
pub const UNASSIGNED_REGION_NAME: &str = "未指定地区（导入数据）Unassigned imports";

/// The advisory lock that serialises import batches on PostgreSQL ("minyi-im").
const IMPORT_LOCK: i64 = 0x6d_69_6e_79_69_2d_69_6d;

/// The import connection's settings on SQLite (they last as long as the connection, and
/// none weakens durability: WAL with `synchronous=NORMAL` as for every connection).
async fn sqlite_pragmas(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    // 18 indexes on `cases` grow at random places: a page cache that holds them saves
    // most of the I/O (the seeder does the same).
    txn.execute_unprepared("PRAGMA cache_size = -262144")
        .await?;
    // A 1,000-row INSERT that may fail half-way (a duplicate tracking number) keeps a
    // statement journal of the pages it changes; past 64 KiB SQLite spills it to a
    // temporary file, which `perf` showed among the writes. In memory it is one copy.
    txn.execute_unprepared("PRAGMA temp_store = MEMORY").await?;
    Ok(())
}

/// A row the database refused to take (its line and why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub imported: u64,
    pub already_present: u64,
    pub rejected: Vec<Rejection>,
}

/// What the writer created along the way.
#[derive(Debug, Default, Clone, Copy)]
pub struct Created {
    pub departments: u64,
    pub categories: u64,
}

pub struct Writer {
    backend: DbBackend,
    published: bool,
    /// `--region`: the region of rows without `region_code`.
    default_region: Option<region::Model>,
    regions: HashMap<String, Option<region::Model>>,
    departments: HashMap<(String, String), i32>,
    categories: HashMap<String, i32>,
    texts: HashMap<(&'static str, usize), String>,
    pub created: Created,
}

/// A row with its place resolved.
struct Placed {
    row: ImportRow,
    region: region::Model,
}

impl Writer {
    pub fn new(backend: DbBackend, published: bool, default_region: Option<region::Model>) -> Self {
        Writer {
            backend,
            published,
            default_region,
            regions: HashMap::new(),
            departments: HashMap::new(),
            categories: HashMap::new(),
            texts: HashMap::new(),
            created: Created::default(),
        }
    }

    /// Writes a batch in one transaction: all of it or, on a database error, none.
    pub async fn write(
        &mut self,
        db: &DatabaseConnection,
        rows: Vec<ImportRow>,
    ) -> Result<BatchOutcome, DbErr> {
        let mut outcome = BatchOutcome::default();
        // The months the batch's cases and events fall in get their partitions first
        // (PostgreSQL), so that they do not pile up in the DEFAULT partitions.
        crate::partitions::ensure_partitions_of(
            db,
            rows.iter()
                .flat_map(|r| std::iter::once(r.requested_at).chain(r.closed_at)),
        )
        .await?;
        let txn = db.begin().await?;
        if self.backend == DbBackend::Postgres {
            // Batches of concurrent imports take turns: each then sees every external id
            // the others stored, as `ON CONFLICT` would (see `new_cases_text`).
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({IMPORT_LOCK})"))
                .await?;
        }
        if self.backend == DbBackend::Sqlite {
            sqlite_pragmas(&txn).await?;
        }
        let mut placed = self.place(&txn, rows, &mut outcome).await?;
        // Most indexes on `cases` end in `submitted_at`: rows in time order touch each
        // index page once rather than at random.
        placed.sort_by_key(|p| p.row.requested_at);
        if placed.is_empty() {
            txn.commit().await?;
            return Ok(outcome);
        }
        self.find_or_create_departments(&txn, &placed).await?;
        self.find_or_create_categories(&txn, &placed).await?;
        let now = clock::now();
        let mut new_ids = Vec::with_capacity(placed.len());
        let mut cells: HashMap<RollupKey, [i64; 14]> = HashMap::new();
        let mut department_cells: HashMap<DepartmentKey, [i64; 14]> = HashMap::new();
        let mut deadline_cells: BTreeMap<DeadlineKey, [i64; 4]> = BTreeMap::new();
        // A repeated id within the batch: the first wins, the others are already present.
        let mut seen = HashSet::with_capacity(placed.len());
        let (unique, repeated): (Vec<&Placed>, Vec<&Placed>) = placed
            .iter()
            .partition(|p| seen.insert(p.row.external_id.as_str()));
        outcome.already_present += repeated.len() as u64;
        // A statement's worth of case rows at a time: their values are built just
        // before and dropped just after, so memory holds one batch of rows, not copies.
        for chunk in unique.chunks(CASES_PER_STATEMENT) {
            let models: Vec<case::Model> = chunk.iter().map(|p| self.case_model(p, now)).collect();
            let ids = self.insert_cases(&txn, &models).await?;
            for model in &models {
                let Some(id) = model.external_id.as_deref().and_then(|e| ids.get(e)) else {
                    outcome.already_present += 1;
                    continue;
                };
                outcome.imported += 1;
                new_ids.push(*id);
                if let Some((key, counters)) = rollup::contribution(model) {
                    rollup::accumulate(&mut cells, key, &counters);
                }
                if let Some((key, counters)) = department_rollup::contribution(model) {
                    rollup::accumulate(&mut department_cells, key, &counters);
                }
                deadline_rollup::accumulate(
                    &mut deadline_cells,
                    deadline_rollup::contributions(model),
                );
            }
        }
        self.insert_trails(&txn, new_ids).await?;
        let cells: Vec<(RollupKey, [i64; 14])> = cells.into_iter().collect();
        rollup::add(&txn, &cells).await?;
        let department_cells: Vec<(DepartmentKey, [i64; 14])> =
            department_cells.into_iter().collect();
        department_rollup::add(&txn, &department_cells).await?;
        let deadline_cells: Vec<(DeadlineKey, [i64; 4])> = deadline_cells.into_iter().collect();
        deadline_rollup::add(&txn, &deadline_cells).await?;
        txn.commit().await?;
        Ok(outcome)
    }

    /// Gives every row its region: its own code, else `--region`, else the unassigned one.
    async fn place(
        &mut self,
        txn: &DatabaseTransaction,
        rows: Vec<ImportRow>,
        outcome: &mut BatchOutcome,
    ) -> Result<Vec<Placed>, DbErr> {
        let unknown: BTreeSet<String> = rows
            .iter()
            .filter_map(|r| r.region_code.clone())
            .filter(|c| !self.regions.contains_key(c))
            .collect();
        if !unknown.is_empty() {
            let found = region::Entity::find()
                .filter(region::Column::Code.is_in(unknown.iter().cloned()))
                .all(txn)
                .await?;
            for code in unknown {
                let hit = found.iter().find(|r| r.code == code).cloned();
                self.regions.insert(code, hit);
            }
        }
        let mut placed = Vec::with_capacity(rows.len());
        for row in rows {
            let region = match &row.region_code {
                Some(code) => match self.regions.get(code).cloned().flatten() {
                    Some(region) => region,
                    None => {
                        outcome.rejected.push(Rejection {
                            line: row.line,
                            reason: format!("region_code {code:?} is not a known region"),
                        });
                        continue;
                    }
                },
                None => match &self.default_region {
                    Some(region) => region.clone(),
                    None => self.unassigned(txn).await?,
                },
            };
            placed.push(Placed { row, region });
        }
        Ok(placed)
    }

    /// The unassigned region, created the first time an import needs it.
    async fn unassigned(&mut self, txn: &DatabaseTransaction) -> Result<region::Model, DbErr> {
        if let Some(Some(region)) = self.regions.get(UNASSIGNED_REGION_CODE) {
            return Ok(region.clone());
        }
        let model = region::Model {
            code: UNASSIGNED_REGION_CODE.to_string(),
            name: UNASSIGNED_REGION_NAME.to_string(),
            level: RegionLevel::Province,
            parent_code: None,
            province_code: UNASSIGNED_REGION_CODE.to_string(),
            city_code: None,
            county_code: None,
        };
        region::Entity::insert(region::ActiveModel::from(model.clone()))
            .on_conflict(
                OnConflict::column(region::Column::Code)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        self.regions.insert(model.code.clone(), Some(model.clone()));
        Ok(model)
    }

    /// Departments by (region, agency name), top-level units of the import's region.
    async fn find_or_create_departments(
        &mut self,
        txn: &DatabaseTransaction,
        placed: &[Placed],
    ) -> Result<(), DbErr> {
        let missing: BTreeSet<(String, String)> = placed
            .iter()
            .map(|p| (p.region.code.clone(), p.row.agency.clone()))
            .filter(|k| !self.departments.contains_key(k))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let found = department::Entity::find()
            .filter(department::Column::ParentId.is_null())
            .filter(department::Column::RegionCode.is_in(missing.iter().map(|(r, _)| r.clone())))
            .filter(department::Column::Name.is_in(missing.iter().map(|(_, n)| n.clone())))
            .all(txn)
            .await?;
        for d in found {
            // The oldest of same-named units wins, as the lowest id.
            self.departments
                .entry((d.region_code.clone(), d.name.clone()))
                .and_modify(|id| *id = (*id).min(d.id))
                .or_insert(d.id);
        }
        for (region_code, name) in missing {
            if self
                .departments
                .contains_key(&(region_code.clone(), name.clone()))
            {
                continue;
            }
            let inserted = department::ActiveModel {
                name: Set(name.clone()),
                region_code: Set(region_code.clone()),
                parent_id: Set(None),
                kind: Set(DepartmentKind::Government),
                // The path holds the id, known only after the insert.
                path: Set("/".to_string()),
                created_at: Set(clock::now()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            let id = inserted.id;
            let mut active: department::ActiveModel = inserted.into();
            active.path = Set(format!("/{id}/"));
            active.update(txn).await?;
            self.departments.insert((region_code, name), id);
            self.created.departments += 1;
        }
        Ok(())
    }

    /// Categories by code (`service_code`), named by `service_name`.
    async fn find_or_create_categories(
        &mut self,
        txn: &DatabaseTransaction,
        placed: &[Placed],
    ) -> Result<(), DbErr> {
        let mut missing: HashMap<String, String> = HashMap::new();
        for (code, name) in placed.iter().filter_map(|p| p.row.category.as_ref()) {
            if !self.categories.contains_key(code) {
                missing.entry(code.clone()).or_insert_with(|| name.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let codes: Vec<String> = missing.keys().cloned().collect();
        for chunk in codes.chunks(500) {
            for c in category::Entity::find()
                .filter(category::Column::Code.is_in(chunk.iter().cloned()))
                .all(txn)
                .await?
            {
                self.categories.insert(c.code, c.id);
            }
        }
        let mut new: Vec<(String, String)> = missing
            .into_iter()
            .filter(|(code, _)| !self.categories.contains_key(code))
            .collect();
        new.sort();
        for (code, name) in new {
            let inserted = category::ActiveModel {
                code: Set(code.clone()),
                name: Set(name),
                parent_id: Set(None),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            self.categories.insert(code, inserted.id);
            self.created.categories += 1;
        }
        Ok(())
    }

    /// The case row an imported request becomes (id 0 until inserted).
    fn case_model(&self, p: &Placed, now: DateTime<Utc>) -> case::Model {
        let row = &p.row;
        let department_id = self
            .departments
            .get(&(p.region.code.clone(), row.agency.clone()))
            .copied();
        let category_id = row
            .category
            .as_ref()
            .and_then(|(code, _)| self.categories.get(code).copied());
        // GeoReport v2 has no reply of its own: closing the request is the agency's answer.
        let replied_at = row.closed_at;
        case::Model {
            id: 0,
            tracking_number: format!("IMP-{}", row.external_id),
            title: row.title.clone(),
            body: row.body.clone(),
            channel: row.channel,
            kind: row.kind,
            category_id,
            region_code: p.region.code.clone(),
            province_code: p.region.province_code.clone(),
            city_code: p.region.city_code.clone(),
            county_code: p.region.county_code.clone(),
            department_id,
            citizen_id: None,
            status: if row.closed {
                CaseStatus::Closed
            } else {
                CaseStatus::Assigned
            },
            submitted_at: row.requested_at,
            accepted_at: Some(row.requested_at),
            rejected_at: None,
            respond_due_at: None,
            responded_at: None,
            reply_due_at: row.expected_at,
            first_reply_due_at: row.expected_at,
            first_replied_at: replied_at,
            replied_at,
            closed_at: row.closed_at,
            archived_at: None,
            reply: row.reply.clone(),
            rating_level: None,
            duplicate_of: None,
            repeat_of: None,
            published: self.published,
            supervised: false,
            reopen_count: 0,
            version: 1,
            idempotency_key: None,
            updated_at: now,
            public_title: Some(row.public_title.clone()),
            public_body: Some(row.public_body.clone()),
            public_reply: row.public_reply.clone(),
            external_id: Some(row.external_id.clone()),
            address: row.address.clone(),
            latitude: row.latitude,
            longitude: row.longitude,
        }
    }

    /// Inserts the cases (at most [`CASES_PER_STATEMENT`], distinct external ids) in one
    /// statement that skips stored `external_id`s; returns the new ids by external id.
    async fn insert_cases(
        &mut self,
        txn: &DatabaseTransaction,
        models: &[case::Model],
    ) -> Result<HashMap<String, i64>, DbErr> {
        let mut values = Vec::with_capacity(models.len() * CASE_COLUMNS.len());
        for m in models {
            case_values(m, &mut values);
        }
        let rows = models.len();
        let backend = self.backend;
        // Built once per shape, so the driver reuses its prepared statement.
        let sql = self
            .texts
            .entry(("cases", rows))
            .or_insert_with(|| new_cases_text(backend, rows))
            .clone();
        let returned = txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        let mut ids = HashMap::with_capacity(returned.len());
        for r in returned {
            ids.insert(
                r.try_get::<String>("", "external_id")?,
                r.try_get::<i64>("", "id")?,
            );
        }
        Ok(ids)
    }

    /// The events of the new cases, case by case.
    async fn insert_trails(
        &mut self,
        txn: &DatabaseTransaction,
        mut ids: Vec<i64>,
    ) -> Result<(), DbErr> {
        ids.sort_unstable();
        for chunk in ids.chunks(MAX_PARAMS.min(10_000)) {
            let sql = trail_sql(self.backend, chunk.len());
            let values: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
            txn.execute_raw(Statement::from_sql_and_values(self.backend, sql, values))
                .await?;
        }
        Ok(())
    }
}
