//! As of a past instant T: the per-case facts of the scan (`base`), exact and read
//! mostly from the current rows.
//!
//! **Why the current row is the state at T for most cases.** Every writer that changes
//! a fact of a case (status, acceptance, rejection, deadlines, replies, responses,
//! rating, merge) appends a `case_events` row, or a `ratings` row, at the instant of the
//! change, in the same transaction as the row write (`docs/METRICS.md`, "The writer
//! rule"). So a case with no event and no rating after T has not changed since T: its
//! current row *is* its state at T, and only the clock-dependent metrics (due, overdue)
//! must be evaluated at T, which the aggregate does from the row's instants anyway.
//!
//! So `base` = the current rows of the scoped, windowed cases **not touched** after T
//! (`tc`: the cases with an event or a rating after T, two range scans of the
//! `(at, case_id)` / `(rated_at, case_id)` indexes of migration 000012) `UNION ALL`
//! the touched ones rebuilt from their trails at T (one grouped pass over their events:
//! `MIN/MAX(CASE WHEN at <= T …)`, the "latest" facts through a sortable `(at, id)` key
//! prefixed to the value). The touched cases are the few that moved in the last weeks;
//! the rest costs what the as-of-now scan costs.

use crate::model::Window;
use crate::sql::{Resolved, Sql};
use chrono::{DateTime, Utc};
use sea_orm::DbBackend;

use crate::engine::{push_cases, push_current_rows, push_keys, GroupBy};

/// Length of the sortable `(at, id)` prefix: 14 digits of time, 19 of id.
const KEY_LEN: usize = 33;

/// A text key that sorts like `(at, id)` of the row `alias` (column `at_col`).
fn sort_key(backend: DbBackend, alias: &str, at_col: &str) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "(to_char({alias}.{at_col} AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISS') || \
             lpad(CAST({alias}.id AS TEXT), 19, '0'))"
        ),
        // Seconds since the epoch rather than `strftime`'s calendar digits: the same
        // order, a third of the cost per event (measured in the `sqlite3` shell over
        // 1,000,000 events: 0.42 s against 0.90 s), and four keys are built per event.
        _ => format!("printf('%014d%019d', unixepoch({alias}.{at_col}), {alias}.id)"),
    }
}

/// The value after the key prefix of a `sort_key || value` aggregate, as a timestamp.
fn key_time(backend: DbBackend, expr: &str) -> String {
    let start = KEY_LEN + 1;
    match backend {
        DbBackend::Postgres => format!("CAST(SUBSTR({expr}, {start}) AS TIMESTAMPTZ)"),
        _ => format!("SUBSTR({expr}, {start})"),
    }
}

fn key_text(expr: &str) -> String {
    format!("SUBSTR({expr}, {})", KEY_LEN + 1)
}

/// A timestamp column as text (for `key || value`).
fn ts_text(backend: DbBackend, expr: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CAST({expr} AS TEXT)"),
        _ => expr.to_string(),
    }
}

/// Appends `tc AS (…)`: the ids of the cases with an event or a rating after `t` (a
/// case with both, or with several, is listed once).
pub(crate) fn push_touched(q: &mut Sql, t: DateTime<Utc>) {
    q.push("tc AS (SELECT e.case_id FROM case_events e WHERE e.at > ")
        .bind(t)
        .push(" UNION SELECT g.case_id FROM ratings g WHERE g.rated_at > ")
        .bind(t)
        .push(")");
}

/// Appends ` AND <the case `id` is not in tc>`. SQLite probes the materialised set
/// (`NOT IN`, `tc.case_id` is never NULL); PostgreSQL plans `NOT EXISTS` as a hash
/// anti-join (its `NOT IN` cannot be one).
pub(crate) fn push_untouched(q: &mut Sql, id: &str) {
    match q.backend() {
        DbBackend::Postgres => q.push(&format!(
            " AND NOT EXISTS (SELECT 1 FROM tc WHERE tc.case_id = {id})"
        )),
        _ => q.push(&format!(" AND {id} NOT IN (SELECT case_id FROM tc)")),
    };
}

/// Appends ` AND <the case `id` is in tc>`.
pub(crate) fn push_touched_only(q: &mut Sql, id: &str) {
    q.push(&format!(" AND {id} IN (SELECT case_id FROM tc)"));
}

