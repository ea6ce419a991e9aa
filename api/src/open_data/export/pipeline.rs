//! Streams an export in constant memory: one task reads the matching rows from a database
//! cursor and encodes them into chunks of [`CHUNK_BYTES`], handed over a bounded channel to
//! whoever writes them out (the HTTP body, a file). A slow reader slows the database read
//! instead of growing a buffer; a reader that goes away stops it.

use super::encode::{Encoder, Format, CHUNK_BYTES};
use super::rows::{select, ExportRow, Names};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sea_orm::{
    AccessMode, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::io::Write;
use tokio::sync::mpsc;

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// Visibility and filters, complete (see `filter::PublicFilter::condition`).
    pub condition: Condition,
    pub format: Format,
    pub bom: bool,
    /// The instant `overdue` is evaluated at.
    pub as_of: DateTime<Utc>,
}

/// A chunk of the export, or the error that ended it early.
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// Chunks in flight between the reader and the writer: memory stays under
/// `(QUEUE + 2) × CHUNK_BYTES` whatever the size of the export.
const QUEUE: usize = 4;

/// The transaction an export reads in. On PostgreSQL: a read-only repeatable-read
/// snapshot, so the file is one consistent picture while cases keep changing, and
/// without the server's `statement_timeout`, which bounds interactive queries, not a
/// stream of a million rows (the reader going away is what stops an export).
pub async fn export_transaction(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?;
            txn.execute_unprepared("SET LOCAL statement_timeout = 0")
                .await?;
            Ok(txn)
        }
        // SQLite in WAL mode: a read transaction is already a snapshot that blocks no writer.
        _ => db.begin().await,
    }
}

/// Starts the export; the receiver yields its chunks in order and ends after the last.
/// The handle tells how many cases were written (or why it failed).
pub fn spawn(
    db: DatabaseConnection,
    job: ExportJob,
) -> (
    mpsc::Receiver<Chunk>,
    tokio::task::JoinHandle<Result<u64, String>>,
) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let handle = tokio::spawn(async move {
        match produce(&db, &job, &tx).await {
            Ok(rows) => Ok(rows),
            Err(Stop::ReaderGone) => Err("the reader went away".to_string()),
            Err(Stop::Failed(cause)) => {
                tracing::error!(%cause, "export failed");
                // The reader must not take a truncated export for a complete one.
                let _ = tx
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
                Err(cause)
            }
        }
    });
    (rx, handle)
}

enum Stop {
    ReaderGone,
    Failed(String),
}

async fn produce(
    db: &DatabaseConnection,
    job: &ExportJob,
    tx: &mpsc::Sender<Chunk>,
) -> Result<u64, Stop> {
    let failed = |e: &dyn std::fmt::Display| Stop::Failed(e.to_string());
    let txn = export_transaction(db).await.map_err(|e| failed(&e))?;
    let names = Names::load(&txn).await.map_err(|e| failed(&e))?;
    let mut encoder = Encoder::new(job.format, job.bom, &names, job.as_of);
    let mut count = 0u64;
    {
        let mut rows = select(job.condition.clone())
            .into_model::<ExportRow>()
            .stream(&txn)
            .await
            .map_err(|e| failed(&e))?;
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| failed(&e))?;
            encoder.row(&row);
            count += 1;
            if encoder.buffered() >= CHUNK_BYTES {
                let chunk = encoder.take();
                tx.send(Ok(chunk)).await.map_err(|_| Stop::ReaderGone)?;
            }
        }
    }
    txn.commit().await.map_err(|e| failed(&e))?;
    let last = encoder.take();
    if !last.is_empty() {
        tx.send(Ok(last)).await.map_err(|_| Stop::ReaderGone)?;
    }
    Ok(count)
}

/// What was written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Writes the whole export into `out` (a file, stdout), hashing it on the way.
pub async fn write_all(
    db: &DatabaseConnection,
    job: ExportJob,
    out: &mut dyn Write,
) -> Result<Written, Box<dyn std::error::Error>> {
    let (mut rx, handle) = spawn(db.clone(), job);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        bytes += chunk.len() as u64;
        out.write_all(&chunk)?;
    }
    out.flush()?;
    let rows = handle.await??;
    Ok(Written {
        rows,
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}
