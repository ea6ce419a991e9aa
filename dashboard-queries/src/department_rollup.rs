//! `case_rollup_department_monthly`: the same counters as `case_rollup_daily`
//! ([`crate::rollup`]), per (Shanghai month of submission, province, city, handling
//! department). Department questions cannot use the daily cells (the department is not
//! in their key), and daily cells per department would be nearly one per case: demo
//! data has thousands of departments. Monthly cells serve department rankings,
//! department breakdowns and department-scoped stats over whole months. Kept exact like
//! the daily table: [`crate::rollup::apply_delta`] calls [`apply_delta`] in the
//! transaction of every write of a `cases` row.

use chrono::{DateTime, Utc};
use entities::case;
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::BTreeMap;

use crate::rollup::{changes, counters, upsert_cells, Counters, COLUMNS};
use crate::sql::Sql;

/// The table's name.
pub const TABLE: &str = "case_rollup_department_monthly";

/// `department_key` of the cases no department handles yet (ids start at 1).
pub const UNASSIGNED: i32 = 0;

/// The cell of a case: (month `YYYY-MM` in Asia/Shanghai, province, city or `''`, the
/// handling department's id or [`UNASSIGNED`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepartmentKey {
    pub month: String,
    pub province_code: String,
    pub city_code: String,
    pub department_key: i32,
}

/// The Shanghai calendar month of an instant, `YYYY-MM` (UTC+8 all year since 1991).
pub fn local_month(at: DateTime<Utc>) -> String {
    crate::rollup::shanghai(at, "%Y-%m")
}

/// What one case row adds to the table: nothing for a merged duplicate.
pub fn contribution(row: &case::Model) -> Option<(DepartmentKey, Counters)> {
    let c = counters(row)?;
    let key = DepartmentKey {
        month: local_month(row.submitted_at),
        province_code: row.province_code.clone(),
        city_code: row.city_code.clone().unwrap_or_default(),
        department_key: row.department_id.unwrap_or(UNASSIGNED),
    };
    Some((key, c))
}

/// Adds `after − before` (`before` is None for a new case). A reassignment moves the
/// case between two departments' cells.
pub async fn apply_delta<C: ConnectionTrait>(
    db: &C,
    before: Option<&case::Model>,
    after: &case::Model,
) -> Result<(), DbErr> {
    let old = before.and_then(contribution);
    let cells: Vec<(DepartmentKey, [i64; 14])> = changes(old, contribution(after))
        .into_iter()
        .map(|(key, delta)| (key, delta.values()))
        .collect();
    add(db, &cells).await
}

/// The key columns, in table order.
pub const KEY_COLUMNS: [&str; 4] = ["month", "province_code", "city_code", "department_key"];

/// Adds each cell's counters (`rollup::upsert_cells`).
pub async fn add<C: ConnectionTrait>(
    db: &C,
    cells: &[(DepartmentKey, [i64; 14])],
) -> Result<(), DbErr> {
    let rows: Vec<(Vec<Value>, &[i64])> = cells
        .iter()
        .map(|(key, values)| {
            let key = vec![
                key.month.clone().into(),
                key.province_code.clone().into(),
                key.city_code.clone().into(),
                key.department_key.into(),
            ];
            (key, &values[..])
        })
        .collect();
    upsert_cells(db, TABLE, &KEY_COLUMNS, &COLUMNS, &rows).await
}

/// Every cell of the table, for checks: key → counters (zero cells left out).
pub async fn read_all<C: ConnectionTrait>(
    db: &C,
) -> Result<BTreeMap<DepartmentKey, Counters>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT {}, {} FROM {TABLE}",
        KEY_COLUMNS.join(", "),
        COLUMNS.join(", ")
    ));
    let mut out = BTreeMap::new();
    for row in db.query_all_raw(q.build()).await? {
        let key = DepartmentKey {
            month: row.try_get("", "month")?,
            province_code: row.try_get("", "province_code")?,
            city_code: row.try_get("", "city_code")?,
            department_key: row.try_get("", "department_key")?,
        };
        let mut v = [0i64; 14];
        for (i, c) in COLUMNS.iter().enumerate() {
            v[i] = row.try_get("", c)?;
        }
        let c = Counters::from_values(v);
        if !c.is_zero() {
            out.insert(key, c);
        }
    }
    Ok(out)
}

/// The sum of the rows' contributions: what the table must hold (for checks).
pub fn expected<'a>(
    rows: impl IntoIterator<Item = &'a case::Model>,
) -> BTreeMap<DepartmentKey, Counters> {
    let mut sums: BTreeMap<DepartmentKey, [i64; 14]> = BTreeMap::new();
    for row in rows {
        if let Some((key, c)) = contribution(row) {
            let cell = sums.entry(key).or_insert([0; 14]);
            for (sum, v) in cell.iter_mut().zip(c.values()) {
                *sum += v;
            }
        }
    }
    sums.into_iter()
        .map(|(k, v)| (k, Counters::from_values(v)))
        .filter(|(_, c)| !c.is_zero())
        .collect()
}
