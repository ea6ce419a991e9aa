//! The core query: every metric for the cases in scope, grouped by up to two keys (a
//! time bucket and a dimension), as of an instant.
//!
//! Two ways to build the per-case facts (`base`), both single passes:
//! - **current** (`as_of >= now`): no event can be later than as-of, so the facts are
//!   the columns of `cases` that every writer keeps current; `base` is the scoped,
//!   windowed rows themselves and the whole answer is one `GROUP BY`.
//! - **as of the past** ([`crate::past`]): the current rows of the cases with no event
//!   and no rating after as-of, `UNION ALL` the others rebuilt from their events with
//!   `MIN/MAX(CASE WHEN at <= as_of …)` in one grouped subquery.
//!
//! One statement aggregates the counts; a second (only when durations are asked for)
//! fetches the acceptance/reply/response instants of the answered cases, since medians
//! cannot be summed in SQL portably.

use crate::calendar::WorkCalendar;
use crate::department_rollup::{local_month, UNASSIGNED};
use crate::model::{ratio, Stats, Window};
use crate::percentile::summarize;
use crate::rollup::{local_day, Counters, COLUMNS};
use crate::sql::{child_expr, push_scope, Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Utc};
use entities::RegionLevel;
use sea_orm::{ConnectionTrait, DbBackend};
use std::collections::HashMap;

/// The second grouping key of the core query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupBy {
    Nothing,
    /// The code in the column that holds the scope region's children (callers fold the
    /// codes that are not children into the scope's own group).
    ChildRegion,
    Department,
    /// The case's own category (callers fold it to its top-level ancestor if needed).
    Category,
    Channel,
    Kind,
}

/// Group key: (time-bucket index, dimension key).
pub(crate) type Key = (i64, Option<String>);

/// Maps a raw dimension key to the key of the group it belongs to.
pub(crate) type Fold<'a> = &'a (dyn Fn(Option<String>) -> Option<String> + Sync);

/// Appends the bucket index of `c.submitted_at`: a binary search over the bucket
/// starts, so a daily series costs ~12 comparisons per row, not 365.
fn push_bucket(q: &mut Sql, buckets: &[DateTime<Utc>], offset: usize) {
    match buckets.len() {
        0 => {
            q.push(&format!("{offset}"));
        }
        n => {
            let mid = n / 2;
            q.push("CASE WHEN c.submitted_at < ")
                .bind(buckets[mid])
                .push(" THEN ");
            push_bucket(q, &buckets[..mid], offset);
            q.push(" ELSE ");
            push_bucket(q, &buckets[mid + 1..], offset + mid + 1);
            q.push(" END");
        }
    }
}

/// `g1, g2` of a `cases c` row.
pub(crate) fn push_keys(q: &mut Sql, r: &Resolved, buckets: &[DateTime<Utc>], by: GroupBy) {
    if buckets.is_empty() {
        q.push("CAST(0 AS BIGINT)");
    } else {
        q.push("CAST(");
        push_bucket(q, buckets, 0);
        q.push(" AS BIGINT)");
    }
    q.push(" AS g1, ");
    let g2 = match by {
        GroupBy::Nothing => "CAST(NULL AS TEXT)".to_string(),
        GroupBy::ChildRegion => child_expr(r.region.as_ref().map(|x| x.level)).to_string(),
        GroupBy::Department => "CAST(c.department_id AS TEXT)".into(),
        GroupBy::Category => "CAST(c.category_id AS TEXT)".into(),
        GroupBy::Channel => "CAST(c.channel AS TEXT)".into(),
        GroupBy::Kind => "CAST(c.kind AS TEXT)".into(),
    };
    q.push(&g2).push(" AS g2");
}

/// The scoped, windowed cases: ` FROM cases c WHERE …`.
pub(crate) fn push_cases(q: &mut Sql, r: &Resolved, w: &Window) {
    q.push(" FROM cases c WHERE c.submitted_at >= ")
        .bind(w.from)
        .push(" AND c.submitted_at < ")
        .bind(w.to)
        .push(" AND c.submitted_at <= ")
        .bind(w.as_of);
    push_scope(q, r);
}

/// Appends `WITH base AS (…)`: one row per counted case with the columns `g1, g2,
/// acc_at, rej_at, rep_at, resp_at, due1, due_now, st, rl, repeat_of`, each as it
/// stood at `as_of`.
fn push_base(q: &mut Sql, r: &Resolved, w: &Window, buckets: &[DateTime<Utc>], by: GroupBy) {
    if w.is_current() {
        push_current_base(q, r, w, buckets, by);
    } else {
        crate::past::push_past_base(q, r, w, buckets, by);
    }
}

