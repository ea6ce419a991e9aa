//! Multi-row INSERTs with explicit ids, sized under SQLite's bound-parameter limit
//! (32,766), with the statement text built once per shape so SQLite reuses the
//! prepared statement.

use super::gen::Chunk;
use super::org::Department;
use chrono::{DateTime, Utc};
use entities::{case, case_event, citizen, rating};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use std::collections::HashMap;

/// SQLite's default maximum number of bound parameters.
const MAX_PARAMS: usize = 32_766;

pub const CASE_COLUMNS: &[&str] = &[
    "id",
    "tracking_number",
    "title",
    "body",
    "channel",
    "kind",
    "category_id",
    "region_code",
    "province_code",
    "city_code",
    "county_code",
    "department_id",
    "citizen_id",
    "status",
    "submitted_at",
    "accepted_at",
    "rejected_at",
    "respond_due_at",
    "responded_at",
    "reply_due_at",
    "first_reply_due_at",
    "first_replied_at",
    "replied_at",
    "closed_at",
    "archived_at",
    "reply",
    "rating_level",
    "duplicate_of",
    "repeat_of",
    "published",
    "supervised",
    "reopen_count",
    "version",
    "idempotency_key",
    "updated_at",
    "public_title",
    "public_body",
    "public_reply",
    "external_id",
    "address",
    "latitude",
    "longitude",
];
pub const EVENT_COLUMNS: &[&str] = &[
    "id",
    "case_id",
    "at",
    "action",
    "from_status",
    "to_status",
    "department_id",
    "reply_due_at",
    "actor",
    "note",
];
pub const RATING_COLUMNS: &[&str] = &[
    "id",
    "case_id",
    "level",
    "timeliness",
    "attitude",
    "result",
    "comment",
    "rated_at",
    "public_comment",
];
pub const CITIZEN_COLUMNS: &[&str] = &["id", "name", "phone", "id_number", "email", "address"];
pub const DEPARTMENT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "region_code",
    "parent_id",
    "kind",
    "path",
    "created_at",
];

/// Builds and caches INSERT texts by (table, rows).
pub struct Inserter {
    backend: DbBackend,
    texts: HashMap<(&'static str, usize), String>,
}

impl Inserter {
    pub fn new(backend: DbBackend) -> Self {
        Inserter {
            backend,
            texts: HashMap::new(),
        }
    }

    fn text(&mut self, table: &'static str, columns: &[&str], rows: usize) -> String {
        let backend = self.backend;
        self.texts
            .entry((table, rows))
            .or_insert_with(|| {
                let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
                let mut n = 0;
                for r in 0..rows {
                    if r > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    for c in 0..columns.len() {
                        if c > 0 {
                            sql.push_str(", ");
                        }
                        n += 1;
                        match backend {
                            DbBackend::Postgres => sql.push_str(&format!("${n}")),
                            _ => sql.push('?'),
                        }
                    }
                    sql.push(')');
                }
                sql
            })
            .clone()
    }

    /// Inserts `rows` (each already flattened to `columns.len()` values) in statements of
    /// at most `MAX_PARAMS` parameters.
    pub async fn insert<C: ConnectionTrait>(
        &mut self,
        db: &C,
        table: &'static str,
        columns: &[&str],
        values: Vec<Value>,
    ) -> Result<(), DbErr> {
        let width = columns.len();
        let per_statement = (MAX_PARAMS / width).min(1000) * width;
        let mut values = values.into_iter().peekable();
        while values.peek().is_some() {
            let batch: Vec<Value> = values.by_ref().take(per_statement).collect();
            let rows = batch.len() / width;
            let sql = self.text(table, columns, rows);
            db.execute_raw(Statement::from_sql_and_values(self.backend, sql, batch))
                .await?;
        }
        Ok(())
    }
}

/// The secondary indexes of the seeded tables (not the primary keys or unique
/// constraints), as the statements that create them, read from the database itself so
/// they match the migration exactly.
pub async fn secondary_indexes<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String)>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ('cases', 'case_events', 'ratings', 'citizens') ORDER BY name"
        }
        DbBackend::Postgres => {
            "SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('cases', 'case_events', 'ratings', 'citizens') \
             AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
        }
        _ => return Ok(Vec::new()),
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get::<String>("", "name")?,
                // A partitioned table's index prints as `ON ONLY cases`, which would
                // build the parent's index alone: without ONLY it is built on every
                // partition too.
                r.try_get::<String>("", "sql")?
                    .replacen(" ON ONLY ", " ON ", 1),
            ))
        })
        .collect()
}

