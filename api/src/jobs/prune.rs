//! Old `job_runs` rows go: they only serve to look back at recent runs, and a short
//! period would otherwise grow the table without end.

use crate::error::ApiResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// How long a run stays in `job_runs`.
pub const KEEP_JOB_RUNS: chrono::Duration = chrono::Duration::days(7);

/// Deletes the runs started more than [`KEEP_JOB_RUNS`] before `now`; returns how many.
pub async fn prune_job_runs(db: &DatabaseConnection, now: DateTime<Utc>) -> ApiResult<u64> {
    let cutoff = now - KEEP_JOB_RUNS;
    let delete = Query::delete()
        .from_table(Alias::new("job_runs"))
        .and_where(Expr::col(Alias::new("started_at")).lt(cutoff))
        .to_owned();
    let result = db
        .execute_raw(db.get_database_backend().build(&delete))
        .await?;
    Ok(result.rows_affected())
}