/// Appends `, sc AS (…), ag AS (…), fx AS (…), rt AS (…), rb AS (…)` (after `tc`):
/// `rb` holds one row per touched, scoped, windowed case counted at T, with the
/// columns of `base`, each rebuilt from the trail as it stood at T.
pub(crate) fn push_rebuilt(
    q: &mut Sql,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) {
    let backend = q.backend();
    let t = w.as_of;
    let ek = sort_key(backend, "e", "at");
    let due = ts_text(backend, "e.reply_due_at");

    // Materialised: `ag`, `rt` and `rb` each read it, and SQLite would otherwise run the
    // scoped scan with its probe of `tc` once for each.
    q.push(", sc AS MATERIALIZED (SELECT c.id, c.submitted_at, c.duplicate_of, c.repeat_of, ");
    push_keys(q, r, buckets, by);
    push_cases(q, r, w);
    push_touched_only(q, "c.id");
    q.push("), ag AS (SELECT e.case_id");
    // First instant of an action, at or before as-of.
    for (action, col) in [
        ("'accept'", "acc_at"),
        ("'reject'", "rej_at"),
        ("'reply'", "rep_at"),
        ("'respond', 'reply'", "resp_at"),
    ] {
        q.push(", MIN(CASE WHEN e.action IN (")
            .push(action)
            .push(") AND e.at <= ")
            .bind(t)
            .push(&format!(" THEN e.at END) AS {col}"));
    }
    // The first merge ever (a duplicate counts until then).
    q.push(", MIN(CASE WHEN e.action = 'merge' THEN e.at END) AS merge_at");
    // The first reopen, as a sortable key.
    q.push(", MIN(CASE WHEN e.action = 'reopen' AND e.at <= ")
        .bind(t)
        .push(&format!(" THEN {ek} END) AS r1"));
    // The latest accept/extend deadline (valid as the first-round one when no reopen
    // came before it).
    q.push(
        ", MAX(CASE WHEN e.action IN ('accept', 'extend') AND e.reply_due_at IS NOT NULL \
         AND e.at <= ",
    )
    .bind(t)
    .push(&format!(" THEN {ek} || {due} END) AS d1k"));
    // The deadline in force and the status: the latest event carrying one.
    q.push(", MAX(CASE WHEN e.reply_due_at IS NOT NULL AND e.at <= ")
        .bind(t)
        .push(&format!(" THEN {ek} || {due} END) AS dnk"));
    // `+sc.id`: SQLite then reads each touched case's events through `(case_id, at)`
    // rather than walking the `(at, case_id)` index.
    q.push(", MAX(CASE WHEN e.to_status IS NOT NULL AND e.at <= ")
        .bind(t)
        .push(&format!(
            " THEN {ek} || CAST(e.to_status AS TEXT) END) AS stk \
             FROM sc JOIN case_events e ON e.case_id = +sc.id GROUP BY e.case_id)"
        ));
    // Cases with an accept/extend after their first reopen: the first-round deadline is
    // the latest one before that reopen (a second, small grouped join). It must start
    // from the few `ag` rows: left to itself SQLite walked the `(action, at)` index over
    // every accept of the database (~1 s at 1M cases), so `CROSS JOIN` fixes the order
    // and the unary `+` keeps that index out (PostgreSQL plans the join itself, and has
    // no unary `+` on text).
    let action = match backend {
        DbBackend::Postgres => "e.action",
        _ => "+e.action",
    };
    q.push(&format!(
        ", fx AS (SELECT e.case_id, MAX({ek} || {due}) AS d1k FROM ag \
         CROSS JOIN case_events e WHERE e.case_id = ag.case_id AND ag.r1 IS NOT NULL \
         AND SUBSTR(ag.d1k, 1, {KEY_LEN}) > ag.r1 \
         AND {action} IN ('accept', 'extend') AND e.reply_due_at IS NOT NULL \
         AND {ek} < ag.r1 GROUP BY e.case_id)"
    ));
    // The latest rating at as-of.
    let gk = sort_key(backend, "g", "rated_at");
    q.push(&format!(
        ", rt AS (SELECT g.case_id, MAX({gk} || CAST(g.level AS TEXT)) AS k \
         FROM sc JOIN ratings g ON g.case_id = +sc.id WHERE g.rated_at <= "
    ))
    .bind(t)
    .push(" GROUP BY g.case_id)");
    let due1 = key_time(
        backend,
        &format!(
            "CASE WHEN ag.r1 IS NULL OR SUBSTR(ag.d1k, 1, {KEY_LEN}) < ag.r1 \
             THEN ag.d1k ELSE fx.d1k END"
        ),
    );
    q.push(&format!(
        ", rb AS (SELECT sc.g1, sc.g2, ag.acc_at, ag.rej_at, ag.rep_at, ag.resp_at, \
         {due1} AS due1, {} AS due_now, {} AS st, {} AS rl, sc.repeat_of \
         FROM sc LEFT JOIN ag ON ag.case_id = sc.id LEFT JOIN fx ON fx.case_id = sc.id \
         LEFT JOIN rt ON rt.case_id = sc.id \
         WHERE sc.duplicate_of IS NULL OR COALESCE(ag.merge_at, sc.submitted_at) > ",
        key_time(backend, "ag.dnk"),
        key_text("ag.stk"),
        key_text("rt.k"),
    ))
    .bind(t)
    .push(")");
}

/// Appends `WITH … base AS (…)` for a past as-of: the untouched cases' current rows,
/// then the touched ones rebuilt at T.
pub(crate) fn push_past_base(
    q: &mut Sql,
    r: &Resolved,
    w: &Window,
    buckets: &[DateTime<Utc>],
    by: GroupBy,
) {
    q.push("WITH ");
    push_touched(q, w.as_of);
    push_rebuilt(q, r, w, buckets, by);
    q.push(", base AS (");
    push_current_rows(q, r, w, buckets, by);
    push_untouched(q, "c.id");
    q.push(" UNION ALL SELECT * FROM rb)");
}