/// The current row is the state at as-of: no event is later than now.
fn push_current_base(
    q: &mut Sql,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) {
    q.push("WITH base AS (");
    push_current_rows(q, r, w, buckets, by);
    q.push(")");
}

/// `SELECT <the columns of base> FROM cases c WHERE …`: the scoped, windowed, unmerged
/// current rows (also the untouched part of a past base, [`crate::past`]).
pub(crate) fn push_current_rows(
    q: &mut Sql,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) {
    q.push("SELECT ");
    push_keys(q, r, buckets, by);
    q.push(
        ", c.accepted_at AS acc_at, c.rejected_at AS rej_at, c.first_replied_at AS rep_at, \
         CASE WHEN c.first_replied_at < c.responded_at THEN c.first_replied_at \
         ELSE COALESCE(c.responded_at, c.first_replied_at) END AS resp_at, \
         c.first_reply_due_at AS due1, c.reply_due_at AS due_now, \
         CAST(c.status AS TEXT) AS st, CAST(c.rating_level AS TEXT) AS rl, c.repeat_of",
    );
    push_cases(q, r, w);
    // A merged row was merged at or before its last event: at or before now, and, for
    // an untouched case of a past base, at or before as-of.
    q.push(" AND c.duplicate_of IS NULL");
}

pub(crate) const OPEN: &str = "('accepted', 'assigned', 'in_progress')";

/// Every metric for the cases of `r` in `w`, grouped by (bucket, `fold(by)`). Groups
/// without cases are absent: callers zero-fill.
pub(crate) async fn aggregate<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
    fold: Fold<'_>,
) -> Result<HashMap<Key, Stats>, Error> {
    let backend = db.get_database_backend();
    let t = w.as_of;

    if let Some(rollup) = rollup_for(r, w, buckets, by) {
        let mut out = from_rollup(db, rollup, r, w, buckets, by, fold).await?;
        if !w.is_current() {
            crate::past_rollup::correct(db, r, w, buckets, by, fold, &mut out).await?;
        }
        if w.durations && out.values().any(|s| s.accepted > 0) {
            durations(db, r, w, buckets, by, fold, &mut out).await?;
        }
        for s in out.values_mut() {
            finish(s);
        }
        return Ok(out);
    }

    let mut q = Sql::new(backend);
    push_base(&mut q, r, w, buckets, by);
    q.push(
        " SELECT g1, g2, COUNT(*) AS received, COUNT(acc_at) AS accepted, \
         COUNT(rej_at) AS rejected, COUNT(CASE WHEN acc_at IS NOT NULL AND due1 <= ",
    )
    .bind(t)
    .push(" THEN 1 END) AS due, COUNT(CASE WHEN acc_at IS NOT NULL AND due1 <= ")
    .bind(t)
    .push(" AND rep_at IS NOT NULL THEN 1 END) AS replied_when_due, COUNT(CASE WHEN acc_at IS NOT NULL AND due1 <= ")
    .bind(t)
    .push(" AND rep_at <= due1 THEN 1 END) AS on_time, \
         COUNT(CASE WHEN acc_at IS NOT NULL AND st IN ('closed', 'archived') THEN 1 END) AS closed, \
         COUNT(rep_at) AS replied, COUNT(rl) AS rated, \
         COUNT(CASE WHEN rl = 'satisfied' THEN 1 END) AS satisfied, \
         COUNT(CASE WHEN rl = 'basically_satisfied' THEN 1 END) AS basically_satisfied, \
         COUNT(CASE WHEN rl = 'dissatisfied' THEN 1 END) AS dissatisfied, \
         COUNT(CASE WHEN acc_at IS NOT NULL AND st IN ")
    .push(OPEN)
    .push(" AND due_now < ")
    .bind(t)
    .push(" THEN 1 END) AS overdue_now, COUNT(repeat_of) AS repeats FROM base GROUP BY g1, g2");

    let mut out: HashMap<Key, Stats> = HashMap::new();
    add_counter_rows(db.query_all_raw(q.build()).await?, fold, &mut out)?;

    if w.durations && out.values().any(|s| s.accepted > 0) {
        durations(db, r, w, buckets, by, fold, &mut out).await?;
    }
    for s in out.values_mut() {
        finish(s);
    }
    Ok(out)
}

