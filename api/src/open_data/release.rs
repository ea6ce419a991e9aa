//! Citable releases: `minyi release create` freezes a dated export (files, SHA-256, row counts)
//! that later downloads reproduce byte for byte (`GET /releases/{name}/{file}`).
//!
//! A release holds the public cases submitted before its cutoff, in the state they have
//! when it is created, with `overdue` evaluated at the cutoff, so the files depend on the
//! data alone: creating two releases of the same data gives the same bytes. The files are
//! written in one pass over one database read (CSV and NDJSON agree row for row) into a
//! temporary directory that is renamed into place only when complete, and recorded in
//! the database last; a failure leaves nothing behind.

use super::dictionary::{dictionary_bytes, dictionary_version};
use super::export::encode::{Encoder, Format, CHUNK_BYTES};
use super::export::pipeline::spawn_encoders;
use super::export::problem;
use super::http_cache::{not_modified, not_modified_response, with_cache_headers};
use crate::auth::Principal;
use crate::routes::AppState;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use entities::{case, release, release_file};
use poem::http::header;
use poem::web::{Data, Path as PathParam};
use poem::{get, handler, Body, Request, Response};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The file names of every release, with their media types.
pub const FILES: [(&str, &str); 3] = [
    ("cases.csv", "text/csv"),
    ("cases.ndjson", "application/x-ndjson"),
    ("dictionary.json", "application/json"),
];

/// Frozen bytes never change: caches may keep them for a year.
const MAX_AGE_SECONDS: u32 = 365 * 24 * 3600;

/// Which metric definitions were in force: a hash of docs/METRICS.md as built into this
/// binary (the definitions' reference text), so a cited release names the exact rules
/// its figures were computed by.
pub fn metric_definitions_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let digest = hex::encode(Sha256::digest(
            include_str!("../../../docs/METRICS.md").as_bytes(),
        ));
        format!("metrics-{}", &digest[..12])
    })
}

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct ReleaseArgs {
    /// Where releases are kept: `<data dir>/releases/<name>/`.
    #[arg(long, global = true, env = "MINYI_DATA_DIR", default_value = crate::config::Config::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub action: ReleaseAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum ReleaseAction {
    /// Freeze the public cases submitted until a date into a named release.
    Create {
        /// The citable name (letters, digits, `.`, `_`, `-`) [default: cases-<last day>].
        #[arg(long)]
        name: Option<String>,
        /// Include cases submitted through the end of this day (YYYY-MM-DD, China time),
        /// or before this RFC 3339 instant [default: now].
        #[arg(long)]
        until: Option<String>,
    },
    /// List the releases with their files.
    List,
}

