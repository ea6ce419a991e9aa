//! Bulk exports of published cases: `GET /exports/cases.csv|ndjson` and `minyi export cases`,
//! streamed in constant memory (docs/OPEN_DATA.md, columns in docs/DATA_DICTIONARY.md).
//!
//! Public data only, whoever asks: the public role's visibility (published, not merged
//! duplicates) and the masked `public_*` text, with or without an API key.

pub mod china_time;
pub mod encode;
pub mod filter;
pub mod pipeline;
pub mod problem;
pub mod raw_batch;
pub mod rows;
pub mod sqlite_reader;
pub mod stored_time;

use super::http_cache::{etag_of, not_modified, not_modified_response, with_cache_headers};
use crate::graphql::cases::overdue_at;
use crate::routes::AppState;
use encode::Format;
use filter::{FilterError, PublicFilter};
use pipeline::ExportJob;
use poem::http::header;
use poem::web::Data;
use poem::{get, handler, Body, Request, Response};
use problem::ParamError;
use sea_orm::{Condition, DatabaseConnection};
use std::path::PathBuf;

/// How long caches may keep an export before revalidating (the ETag makes that cheap).
const MAX_AGE_SECONDS: u32 = 60;

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route
        .at("/exports/cases.csv", get(cases_csv))
        .at("/exports/cases.ndjson", get(cases_ndjson))
}

#[handler]
async fn cases_csv(req: &Request, state: Data<&AppState>) -> Response {
    export_response(req, &state.reads.for_read(None).await, Format::Csv).await
}

#[handler]
async fn cases_ndjson(req: &Request, state: Data<&AppState>) -> Response {
    export_response(req, &state.reads.for_read(None).await, Format::Ndjson).await
}

async fn export_response(req: &Request, db: &DatabaseConnection, format: Format) -> Response {
    let pairs: Vec<(String, String)> = match req.params() {
        Ok(pairs) => pairs,
        Err(e) => return ParamError::new("query", e.to_string()).response(),
    };
    let (filter, bom) = match PublicFilter::parse(&pairs) {
        Ok(parsed) => parsed,
        Err(e) => return e.response(),
    };
    if bom && format == Format::Ndjson {
        return ParamError::new(
            "bom",
            "applies to CSV only (JSON forbids a byte order mark)",
        )
        .response();
    }
    let as_of = crate::clock::now();
    let condition = match filter.condition(db, as_of).await {
        Ok(condition) => condition,
        Err(FilterError::Param(e)) => return e.response(),
        Err(FilterError::Database(e)) => return problem::internal(&e),
    };
    let etag = match export_etag(db, &filter, &condition, format, bom, as_of).await {
        Ok(etag) => etag,
        Err(e) => return problem::internal(&e),
    };
    if not_modified(req, &etag) {
        return not_modified_response(&etag, MAX_AGE_SECONDS);
    }
    let (rx, _rows) = pipeline::spawn(
        db.clone(),
        ExportJob {
            condition,
            format,
            bom,
            as_of,
        },
    );
    let chunks = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let response = Response::builder()
        .content_type(format.content_type())
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"minyi-cases.{}\"",
                format.extension()
            ),
        )
        .body(Body::from_bytes_stream(chunks));
    with_cache_headers(response, &etag, MAX_AGE_SECONDS)
}

