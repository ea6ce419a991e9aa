//! `minyi redact --all`: rewrites the stored public text of every case and rating with
//! the redaction rules of this build (after the rules changed, or for rows written
//! before redaction was stored).
//!
//! Cases and ratings are walked in id order (keyset, never OFFSET), one transaction a
//! batch. Only rows whose public text actually changes are written. A case write is
//! guarded by the version read with it: a case changed meanwhile was redacted by its
//! own writer with the same rules, so it is left alone rather than overwritten with
//! text derived from what it said before. No version bump and no case event: the
//! case itself does not change, only its derived public copy.

use super::redaction::public_text;
use entities::{case, citizen, rating};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use std::collections::HashMap;
use std::io::IsTerminal;

/// The command-line arguments.
#[derive(clap::Args, Debug)]
pub struct RedactArgs {
    /// Rewrite the public text of every case and rating (required: this touches every row).
    #[arg(long)]
    pub all: bool,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch_size: u64,
}

/// Told the number of rows of each committed batch.
pub type Progress<'a> = dyn Fn(u64) + Sync + 'a;

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Cases whose public text was recomputed.
    pub cases: u64,
    /// Ratings whose public comment was recomputed.
    pub ratings: u64,
    /// Rows (cases and ratings) whose stored public text differed and was rewritten.
    pub changed: u64,
    /// Cases changed by someone else during the run (their writer redacted them).
    pub skipped: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cases, {} ratings rewritten, {} changed",
            self.cases, self.ratings, self.changed
        )?;
        if self.skipped > 0 {
            write!(f, ", {} skipped (changed during the run)", self.skipped)?;
        }
        Ok(())
    }
}

/// Runs the command and prints the summary.
pub async fn run(
    db: &DatabaseConnection,
    args: &RedactArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    if !args.all {
        return Err(
            "`minyi redact` rewrites the public text of every case and rating; \
                    pass --all to confirm"
                .into(),
        );
    }
    let total = case::Entity::find().count(db).await? + rating::Entity::find().count(db).await?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let summary = redact_all(db, args.batch_size, &|rows| bar.inc(rows)).await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{summary} in {secs:.1} s ({:.0} rows/s)",
        (summary.cases + summary.ratings) as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// Rewrites every case's and rating's public text, `batch` rows a transaction;
/// `progress` hears how many rows each committed batch held.
pub async fn redact_all(
    db: &DatabaseConnection,
    batch: u64,
    progress: &Progress<'_>,
) -> Result<Summary, DbErr> {
    let mut summary = Summary::default();
    redact_cases(db, batch, progress, &mut summary).await?;
    redact_ratings(db, batch, progress, &mut summary).await?;
    Ok(summary)
}

type CaseRow = (
    i64,
    i32,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn redact_cases(
    db: &DatabaseConnection,
    batch: u64,
    progress: &Progress<'_>,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let mut after = i64::MIN;
    loop {
        // Read outside the transaction, write inside: on SQLite a transaction that reads
        // before writing fails when another writer commits in between.
        let rows: Vec<CaseRow> = case::Entity::find()
            .select_only()
            .columns([
                case::Column::Id,
                case::Column::Version,
                case::Column::CitizenId,
                case::Column::Title,
                case::Column::Body,
                case::Column::Reply,
                case::Column::PublicTitle,
                case::Column::PublicBody,
                case::Column::PublicReply,
            ])
            .filter(case::Column::Id.gt(after))
            .order_by_asc(case::Column::Id)
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.0;
        let names = names_of(db, rows.iter().filter_map(|r| r.2)).await?;
        let txn = db.begin().await?;
        for (id, version, citizen_id, title, body, reply, old_title, old_body, old_reply) in &rows {
            let name = citizen_id.and_then(|c| names.get(&c)).map(String::as_str);
            let new_title = public_text(title, name);
            let new_body = public_text(body, name);
            let new_reply = reply.as_deref().map(|r| public_text(r, name));
            summary.cases += 1;
            if old_title.as_ref() == Some(&new_title)
                && old_body.as_ref() == Some(&new_body)
                && *old_reply == new_reply
            {
                continue;
            }
            let done = case::Entity::update_many()
                .col_expr(case::Column::PublicTitle, Expr::value(new_title))
                .col_expr(case::Column::PublicBody, Expr::value(new_body))
                .col_expr(case::Column::PublicReply, Expr::value(new_reply))
                .filter(case::Column::Id.eq(*id))
                .filter(case::Column::Version.eq(*version))
                .exec(&txn)
                .await?;
            if done.rows_affected == 1 {
                summary.changed += 1;
            } else {
                summary.skipped += 1;
            }
        }
        txn.commit().await?;
        progress(rows.len() as u64);
    }
}

async fn redact_ratings(
    db: &DatabaseConnection,
    batch: u64,
    progress: &Progress<'_>,
    summary: &mut Summary,
) -> Result<(), DbErr> {
    let mut after = i64::MIN;
    loop {
        let rows: Vec<(i64, i64, Option<String>, Option<String>)> = rating::Entity::find()
            .select_only()
            .columns([
                rating::Column::Id,
                rating::Column::CaseId,
                rating::Column::Comment,
                rating::Column::PublicComment,
            ])
            .filter(rating::Column::Id.gt(after))
            .order_by_asc(rating::Column::Id)
            .limit(batch)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.0;
        // Ratings are never edited after they are written, so no guard is needed.
        let case_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        let citizens: HashMap<i64, Option<i64>> = case::Entity::find()
            .select_only()
            .columns([case::Column::Id, case::Column::CitizenId])
            .filter(case::Column::Id.is_in(case_ids))
            .into_tuple::<(i64, Option<i64>)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let names = names_of(db, citizens.values().filter_map(|c| *c)).await?;
        let txn = db.begin().await?;
        for (id, case_id, comment, old) in &rows {
            summary.ratings += 1;
            let name = citizens
                .get(case_id)
                .copied()
                .flatten()
                .and_then(|c| names.get(&c))
                .map(String::as_str);
            let new = comment.as_deref().map(|c| public_text(c, name));
            if *old == new {
                continue;
            }
            rating::Entity::update_many()
                .col_expr(rating::Column::PublicComment, Expr::value(new))
                .filter(rating::Column::Id.eq(*id))
                .exec(&txn)
                .await?;
            summary.changed += 1;
        }
        txn.commit().await?;
        progress(rows.len() as u64);
    }
}

/// The names of the given citizens, in one query.
async fn names_of(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(citizen::Entity::find()
        .select_only()
        .columns([citizen::Column::Id, citizen::Column::Name])
        .filter(citizen::Column::Id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
