//! Monthly partitions of `cases` and `case_events` created before they are needed
//! (PostgreSQL; nothing to do on SQLite). The server creates the coming year's months at
//! startup and from its periodic job, the seeder and the importer the months of the data
//! they are about to write. A row of a month that has no partition yet lands in the
//! table's DEFAULT partition and is moved out when its month is created.
//! The tables and the routine itself: `migration::partitioning`.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use migration::m20261126_000008_partition_cases::MONTHS_AHEAD;
use migration::partitioning;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};

/// Months kept before the current one, so that writes stamped just before a month
/// boundary never reach the DEFAULT partition.
pub const MONTHS_BEFORE: u32 = 1;

/// Creates the missing monthly partitions for every month from `from`'s to `to`'s (China
/// time), moving any rows of those months out of the DEFAULT partitions. Returns how many
/// partitions it created (0 on SQLite).
pub async fn ensure_partitions(
    db: &DatabaseConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<u64, DbErr> {
    create(db, &partitioning::months_between(from, to)?).await
}

/// Creates the missing partitions of the months `instants` fall in, and of no month in
/// between (an imported file's stray date must not create decades of partitions).
pub async fn ensure_partitions_of(
    db: &DatabaseConnection,
    instants: impl IntoIterator<Item = DateTime<Utc>>,
) -> Result<u64, DbErr> {
    let months: std::collections::BTreeSet<chrono::NaiveDate> =
        instants.into_iter().map(partitioning::month_of).collect();
    create(db, &months.into_iter().collect::<Vec<_>>()).await
}

/// Ensures the month before `now`'s through the 12 after it.
pub async fn ensure_months_ahead(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    create(
        db,
        &partitioning::months_around(now, MONTHS_BEFORE, MONTHS_AHEAD)?,
    )
    .await
}

/// [`ensure_months_ahead`] for the periodic job.
pub async fn ensure_partitions_job(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, ApiError> {
    Ok(ensure_months_ahead(db, now).await?)
}

async fn create(db: &DatabaseConnection, months: &[chrono::NaiveDate]) -> Result<u64, DbErr> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres || months.is_empty() {
        return Ok(0);
    }
    // One transaction: its advisory lock serialises concurrent callers, and a move out
    // of the DEFAULT partition is all or nothing.
    let txn = db.begin().await?;
    let created = partitioning::create_months(&txn, months).await?;
    txn.commit().await?;
    if created > 0 {
        tracing::info!(created, "created monthly partitions");
    }
    Ok(created)
}
