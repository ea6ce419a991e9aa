//! The rollup path of the engine: which pre-aggregated table answers a question
//! ([`rollup_for`]) and reading it ([`from_rollup`]): the static counters summed over
//! the window's periods, then the clock-dependent counts set right from the cases whose
//! deadlines are still ahead of as-of ([`crate::ahead`]).

use crate::department_rollup::{local_month, UNASSIGNED};
use crate::engine::{GroupBy, Key, Question};
use crate::model::{Stats, Window};
use crate::rollup::{local_day, Counters, COLUMNS};
use crate::sql::{Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Utc};
use entities::RegionLevel;
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use std::collections::HashMap;

/// The covering index of department rankings on the monthly department rollup
/// (migration 000013, which this crate does not depend on: a test checks the name).
const RANKING_INDEX: &str = "idx_case_rollup_department_monthly_ranking";

/// An instant that is a midnight in Asia/Shanghai (16:00:00 UTC).
fn local_midnight(t: DateTime<Utc>) -> bool {
    use chrono::Timelike;
    t.hour() == 16 && t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0
}

/// An instant that starts a calendar month in Asia/Shanghai.
fn local_month_start(t: DateTime<Utc>) -> bool {
    local_midnight(t) && local_day(t).ends_with("-01")
}

/// The pre-aggregated table that answers a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rollup {
    /// `case_rollup_daily`: region cells per Shanghai day.
    Daily,
    /// `case_rollup_monthly`: the same region cells per Shanghai month.
    Monthly,
    /// `case_rollup_department_monthly`: region and department cells per Shanghai month.
    DepartmentMonthly,
}

impl Rollup {
    fn table(self) -> &'static str {
        match self {
            Rollup::Daily => "case_rollup_daily",
            Rollup::Monthly => crate::rollup::MONTHLY_TABLE,
            Rollup::DepartmentMonthly => crate::department_rollup::TABLE,
        }
    }

    /// The column holding the cell's period (text that sorts like time).
    fn period_column(self) -> &'static str {
        match self {
            Rollup::Daily => "c.day",
            Rollup::Monthly | Rollup::DepartmentMonthly => "c.month",
        }
    }

    /// The period an instant falls in, as stored in [`Rollup::period_column`].
    fn period(self, t: DateTime<Utc>) -> String {
        match self {
            Rollup::Daily => local_day(t),
            Rollup::Monthly | Rollup::DepartmentMonthly => local_month(t),
        }
    }
}

/// Which rollup answers a question, if any; both need no channel, kind or category
/// filter (as of the past too: [`crate::past_rollup`] sets the cells right for as-of), and a region scope of none, a province or a city (their cells
/// know no county for other scopes, and no filter dimension).
/// - the monthly region one: no department scope, grouped by nothing, the child region
///   or time buckets, over whole Shanghai months (~30 times fewer cells than days);
/// - the daily one: the same questions over whole Shanghai days;
/// - the monthly department one: grouped by department, or a department scope grouped
///   by nothing, time buckets or (under no region or a province) the child region,
///   over whole Shanghai months.
///
/// Anything else scans `cases`.
pub(crate) fn rollup_for(
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) -> Option<Rollup> {
    let level = r.region.as_ref().map(|x| x.level);
    let common = r.filter.channel.is_none()
        && r.filter.kind.is_none()
        && r.filter.category_id.is_none()
        && matches!(
            level,
            None | Some(RegionLevel::Province) | Some(RegionLevel::City)
        );
    if !common {
        return None;
    }
    let department_scope = r.department_path.is_some();
    let months = local_month_start(w.from)
        && local_month_start(w.to)
        && buckets.iter().all(|b| local_month_start(*b));
    let regions = !department_scope && matches!(by, GroupBy::Nothing | GroupBy::ChildRegion);
    if regions && months {
        return Some(Rollup::Monthly);
    }
    let daily = regions
        && local_midnight(w.from)
        && local_midnight(w.to)
        && buckets.iter().all(|b| local_midnight(*b));
    if daily {
        return Some(Rollup::Daily);
    }
    let grouping = match by {
        GroupBy::Department => true,
        GroupBy::Nothing => department_scope,
        GroupBy::ChildRegion => {
            department_scope && matches!(level, None | Some(RegionLevel::Province))
        }
        GroupBy::Category | GroupBy::Channel | GroupBy::Kind => false,
    };
    (grouping && months).then_some(Rollup::DepartmentMonthly)
}

