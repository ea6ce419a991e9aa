//! The clock-dependent correction of the rollups. Their cells count every accepted case
//! as if its deadlines had passed; what is taken away, per group, are the cases of the
//! window that are not due or not overdue at as-of: `[not yet due, of which replied, of
//! which on time, waiting for a reply and not yet overdue]`. Not yet due: the first-round
//! deadline is after as-of; not yet overdue: the deadline in force is at or after as-of.
//!
//! - [`by_case`] reads those cases one by one (department questions).
//! - [`by_day`] sums the deadline cells of the days after as-of's day
//!   (`case_rollup_deadline`, [`crate::deadline_rollup`]) and reads one by one only the
//!   deadlines on as-of's own Shanghai day and the cases submitted that day (region
//!   questions): at 10M cases the cases ahead of now were ~115,000 for Sichuan, the
//!   cells after today a few per county and day.

use crate::deadline_rollup::{COUNTERS, TABLE};
use crate::engine::{push_keys, push_window_and_scope, Key, Question, OPEN};
use crate::rollup::local_day;
use crate::rollup_read::{cell_group, push_cell_region, push_period_bucket};
use crate::sql::{Resolved, Sql};
use crate::Error;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};

/// The index of the cases by their latest deadline (migration 000015; a test checks the
/// name and the expression, which a query must spell as the index does).
const AHEAD_INDEX: &str = "idx_cases_rollup_ahead";

/// The latest of a case `c`'s two deadlines, as [`AHEAD_INDEX`] is keyed.
fn latest_deadline(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "GREATEST(c.first_reply_due_at, c.reply_due_at)",
        _ => "max(coalesce(c.first_reply_due_at, c.reply_due_at), coalesce(c.reply_due_at, c.first_reply_due_at))",
    }
}

/// The first key column of [`AHEAD_INDEX`] since migration 000022 (a test checks it).
const AHEAD_PROVINCE: &str = "province_code";

/// Appends `c.province_code = <the scope's province> AND `, the first key of
/// [`AHEAD_INDEX`] (migration 000022), so that a question reads only its province's
/// range; without a region, any top-level region: one range of the index a province.
/// Every case's `province_code` names a top-level region (the reference data's
/// provinces, the importer's unassigned region 990000).
fn push_ahead_province(q: &mut Sql, r: &Resolved) {
    const TOP_LEVEL: &str = "SELECT p.code FROM regions p WHERE p.parent_code IS NULL";
    match (&r.region, q.backend()) {
        (Some(region), _) => {
            q.push(&format!("c.{AHEAD_PROVINCE} = "))
                .bind(region.province_code.clone());
        }
        // An array, which PostgreSQL probes the index with once per province (a
        // subquery may become a semi-join over the whole index).
        (None, DbBackend::Postgres) => {
            q.push(&format!("c.{AHEAD_PROVINCE} = ANY(ARRAY({TOP_LEVEL}))"));
        }
        (None, _) => {
            q.push(&format!("c.{AHEAD_PROVINCE} IN ({TOP_LEVEL})"));
        }
    }
    q.push(" AND ");
}

/// The partial index of the cases whose deadline in force is later than their
/// first-round one, and its predicate (migration 000020; a test checks both).
const EXTENDED_FIRST_DUE_INDEX: &str = "idx_cases_extended_first_due";
const EXTENDED: &str = "c.reply_due_at > c.first_reply_due_at";

/// The index of the cases by status and deadline in force (migration 000001).
const WAITING_INDEX: &str = "idx_cases_status_reply_due_at";

/// Per group, the four counts to take away.
pub(crate) type Ahead = Vec<(Key, [i64; 4])>;

/// How a count is written: aggregated over the statement's rows, or one 0/1 per row.
#[derive(Clone, Copy)]
enum Count {
    Aggregate,
    PerRow,
}

