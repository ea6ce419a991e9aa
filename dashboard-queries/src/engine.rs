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

use crate::durations::durations;
use crate::model::{ratio, Stats, Window};
use crate::rollup_read::{from_rollup, rollup_for};
use crate::sql::{child_expr, push_scope, Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
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

/// One question to the engine: the cases of `r` in the window `w`, grouped by (bucket of
/// `buckets`, `fold` of the `by` key). The parts of an answer (rollup cells, clock and
/// past corrections, durations) each take the whole question.
#[derive(Clone, Copy)]
pub(crate) struct Question<'a> {
    pub r: &'a Resolved,
    pub w: &'a Window,
    pub buckets: &'a [DateTime<Utc>],
    pub by: GroupBy,
    pub fold: Fold<'a>,
}

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
    q.push(" FROM cases c WHERE ");
    push_window_and_scope(q, r, w);
}

/// `c.submitted_at` in the window and at or before as-of, then the scope's conditions.
pub(crate) fn push_window_and_scope(q: &mut Sql, r: &Resolved, w: &Window) {
    q.push("c.submitted_at >= ")
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
pub(crate) fn push_base(
    q: &mut Sql,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) {
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

    let question = Question {
        r,
        w,
        buckets,
        by,
        fold,
    };
    if let Some(rollup) = rollup_for(r, w, buckets, by) {
        let mut out = from_rollup(db, rollup, question).await?;
        if !w.is_current() {
            crate::past_rollup::correct(db, question, &mut out).await?;
        }
        if w.durations && out.values().any(|s| s.accepted > 0) {
            durations(db, question, &mut out).await?;
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
        durations(db, question, &mut out).await?;
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