/// Whether SQLite is to be told [`RANKING_INDEX`]: a province's cells grouped by
/// department, no time buckets, no department scope.
fn ranking_index_serves(
    backend: DbBackend,
    rollup: Rollup,
    r: &Resolved,
    by: GroupBy,
    periods: &[String],
) -> bool {
    backend == DbBackend::Sqlite
        && rollup == Rollup::DepartmentMonthly
        && by == GroupBy::Department
        && periods.is_empty()
        && r.department_path.is_none()
        && matches!(
            r.region.as_ref().map(|x| x.level),
            Some(RegionLevel::Province)
        )
}

/// The `g2` of a rollup cell `c` (every rollup table keys its cells by province, city
/// and, below a city, county or department).
pub(crate) fn cell_group(by: GroupBy, level: Option<RegionLevel>) -> &'static str {
    match (by, level) {
        (GroupBy::ChildRegion, None) => "c.province_code",
        (GroupBy::ChildRegion, Some(RegionLevel::Province)) => "c.city_code",
        (GroupBy::ChildRegion, _) => "c.county_key",
        // The raw key (0: unassigned), grouped as it is stored: a province's cells come
        // in department order from the ranking index, no sort, no text per cell.
        (GroupBy::Department, _) => "c.department_key",
        _ => "CAST(NULL AS TEXT)",
    }
}

/// ` AND` the region scope of rollup cells `c` (rollups serve provinces and cities).
pub(crate) fn push_cell_region(q: &mut Sql, r: &Resolved) {
    if let Some(region) = &r.region {
        match region.level {
            RegionLevel::Province => q.push(" AND c.province_code = "),
            _ => q.push(" AND c.city_code = "),
        };
        q.bind(region.code.clone());
    }
}

/// The bucket index of a rollup row's period `column` (buckets start on the periods'
/// first instants).
pub(crate) fn push_period_bucket(q: &mut Sql, column: &str, periods: &[String], offset: usize) {
    match periods.len() {
        0 => {
            q.push(&format!("{offset}"));
        }
        n => {
            let mid = n / 2;
            q.push("CASE WHEN ")
                .push(column)
                .push(" < ")
                .bind(periods[mid].clone())
                .push(" THEN ");
            push_period_bucket(q, column, &periods[..mid], offset);
            q.push(" ELSE ");
            push_period_bucket(q, column, &periods[mid + 1..], offset + mid + 1);
            q.push(" END");
        }
    }
}

/// The aggregate from a rollup: the static counters summed over the periods of the
/// window, less the clock-dependent counts of the cases whose deadlines are still ahead
/// of as-of ([`crate::ahead`]: from the deadline cells for region questions, case by
/// case for department ones). The statements do not depend on each other: on a pool
/// they run on several connections at once (in a transaction, one after the other).
pub(crate) async fn from_rollup<C: ConnectionTrait>(
    db: &C,
    rollup: Rollup,
    question: Question<'_>,
) -> Result<HashMap<Key, Stats>, Error> {
    let ahead = async {
        match rollup {
            Rollup::DepartmentMonthly => crate::ahead::by_case(db, question).await,
            Rollup::Daily | Rollup::Monthly => crate::ahead::by_day(db, question).await,
        }
    };
    let (mut out, ahead) = futures::future::try_join(cells(db, rollup, question), ahead).await?;
    for (key, [not_due, not_due_replied, not_due_on_time, not_overdue]) in ahead {
        let s = out.entry(key).or_default();
        s.due -= not_due;
        s.replied_when_due -= not_due_replied;
        s.on_time -= not_due_on_time;
        s.overdue_now -= not_overdue;
    }
    Ok(out)
}

