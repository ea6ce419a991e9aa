//! Streams an export in constant memory: one task reads the matching rows from a database
//! cursor and encodes them into chunks of [`CHUNK_BYTES`], handed over a bounded channel to
//! whoever writes them out (the HTTP body, a file). A slow reader slows the database read
//! instead of growing a buffer; a reader that goes away stops it.

use super::encode::{Encoder, Format, CHUNK_BYTES};
use super::rows::{select, ExportRow, Names, RowView};
use super::sqlite_reader::{self, ReadError, SqliteFile};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sea_orm::{
    AccessMode, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, IsolationLevel, QueryTrait, Statement, TransactionTrait,
};
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

/// One encoded chunk of the `file`-th encoder of an export.
#[derive(Debug)]
pub struct Piece {
    pub file: usize,
    pub bytes: Vec<u8>,
}

/// The tagged chunks of an export with several encoders.
pub type Pieces = mpsc::Receiver<Result<Piece, std::io::Error>>;

/// Tells how many cases an export wrote, or why it failed.
pub type ExportHandle = tokio::task::JoinHandle<Result<u64, String>>;

/// The chunks of one export, in order, ending after the last (or after the error that
/// ended the export early).
pub struct Chunks(Pieces);

impl Chunks {
    pub async fn recv(&mut self) -> Option<Chunk> {
        self.0.recv().await.map(|piece| piece.map(|p| p.bytes))
    }
}

/// Starts the export; the receiver yields its chunks in order and ends after the last.
/// The handle tells how many cases were written (or why it failed).
pub fn spawn(db: DatabaseConnection, job: ExportJob) -> (Chunks, ExportHandle) {
    let encoder = Encoder::new(job.format, job.bom, job.as_of);
    let (rx, handle) = spawn_encoders(db, job.condition, vec![encoder]);
    (Chunks(rx), handle)
}

/// Reads the matching rows once and feeds every row to each encoder (a release writes CSV
/// and NDJSON from one read); the receiver yields each encoder's chunks tagged with its
/// position. On SQLite the read runs on a blocking thread through
/// [`sqlite_reader`]; on PostgreSQL (and in-memory SQLite) through sea-orm in
/// [`export_transaction`].
pub fn spawn_encoders(
    db: DatabaseConnection,
    condition: Condition,
    encoders: Vec<Encoder>,
) -> (Pieces, ExportHandle) {
    let reader = Reader::for_database(&db);
    spawn_encoders_with(db, reader, condition, encoders)
}

/// Which reader an export reads its rows with.
#[derive(Debug, Clone)]
pub enum Reader {
    /// sea-orm in [`export_transaction`]: PostgreSQL's, in-memory SQLite's, and the
    /// reference the SQLite reader is tested against.
    Generic,
    /// [`sqlite_reader`] on its own connection to this file.
    SqliteFile(SqliteFile),
}

impl Reader {
    /// The fastest reader that can read `db`.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        SqliteFile::of(db).map_or(Self::Generic, Self::SqliteFile)
    }
}

/// [`spawn_encoders`] with the reader chosen by the caller.
pub fn spawn_encoders_with(
    db: DatabaseConnection,
    reader: Reader,
    condition: Condition,
    encoders: Vec<Encoder>,
) -> (Pieces, ExportHandle) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let mut sink = Sink { encoders, tx };
    let handle = match reader {
        Reader::SqliteFile(file) => {
            let statement = select(condition).build(DbBackend::Sqlite);
            let blocking = tokio::task::spawn_blocking(move || {
                let result = read_sqlite(&file, &statement, &mut sink);
                sink.conclude_blocking(result)
            });
            tokio::spawn(async move {
                blocking
                    .await
                    .unwrap_or_else(|e| Err(format!("the export reader stopped: {e}")))
            })
        }
        Reader::Generic => tokio::spawn(async move {
            let result = read_generic(&db, condition, &mut sink).await;
            sink.conclude(result).await
        }),
    };
    (rx, handle)
}

enum Stop {
    ReaderGone,
    Failed(String),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Self::Failed(e.to_string())
    }
}

/// The encoders and the channel their chunks leave by.
struct Sink {
    encoders: Vec<Encoder>,
    tx: mpsc::Sender<Result<Piece, std::io::Error>>,
}

impl Sink {
    /// Encodes one row into every encoder; the chunks that filled up are returned.
    fn row(&mut self, names: &Names, row: &RowView<'_>) -> Vec<Piece> {
        let mut full = Vec::new();
        for (file, encoder) in self.encoders.iter_mut().enumerate() {
            encoder.row(names, row);
            if encoder.buffered() >= CHUNK_BYTES {
                full.push(Piece {
                    file,
                    bytes: encoder.take(),
                });
            }
        }
        full
    }

