//! `case_rollup_daily`: the current state of the non-merged cases, counted per (day of
//! submission in Asia/Shanghai, province, city, county — or the township when the case
//! has no county). Every writer of a `cases` row calls [`apply_delta`] in the same
//! transaction, with the row before and after its write, so the table stays exactly
//! equal to a `GROUP BY` over `cases` (the seeder rebuilds it in one statement). The
//! counters are static functions of the row; the metrics that depend on the clock
//! (due, replied when due, on time, overdue now) are derived by the engine from the
//! `*_set` counters minus the few cases whose deadline is still ahead.

use chrono::{DateTime, FixedOffset, Offset, Utc};
use entities::{case, CaseStatus, RatingLevel};
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::sql::Sql;

/// The counters of one rollup cell, in table order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// Accepted and closed or archived.
    pub closed: i64,
    pub replied: i64,
    pub rated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
    pub repeats: i64,
    /// Accepted with a first-round deadline.
    pub due_set: i64,
    /// Accepted with a first-round deadline and a first reply.
    pub replied_due_set: i64,
    /// Accepted, first reply at or before the first-round deadline.
    pub on_time_set: i64,
    /// Accepted, waiting for a reply, with a deadline in force.
    pub open_due_set: i64,
}

/// The counter columns, in the order of [`Counters::values`].
pub const COLUMNS: [&str; 14] = [
    "received",
    "accepted",
    "rejected",
    "closed",
    "replied",
    "rated",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "repeats",
    "due_set",
    "replied_due_set",
    "on_time_set",
    "open_due_set",
];

impl Counters {
    pub fn values(&self) -> [i64; 14] {
        [
            self.received,
            self.accepted,
            self.rejected,
            self.closed,
            self.replied,
            self.rated,
            self.satisfied,
            self.basically_satisfied,
            self.dissatisfied,
            self.repeats,
            self.due_set,
            self.replied_due_set,
            self.on_time_set,
            self.open_due_set,
        ]
    }

    pub(crate) fn from_values(v: [i64; 14]) -> Self {
        Counters {
            received: v[0],
            accepted: v[1],
            rejected: v[2],
            closed: v[3],
            replied: v[4],
            rated: v[5],
            satisfied: v[6],
            basically_satisfied: v[7],
            dissatisfied: v[8],
            repeats: v[9],
            due_set: v[10],
            replied_due_set: v[11],
            on_time_set: v[12],
            open_due_set: v[13],
        }
    }

    fn minus(&self, other: &Counters) -> Counters {
        let (a, b) = (self.values(), other.values());
        let mut out = [0i64; 14];
        for i in 0..14 {
            out[i] = a[i] - b[i];
        }
        Counters::from_values(out)
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.values().iter().all(|v| *v == 0)
    }
}

/// The cell of a case: (day `YYYY-MM-DD` in Asia/Shanghai, province, city or `''`,
/// county or else the case's own region).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    pub day: String,
    pub province_code: String,
    pub city_code: String,
    pub county_key: String,
}

/// The Shanghai calendar day of an instant (UTC+8 all year since 1991).
pub fn local_day(at: DateTime<Utc>) -> String {
    shanghai(at, "%Y-%m-%d")
}

/// An instant formatted in Asia/Shanghai (UTC+8 all year since 1991).
pub(crate) fn shanghai(at: DateTime<Utc>, format: &str) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset).format(format).to_string()
}

/// What one case row adds to the rollup: nothing for a merged duplicate.
pub fn contribution(row: &case::Model) -> Option<(RollupKey, Counters)> {
    let c = counters(row)?;
    let key = RollupKey {
        day: local_day(row.submitted_at),
        province_code: row.province_code.clone(),
        city_code: row.city_code.clone().unwrap_or_default(),
        county_key: row
            .county_code
            .clone()
            .unwrap_or_else(|| row.region_code.clone()),
    };
    Some((key, c))
}

