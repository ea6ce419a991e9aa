//! The rollups as of a past instant T. The cells hold the *current* contributions of
//! every case; three kinds of cases must be set right for T:
//!
//! - cases submitted after T (in the window): they did not exist yet, so their current
//!   contribution comes off;
//! - cases touched after T (an event or a rating later than T, [`crate::past`]),
//!   submitted by T: their current row is not their state at T, so their contribution
//!   evaluated at T comes off and their trail rebuilt at T is added;
//! - every case submitted by T with a deadline still ahead of T: the clock-dependent
//!   counts (due, replied when due, on time, overdue) come off, exactly as the as-of-now
//!   rollup corrects them (`engine::from_rollup`, run with as-of = T).
//!
//! For an untouched case the current row is its state at T, so cells − the first two
//! kinds' current contributions + their states at T − the clock corrections is the
//! scan's answer at T, group by group. The first two kinds are one signed statement
//! here: `+1` rows rebuilt at T, `−1` rows read from `cases` (evaluated at T for the
//! touched ones, with no clock for the not-yet-submitted ones, since the cells count
//! them with no clock either).

use crate::engine::{push_current_rows, Key, Question, OPEN};
use crate::model::{Stats, Window};
use crate::past::{push_rebuilt, push_touched, push_touched_only};
use crate::sql::Sql;
use crate::Error;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// Adds to `out` (the rollup's answer with the clock corrections at T) the signed
/// difference of the touched and the not-yet-submitted cases, then drops the groups
/// left without a case (as the scan has none).
pub(crate) async fn correct<C: ConnectionTrait>(
    db: &C,
    Question {
        r,
        w,
        buckets,
        by,
        fold,
    }: Question<'_>,
    out: &mut HashMap<Key, Stats>,
) -> Result<(), Error> {
    let t = w.as_of;
    let mut q = Sql::new(db.get_database_backend());
    q.push("WITH ");
    push_touched(&mut q, t);
    push_rebuilt(&mut q, r, w, buckets, by);
    // sg: the sign; ev: 1 when the clock-dependent facts are read at T, 0 when the row
    // stands for the cells' clockless counters.
    q.push(", d AS (SELECT 1 AS sg, 1 AS ev, rb.* FROM rb UNION ALL SELECT -1 AS sg, 1 AS ev, x.* FROM (");
    push_current_rows(&mut q, r, w, buckets, by);
    push_touched_only(&mut q, "c.id");
    q.push(") x");
    if let Some(later) = later_window(w) {
        q.push(" UNION ALL SELECT -1 AS sg, 0 AS ev, y.* FROM (");
        push_current_rows(&mut q, r, &later, buckets, by);
        q.push(") y");
    }
    q.push(")");
    let acc = "acc_at IS NOT NULL";
    let due = format!("{acc} AND due1 IS NOT NULL AND (ev = 0 OR due1 <= ");
    q.push(" SELECT g1, g2, CAST(SUM(sg) AS BIGINT) AS received");
    let count = |q: &mut Sql, cond: &str, name: &str| {
        q.push(&format!(
            ", CAST(SUM(CASE WHEN {cond} THEN sg ELSE 0 END) AS BIGINT) AS {name}"
        ));
    };
    count(&mut q, acc, "accepted");
    count(&mut q, "rej_at IS NOT NULL", "rejected");
    count(
        &mut q,
        &format!("{acc} AND st IN ('closed', 'archived')"),
        "closed",
    );
    count(&mut q, "rep_at IS NOT NULL", "replied");
    count(&mut q, "rl IS NOT NULL", "rated");
    count(&mut q, "rl = 'satisfied'", "satisfied");
    count(&mut q, "rl = 'basically_satisfied'", "basically_satisfied");
    count(&mut q, "rl = 'dissatisfied'", "dissatisfied");
    count(&mut q, "repeat_of IS NOT NULL", "repeats");
    // The clock-dependent ones: the instant is bound, so these are pushed by hand.
    for (extra, name) in [
        ("", "due"),
        (" AND rep_at IS NOT NULL", "replied_when_due"),
        (" AND rep_at <= due1", "on_time"),
    ] {
        q.push(&format!(", CAST(SUM(CASE WHEN {due}"))
            .bind(t)
            .push(&format!(
                "){extra} THEN sg ELSE 0 END) AS BIGINT) AS {name}"
            ));
    }
    q.push(&format!(
        ", CAST(SUM(CASE WHEN {acc} AND st IN {OPEN} AND due_now IS NOT NULL \
         AND (ev = 0 OR due_now < "
    ))
    .bind(t)
    .push(") THEN sg ELSE 0 END) AS BIGINT) AS overdue_now FROM d GROUP BY g1, g2");

    crate::engine::add_counter_rows(db.query_all_raw(q.build()).await?, fold, out)?;
    // A group whose cases all came after T (or moved out): the scan has no such group.
    out.retain(|_, s| s.received != 0);
    Ok(())
}

/// The part of the window submitted after as-of, seen at its end (so that the scan
/// of its current rows takes every case the cells count): None when empty. Stored
/// instants are whole seconds, so "after as-of" starts one second later.
fn later_window(w: &Window) -> Option<Window> {
    let from = w.from.max(w.as_of + chrono::Duration::seconds(1));
    (from < w.to).then_some(Window {
        from,
        as_of: w.to,
        ..*w
    })
}
