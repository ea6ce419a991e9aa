//! `case_rollup_deadline` (migration 000020): the clock-dependent counts of the region
//! rollups per (Shanghai day of a deadline, Shanghai day of submission, province, city,
//! county or township). A case adds its first-round part (`not_due`, of which replied,
//! of which on time) to the cell of its first-round deadline's day, and while it waits
//! for a reply its `not_overdue` to the cell of its deadline in force's day: every case
//! of a cell whose day is after as-of's day is still ahead of as-of, so the engine sums
//! those cells instead of reading the cases one by one ([`crate::rollup_read`]). Kept
//! exact like the other rollups: [`crate::rollup::apply_delta`] calls [`apply_delta`] in
//! the transaction of every write of a `cases` row.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entities::{case, CaseStatus};
use sea_orm::{ConnectionTrait, DbErr, Value};
use std::collections::BTreeMap;

use crate::rollup::upsert_cells;
use crate::sql::Sql;

/// The table's name.
pub const TABLE: &str = "case_rollup_deadline";

/// The key columns, in table order.
pub const KEY_COLUMNS: [&str; 5] = ["due_day", "day", "province_code", "city_code", "county_key"];

/// The counters, in table order: `[not due, of which replied, of which on time, waiting
/// and not overdue]`, the four counts the engine takes away from the region cells.
pub const COUNTERS: [&str; 4] = [
    "not_due",
    "not_due_replied",
    "not_due_on_time",
    "not_overdue",
];

/// The cell of a case's deadline: (deadline's day, submission's day, province, city or
/// `''`, county or else the case's own region), both days in Asia/Shanghai (stored as
/// `YYYY-MM-DD`). Days are dates here, not text: a bulk import keys ~2 cells a case,
/// and formatting them per case cost it ~8 % of its speed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeadlineKey {
    pub due_day: NaiveDate,
    pub day: NaiveDate,
    pub province_code: String,
    pub city_code: String,
    pub county_key: String,
}

/// The Shanghai calendar date of an instant (UTC+8 all year since 1991).
fn shanghai_date(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(8)).date_naive()
}

/// What one case row adds to the table: the first-round part at its first-round
/// deadline's day, the waiting part at its deadline in force's day (one cell when both
/// days agree), nothing for a merged duplicate or a case not accepted.
pub fn contributions(row: &case::Model) -> Vec<(DeadlineKey, [i64; 4])> {
    let mut out: Vec<(DeadlineKey, [i64; 4])> = Vec::new();
    if row.duplicate_of.is_some() || row.accepted_at.is_none() {
        return out;
    }
    let key = |due: DateTime<Utc>| DeadlineKey {
        due_day: shanghai_date(due),
        day: shanghai_date(row.submitted_at),
        province_code: row.province_code.clone(),
        city_code: row.city_code.clone().unwrap_or_default(),
        county_key: row
            .county_code
            .clone()
            .unwrap_or_else(|| row.region_code.clone()),
    };
    let mut add = |k: DeadlineKey, v: [i64; 4]| match out.iter_mut().find(|(o, _)| *o == k) {
        Some((_, cell)) => cell.iter_mut().zip(v).for_each(|(a, b)| *a += b),
        None => out.push((k, v)),
    };
    if let Some(due) = row.first_reply_due_at {
        let replied = row.first_replied_at;
        add(
            key(due),
            [
                1,
                i64::from(replied.is_some()),
                i64::from(replied.is_some_and(|r| r <= due)),
                0,
            ],
        );
    }
    let waiting = matches!(
        row.status,
        CaseStatus::Accepted | CaseStatus::Assigned | CaseStatus::InProgress
    );
    if let (true, Some(due)) = (waiting, row.reply_due_at) {
        add(key(due), [0, 0, 0, 1]);
    }
    out
}

/// The non-zero changes of a write from `before` to `after`: the old cells lose the old
/// contributions, the new ones gain the new.
pub fn changes(before: Option<&case::Model>, after: &case::Model) -> Vec<(DeadlineKey, [i64; 4])> {
    let mut sums: BTreeMap<DeadlineKey, [i64; 4]> = BTreeMap::new();
    for (key, v) in before.map(contributions).unwrap_or_default() {
        let cell = sums.entry(key).or_default();
        cell.iter_mut().zip(v).for_each(|(a, b)| *a -= b);
    }
    accumulate(&mut sums, contributions(after));
    sums.into_iter()
        .filter(|(_, v)| v.iter().any(|n| *n != 0))
        .collect()
}