/// The rollup's cells of the window, summed by group, with every `*_set` counter taken
/// as if all deadlines had passed.
async fn cells<C: ConnectionTrait>(
    db: &C,
    rollup: Rollup,
    Question {
        r,
        w,
        buckets,
        by,
        fold,
    }: Question<'_>,
) -> Result<HashMap<Key, Stats>, Error> {
    let backend = db.get_database_backend();
    let level = r.region.as_ref().map(|x| x.level);
    let period = rollup.period_column();
    let packed = packs_cells(backend, by);
    let mut q = Sql::new(backend);
    if packed {
        q.push(&packed_select());
    }
    q.push("SELECT CAST(");
    let periods: Vec<String> = buckets.iter().map(|b| rollup.period(*b)).collect();
    push_period_bucket(&mut q, period, &periods, 0);
    q.push(" AS BIGINT) AS g1, ");
    q.push(cell_group(by, level)).push(" AS g2");
    for col in COLUMNS {
        q.push(&format!(", CAST(SUM(c.{col}) AS BIGINT) AS {col}"));
    }
    q.push(&format!(" FROM {} c ", rollup.table()));
    if ranking_index_serves(backend, rollup, r, by, &periods) {
        // Named so that the plan does not hang on the planner's estimates: the primary
        // key's (province, month) range would sort ~66k cells of a province year for
        // the grouping; the index streams them in department order.
        q.push("INDEXED BY ").push(RANKING_INDEX).push(" ");
    }
    q.push(&format!("WHERE {period} >= "))
        .bind(rollup.period(w.from))
        .push(&format!(" AND {period} < "))
        .bind(rollup.period(w.to));
    push_cell_region(&mut q, r);
    if let Some(path) = &r.department_path {
        // As in `push_scope`: the department and its sub-units (key 0 is no department).
        q.push(" AND c.department_key IN (SELECT d.id FROM departments d WHERE d.path LIKE ")
            .bind(format!("{path}%"))
            .push(")");
    }
    // Without buckets g1 is a constant: grouping by the key alone keeps the index order.
    q.push(if periods.is_empty() {
        " GROUP BY 2"
    } else {
        " GROUP BY 1, 2"
    });

    let mut out: HashMap<Key, Stats> = HashMap::new();
    if packed {
        q.push(")");
        let text: Option<String> = match db.query_one_raw(q.build()).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => None,
        };
        for cell in text.iter().flat_map(|t| t.split(';')) {
            let (bucket, department, c) = unpack_cell(cell)?;
            let g2 = (department != i64::from(UNASSIGNED)).then(|| department.to_string());
            add_cell(&mut out, (bucket, fold(g2)), &c);
        }
        return Ok(out);
    }
    for row in db.query_all_raw(q.build()).await? {
        // Read by position (g1, g2, then COLUMNS in order): thousands of department
        // rows, each name lookup a search of the row's columns.
        let mut v = [0i64; COLUMNS.len()];
        for (i, value) in v.iter_mut().enumerate() {
            *value = row.try_get_by_index(2 + i)?;
        }
        let c = Counters::from_values(v);
        let g2: Option<String> = match by {
            GroupBy::Department => {
                let id: i32 = row.try_get_by_index(1)?;
                (id != UNASSIGNED).then(|| id.to_string())
            }
            _ => row.try_get_by_index(1)?,
        };
        let key: Key = (row.try_get_by_index(0)?, fold(g2.filter(|k| !k.is_empty())));
        add_cell(&mut out, key, &c);
    }
    Ok(out)
}

