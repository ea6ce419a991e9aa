//! `minyi import FILE --format georeport-v2`: service requests in GeoReport v2 field
//! names (CSV or a JSON array), or another dataset's names through `--columns
//! MAPPING.toml`, become published cases (see docs/OPEN_DATA.md, "Importing 311 data").
//!
//! A reader thread parses, checks and redacts the records (`source`, `row`) while this
//! task writes the previous batch (`writer`), one transaction a batch. A record that
//! cannot be imported is reported with its line and the reason, and the import goes on.
//! Re-importing a file changes nothing: `service_request_id` is stored as the case's
//! unique `external_id`, and rows already stored are skipped.

mod case_rows;
mod fields;
mod mapping;
mod row;
mod source;
mod time;
mod trail;
mod writer;

pub use mapping::Mapping;
pub use writer::{Rejection, UNASSIGNED_REGION_CODE, UNASSIGNED_REGION_NAME};

use chrono_tz::Tz;
use entities::region;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use row::{ImportRow, RowReader};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use source::Source;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows a transaction writes.
const BATCH: usize = 50_000;
/// Rows of the first transaction: the writer starts on these instead of waiting while a
/// whole batch is read (~0.25 s for 50,000 Baltimore rows).
const FIRST_BATCH: usize = 5_000;
/// Rejections printed at the end; the rest go to `--rejects FILE`.
const PRINTED_REJECTIONS: usize = 20;
/// The zone of timestamps without an offset when neither flag nor mapping names one.
const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;

/// The command-line arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The file: CSV with a header row, or a JSON array of objects (by the extension,
    /// else by the first character).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The field names of the file. The only one: georeport-v2 (Open311).
    #[arg(long)]
    pub format: String,
    /// The region (statistical code) of rows without a `region_code`. Without either,
    /// cases go to the region 990000 "Unassigned imports".
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// The IANA time zone of timestamps without an offset [default: the mapping's, else
    /// Asia/Shanghai].
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Import the cases unpublished (by default they are published).
    #[arg(long)]
    pub unpublished: bool,
    /// A TOML file mapping another dataset's columns, time formats and values onto the
    /// GeoReport v2 fields.
    #[arg(long, value_name = "MAPPING.toml")]
    pub columns: Option<PathBuf>,
    /// Also write the rejected rows (line, reason) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
}

impl ImportArgs {
    /// The arguments for `file` with every option at its default.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        ImportArgs {
            file: file.into(),
            format: "georeport-v2".into(),
            region: None,
            timezone: None,
            unpublished: false,
            columns: None,
            rejects: None,
        }
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The arguments, the mapping or the file as a whole are unusable.
    #[error("{0}")]
    Input(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Records read from the file.
    pub read: u64,
    pub imported: u64,
    /// Records whose `service_request_id` was already stored.
    pub already_present: u64,
    /// In file order.
    pub rejected: Vec<Rejection>,
    /// What a rejection's position counts: `line` (CSV) or `element` (JSON).
    pub unit: &'static str,
    pub departments_created: u64,
    pub categories_created: u64,
    pub seconds: f64,
}

impl Summary {
    pub fn rows_per_second(&self) -> f64 {
        self.read as f64 / self.seconds.max(1e-9)
    }
}

/// Everything checked before the database is touched.
struct Plan {
    mapping: Mapping,
    zone: Tz,
    source: Source,
}

fn plan(args: &ImportArgs) -> Result<Plan, String> {
    if args.format != "georeport-v2" {
        return Err(format!(
            "unknown import format {:?}: the only one is georeport-v2",
            args.format
        ));
    }
    let mapping = match &args.columns {
        Some(path) => Mapping::load(path)?,
        None => Mapping::default(),
    };
    let zone = match &args.timezone {
        Some(name) => mapping::parse_timezone(name)?,
        None => mapping.timezone.unwrap_or(DEFAULT_TIMEZONE),
    };
    let source = Source::open(&args.file, &mapping)?;
    Ok(Plan {
        mapping,
        zone,
        source,
    })
}

/// Checks the arguments, the mapping and the file's header without a database, so
/// the CLI refuses bad input before it connects.
pub fn check(args: &ImportArgs) -> Result<(), String> {
    plan(args).map(|_| ())
}

async fn default_region(
    db: &DatabaseConnection,
    code: Option<&str>,
) -> Result<Option<region::Model>, ImportError> {
    let Some(code) = code else {
        return Ok(None);
    };
    region::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .map(Some)
        .ok_or_else(|| ImportError::Input(format!("--region {code}: no region has this code")))
}

/// One batch from the reader: the rows to write and the records already rejected.
struct Batch {
    rows: Vec<ImportRow>,
    rejected: Vec<Rejection>,
    read: u64,
}