    /// What is left in the encoders (at least the CSV header of an empty export).
    fn rest(&mut self) -> Vec<Piece> {
        self.encoders
            .iter_mut()
            .enumerate()
            .map(|(file, encoder)| Piece {
                file,
                bytes: encoder.take(),
            })
            .filter(|piece| !piece.bytes.is_empty())
            .collect()
    }

    fn send_blocking(&self, piece: Piece) -> Result<(), Stop> {
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| Stop::ReaderGone)
    }

    async fn send(&self, piece: Piece) -> Result<(), Stop> {
        self.tx.send(Ok(piece)).await.map_err(|_| Stop::ReaderGone)
    }

    fn conclude_blocking(&mut self, result: Result<u64, Stop>) -> Result<u64, String> {
        let result = result.and_then(|rows| {
            for piece in self.rest() {
                self.send_blocking(piece)?;
            }
            Ok(rows)
        });
        match result {
            Ok(rows) => Ok(rows),
            Err(Stop::ReaderGone) => Err("the reader went away".to_string()),
            Err(Stop::Failed(cause)) => {
                tracing::error!(%cause, "export failed");
                // The reader must not take a truncated export for a complete one.
                let _ = self
                    .tx
                    .blocking_send(Err(std::io::Error::other("the export failed")));
                Err(cause)
            }
        }
    }

    async fn conclude(&mut self, result: Result<u64, Stop>) -> Result<u64, String> {
        let result = match result {
            Ok(rows) => {
                let mut sent = Ok(rows);
                for piece in self.rest() {
                    if let Err(stop) = self.send(piece).await {
                        sent = Err(stop);
                        break;
                    }
                }
                sent
            }
            Err(stop) => Err(stop),
        };
        match result {
            Ok(rows) => Ok(rows),
            Err(Stop::ReaderGone) => Err("the reader went away".to_string()),
            Err(Stop::Failed(cause)) => {
                tracing::error!(%cause, "export failed");
                // The reader must not take a truncated export for a complete one.
                let _ = self
                    .tx
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
                Err(cause)
            }
        }
    }
}

fn read_sqlite(file: &SqliteFile, statement: &Statement, sink: &mut Sink) -> Result<u64, Stop> {
    sqlite_reader::read(file, statement, |names, row| {
        for piece in sink.row(names, row) {
            sink.send_blocking(piece)?;
        }
        Ok(())
    })
}

async fn read_generic(
    db: &DatabaseConnection,
    condition: Condition,
    sink: &mut Sink,
) -> Result<u64, Stop> {
    let failed = |e: &dyn std::fmt::Display| Stop::Failed(e.to_string());
    let txn = export_transaction(db).await.map_err(|e| failed(&e))?;
    let names = Names::load(&txn).await.map_err(|e| failed(&e))?;
    let mut count = 0u64;
    {
        let mut rows = select(condition)
            .into_model::<ExportRow>()
            .stream(&txn)
            .await
            .map_err(|e| failed(&e))?;
        while let Some(row) = rows.next().await {
            let row = row.map_err(|e| failed(&e))?;
            for piece in sink.row(&names, &row.view()) {
                sink.send(piece).await?;
            }
            count += 1;
        }
    }
    txn.commit().await.map_err(|e| failed(&e))?;
    Ok(count)
}

/// What was written to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
}

/// Writes the whole export into `out` (a file, stdout), chunk by chunk: each chunk is
/// already [`CHUNK_BYTES`] or more, so `out` needs no buffer of its own (one would only
/// copy every byte once more). Not hashed: an export is not a release (releases hash
/// their files, `release.rs`), and the hash cost 6 % of an export's CPU time.
pub async fn write_all(
    db: &DatabaseConnection,
    job: ExportJob,
    out: &mut dyn Write,
) -> Result<Written, Box<dyn std::error::Error>> {
    write_all_with(db, Reader::for_database(db), job, out).await
}

/// [`write_all`] with the reader chosen by the caller.
pub async fn write_all_with(
    db: &DatabaseConnection,
    reader: Reader,
    job: ExportJob,
    out: &mut dyn Write,
) -> Result<Written, Box<dyn std::error::Error>> {
    let encoder = Encoder::new(job.format, job.bom, job.as_of);
    let (rx, handle) = spawn_encoders_with(db.clone(), reader, job.condition, vec![encoder]);
    let mut rx = Chunks(rx);
    let mut bytes = 0u64;
    while let Some(chunk) = rx.recv().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        out.write_all(&chunk)?;
    }
    out.flush()?;
    let rows = handle.await??;
    Ok(Written { rows, bytes })
}