/// Adds a group's summed cells to its stats, every `*_set` counter taken as if all
/// deadlines had passed.
fn add_cell(out: &mut HashMap<Key, Stats>, key: Key, c: &Counters) {
    if c.received == 0 {
        // A cell emptied by moves: the scan would not see this group.
        return;
    }
    let s = out.entry(key).or_default();
    s.received += c.received;
    s.accepted += c.accepted;
    s.rejected += c.rejected;
    s.due += c.due_set;
    s.replied_when_due += c.replied_due_set;
    s.on_time += c.on_time_set;
    s.closed += c.closed;
    s.replied += c.replied;
    s.rated += c.rated;
    s.satisfied += c.satisfied;
    s.basically_satisfied += c.basically_satisfied;
    s.dissatisfied += c.dissatisfied;
    s.overdue_now += c.open_due_set;
    s.repeats += c.repeats;
}

/// Whether the summed cells come back packed into one text: SQLite's groups by
/// department (a province's year: ~6,900 rows of 16 integers). Handing each row from
/// the driver's thread to the engine cost as much as summing the cells (1M cases,
/// Sichuan's year: 30 ms of SQL, 60 ms to the engine); packing costs SQLite ~12 ms.
/// The keys are integers, so no text needs escaping.
fn packs_cells(backend: DbBackend, by: GroupBy) -> bool {
    backend == DbBackend::Sqlite && by == GroupBy::Department
}

/// The outer select of a packed statement (closed by `)` after the grouped one):
/// `g1,g2,counters…` per group, groups joined by `;`.
fn packed_select() -> String {
    let fields: Vec<String> = ["g1", "g2"]
        .iter()
        .chain(COLUMNS.iter())
        .map(|c| c.to_string())
        .collect();
    format!(
        "SELECT group_concat({}, ';') AS cells FROM (",
        fields.join(" || ',' || ")
    )
}

/// One packed group: its bucket, its department key and its counters.
fn unpack_cell(cell: &str) -> Result<(i64, i64, Counters), Error> {
    let bad = || {
        Error::Db(DbErr::Custom(format!(
            "a packed rollup cell is malformed: {cell:?}"
        )))
    };
    let mut numbers = cell.split(',').map(|n| n.parse::<i64>().map_err(|_| bad()));
    let bucket = numbers.next().ok_or_else(bad)??;
    let department = numbers.next().ok_or_else(bad)??;
    let mut v = [0i64; COLUMNS.len()];
    for value in v.iter_mut() {
        *value = numbers.next().ok_or_else(bad)??;
    }
    if numbers.next().is_some() {
        return Err(bad());
    }
    Ok((bucket, department, Counters::from_values(v)))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_packed_cell_gives_its_bucket_its_department_and_its_counters_in_column_order() {
        let (bucket, department, c) =
            super::unpack_cell("2,4711,9,8,1,6,7,5,3,1,1,2,7,6,5,0").expect("well formed");
        assert_eq!((bucket, department), (2, 4711));
        assert_eq!(
            c.values(),
            [9, 8, 1, 6, 7, 5, 3, 1, 1, 2, 7, 6, 5, 0],
            "the counters in COLUMNS order"
        );
    }

    #[test]
    fn a_packed_cell_with_a_missing_an_extra_or_a_bad_number_is_an_error_not_a_zero() {
        for cell in [
            "2,4711,9,8,1,6,7,5,3,1,1,2,7,6,5",
            "2,4711,9,8,1,6,7,5,3,1,1,2,7,6,5,0,1",
            "2,4711,9,8,1,6,7,5,3,1,1,2,7,6,5,x",
            "",
        ] {
            assert!(super::unpack_cell(cell).is_err(), "{cell:?} was accepted");
        }
    }

    #[test]
    fn the_packed_select_joins_the_keys_and_every_counter_of_a_group() {
        assert_eq!(
            super::packed_select(),
            format!(
                "SELECT group_concat(g1 || ',' || g2 || ',' || {}, ';') AS cells FROM (",
                crate::rollup::COLUMNS.join(" || ',' || ")
            )
        );
    }

    #[test]
    fn the_ranking_index_named_is_the_one_migration_000013_creates() {
        assert_eq!(
            super::RANKING_INDEX,
            migration::m20261126_000013_department_ranking_indexes::RANKING_INDEX
        );
    }
}
