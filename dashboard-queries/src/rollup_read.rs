//! The rollup path of the engine: which pre-aggregated table answers a question
//! ([`rollup_for`]) and reading it ([`from_rollup`]): the static counters summed over
//! the window's periods, then the clock-dependent counts set right from the cases whose
//! deadlines are still ahead of as-of.

use crate::department_rollup::{local_month, UNASSIGNED};
use crate::engine::{push_keys, Fold, GroupBy, Key, OPEN};
use crate::model::{Stats, Window};
use crate::rollup::{local_day, Counters, COLUMNS};
use crate::sql::{push_scope, Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Utc};
use entities::RegionLevel;
use sea_orm::{ConnectionTrait, DbBackend};
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
    /// `case_rollup_department_monthly`: region and department cells per Shanghai month.
    DepartmentMonthly,
}

impl Rollup {
    fn table(self) -> &'static str {
        match self {
            Rollup::Daily => "case_rollup_daily",
            Rollup::DepartmentMonthly => crate::department_rollup::TABLE,
        }
    }

    /// The column holding the cell's period (text that sorts like time).
    fn period_column(self) -> &'static str {
        match self {
            Rollup::Daily => "c.day",
            Rollup::DepartmentMonthly => "c.month",
        }
    }

    /// The period an instant falls in, as stored in [`Rollup::period_column`].
    fn period(self, t: DateTime<Utc>) -> String {
        match self {
            Rollup::Daily => local_day(t),
            Rollup::DepartmentMonthly => local_month(t),
        }
    }
}

/// Which rollup answers a question, if any; both need no channel, kind or category
/// filter (as of the past too: [`crate::past_rollup`] sets the cells right for as-of), and a region scope of none, a province or a city (their cells
/// know no county for other scopes, and no filter dimension).
/// - the daily one: no department scope, grouped by nothing, the child region or time
///   buckets, over whole Shanghai days;
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
    let daily = !department_scope
        && matches!(by, GroupBy::Nothing | GroupBy::ChildRegion)
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
    let monthly = grouping
        && local_month_start(w.from)
        && local_month_start(w.to)
        && buckets.iter().all(|b| local_month_start(*b));
    monthly.then_some(Rollup::DepartmentMonthly)
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

/// The bucket index of a rollup row's period `column` (buckets start on the periods'
/// first instants).
fn push_period_bucket(q: &mut Sql, column: &str, periods: &[String], offset: usize) {
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

/// The aggregate from a rollup (static counters summed over the periods of the
/// window) and two small statements over the cases whose deadlines are still ahead of
/// as-of (the clock-dependent metrics).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn from_rollup<C: ConnectionTrait>(
    db: &C,
    rollup: Rollup,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
    fold: Fold<'_>,
) -> Result<HashMap<Key, Stats>, Error> {
    let backend = db.get_database_backend();
    let t = w.as_of;
    let level = r.region.as_ref().map(|x| x.level);
    let period = rollup.period_column();
    let mut q = Sql::new(backend);
    q.push("SELECT CAST(");
    let periods: Vec<String> = buckets.iter().map(|b| rollup.period(*b)).collect();
    push_period_bucket(&mut q, period, &periods, 0);
    q.push(" AS BIGINT) AS g1, ");
    q.push(match (by, level) {
        (GroupBy::ChildRegion, None) => "c.province_code",
        (GroupBy::ChildRegion, Some(RegionLevel::Province)) => "c.city_code",
        (GroupBy::ChildRegion, _) => "c.county_key",
        // The raw key (0: unassigned), grouped as it is stored: a province's cells come
        // in department order from the ranking index, no sort, no text per cell.
        (GroupBy::Department, _) => "c.department_key",
        _ => "CAST(NULL AS TEXT)",
    });
    q.push(" AS g2");
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
    if let Some(region) = &r.region {
        match region.level {
            RegionLevel::Province => q.push(" AND c.province_code = "),
            _ => q.push(" AND c.city_code = "),
        };
        q.bind(region.code.clone());
    }
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
    for row in db.query_all_raw(q.build()).await? {
        // Read by position (g1, g2, then COLUMNS in order): thousands of department
        // rows, each name lookup a search of the row's columns.
        let mut v = [0i64; COLUMNS.len()];
        for (i, value) in v.iter_mut().enumerate() {
            *value = row.try_get_by_index(2 + i)?;
        }
        let c = Counters::from_values(v);
        if c.received == 0 {
            // A cell emptied by moves: the scan would not see this group.
            continue;
        }
        let g2: Option<String> = match by {
            GroupBy::Department => {
                let id: i32 = row.try_get_by_index(1)?;
                (id != UNASSIGNED).then(|| id.to_string())
            }
            _ => row.try_get_by_index(1)?,
        };
        let key: Key = (row.try_get_by_index(0)?, fold(g2.filter(|k| !k.is_empty())));
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

    // The cases whose first-round deadline is after as-of (not yet due), and those
    // that wait for a reply with a deadline in force at or after as-of (not yet
    // overdue): each a range of its covering deadline index, then scoped and windowed
    // like the scan. SQLite is told the index (its planner would rather walk the
    // window); PostgreSQL's estimates find it.
    let acc = "c.accepted_at IS NOT NULL";
    let corrections: [(&str, &str, String); 2] = [
        (
            "idx_cases_rollup_first_due",
            "c.first_reply_due_at > ",
            format!(
                "COUNT(CASE WHEN {acc} THEN 1 END) AS nd, \
                 COUNT(CASE WHEN {acc} AND c.first_replied_at IS NOT NULL THEN 1 END) AS nrd, \
                 COUNT(CASE WHEN {acc} AND c.first_replied_at <= c.first_reply_due_at \
                 THEN 1 END) AS nont, CAST(0 AS BIGINT) AS nov"
            ),
        ),
        (
            "idx_cases_rollup_due_now",
            "c.reply_due_at >= ",
            format!(
                "CAST(0 AS BIGINT) AS nd, CAST(0 AS BIGINT) AS nrd, CAST(0 AS BIGINT) AS nont, COUNT(CASE WHEN {acc} \
                 AND CAST(c.status AS TEXT) IN {OPEN} THEN 1 END) AS nov"
            ),
        ),
    ];
    for (index, ahead, counts) in corrections {
        let mut q = Sql::new(backend);
        q.push("SELECT ");
        push_keys(&mut q, r, buckets, by);
        q.push(", ").push(&counts).push(" FROM cases c ");
        if backend == DbBackend::Sqlite {
            q.push("INDEXED BY ").push(index).push(" ");
        }
        q.push("WHERE ").push(ahead).bind(t);
        q.push(" AND c.submitted_at >= ")
            .bind(w.from)
            .push(" AND c.submitted_at < ")
            .bind(w.to)
            .push(" AND c.submitted_at <= ")
            .bind(w.as_of);
        push_scope(&mut q, r);
        q.push(" AND c.duplicate_of IS NULL GROUP BY g1, g2");
        for row in db.query_all_raw(q.build()).await? {
            let key: Key = (row.try_get("", "g1")?, fold(row.try_get("", "g2")?));
            let n = |col: &str| row.try_get::<i64>("", col);
            let s = out.entry(key).or_default();
            s.due -= n("nd")?;
            s.replied_when_due -= n("nrd")?;
            s.on_time -= n("nont")?;
            s.overdue_now -= n("nov")?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ranking_index_named_is_the_one_migration_000013_creates() {
        assert_eq!(
            super::RANKING_INDEX,
            migration::m20261126_000013_department_ranking_indexes::RANKING_INDEX
        );
    }
}