/// Adds rows of counters (`g1`, `g2` and one column per counter of [`Stats`], named
/// like its field) to their groups in `out`: the scan's answer, or the signed
/// correction of a past rollup.
pub(crate) fn add_counter_rows(
    rows: Vec<sea_orm::QueryResult>,
    fold: Fold<'_>,
    out: &mut HashMap<Key, Stats>,
) -> Result<(), Error> {
    for row in rows {
        let key: Key = (row.try_get("", "g1")?, fold(row.try_get("", "g2")?));
        let n = |col: &str| row.try_get::<i64>("", col);
        let s = out.entry(key).or_default();
        s.received += n("received")?;
        s.accepted += n("accepted")?;
        s.rejected += n("rejected")?;
        s.due += n("due")?;
        s.replied_when_due += n("replied_when_due")?;
        s.on_time += n("on_time")?;
        s.closed += n("closed")?;
        s.replied += n("replied")?;
        s.rated += n("rated")?;
        s.satisfied += n("satisfied")?;
        s.basically_satisfied += n("basically_satisfied")?;
        s.dissatisfied += n("dissatisfied")?;
        s.overdue_now += n("overdue_now")?;
        s.repeats += n("repeats")?;
    }
    Ok(())
}

/// Fills the duration summaries of the groups from the answered cases' instants.
#[allow(clippy::too_many_arguments)]
async fn durations<C: ConnectionTrait>(
    db: &C,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
    fold: Fold<'_>,
    out: &mut HashMap<Key, Stats>,
) -> Result<(), Error> {
    // The working-day calendar (the `holidays` table), read once per call.
    let calendar = WorkCalendar::load(db).await?;
    let mut q = Sql::new(db.get_database_backend());
    push_base(&mut q, r, w, buckets, by);
    q.push(
        " SELECT g1, g2, acc_at, rep_at, resp_at FROM base \
         WHERE acc_at IS NOT NULL AND resp_at IS NOT NULL",
    );
    #[derive(Default)]
    struct Durations {
        reply_h: Vec<f64>,
        reply_d: Vec<f64>,
        resp_h: Vec<f64>,
        resp_d: Vec<f64>,
    }
    let mut found: HashMap<Key, Durations> = HashMap::new();
    // Every measured span starts at or after the window's start and ends by as-of.
    let meter = calendar.meter(w.from, w.as_of.min(w.now.max(Utc::now())));
    for row in db.query_all_raw(q.build()).await? {
        let key: Key = (row.try_get("", "g1")?, fold(row.try_get("", "g2")?));
        let acc: DateTime<Utc> = row.try_get("", "acc_at")?;
        let rep: Option<DateTime<Utc>> = row.try_get("", "rep_at")?;
        let resp: DateTime<Utc> = row.try_get("", "resp_at")?;
        let d = found.entry(key).or_default();
        if let Some(rep) = rep {
            d.reply_h.push(WorkCalendar::clock_hours(acc, rep));
            d.reply_d.push(meter.working_days_between(acc, rep));
        }
        d.resp_h.push(WorkCalendar::clock_hours(acc, resp));
        d.resp_d.push(meter.working_days_between(acc, resp));
    }
    for (key, mut d) in found {
        let s = out.entry(key).or_default();
        s.reply_hours = summarize(&mut d.reply_h);
        s.reply_working_days = summarize(&mut d.reply_d);
        s.response_hours = summarize(&mut d.resp_h);
        s.response_working_days = summarize(&mut d.resp_d);
    }
    Ok(())
}

/// Keeps every key as it is.
pub(crate) fn identity(k: Option<String>) -> Option<String> {
    k
}

/// Fills the rates from the counts.
pub(crate) fn finish(s: &mut Stats) {
    s.reply_rate = ratio(s.replied_when_due, s.due);
    s.on_time_rate = ratio(s.on_time, s.due);
    s.completion_rate = ratio(s.closed, s.accepted);
    s.satisfaction_rate = ratio(s.satisfied + s.basically_satisfied, s.rated);
    s.participation_rate = ratio(s.rated, s.replied);
    s.repeat_rate = ratio(s.repeats, s.received);
}

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
enum Rollup {
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
fn rollup_for(r: &Resolved, w: &Window, buckets: &[DateTime<Utc>], by: GroupBy) -> Option<Rollup> {
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

/// The covering index of department rankings on the monthly department rollup
/// (migration 000013): `(province_code, department_key, month, counters…)`.
const RANKING_INDEX: &str = "idx_case_rollup_department_monthly_ranking";

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
async fn from_rollup<C: ConnectionTrait>(
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
        let mut v = [0i64; 14];
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