/// Runs the command.
pub async fn run(
    db: &DatabaseConnection,
    args: &ReleaseArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    match &args.action {
        ReleaseAction::Create { name, until } => {
            let now = crate::clock::now();
            let cutoff = match until {
                Some(until) => parse_until(until)?,
                None => now,
            };
            if cutoff > now {
                return Err(format!(
                    "--until {} is in the future: a release freezes data that can no longer change",
                    until.as_deref().unwrap_or_default()
                )
                .into());
            }
            let name = match name {
                Some(name) => name.clone(),
                None => default_name(cutoff),
            };
            let created = create(db, &args.data_dir, &name, cutoff).await?;
            println!(
                "release {} created in {}",
                created.release.name,
                release_dir(&args.data_dir, &created.release.name).display()
            );
            for file in &created.files {
                println!(
                    "  {}\t{} bytes\t{} rows\tsha256 {}",
                    file.file_name,
                    file.bytes,
                    file.rows.map_or("-".to_string(), |r| r.to_string()),
                    file.sha256
                );
            }
        }
        ReleaseAction::List => {
            for (release, files) in list(db).await? {
                let rows = files.iter().find_map(|f| f.rows).unwrap_or(0);
                println!(
                    "{}\tcreated {}\tcutoff {}\t{rows} cases\t{}\t{}",
                    release.name,
                    release.created_at.to_rfc3339(),
                    release.cutoff.to_rfc3339(),
                    release.metric_definitions_version,
                    files
                        .iter()
                        .map(|f| f.file_name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
    }
    Ok(())
}

/// `YYYY-MM-DD`: through the end of that day in China time; or an RFC 3339 instant.
fn parse_until(value: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| {
            t.and_local_timezone(super::export::filter::china())
                .single()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("--until {value:?} is neither YYYY-MM-DD nor an RFC 3339 instant"))
}

/// `cases-<the last day included>` (China time).
fn default_name(cutoff: DateTime<Utc>) -> String {
    let last_instant = cutoff - TimeDelta::seconds(1);
    format!(
        "cases-{}",
        last_instant
            .with_timezone(&super::export::filter::china())
            .format("%Y-%m-%d")
    )
}

/// Letters, digits, `.`, `_`, `-`; 1–64 characters; not starting with `.` (the
/// temporary directories do).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The directory of a release.
pub fn release_dir(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("releases").join(name)
}

/// A release and its files, as recorded.
#[derive(Debug, Clone)]
pub struct Created {
    pub release: release::Model,
    pub files: Vec<release_file::Model>,
}

/// What one written file came to.
struct FileSummary {
    name: &'static str,
    media_type: &'static str,
    bytes: u64,
    sha256: String,
    rows: Option<u64>,
}

/// A file being written, hashed on the way.
struct HashedFile {
    out: std::io::BufWriter<std::fs::File>,
    hasher: Sha256,
    bytes: u64,
}

impl HashedFile {
    fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
        self.out.write_all(chunk)
    }

    fn finish(self) -> std::io::Result<(u64, String)> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok((self.bytes, hex::encode(self.hasher.finalize())))
    }
}

/// Creates the release `name` of the public cases submitted before `cutoff`.
pub async fn create(
    db: &DatabaseConnection,
    data_dir: &Path,
    name: &str,
    cutoff: DateTime<Utc>,
) -> Result<Created, Box<dyn std::error::Error>> {
    if !valid_name(name) {
        return Err(format!(
            "release name {name:?}: use 1–64 letters, digits, '.', '_' or '-', not starting with '.'"
        )
        .into());
    }
    if let Some(existing) = release::Entity::find()
        .filter(release::Column::Name.eq(name))
        .one(db)
        .await?
    {
        return Err(format!(
            "release {name} already exists (created {}); a release never changes: choose another --name",
            existing.created_at.to_rfc3339()
        )
        .into());
    }
    let final_dir = release_dir(data_dir, name);
    if final_dir.exists() {
        return Err(format!(
            "{} already exists but no release {name} is recorded; move it away first",
            final_dir.display()
        )
        .into());
    }
    let parent = data_dir.join("releases");
    std::fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".creating-")
        .tempdir_in(&parent)
        .map_err(|e| format!("cannot write in {}: {e}", parent.display()))?;

    let condition = Condition::all()
        .add(Principal::public().case_visibility())
        .add(case::Column::SubmittedAt.lt(cutoff));
    let mut summaries = write_case_files(db, condition.clone(), cutoff, staging.path()).await?;
    let mut dictionary = HashedFile::create(&staging.path().join(FILES[2].0))?;
    dictionary.write(dictionary_bytes())?;
    let (bytes, sha256) = dictionary.finish()?;
    summaries.push(FileSummary {
        name: FILES[2].0,
        media_type: FILES[2].1,
        bytes,
        sha256,
        rows: None,
    });
    let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = case::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col((
            case::Entity,
            case::Column::SubmittedAt,
        ))))
        .expr(Func::max(Expr::col((
            case::Entity,
            case::Column::SubmittedAt,
        ))))
        .filter(condition)
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((None, None));

    // Into place, then recorded; if recording fails the directory goes again.
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, &final_dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(format!("cannot move the release into {}: {e}", final_dir.display()).into());
    }
    match record(db, name, cutoff, first, last, &summaries).await {
        Ok(created) => Ok(created),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&final_dir);
            Err(e.into())
        }
    }
}

