//! The SQL that stores imported cases: the columns written, the multi-row INSERT that
//! skips stored `external_id`s, and a case's bound values.

use entities::case;
use sea_orm::{DbBackend, Value};

/// The columns written; the rest of `cases` stays NULL for an imported request (no
/// citizen, no rating, no respond deadline, never rejected, merged or archived).
pub(super) const CASE_COLUMNS: [&str; 32] = [
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
    "status",
    "submitted_at",
    "accepted_at",
    "reply_due_at",
    "first_reply_due_at",
    "first_replied_at",
    "replied_at",
    "closed_at",
    "reply",
    "published",
    "supervised",
    "reopen_count",
    "version",
    "updated_at",
    "public_title",
    "public_body",
    "public_reply",
    "external_id",
    "address",
    "latitude",
    "longitude",
];

/// The INSERT of `rows` cases that skips the `external_id`s already stored and returns
/// `id, external_id` of the new ones. SQLite: `ON CONFLICT` on the unique index.
/// PostgreSQL: the index of a partitioned table cannot be unique on `external_id` alone,
/// so the rows are filtered against `case_keys` (the key table that enforces uniqueness
/// across partitions); the writer holds a lock that makes the filter exact.
pub(super) fn new_cases_text(backend: DbBackend, rows: usize) -> String {
    match backend {
        DbBackend::Postgres => {
            format!(
                "INSERT INTO cases ({columns}) SELECT {columns} FROM (VALUES {tuples}) AS v ({columns}) \
                 WHERE NOT EXISTS (SELECT 1 FROM case_keys k WHERE k.kind = 'external_id' \
                 AND k.value = v.external_id) RETURNING id, external_id",
                columns = CASE_COLUMNS.join(", "),
                tuples = tuples(backend, CASE_COLUMNS.len(), rows)
            )
        }
        _ => insert_text(
            backend,
            "cases",
            &CASE_COLUMNS,
            rows,
            " ON CONFLICT (external_id) DO NOTHING RETURNING id, external_id",
        ),
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, then `tail`.
fn insert_text(
    backend: DbBackend,
    table: &str,
    columns: &[&str],
    rows: usize,
    tail: &str,
) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES {}{tail}",
        columns.join(", "),
        tuples(backend, columns.len(), rows)
    )
}

/// `($1, $2), ($3, $4)` (PostgreSQL) or `(?, ?), (?, ?)` (SQLite).
fn tuples(backend: DbBackend, width: usize, rows: usize) -> String {
    let mut sql = String::new();
    let mut n = 0;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
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
}

/// A case's values in [`CASE_COLUMNS`] order.
pub(super) fn case_values(m: &case::Model, v: &mut Vec<Value>) {
    v.push(m.tracking_number.clone().into());
    v.push(m.title.clone().into());
    v.push(m.body.clone().into());
    v.push(m.channel.as_str().into());
    v.push(m.kind.as_str().into());
    v.push(m.category_id.into());
    v.push(m.region_code.clone().into());
    v.push(m.province_code.clone().into());
    v.push(m.city_code.clone().into());
    v.push(m.county_code.clone().into());
    v.push(m.department_id.into());
    v.push(m.status.as_str().into());
    v.push(m.submitted_at.into());
    v.push(m.accepted_at.into());
    v.push(m.reply_due_at.into());
    v.push(m.first_reply_due_at.into());
    v.push(m.first_replied_at.into());
    v.push(m.replied_at.into());
    v.push(m.closed_at.into());
    v.push(m.reply.clone().into());
    v.push(m.published.into());
    v.push(m.supervised.into());
    v.push(m.reopen_count.into());
    v.push(m.version.into());
    v.push(m.updated_at.into());
    v.push(m.public_title.clone().into());
    v.push(m.public_body.clone().into());
    v.push(m.public_reply.clone().into());
    v.push(m.external_id.clone().into());
    v.push(m.address.clone().into());
    v.push(m.latitude.into());
    v.push(m.longitude.into());
}