/// Reads, checks and redacts on this (blocking) thread, sending batches to the writer.
fn read_batches(plan: Plan, tx: tokio::sync::mpsc::Sender<Batch>) -> Result<(), String> {
    let Plan {
        mapping,
        zone,
        source,
    } = plan;
    let reader = RowReader {
        mapping: &mapping,
        zone,
    };
    let unit = source.format.unit();
    // Where each id was first seen: a repeat within the file is the file's mistake.
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch = Batch {
        rows: Vec::with_capacity(BATCH),
        rejected: Vec::new(),
        read: 0,
    };
    let mut closed = false;
    let mut batch_size = FIRST_BATCH;
    source.for_each(&mapping, |record| {
        batch.read += 1;
        let checked = record
            .values
            .and_then(|values| reader.read(record.line, &values))
            .and_then(|row| match seen.get(&row.external_id) {
                Some(first) => Err(format!(
                    "service_request_id {:?} repeats {unit} {first}",
                    row.external_id
                )),
                None => {
                    seen.insert(row.external_id.clone(), row.line);
                    Ok(row)
                }
            });
        match checked {
            Ok(row) => batch.rows.push(row),
            Err(reason) => batch.rejected.push(Rejection {
                line: record.line,
                reason,
            }),
        }
        if batch.rows.len() >= batch_size {
            batch_size = BATCH;
            let full = std::mem::replace(
                &mut batch,
                Batch {
                    rows: Vec::with_capacity(BATCH),
                    rejected: Vec::new(),
                    read: 0,
                },
            );
            if tx.blocking_send(full).is_err() {
                // The writer stopped (a database error it reports itself).
                closed = true;
                return false;
            }
        }
        true
    })?;
    if !closed && batch.read > 0 {
        // A send error means the writer already stopped and reports why.
        let _ = tx.blocking_send(batch);
    }
    Ok(())
}

/// Imports a file. `progress` is told the number of records read after each batch.
pub async fn import(
    db: &DatabaseConnection,
    args: &ImportArgs,
    progress: impl Fn(u64),
) -> Result<Summary, ImportError> {
    let started = Instant::now();
    let plan = plan(args).map_err(ImportError::Input)?;
    let unit = plan.source.format.unit();
    let region = default_region(db, args.region.as_deref()).await?;
    let mut writer = writer::Writer::new(db.get_database_backend(), !args.unpublished, region);

    // One batch waits while the writer writes another and the reader fills a third:
    // enough to keep both busy, and memory stays at three batches whatever the file.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(1);
    let reader = std::thread::spawn(move || read_batches(plan, tx));
    let mut summary = Summary {
        read: 0,
        imported: 0,
        already_present: 0,
        rejected: Vec::new(),
        unit,
        departments_created: 0,
        categories_created: 0,
        seconds: 0.0,
    };
    let written: Result<(), DbErr> = async {
        while let Some(batch) = rx.recv().await {
            summary.read += batch.read;
            summary.rejected.extend(batch.rejected);
            let outcome = writer.write(db, batch.rows).await?;
            summary.imported += outcome.imported;
            summary.already_present += outcome.already_present;
            summary.rejected.extend(outcome.rejected);
            progress(summary.read);
        }
        Ok(())
    }
    .await;
    drop(rx);
    let read = reader
        .join()
        .map_err(|_| ImportError::Input("the file reader crashed".into()))?;
    written?;
    read.map_err(ImportError::Input)?;
    summary.rejected.sort_by_key(|r| r.line);
    summary.departments_created = writer.created.departments;
    summary.categories_created = writer.created.categories;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn write_rejects(path: &Path, summary: &Summary) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let mut out = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    out.write_record([summary.unit, "reason"])
        .map_err(|e| fail(&e))?;
    for r in &summary.rejected {
        out.write_record([r.line.to_string(), r.reason.clone()])
            .map_err(|e| fail(&e))?;
    }
    out.flush().map_err(|e| fail(&e))
}

/// Runs the command: progress on a terminal, the summary on stdout, the rejections on
/// stderr (and in `--rejects FILE`).
pub async fn run(
    db: &DatabaseConnection,
    args: &ImportArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} rows read ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    // The count moves once a batch; the spinner shows the import is alive meanwhile.
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let summary = import(db, args, |read| bar.set_position(read)).await;
    bar.finish_and_clear();
    let summary = summary?;
    if let Some(path) = &args.rejects {
        write_rejects(path, &summary)?;
    }
    let mut err = std::io::stderr().lock();
    for r in summary.rejected.iter().take(PRINTED_REJECTIONS) {
        writeln!(err, "rejected {} {}: {}", summary.unit, r.line, r.reason)?;
    }
    if summary.rejected.len() > PRINTED_REJECTIONS {
        writeln!(
            err,
            "… and {} more rejected rows{}",
            summary.rejected.len() - PRINTED_REJECTIONS,
            if args.rejects.is_some() {
                ""
            } else {
                " (list them all with --rejects FILE)"
            }
        )?;
    }
    println!(
        "read {} rows from {} in {:.2} s ({:.0} rows/s): {} imported, {} already present, {} rejected; \
         {} departments and {} categories created",
        summary.read,
        args.file.display(),
        summary.seconds,
        summary.rows_per_second(),
        summary.imported,
        summary.already_present,
        summary.rejected.len(),
        summary.departments_created,
        summary.categories_created,
    );
    Ok(())
}