fn ts(t: DateTime<Utc>) -> Value {
    t.into()
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Value {
    t.into()
}

pub fn department_values(departments: &[Department], created_at: DateTime<Utc>) -> Vec<Value> {
    let mut v = Vec::with_capacity(departments.len() * DEPARTMENT_COLUMNS.len());
    for d in departments {
        v.push(d.id.into());
        v.push(d.name.clone().into());
        v.push(d.region_code.clone().into());
        v.push(d.parent_id.into());
        v.push(d.kind.as_str().into());
        v.push(d.path.clone().into());
        v.push(ts(created_at));
    }
    v
}

fn case_values(cases: Vec<case::Model>, v: &mut Vec<Value>) {
    for c in cases {
        v.push(c.id.into());
        v.push(c.tracking_number.into());
        v.push(c.title.into());
        v.push(c.body.into());
        v.push(c.channel.as_str().into());
        v.push(c.kind.as_str().into());
        v.push(c.category_id.into());
        v.push(c.region_code.into());
        v.push(c.province_code.into());
        v.push(c.city_code.into());
        v.push(c.county_code.into());
        v.push(c.department_id.into());
        v.push(c.citizen_id.into());
        v.push(c.status.as_str().into());
        v.push(ts(c.submitted_at));
        v.push(opt_ts(c.accepted_at));
        v.push(opt_ts(c.rejected_at));
        v.push(opt_ts(c.respond_due_at));
        v.push(opt_ts(c.responded_at));
        v.push(opt_ts(c.reply_due_at));
        v.push(opt_ts(c.first_reply_due_at));
        v.push(opt_ts(c.first_replied_at));
        v.push(opt_ts(c.replied_at));
        v.push(opt_ts(c.closed_at));
        v.push(opt_ts(c.archived_at));
        v.push(c.reply.into());
        v.push(c.rating_level.map(|l| l.as_str()).into());
        v.push(c.duplicate_of.into());
        v.push(c.repeat_of.into());
        v.push(c.published.into());
        v.push(c.supervised.into());
        v.push(c.reopen_count.into());
        v.push(c.version.into());
        v.push(c.idempotency_key.into());
        v.push(ts(c.updated_at));
        v.push(c.public_title.into());
        v.push(c.public_body.into());
        v.push(c.public_reply.into());
        v.push(c.external_id.into());
        v.push(c.address.into());
        v.push(c.latitude.into());
        v.push(c.longitude.into());
    }
}

fn event_values(events: Vec<case_event::Model>, v: &mut Vec<Value>) {
    for e in events {
        v.push(e.id.into());
        v.push(e.case_id.into());
        v.push(ts(e.at));
        v.push(e.action.as_str().into());
        v.push(e.from_status.map(|s| s.as_str()).into());
        v.push(e.to_status.map(|s| s.as_str()).into());
        v.push(e.department_id.into());
        v.push(opt_ts(e.reply_due_at));
        v.push(e.actor.into());
        v.push(e.note.into());
    }
}

fn rating_values(ratings: Vec<rating::Model>, v: &mut Vec<Value>) {
    for r in ratings {
        v.push(r.id.into());
        v.push(r.case_id.into());
        v.push(r.level.as_str().into());
        v.push(r.timeliness.into());
        v.push(r.attitude.into());
        v.push(r.result.into());
        v.push(r.comment.into());
        v.push(ts(r.rated_at));
        v.push(r.public_comment.into());
    }
}

fn citizen_values(citizens: Vec<citizen::Model>, v: &mut Vec<Value>) {
    for c in citizens {
        v.push(c.id.into());
        v.push(c.name.into());
        v.push(c.phone.into());
        v.push(c.id_number.into());
        v.push(c.email.into());
        v.push(c.address.into());
    }
}

/// A chunk flattened to parameter values, table by table (built off the async path).
pub struct Flat {
    pub cases: usize,
    pub events: usize,
    pub ratings: usize,
    pub citizens: usize,
    pub values: [Vec<Value>; 4],
}

pub fn flatten(chunk: Chunk) -> Flat {
    let (cases, events, ratings, citizens) = (
        chunk.cases.len(),
        chunk.events.len(),
        chunk.ratings.len(),
        chunk.citizens.len(),
    );
    let mut c = Vec::with_capacity(cases * CASE_COLUMNS.len());
    case_values(chunk.cases, &mut c);
    let mut e = Vec::with_capacity(events * EVENT_COLUMNS.len());
    event_values(chunk.events, &mut e);
    let mut r = Vec::with_capacity(ratings * RATING_COLUMNS.len());
    rating_values(chunk.ratings, &mut r);
    let mut z = Vec::with_capacity(citizens * CITIZEN_COLUMNS.len());
    citizen_values(chunk.citizens, &mut z);
    Flat {
        cases,
        events,
        ratings,
        citizens,
        values: [z, c, e, r],
    }
}

/// Inserts a flattened chunk: citizens, cases, events, ratings.
pub async fn insert_flat<C: ConnectionTrait>(
    ins: &mut Inserter,
    db: &C,
    flat: Flat,
) -> Result<(), DbErr> {
    let [z, c, e, r] = flat.values;
    ins.insert(db, "citizens", CITIZEN_COLUMNS, z).await?;
    ins.insert(db, "cases", CASE_COLUMNS, c).await?;
    ins.insert(db, "case_events", EVENT_COLUMNS, e).await?;
    ins.insert(db, "ratings", RATING_COLUMNS, r).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_flattens_to_one_value_per_column() {
        let data = crate::seed::tests::sample(50);
        let flat = flatten(data);
        let [z, c, e, r] = &flat.values;
        assert_eq!(c.len(), flat.cases * CASE_COLUMNS.len());
        assert_eq!(e.len(), flat.events * EVENT_COLUMNS.len());
        assert_eq!(r.len(), flat.ratings * RATING_COLUMNS.len());
        assert_eq!(z.len(), flat.citizens * CITIZEN_COLUMNS.len());
        // Every column of the entity is written.
        use sea_orm::{IdenStatic, Iterable};
        let names: Vec<&str> = entities::case::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(names, CASE_COLUMNS);
    }
}