/// Appends `, <not due> AS nd, <replied> AS nrd, <on time> AS nont, <not overdue> AS
/// nov` for as-of `t`; with `before`, only the deadlines before that instant count.
fn push_counts(q: &mut Sql, t: DateTime<Utc>, before: Option<DateTime<Utc>>, count: Count) {
    let (open, close) = match count {
        Count::Aggregate => ("COUNT(CASE WHEN ", " THEN 1 END)"),
        Count::PerRow => ("CASE WHEN ", " THEN 1 ELSE 0 END"),
    };
    let first = "c.accepted_at IS NOT NULL AND c.first_reply_due_at > ";
    for (extra, name) in [
        ("", "nd"),
        (" AND c.first_replied_at IS NOT NULL", "nrd"),
        (" AND c.first_replied_at <= c.first_reply_due_at", "nont"),
    ] {
        q.push(&format!(", {open}{first}")).bind(t);
        if let Some(b) = before {
            q.push(" AND c.first_reply_due_at < ").bind(b);
        }
        q.push(&format!("{extra}{close} AS {name}"));
    }
    q.push(&format!(
        ", {open}c.accepted_at IS NOT NULL AND CAST(c.status AS TEXT) IN {OPEN} \
         AND c.reply_due_at >= "
    ))
    .bind(t);
    if let Some(b) = before {
        q.push(" AND c.reply_due_at < ").bind(b);
    }
    q.push(&format!("{close} AS nov"));
}

/// ` FROM cases c [INDEXED BY index] WHERE <set>` and the question's window and scope,
/// merged duplicates left out; `set` writes its own condition. SQLite is told a
/// deadline index, so that the plan does not hang on estimates (its planner would
/// rather walk the window); PostgreSQL's estimates find it.
fn push_cases_where(
    q: &mut Sql,
    Question { r, w, .. }: Question<'_>,
    index: Option<&str>,
    set: impl FnOnce(&mut Sql),
) {
    q.push(" FROM cases c ");
    if let (DbBackend::Sqlite, Some(index)) = (q.backend(), index) {
        q.push("INDEXED BY ").push(index).push(" ");
    }
    q.push("WHERE ");
    set(q);
    q.push(" AND ");
    push_window_and_scope(q, r, w);
    q.push(" AND c.duplicate_of IS NULL");
}

/// Rows of `g1, g2, nd, nrd, nont, nov`, keyed as the question folds them.
fn read_rows(rows: Vec<QueryResult>, question: Question<'_>) -> Result<Ahead, Error> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let g2: Option<String> = row.try_get_by_index(1)?;
        let key: Key = (
            row.try_get_by_index(0)?,
            (question.fold)(g2.filter(|k| !k.is_empty())),
        );
        let mut counts = [0i64; 4];
        for (i, n) in counts.iter_mut().enumerate() {
            *n = row.try_get_by_index(2 + i)?;
        }
        out.push((key, counts));
    }
    Ok(out)
}

/// The cases ahead of as-of one by one: the province's range of [`AHEAD_INDEX`] (a case
/// not due or not overdue has its latest deadline at or after as-of), then scoped and
/// windowed like the scan.
pub(crate) async fn by_case<C: ConnectionTrait>(
    db: &C,
    question: Question<'_>,
) -> Result<Ahead, Error> {
    let statement = by_case_statement(db.get_database_backend(), question);
    read_rows(db.query_all_raw(statement).await?, question)
}

fn by_case_statement(backend: DbBackend, question: Question<'_>) -> Statement {
    let t = question.w.as_of;
    let mut q = Sql::new(backend);
    q.push("SELECT ");
    push_keys(&mut q, question.r, question.buckets, question.by);
    push_counts(&mut q, t, None, Count::Aggregate);
    push_cases_where(&mut q, question, Some(AHEAD_INDEX), |q| {
        push_ahead_province(q, question.r);
        q.push(latest_deadline(backend)).push(" >= ").bind(t);
    });
    q.push(" GROUP BY g1, g2");
    q.build()
}

/// The Shanghai midnight that starts an instant's day (UTC+8 all year since 1991).
fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = (t + Duration::hours(8)).date_naive();
    Utc.from_utc_datetime(&local.and_time(NaiveTime::MIN)) - Duration::hours(8)
}