/// Names the version of an export without building it: the filters, the format, the
/// column list, and a cheap version of the matching data (count, latest change, overdue
/// count at `as_of`) and of the dimension names.
async fn export_etag(
    db: &DatabaseConnection,
    filter: &PublicFilter,
    condition: &Condition,
    format: Format,
    bom: bool,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<String, sea_orm::DbErr> {
    let data = rows::data_version(db, condition.clone(), overdue_at(as_of)).await?;
    let dimensions = rows::dimension_fingerprint(db).await?;
    Ok(etag_of(&[
        b"cases-export",
        format.extension().as_bytes(),
        &[u8::from(bom)],
        filter.canonical().as_bytes(),
        crate::open_data::dictionary::dictionary_version().as_bytes(),
        data.as_bytes(),
        &dimensions,
    ]))
}

/// The command-line arguments of `minyi export cases`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// File format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write to this file (replaced only when the export is complete) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Start the CSV with a UTF-8 byte order mark, for Excel.
    #[arg(long)]
    pub bom: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// The filters, named like the HTTP parameters (`--region-code` = `regionCode`).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct FilterArgs {
    /// A region code and everything below it.
    #[arg(long)]
    pub region_code: Option<String>,
    /// A department id and its sub-units.
    #[arg(long)]
    pub department_id: Option<String>,
    /// A category id and its children.
    #[arg(long)]
    pub category_id: Option<String>,
    /// WEBSITE, HOTLINE, … (see the data dictionary).
    #[arg(long)]
    pub channel: Option<String>,
    /// COMPLAINT, HELP_REQUEST, …
    #[arg(long)]
    pub kind: Option<String>,
    /// SUBMITTED, REPLIED, …
    #[arg(long)]
    pub status: Option<String>,
    /// Submitted at or after: RFC 3339, or YYYY-MM-DD (start of the day, +08:00).
    #[arg(long)]
    pub submitted_from: Option<String>,
    /// Submitted before: RFC 3339, or YYYY-MM-DD (start of the day, +08:00).
    #[arg(long)]
    pub submitted_to: Option<String>,
    /// true: only cases awaiting a reply past their deadline; false: only the others.
    #[arg(long)]
    pub overdue: Option<String>,
    /// Words in the published (masked) title or body.
    #[arg(long)]
    pub search: Option<String>,
}

impl FilterArgs {
    /// The flags as HTTP parameter pairs, so both doors parse them with one function.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let flags = [
            ("regionCode", &self.region_code),
            ("departmentId", &self.department_id),
            ("categoryId", &self.category_id),
            ("channel", &self.channel),
            ("kind", &self.kind),
            ("status", &self.status),
            ("submittedFrom", &self.submitted_from),
            ("submittedTo", &self.submitted_to),
            ("overdue", &self.overdue),
            ("search", &self.search),
        ];
        flags
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_string(), v.clone())))
            .collect()
    }
}

/// A parameter error spoken in CLI terms: `--region-code: unknown region code 990000`.
pub fn flag_error(e: &ParamError) -> String {
    let mut flag = String::from("--");
    for c in e.parameter.chars() {
        if c.is_ascii_uppercase() {
            flag.push('-');
            flag.push(c.to_ascii_lowercase());
        } else {
            flag.push(c);
        }
    }
    format!("{flag}: {}", e.message)
}

/// The filter's WHERE condition for the command line, errors spoken in flag names.
pub async fn cli_condition(
    db: &DatabaseConnection,
    filter: &FilterArgs,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Condition, Box<dyn std::error::Error>> {
    let (filter, _) = PublicFilter::parse(&filter.pairs()).map_err(|e| flag_error(&e))?;
    match filter.condition(db, as_of).await {
        Ok(condition) => Ok(condition),
        Err(FilterError::Param(e)) => Err(flag_error(&e).into()),
        Err(FilterError::Database(e)) => Err(e.into()),
    }
}

/// Runs `minyi export cases`.
pub async fn run(
    db: &DatabaseConnection,
    args: &ExportArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    if args.bom && args.format == Format::Ndjson {
        return Err("--bom applies to CSV only (JSON forbids a byte order mark)".into());
    }
    let as_of = crate::clock::now();
    let job = ExportJob {
        condition: cli_condition(db, &args.filter, as_of).await?,
        format: args.format,
        bom: args.bom,
        as_of,
    };
    let started = std::time::Instant::now();
    let written = match &args.out {
        Some(path) => write_file_atomically(db, job, path).await?,
        None => {
            let stdout = std::io::stdout();
            pipeline::write_all(db, job, &mut stdout.lock()).await?
        }
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "exported {} cases, {} bytes, in {secs:.2} s ({:.0} rows/s)",
        written.rows,
        written.bytes,
        written.rows as f64 / secs.max(1e-9),
    );
    Ok(())
}

/// Writes the export to `path` through a temporary file beside it: `path` is either the
/// complete export or untouched.
pub async fn write_file_atomically(
    db: &DatabaseConnection,
    job: ExportJob,
    path: &std::path::Path,
) -> Result<pipeline::Written, Box<dyn std::error::Error>> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".minyi-export-")
        .tempfile_in(&dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let written = pipeline::write_all(db, job, temp.as_file_mut()).await?;
    temp.as_file().sync_all()?;
    temp.persist(path)
        .map_err(|e| format!("cannot write {}: {}", path.display(), e.error))?;
    Ok(written)
}