/// Adds contributions to a running total of cells (a bulk writer's batch, a check).
pub fn accumulate(
    cells: &mut BTreeMap<DeadlineKey, [i64; 4]>,
    contributions: Vec<(DeadlineKey, [i64; 4])>,
) {
    for (key, v) in contributions {
        let cell = cells.entry(key).or_default();
        cell.iter_mut().zip(v).for_each(|(a, b)| *a += b);
    }
}

/// Adds `after − before` (`before` is None for a new case).
pub async fn apply_delta<C: ConnectionTrait>(
    db: &C,
    before: Option<&case::Model>,
    after: &case::Model,
) -> Result<(), DbErr> {
    add(db, &changes(before, after)).await
}

/// Adds each cell's counters (`rollup::upsert_cells`).
pub async fn add<C: ConnectionTrait>(
    db: &C,
    cells: &[(DeadlineKey, [i64; 4])],
) -> Result<(), DbErr> {
    let rows: Vec<(Vec<Value>, &[i64])> = cells
        .iter()
        .map(|(key, values)| {
            let key = vec![
                key.due_day.to_string().into(),
                key.day.to_string().into(),
                key.province_code.clone().into(),
                key.city_code.clone().into(),
                key.county_key.clone().into(),
            ];
            (key, &values[..])
        })
        .collect();
    upsert_cells(db, TABLE, &KEY_COLUMNS, &COUNTERS, &rows).await
}

/// Every cell of the table, for checks: key → counters (zero cells left out).
pub async fn read_all<C: ConnectionTrait>(
    db: &C,
) -> Result<BTreeMap<DeadlineKey, [i64; 4]>, DbErr> {
    let mut q = Sql::new(db.get_database_backend());
    q.push(&format!(
        "SELECT {}, {} FROM {TABLE}",
        KEY_COLUMNS.join(", "),
        COUNTERS.join(", ")
    ));
    let mut out = BTreeMap::new();
    for row in db.query_all_raw(q.build()).await? {
        let date = |column: &str| -> Result<NaiveDate, DbErr> {
            let text: String = row.try_get("", column)?;
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|e| DbErr::Custom(format!("{TABLE}.{column} {text:?}: {e}")))
        };
        let key = DeadlineKey {
            due_day: date("due_day")?,
            day: date("day")?,
            province_code: row.try_get("", "province_code")?,
            city_code: row.try_get("", "city_code")?,
            county_key: row.try_get("", "county_key")?,
        };
        let mut v = [0i64; 4];
        for (i, c) in COUNTERS.iter().enumerate() {
            v[i] = row.try_get("", c)?;
        }
        if v.iter().any(|n| *n != 0) {
            out.insert(key, v);
        }
    }
    Ok(out)
}