/// Region questions (the daily and monthly region rollups, whose windows start and end
/// on Shanghai midnights): the deadline cells of the days after as-of's day, and the
/// cases of as-of's own day one by one. The two statements run at once on a pool.
pub(crate) async fn by_day<C: ConnectionTrait>(
    db: &C,
    question: Question<'_>,
) -> Result<Ahead, Error> {
    let (later, today) =
        futures::future::try_join(later_days(db, question), as_of_day(db, question)).await?;
    Ok(later.into_iter().chain(today).collect())
}

/// The cells whose deadline day is after as-of's day, of the cases submitted in the
/// window before as-of's day: every one of their deadlines is after as-of.
async fn later_days<C: ConnectionTrait>(db: &C, question: Question<'_>) -> Result<Ahead, Error> {
    let Question {
        r, w, buckets, by, ..
    } = question;
    let today = local_day(w.as_of);
    let mut q = Sql::new(db.get_database_backend());
    let periods: Vec<String> = buckets.iter().map(|b| local_day(*b)).collect();
    q.push("SELECT CAST(");
    push_period_bucket(&mut q, "c.day", &periods, 0);
    q.push(" AS BIGINT) AS g1, ");
    q.push(cell_group(by, r.region.as_ref().map(|x| x.level)))
        .push(" AS g2");
    for c in COUNTERS {
        q.push(&format!(", CAST(SUM(c.{c}) AS BIGINT)"));
    }
    q.push(&format!(" FROM {TABLE} c WHERE c.due_day > "))
        .bind(today.clone())
        .push(" AND c.day < ")
        .bind(today)
        .push(" AND c.day >= ")
        .bind(local_day(w.from))
        .push(" AND c.day < ")
        .bind(local_day(w.to));
    push_cell_region(&mut q, r);
    q.push(if periods.is_empty() {
        " GROUP BY 2"
    } else {
        " GROUP BY 1, 2"
    });
    read_rows(db.query_all_raw(q.build()).await?, question)
}