/// Writes `cases.csv` and `cases.ndjson` from one read of the matching rows.
async fn write_case_files(
    db: &DatabaseConnection,
    condition: Condition,
    cutoff: DateTime<Utc>,
    dir: &Path,
) -> Result<Vec<FileSummary>, Box<dyn std::error::Error>> {
    let encoders = vec![
        Encoder::new(Format::Csv, false, cutoff),
        Encoder::new(Format::Ndjson, false, cutoff),
    ];
    let mut files = [
        HashedFile::create(&dir.join(FILES[0].0))?,
        HashedFile::create(&dir.join(FILES[1].0))?,
    ];
    let (mut pieces, handle) = spawn_encoders(db.clone(), condition, encoders);
    while let Some(piece) = pieces.recv().await {
        let piece = piece?;
        let file = files
            .get_mut(piece.file)
            .ok_or_else(|| format!("no release file number {}", piece.file))?;
        file.write(&piece.bytes)?;
    }
    let count = handle.await??;
    let mut out = Vec::new();
    for ((name, media_type), file) in FILES.iter().zip(files) {
        let (bytes, sha256) = file.finish()?;
        out.push(FileSummary {
            name,
            media_type,
            bytes,
            sha256,
            rows: Some(count),
        });
    }
    Ok(out)
}

async fn record(
    db: &DatabaseConnection,
    name: &str,
    cutoff: DateTime<Utc>,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    files: &[FileSummary],
) -> Result<Created, sea_orm::DbErr> {
    let txn = db.begin().await?;
    let release = release::ActiveModel {
        name: Set(name.to_string()),
        created_at: Set(crate::clock::now()),
        cutoff: Set(cutoff),
        first_submitted_at: Set(first),
        last_submitted_at: Set(last),
        metric_definitions_version: Set(metric_definitions_version().to_string()),
        dictionary_version: Set(dictionary_version().to_string()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut models = Vec::new();
    for file in files {
        models.push(
            release_file::ActiveModel {
                release_id: Set(release.id),
                file_name: Set(file.name.to_string()),
                media_type: Set(file.media_type.to_string()),
                bytes: Set(file.bytes as i64),
                sha256: Set(file.sha256.clone()),
                rows: Set(file.rows.map(|r| r as i64)),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
    }
    txn.commit().await?;
    Ok(Created {
        release,
        files: models,
    })
}

/// Every release, oldest first, with its files (two queries).
pub async fn list(
    db: &DatabaseConnection,
) -> Result<Vec<(release::Model, Vec<release_file::Model>)>, sea_orm::DbErr> {
    let releases = release::Entity::find()
        .order_by_asc(release::Column::Id)
        .all(db)
        .await?;
    let mut files = release_file::Entity::find()
        .order_by_asc(release_file::Column::Id)
        .all(db)
        .await?;
    Ok(releases
        .into_iter()
        .map(|r| {
            let mine: Vec<release_file::Model> = files
                .iter()
                .filter(|f| f.release_id == r.id)
                .cloned()
                .collect();
            files.retain(|f| f.release_id != r.id);
            (r, mine)
        })
        .collect())
}

/// The routes of this door (merged by `open_data::routes`).
pub fn routes(route: poem::Route) -> poem::Route {
    route.at("/releases/:name/:file", get(download))
}

/// Serves a frozen file, checked against its recorded size and SHA-256 before answering
/// (a missing, truncated or altered file is a 500), and hashed again while streaming in
/// case it changes underneath.
#[handler]
async fn download(
    req: &Request,
    state: Data<&AppState>,
    PathParam((name, file)): PathParam<(String, String)>,
) -> Response {
    let db = &state.reads.for_read(None).await;
    let found = match release::Entity::find()
        .filter(release::Column::Name.eq(name.as_str()))
        .one(db)
        .await
    {
        Ok(found) => found,
        Err(e) => return problem::internal(&e),
    };
    let Some(release) = found else {
        return problem::not_found(&format!("release {name}"));
    };
    let entry = match release_file::Entity::find()
        .filter(release_file::Column::ReleaseId.eq(release.id))
        .filter(release_file::Column::FileName.eq(file.as_str()))
        .one(db)
        .await
    {
        Ok(entry) => entry,
        Err(e) => return problem::internal(&e),
    };
    let Some(entry) = entry else {
        return problem::not_found(&format!("file {file} of release {name}"));
    };
    let path = release_dir(&state.config.data_dir, &release.name).join(&entry.file_name);
    if let Err(cause) = verify(&path, entry.bytes as u64, &entry.sha256).await {
        return problem::internal(&cause);
    }
    let handle = match tokio::fs::File::open(&path).await {
        Ok(handle) => handle,
        Err(e) => return problem::internal(&format!("{}: {e}", path.display())),
    };
    let etag = format!("\"{}\"", entry.sha256);
    if not_modified(req, &etag) {
        return not_modified_response(&etag, MAX_AGE_SECONDS);
    }
    let body = verified_stream(handle, entry.sha256.clone(), path);
    let response = Response::builder()
        .content_type(if entry.media_type.starts_with("text/") {
            format!("{}; charset=utf-8", entry.media_type)
        } else {
            entry.media_type.clone()
        })
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}-{}\"",
                release.name, entry.file_name
            ),
        )
        .body(Body::from_bytes_stream(body));
    with_cache_headers(response, &etag, MAX_AGE_SECONDS)
}

/// Files already hashed and found intact, by path, with the size and modification time
/// they had then: a file is hashed in full on its first download after a start or after
/// it changed on disk, and trusted by its metadata afterwards.
type Verified = std::sync::Mutex<std::collections::HashMap<PathBuf, (u64, std::time::SystemTime)>>;

fn verified() -> &'static Verified {
    static VERIFIED: OnceLock<Verified> = OnceLock::new();
    VERIFIED.get_or_init(Default::default)
}

