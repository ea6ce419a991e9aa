//! The health checker: once a second (`--replica-check-interval`) it asks the primary how far it has written and every
//! replica whether it is still a replica (in recovery), how far it has replayed and how
//! old its last replayed transaction is, and puts each replica in or out of rotation.

use super::{wal_position, Inner, Lsn, Replica};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Longest one replica's check may take: an unreachable host must not hold up the others.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Checks until the router is gone (the server stopped).
pub fn spawn(router: Weak<Inner>, interval: Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(inner) = router.upgrade() else {
                return;
            };
            check_all(&inner).await;
        }
    });
}

/// One round: the primary's position, then every replica at once.
pub async fn check_all(inner: &Arc<Inner>) {
    let primary = tokio::time::timeout(
        CHECK_TIMEOUT,
        wal_position(&inner.primary, "SELECT pg_current_wal_lsn()::text AS lsn"),
    )
    .await;
    let primary = match primary {
        Ok(Ok(lsn)) => Some(lsn),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "the primary's WAL position is unknown");
            None
        }
        Err(_) => {
            tracing::warn!("the primary did not tell its WAL position in time");
            None
        }
    };
    let checks = inner
        .replicas
        .iter()
        .map(|replica| check_one(inner, replica, primary));
    futures::future::join_all(checks).await;
}

/// Checks one replica now (a read on it just failed). The primary's position is not
/// asked: a replica that answers keeps its last known lag.
pub async fn recheck(inner: &Inner, replica: &Replica) {
    check_one(inner, replica, None).await;
}

/// What a replica says about itself.
struct Report {
    in_recovery: bool,
    replayed: Option<Lsn>,
    lag_seconds: f64,
}

// The lag in seconds counts only while WAL waits to be replayed: on an idle primary the
// last replayed transaction grows old without the replica falling behind.
const REPLICA_SQL: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
    pg_last_wal_replay_lsn()::text AS lsn, \
    (CASE WHEN pg_last_wal_receive_lsn() IS NULL \
               OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0 \
          ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) \
     END)::float8 AS lag_seconds";

async fn report_of(db: &DatabaseConnection) -> Result<Report, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, REPLICA_SQL))
        .await?
        .ok_or_else(|| DbErr::Custom("the replica check returned no row".into()))?;
    let lsn: Option<String> = row.try_get("", "lsn")?;
    Ok(Report {
        in_recovery: row.try_get("", "in_recovery")?,
        replayed: lsn.and_then(|text| text.parse().ok()),
        lag_seconds: row.try_get("", "lag_seconds")?,
    })
}

async fn check_one(inner: &Inner, replica: &Replica, primary: Option<Lsn>) {
    let labels = &replica.labels;
    let verdict = match tokio::time::timeout(CHECK_TIMEOUT, report_of(&replica.db)).await {
        Err(_) => Err("did not answer in time".to_string()),
        Ok(Err(err)) => Err(err.to_string()),
        Ok(Ok(report)) if !report.in_recovery => {
            Err("is not in recovery (promoted, or not a replica)".to_string())
        }
        Ok(Ok(report)) => Ok(report),
    };
    let (healthy, replayed, lag_bytes, lag_seconds) = match verdict {
        Ok(report) => {
            // Without the primary's position the last known lag stands in: the primary
            // being gone is /readyz's business, not a reason to drop healthy replicas.
            let lag_bytes = match (primary, report.replayed) {
                (Some(primary), Some(replayed)) => Some(replayed.bytes_until(primary)),
                _ => None,
            };
            let within = lag_bytes.is_none_or(|lag| lag <= inner.max_lag_bytes);
            if !within {
                tracing::warn!(replica = %labels.index, address = %labels.address, lag_bytes, max = inner.max_lag_bytes, "read replica lags too far behind: out of rotation");
            }
            (
                within && report.replayed.is_some(),
                report.replayed,
                lag_bytes,
                Some(report.lag_seconds),
            )
        }
        Err(reason) => {
            if replica.status().healthy {
                tracing::warn!(replica = %labels.index, address = %labels.address, reason = %reason, "read replica out of rotation");
            }
            (false, None, None, None)
        }
    };
    let was_healthy = replica.status().healthy;
    if healthy && !was_healthy {
        tracing::info!(replica = %labels.index, address = %labels.address, "read replica in rotation");
    }
    replica.update(|status| {
        status.healthy = healthy;
        status.replayed = replayed;
    });
    if let Some(metrics) = &inner.metrics {
        metrics.set_replica(labels, healthy, lag_bytes, lag_seconds);
    }
}

/// How far `db` has replayed, asked now; `None` when it does not answer by `deadline`.
pub async fn replayed(db: &DatabaseConnection, deadline: tokio::time::Instant) -> Option<Lsn> {
    let ask = wal_position(db, "SELECT pg_last_wal_replay_lsn()::text AS lsn");
    match tokio::time::timeout_at(deadline, ask).await {
        Ok(Ok(lsn)) => Some(lsn),
        _ => None,
    }
}