/// The counters one case row adds to its cell, in every rollup table: nothing for a
/// merged duplicate.
pub fn counters(row: &case::Model) -> Option<Counters> {
    if row.duplicate_of.is_some() {
        return None;
    }
    let b = |x: bool| i64::from(x);
    let acc = row.accepted_at.is_some();
    let open = matches!(
        row.status,
        CaseStatus::Accepted | CaseStatus::Assigned | CaseStatus::InProgress
    );
    let due1 = row.first_reply_due_at;
    let rep = row.first_replied_at;
    Some(Counters {
        received: 1,
        accepted: b(acc),
        rejected: b(row.rejected_at.is_some()),
        closed: b(acc && matches!(row.status, CaseStatus::Closed | CaseStatus::Archived)),
        replied: b(rep.is_some()),
        rated: b(row.rating_level.is_some()),
        satisfied: b(row.rating_level == Some(RatingLevel::Satisfied)),
        basically_satisfied: b(row.rating_level == Some(RatingLevel::BasicallySatisfied)),
        dissatisfied: b(row.rating_level == Some(RatingLevel::Dissatisfied)),
        repeats: b(row.repeat_of.is_some()),
        due_set: b(acc && due1.is_some()),
        replied_due_set: b(acc && due1.is_some() && rep.is_some()),
        on_time_set: b(acc && matches!((rep, due1), (Some(r), Some(d)) if r <= d)),
        open_due_set: b(acc && open && row.reply_due_at.is_some()),
    })
}

/// The non-zero changes of a write: one cell when the key stayed, two when it moved
/// (the old cell loses the old contribution, the new one gains the new), none when
/// nothing counted changed.
pub(crate) fn changes<K: PartialEq>(
    old: Option<(K, Counters)>,
    new: Option<(K, Counters)>,
) -> Vec<(K, Counters)> {
    let mut out: Vec<(K, Counters)> = Vec::new();
    match (old, new) {
        (Some((ko, co)), Some((kn, cn))) if ko == kn => {
            out.push((kn, cn.minus(&co)));
        }
        (old, new) => {
            if let Some((k, c)) = old {
                out.push((k, Counters::default().minus(&c)));
            }
            if let Some(n) = new {
                out.push(n);
            }
        }
    }
    out.retain(|(_, delta)| !delta.is_zero());
    out
}

/// Adds `after − before` to the rollups (`before` is None for a new case): the daily
/// and monthly region cells here, the deadline cells ([`crate::deadline_rollup`]) and
/// the monthly department cells ([`crate::department_rollup`]). Call it in the
/// transaction that writes the row.
pub async fn apply_delta<C: ConnectionTrait>(
    db: &C,
    before: Option<&case::Model>,
    after: &case::Model,
) -> Result<(), DbErr> {
    let old = before.and_then(contribution);
    let cells: Vec<(RollupKey, [i64; 14])> = changes(old, contribution(after))
        .into_iter()
        .map(|(key, delta)| (key, delta.values()))
        .collect();
    add(db, &cells).await?;
    crate::deadline_rollup::apply_delta(db, before, after).await?;
    crate::department_rollup::apply_delta(db, before, after).await
}

/// Cells an upsert statement carries at most: 18 parameters a cell keep 1,000 cells
/// under SQLite's limit of 32,766 bound parameters.
pub const CELLS_PER_STATEMENT: usize = 1000;

/// The monthly cells (migration 000019): the daily cells summed by month.
pub const MONTHLY_TABLE: &str = "case_rollup_monthly";

/// The month `YYYY-MM` of a day `YYYY-MM-DD` as [`local_day`] writes it (its first
/// seven characters are what `department_rollup::local_month` writes for the same
/// instant; a test checks both).
pub fn month_of(day: &str) -> &str {
    day.get(..7).unwrap_or(day)
}

/// Adds each cell's counters to the daily cells and, summed by month, to the monthly
/// ones: `INSERT … ON CONFLICT (key) DO UPDATE SET c = c + excluded.c`, one statement
/// per [`CELLS_PER_STATEMENT`] cells and table (a bulk writer's batch, or the one or
/// two cells of a single case's change).
pub async fn add<C: ConnectionTrait>(
    db: &C,
    cells: &[(RollupKey, [i64; 14])],
) -> Result<(), DbErr> {
    let daily: Vec<(&RollupKey, &[i64; 14])> = cells.iter().map(|(k, v)| (k, v)).collect();
    upsert(db, "case_rollup_daily", "day", &daily).await?;
    let months = by_month(daily);
    let monthly: Vec<(&RollupKey, &[i64; 14])> = months.iter().collect();
    upsert(db, MONTHLY_TABLE, "month", &monthly).await
}

/// Daily cells summed by month, keyed like them with the month in `day`; cells that
/// sum to nothing are left out (a case moved between two days of one month changes no
/// monthly cell).
pub fn by_month<'a>(
    cells: impl IntoIterator<Item = (&'a RollupKey, &'a [i64; 14])>,
) -> std::collections::BTreeMap<RollupKey, [i64; 14]> {
    let mut months: std::collections::BTreeMap<RollupKey, [i64; 14]> = Default::default();
    for (key, values) in cells {
        let month = RollupKey {
            day: month_of(&key.day).to_string(),
            ..key.clone()
        };
        let cell = months.entry(month).or_default();
        for (sum, v) in cell.iter_mut().zip(values) {
            *sum += v;
        }
    }
    months.retain(|_, values| values.iter().any(|v| *v != 0));
    months
}