/// The sum of the rows' contributions: what the table must hold (for checks).
pub fn expected<'a>(
    rows: impl IntoIterator<Item = &'a case::Model>,
) -> BTreeMap<DeadlineKey, [i64; 4]> {
    let mut sums = BTreeMap::new();
    for row in rows {
        accumulate(&mut sums, contributions(row));
    }
    sums.retain(|_, v| v.iter().any(|n| *n != 0));
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use migration::m20261128_000020_deadline_rollup as table;

    #[test]
    fn the_table_and_its_columns_are_those_migration_000020_creates() {
        assert_eq!(TABLE, table::TABLE);
        assert_eq!(KEY_COLUMNS, table::KEY_COLUMNS);
        assert_eq!(COUNTERS, table::COUNTERS);
    }

    /// March 2025, day `d`, `h` o'clock UTC (1 March 2025 is day 20,148 of the Unix
    /// epoch; a test below reads it back).
    fn utc(d: i64, h: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_147 + d) + Duration::hours(h)
    }

    #[test]
    fn the_test_instants_are_in_march_2025() {
        assert_eq!(utc(1, 2).to_rfc3339(), "2025-03-01T02:00:00+00:00");
        assert_eq!(utc(31, 23).to_rfc3339(), "2025-03-31T23:00:00+00:00");
    }

    fn accepted(first_due: DateTime<Utc>, due: DateTime<Utc>, status: CaseStatus) -> case::Model {
        case::Model {
            id: 1,
            tracking_number: "T1".into(),
            title: String::new(),
            body: String::new(),
            channel: entities::Channel::Hotline,
            kind: entities::CaseKind::Complaint,
            category_id: None,
            region_code: "510104".into(),
            province_code: "510000".into(),
            city_code: Some("510100".into()),
            county_code: None,
            department_id: None,
            citizen_id: None,
            status,
            submitted_at: utc(1, 2),
            accepted_at: Some(utc(1, 3)),
            rejected_at: None,
            respond_due_at: None,
            responded_at: None,
            reply_due_at: Some(due),
            first_reply_due_at: Some(first_due),
            first_replied_at: None,
            replied_at: None,
            closed_at: None,
            archived_at: None,
            reply: None,
            rating_level: None,
            duplicate_of: None,
            repeat_of: None,
            published: false,
            supervised: false,
            reopen_count: 0,
            version: 1,
            idempotency_key: None,
            updated_at: utc(1, 3),
            public_title: None,
            public_body: None,
            public_reply: None,
            external_id: None,
            address: None,
            latitude: None,
            longitude: None,
        }
    }

    #[test]
    fn a_waiting_case_adds_its_first_round_and_its_wait_to_the_days_of_its_deadlines() {
        // 10 March 20:00 UTC is 11 March in Shanghai; 12 March 01:00 UTC is 12 March.
        let row = accepted(utc(10, 20), utc(12, 1), CaseStatus::InProgress);
        let cells = contributions(&row);
        let days: Vec<(String, [i64; 4])> = cells
            .iter()
            .map(|(k, v)| (k.due_day.to_string(), *v))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2025-03-11".to_string(), [1, 0, 0, 0]),
                ("2025-03-12".to_string(), [0, 0, 0, 1])
            ]
        );
        assert_eq!(cells[0].0.day.to_string(), "2025-03-01");
        assert_eq!(
            cells[0].0.county_key, "510104",
            "no county: the case's own region"
        );
    }

    #[test]
    fn one_day_holds_both_parts_and_a_closed_case_waits_for_nothing() {
        let mut row = accepted(utc(10, 1), utc(10, 2), CaseStatus::Assigned);
        assert_eq!(contributions(&row)[0].1, [1, 0, 0, 1]);
        assert_eq!(contributions(&row).len(), 1);
        row.status = CaseStatus::Closed;
        row.first_replied_at = Some(utc(9, 0));
        assert_eq!(
            contributions(&row),
            vec![(contributions(&row)[0].0.clone(), [1, 1, 1, 0])]
        );
        row.first_replied_at = Some(utc(11, 0));
        assert_eq!(contributions(&row)[0].1, [1, 1, 0, 0], "replied late");
    }

    #[test]
    fn a_write_moves_the_wait_between_days_and_cancels_what_did_not_change() {
        let before = accepted(utc(10, 1), utc(10, 1), CaseStatus::InProgress);
        let after = accepted(utc(10, 1), utc(20, 1), CaseStatus::InProgress);
        let moved: Vec<(String, [i64; 4])> = changes(Some(&before), &after)
            .into_iter()
            .map(|(k, v)| (k.due_day.to_string(), v))
            .collect();
        assert_eq!(
            moved,
            vec![
                ("2025-03-10".to_string(), [0, 0, 0, -1]),
                ("2025-03-20".to_string(), [0, 0, 0, 1])
            ]
        );
        assert!(changes(Some(&after), &after).is_empty());
    }

    #[test]
    fn merged_duplicates_and_cases_not_accepted_add_nothing() {
        let mut row = accepted(utc(10, 1), utc(10, 1), CaseStatus::InProgress);
        row.duplicate_of = Some(7);
        assert!(contributions(&row).is_empty());
        row.duplicate_of = None;
        row.accepted_at = None;
        assert!(contributions(&row).is_empty());
    }
}
