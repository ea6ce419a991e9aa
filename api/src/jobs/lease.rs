//! The `job_runs` bookkeeping that makes a job run once per slot: the claim (an INSERT
//! that only one instance can win), the overlap guard (a PostgreSQL advisory lock held by
//! an open transaction) and the record of how the run ended.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use sha2::{Digest, Sha256};

const TABLE: &str = "job_runs";

/// How a claimed run ended, as stored in `job_runs.outcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Ran {
        rows_affected: u64,
    },
    Failed {
        error: String,
    },
    /// Another instance still ran this job's previous slot (PostgreSQL only).
    SkippedOverlap,
}

impl Ended {
    pub fn outcome(&self) -> &'static str {
        match self {
            Ended::Ran { .. } => "ran",
            Ended::Failed { .. } => "failed",
            Ended::SkippedOverlap => "skipped_overlap",
        }
    }
}

/// Claims `(job, slot)` for this instance: true when this INSERT created the row, false
/// when another instance's did (`ON CONFLICT DO NOTHING` on the unique pair; both engines).
pub async fn claim(
    db: &DatabaseConnection,
    job: &str,
    slot: i64,
    instance_id: &str,
    started_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let insert = Query::insert()
        .into_table(Alias::new(TABLE))
        .columns([
            Alias::new("job"),
            Alias::new("slot"),
            Alias::new("instance_id"),
            Alias::new("started_at"),
        ])
        .values([
            job.into(),
            slot.into(),
            instance_id.into(),
            started_at.into(),
        ])
        .map_err(|e| DbErr::Custom(format!("building the job_runs claim: {e}")))?
        .on_conflict(
            OnConflict::columns([Alias::new("job"), Alias::new("slot")])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    let result = db
        .execute_raw(db.get_database_backend().build(&insert))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Records how the claimed run of `(job, slot)` ended.
pub async fn finish(
    db: &DatabaseConnection,
    job: &str,
    slot: i64,
    finished_at: DateTime<Utc>,
    ended: &Ended,
) -> Result<(), DbErr> {
    let (rows, error) = match ended {
        Ended::Ran { rows_affected } => (
            Some(i64::try_from(*rows_affected).unwrap_or(i64::MAX)),
            None,
        ),
        Ended::Failed { error } => (None, Some(error.clone())),
        Ended::SkippedOverlap => (None, None),
    };
    let update = Query::update()
        .table(Alias::new(TABLE))
        .value(Alias::new("finished_at"), finished_at)
        .value(Alias::new("outcome"), ended.outcome())
        .value(Alias::new("rows_affected"), rows)
        .value(Alias::new("error"), error)
        .and_where(Expr::col(Alias::new("job")).eq(job))
        .and_where(Expr::col(Alias::new("slot")).eq(slot))
        .to_owned();
    db.execute_raw(db.get_database_backend().build(&update))
        .await?;
    Ok(())
}

/// The advisory-lock key of a job: the first 8 bytes of SHA-256("minyi job <name>"), so
/// it is stable across versions and instances and unlikely to meet anyone else's key.
pub fn advisory_key(job: &str) -> i64 {
    let digest = Sha256::digest(format!("minyi job {job}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Holds the job's overlap guard while it lives: on PostgreSQL an open transaction that
/// took `pg_try_advisory_xact_lock(key)` (released when it ends, also if this process dies
/// and the server drops the connection); nothing on SQLite.
pub struct OverlapGuard {
    txn: Option<DatabaseTransaction>,
}

impl OverlapGuard {
    /// The guard, or `None` when another instance holds it (a run of an earlier slot is
    /// still going).
    pub async fn acquire(db: &DatabaseConnection, job: &str) -> Result<Option<Self>, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Some(Self { txn: None }));
        }
        let txn = db.begin().await?;
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [advisory_key(job).into()],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("pg_try_advisory_xact_lock returned no row".into()))?;
        let locked: bool = row.try_get("", "locked")?;
        if locked {
            Ok(Some(Self { txn: Some(txn) }))
        } else {
            txn.rollback().await?;
            Ok(None)
        }
    }

    /// Releases the lock by ending its transaction (it changed nothing).
    pub async fn release(self) -> Result<(), DbErr> {
        match self.txn {
            Some(txn) => txn.rollback().await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advisory_key_is_stable_and_differs_between_jobs() {
        assert_eq!(
            advisory_key("supervise_overdue"),
            advisory_key("supervise_overdue")
        );
        assert_ne!(
            advisory_key("supervise_overdue"),
            advisory_key("prune_job_runs")
        );
    }
}