/// The upsert of cells into `table`, whose period column is `period` (holding the
/// key's `day`: a day, or a month for the monthly table).
async fn upsert<C: ConnectionTrait>(
    db: &C,
    table: &str,
    period: &str,
    cells: &[(&RollupKey, &[i64; 14])],
) -> Result<(), DbErr> {
    let rows: Vec<(Vec<Value>, &[i64])> = cells
        .iter()
        .map(|(key, values)| {
            let key = vec![
                key.day.clone().into(),
                key.province_code.clone().into(),
                key.city_code.clone().into(),
                key.county_key.clone().into(),
            ];
            (key, &values[..])
        })
        .collect();
    let keys = [period, "province_code", "city_code", "county_key"];
    upsert_cells(db, table, &keys, &COLUMNS, &rows).await
}

/// Adds cells to a rollup table: `INSERT INTO table (keys…, counters…) VALUES … ON
/// CONFLICT (keys…) DO UPDATE SET c = table.c + excluded.c`, one statement per
/// [`CELLS_PER_STATEMENT`] cells. Each cell is its key's values in `key_columns` order
/// and its counters in `counters` order. Every rollup table is written through here.
pub(crate) async fn upsert_cells<C: ConnectionTrait>(
    db: &C,
    table: &str,
    key_columns: &[&str],
    counters: &[&str],
    cells: &[(Vec<Value>, &[i64])],
) -> Result<(), DbErr> {
    let sets: Vec<String> = counters
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    for chunk in cells.chunks(CELLS_PER_STATEMENT) {
        let mut q = Sql::new(db.get_database_backend());
        q.push(&format!(
            "INSERT INTO {table} ({}, {}) VALUES ",
            key_columns.join(", "),
            counters.join(", ")
        ));
        for (i, (key, values)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, k) in key.iter().enumerate() {
                q.push(if j == 0 { "" } else { ", " }).bind(k.clone());
            }
            for v in values.iter() {
                q.push(", ").bind(*v);
            }
            q.push(")");
        }
        q.push(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            key_columns.join(", "),
            sets.join(", ")
        ));
        db.execute_raw(q.build()).await?;
    }
    Ok(())
}

/// Adds `counters` to a bulk writer's running total of one cell.
pub fn accumulate<K: std::hash::Hash + Eq>(
    cells: &mut std::collections::HashMap<K, [i64; 14]>,
    key: K,
    counters: &Counters,
) {
    let cell = cells.entry(key).or_default();
    for (sum, v) in cell.iter_mut().zip(counters.values()) {
        *sum += v;
    }
}

/// Every daily cell, for checks: key → counters (zero cells left out).
pub async fn read_all<C: ConnectionTrait>(
    db: &C,
) -> Result<std::collections::BTreeMap<RollupKey, Counters>, DbErr> {
    read_cells(db, "case_rollup_daily", "day").await
}

/// Every monthly cell, for checks: key (its `day` holding the month) → counters.
pub async fn read_all_monthly<C: ConnectionTrait>(
    db: &C,
) -> Result<std::collections::BTreeMap<RollupKey, Counters>, DbErr> {
    read_cells(db, MONTHLY_TABLE, "month").await
}

async fn read_cells<C: ConnectionTrait>(
    db: &C,
    table: &str,
    period: &str,
) -> Result<std::collections::BTreeMap<RollupKey, Counters>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT {period} AS day, province_code, city_code, county_key, "
    ))
    .push(&COLUMNS.join(", "))
    .push(&format!(" FROM {table}"));
    let mut out = std::collections::BTreeMap::new();
    for row in db.query_all_raw(q.build()).await? {
        let key = RollupKey {
            day: row.try_get("", "day")?,
            province_code: row.try_get("", "province_code")?,
            city_code: row.try_get("", "city_code")?,
            county_key: row.try_get("", "county_key")?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_month_of_a_day_is_the_month_of_its_instants() {
        // Around a Shanghai month boundary (16:00 UTC is local midnight).
        for (y, m, d, h) in [(2026, 1, 31, 15), (2026, 1, 31, 16), (2025, 12, 31, 23)] {
            let t = Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap();
            assert_eq!(
                month_of(&local_day(t)),
                crate::department_rollup::local_month(t)
            );
        }
        assert_eq!(month_of("2026-02-01"), "2026-02");
    }
}