/// The cases the cells leave out, one by one, as four disjoint sets: those submitted on
/// as-of's day (all of their counts), and of those submitted before it the deadlines on
/// as-of's day (only those counts; the later ones are in the cells): the cases whose
/// latest deadline is on that day ([`AHEAD_INDEX`]), the reopened ones whose first-round
/// deadline is on that day and the one in force later ([`EXTENDED_FIRST_DUE_INDEX`]),
/// and the waiting ones whose deadline in force is on that day and the first-round one
/// later ([`WAITING_INDEX`]).
async fn as_of_day<C: ConnectionTrait>(db: &C, question: Question<'_>) -> Result<Ahead, Error> {
    let backend = db.get_database_backend();
    let t = question.w.as_of;
    let start = day_start(t);
    let next = start + Duration::days(1);
    let mut q = Sql::new(backend);
    q.push(
        "SELECT g1, g2, CAST(SUM(nd) AS BIGINT), CAST(SUM(nrd) AS BIGINT), \
         CAST(SUM(nont) AS BIGINT), CAST(SUM(nov) AS BIGINT) FROM (",
    );
    let part = |q: &mut Sql, before: Option<DateTime<Utc>>| {
        q.push("SELECT ");
        push_keys(q, question.r, question.buckets, question.by);
        push_counts(q, t, before, Count::PerRow);
    };
    // Submitted on as-of's day, at or before as-of.
    part(&mut q, None);
    push_cases_where(&mut q, question, None, |q| {
        q.push("c.submitted_at >= ").bind(start);
    });
    q.push(" UNION ALL ");
    part(&mut q, Some(next));
    push_cases_where(&mut q, question, Some(AHEAD_INDEX), |q| {
        push_ahead_province(q, question.r);
        q.push(latest_deadline(backend))
            .push(" >= ")
            .bind(t)
            .push(" AND ")
            .push(latest_deadline(backend))
            .push(" < ")
            .bind(next)
            .push(" AND c.submitted_at < ")
            .bind(start);
    });
    q.push(" UNION ALL ");
    part(&mut q, Some(next));
    push_cases_where(&mut q, question, Some(EXTENDED_FIRST_DUE_INDEX), |q| {
        q.push("c.first_reply_due_at > ")
            .bind(t)
            .push(" AND c.first_reply_due_at < ")
            .bind(next)
            .push(" AND c.reply_due_at >= ")
            .bind(next)
            .push(&format!(" AND {EXTENDED} AND c.submitted_at < "))
            .bind(start);
    });
    q.push(" UNION ALL ");
    part(&mut q, Some(next));
    push_cases_where(&mut q, question, Some(WAITING_INDEX), |q| {
        q.push(&format!("c.status IN {OPEN} AND c.reply_due_at >= "))
            .bind(t)
            .push(" AND c.reply_due_at < ")
            .bind(next)
            .push(" AND c.first_reply_due_at >= ")
            .bind(next)
            .push(" AND c.submitted_at < ")
            .bind(start);
    });
    q.push(") u GROUP BY g1, g2");
    read_rows(db.query_all_raw(q.build()).await?, question)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, ParseError, Utc};
    use migration::m20261127_000015_deadline_ahead_index as ahead;
    use migration::m20261128_000020_deadline_rollup as deadline;
    use migration::m20261128_000022_ahead_index_by_province as by_province;
    use migration::MigratorTrait;
    use sea_orm::DbBackend;
    use sea_orm::{ConnectionTrait, Statement};

    #[test]
    fn the_deadline_indexes_and_their_keys_are_those_the_migrations_create() {
        assert_eq!(super::AHEAD_INDEX, ahead::AHEAD_INDEX);
        assert_eq!(super::AHEAD_PROVINCE, by_province::AHEAD_PROVINCE);
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            assert_eq!(
                super::latest_deadline(backend),
                ahead::latest_deadline(backend, "c.")
            );
        }
        assert_eq!(
            super::EXTENDED_FIRST_DUE_INDEX,
            deadline::EXTENDED_FIRST_DUE_INDEX
        );
        assert_eq!(super::EXTENDED, deadline::EXTENDED);
    }

    /// What SQLite's `EXPLAIN QUERY PLAN` says of a department question's correction
    /// in the region `code` (None: no region), on a migrated database.
    async fn correction_plan(
        db: &sea_orm::DatabaseConnection,
        code: Option<&str>,
    ) -> Result<String, Box<dyn std::error::Error>> {
        let region = match code {
            Some(code) => Some(
                crate::sql::find_region(db, code)
                    .await?
                    .ok_or("a region of the reference data")?,
            ),
            None => None,
        };
        let r = crate::sql::Resolved {
            region,
            ..Default::default()
        };
        let now = Utc::now();
        let w = crate::Window::new(now - chrono::Duration::days(365), now, Some(now))?;
        let question = crate::engine::Question {
            r: &r,
            w: &w,
            buckets: &[],
            by: crate::engine::GroupBy::Department,
            fold: &|k| k,
        };
        let statement = super::by_case_statement(DbBackend::Sqlite, question);
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let mut plan = Vec::new();
        for row in db.query_all_raw(explain).await? {
            plan.push(row.try_get::<String>("", "detail")?);
        }
        Ok(plan.join("\n"))
    }

    #[tokio::test]
    async fn a_correction_reads_only_its_provinces_range_of_the_deadline_index(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("plan.db").display());
        let db = sea_orm::Database::connect(&url).await?;
        migration::Migrator::up(&db, None).await?;
        // Sichuan, Chengdu, and no region (one range a province).
        for code in [Some("510000"), Some("510100"), None] {
            let plan = correction_plan(&db, code).await?;
            assert!(
                plan.contains(
                    "SEARCH c USING COVERING INDEX idx_cases_rollup_ahead (province_code=? AND <expr>>?)"
                ),
                "{code:?}: {plan}"
            );
        }
        Ok(())
    }

    #[test]
    fn a_day_starts_at_the_shanghai_midnight_before_the_instant() -> Result<(), ParseError> {
        // 15:59:59 UTC is 23:59:59 on the 10th in Shanghai; 16:00 is the 11th.
        let t: DateTime<Utc> = "2025-03-10T15:59:59Z".parse()?;
        assert_eq!(
            super::day_start(t),
            "2025-03-09T16:00:00Z".parse::<DateTime<Utc>>()?
        );
        let t: DateTime<Utc> = "2025-03-10T16:00:00Z".parse()?;
        assert_eq!(super::day_start(t), t);
        Ok(())
    }
}