/// Checks that the file at `path` is the released one (size, then SHA-256) before a single
/// byte is answered: a missing, truncated or altered file is an error, never a 200.
async fn verify(path: &Path, bytes: u64, sha256: &str) -> Result<(), String> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("release file {} is missing: {e}", path.display()))?;
    if meta.len() != bytes {
        return Err(format!(
            "release file {} has {} bytes, {bytes} were released",
            path.display(),
            meta.len()
        ));
    }
    let modified = meta
        .modified()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let known = verified()
        .lock()
        .map(|cache| cache.get(path) == Some(&(bytes, modified)))
        .unwrap_or(false);
    if known {
        return Ok(());
    }
    let owned = path.to_path_buf();
    let digest = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut file = std::fs::File::open(&owned)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("{}: {e}", path.display()))?;
    if digest != sha256 {
        return Err(format!(
            "release file {} does not match its checksum (sha256 {digest}, released {sha256})",
            path.display()
        ));
    }
    if let Ok(mut cache) = verified().lock() {
        cache.insert(path.to_path_buf(), (bytes, modified));
    }
    Ok(())
}

/// The file's bytes in chunks; the stream ends with an error instead of its last chunk
/// when the bytes do not hash to `expected`.
fn verified_stream(
    file: tokio::fs::File,
    expected: String,
    path: PathBuf,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    struct State {
        file: tokio::fs::File,
        hasher: Sha256,
        pending: Option<Vec<u8>>,
        done: bool,
    }
    let start = State {
        file,
        hasher: Sha256::new(),
        pending: None,
        done: false,
    };
    futures::stream::unfold(start, move |mut state| {
        let expected = expected.clone();
        let path = path.clone();
        async move {
            if state.done {
                return None;
            }
            // Each chunk is held back until the next read succeeds, so the last one is
            // only released once the whole file has been hashed.
            loop {
                let mut buf = vec![0u8; CHUNK_BYTES];
                let n = match state.file.read(&mut buf).await {
                    Ok(n) => n,
                    Err(e) => {
                        state.done = true;
                        return Some((Err(e), state));
                    }
                };
                if n == 0 {
                    state.done = true;
                    let digest = hex::encode(std::mem::take(&mut state.hasher).finalize());
                    if digest != expected {
                        tracing::error!(path = %path.display(), %digest, %expected, "a release file does not match its checksum");
                        return Some((
                            Err(std::io::Error::other("release file checksum mismatch")),
                            state,
                        ));
                    }
                    return state.pending.take().map(|chunk| (Ok(chunk), state));
                }
                buf.truncate(n);
                state.hasher.update(&buf);
                if let Some(previous) = state.pending.replace(buf) {
                    return Some((Ok(previous), state));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_never_hidden() {
        assert!(valid_name("cases-2026-10-31"));
        assert!(valid_name("v1.2_final"));
        assert!(!valid_name(".creating-x"));
        assert!(!valid_name("../etc"));
        assert!(!valid_name("a/b"));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(65)));
    }

    #[test]
    fn until_a_day_means_through_its_end_in_china_time() {
        let cutoff = parse_until("2026-10-31").unwrap_or_default();
        assert_eq!(cutoff.to_rfc3339(), "2026-10-31T16:00:00+00:00");
        assert_eq!(default_name(cutoff), "cases-2026-10-31");
        assert!(parse_until("last week").is_err());
    }
}
