//! `minyi seed --demo`: deterministic, realistic demo data.
//!
//! Regions come from the `regions` table (all of Sichuan, plus a few other provinces'
//! capitals), departments are built per region (`org`), cases are generated in memory
//! in submission order from one ChaCha stream seeded by `--seed` (`gen`), each with its
//! events replayed into the row (`lifecycle`), and inserted in chunks with multi-row
//! INSERTs inside transactions (`sql`) while the next chunk is being generated.
//! The wall clock is read only for the default window; everything else derives from the
//! window and the seed, so the same arguments give the same rows, ids and timestamps.

mod gen;
mod lifecycle;
mod org;
mod people;
mod sql;
mod text;

use chrono::{Months, NaiveDate, TimeDelta, Utc};
use chrono_tz::Asia::Shanghai;
use dashboard_queries::calendar::WorkCalendar;
use entities::{category, region};
use gen::{FirstIds, Generator, Params};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use std::io::IsTerminal;
use std::time::Instant;

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    /// Generate the demo data set.
    #[arg(long)]
    pub demo: bool,
    /// How many cases.
    #[arg(long, default_value_t = 10_000)]
    pub cases: u64,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
    /// First day of submissions (YYYY-MM-DD, Asia/Shanghai). Default: 12 months before `--to`.
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day of submissions, inclusive (YYYY-MM-DD, Asia/Shanghai). Default: yesterday.
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
}

/// Provinces seeded whole.
const WHOLE_PROVINCES: &[&str] = &["510000"];
/// Other provinces' capitals (and Suzhou, home of the Changshu hotline), seeded with
/// their province's own level.
const CAPITALS: &[&str] = &["430100", "650100", "220100", "520100", "610100", "320500"];

/// Cases generated per transaction.
const CHUNK: usize = 5_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The window: explicit dates, or the 12 months up to yesterday in Asia/Shanghai.
fn window(args: &SeedArgs) -> Result<(NaiveDate, NaiveDate), String> {
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let to = match args.to {
        Some(to) => to,
        None => today.pred_opt().ok_or("no day before today")?,
    };
    let from = match args.from {
        Some(from) => from,
        None => to
            .checked_sub_months(Months::new(12))
            .and_then(|d| d.succ_opt())
            .ok_or("--to is too early")?,
    };
    if from > to {
        return Err(format!("--from {from} is after --to {to}"));
    }
    Ok((from, to))
}

async fn scalar<C: ConnectionTrait>(db: &C, sql: &str) -> Result<i64, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?;
    match row {
        Some(row) => row.try_get::<i64>("", "n"),
        None => Ok(0),
    }
}

async fn next_id<C: ConnectionTrait>(db: &C, table: &str) -> Result<i64, sea_orm::DbErr> {
    Ok(scalar(
        db,
        &format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS n FROM {table}"),
    )
    .await?
        + 1)
}

async fn load_regions(db: &DatabaseConnection) -> Result<Vec<org::Region>, sea_orm::DbErr> {
    let mut provinces: Vec<String> = WHOLE_PROVINCES.iter().map(|s| s.to_string()).collect();
    provinces.extend(CAPITALS.iter().map(|c| format!("{}0000", &c[..2])));
    let rows = region::Entity::find()
        .filter(
            Condition::any()
                .add(region::Column::ProvinceCode.is_in(WHOLE_PROVINCES.iter().copied()))
                .add(region::Column::CityCode.is_in(CAPITALS.iter().copied()))
                .add(region::Column::Code.is_in(provinces)),
        )
        .order_by_asc(region::Column::Code)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| org::Region {
            code: r.code,
            name: r.name,
            level: r.level,
            parent_code: r.parent_code,
            province_code: r.province_code,
            city_code: r.city_code,
            county_code: r.county_code,
        })
        .collect())
}

pub async fn run(
    db: &DatabaseConnection,
    args: &SeedArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    if !args.demo {
        return Err("nothing to do: `minyi seed` only generates demo data, pass --demo".into());
    }
    let (from, to) = window(args)?;
    let existing = scalar(db, "SELECT COUNT(*) AS n FROM cases").await?;
    if existing > 0 {
        return Err(format!(
            "the database already has {existing} cases; minyi seed fills an empty database only (use a fresh --database-url)"
        )
        .into());
    }
    let started = Instant::now();
    let backend = db.get_database_backend();
    let regions = load_regions(db).await?;
    if regions.is_empty() {
        return Err("the regions table is empty: run `minyi migrate` first".into());
    }
    let categories: Vec<(i32, String, Option<i32>)> = category::Entity::find()
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.code, c.parent_id))
        .collect();
    let calendar = WorkCalendar::load(db).await?;
    let params = Params {
        seed: args.seed,
        cases: args.cases,
        from,
        to,
    };

    // Every month of the window gets its partitions before the rows arrive (PostgreSQL):
    // nothing of a bulk load waits in a DEFAULT partition.
    crate::partitions::ensure_partitions(db, params.start(), params.end()).await?;

    // Departments first, with explicit ids after any that exist.
    let first_department = i32::try_from(next_id(db, "departments").await?)?;
    let organisation = org::Org::build(&regions, first_department);
    let created_at = params.start() - TimeDelta::days(30);
    let mut inserter = sql::Inserter::new(backend);
    {
        let txn = db.begin().await?;
        inserter
            .insert(
                &txn,
                "departments",
                sql::DEPARTMENT_COLUMNS,
                sql::department_values(&organisation.departments, created_at),
            )
            .await?;
        txn.commit().await?;
    }
    let department_count = organisation.departments.len();

    let first = FirstIds {
        case: next_id(db, "cases").await?,
        event: next_id(db, "case_events").await?,
        rating: next_id(db, "ratings").await?,
        citizen: next_id(db, "citizens").await?,
    };
    let mut generator = Generator::new(
        params.clone(),
        calendar,
        regions,
        organisation,
        &categories,
        first,
    )?;

    // A bulk load is several times faster without the secondary indexes: drop them and
    // build them again from their own definitions at the end (also after a failure).
    let indexes = sql::secondary_indexes(db).await?;
    for (name, _) in &indexes {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS \"{name}\""))
            .await?;
    }

    // Generate and flatten on a worker thread while this task inserts.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<sql::Flat>(2);
    let worker = std::thread::spawn(move || -> u64 {
        while let Some(chunk) = generator.next_chunk(CHUNK) {
            if tx.blocking_send(sql::flatten(chunk)).is_err() {
                break;
            }
        }
        generator.produced()
    });

    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(args.cases), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} cases ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut cases, mut events, mut ratings, mut citizens) = (0u64, 0u64, 0u64, 0u64);
    let result: Result<(), BoxError> = async {
        while let Some(flat) = rx.recv().await {
            let n = flat.cases as u64;
            let (e, r, z) = (
                flat.events as u64,
                flat.ratings as u64,
                flat.citizens as u64,
            );
            let txn = db.begin().await?;
            if backend == DbBackend::Sqlite {
                // A bigger page cache keeps the secondary indexes in memory while they grow.
                txn.execute_unprepared("PRAGMA cache_size = -262144")
                    .await?;
            }
            sql::insert_flat(&mut inserter, &txn, flat).await?;
            txn.commit().await?;
            cases += n;
            events += e;
            ratings += r;
            citizens += z;
            bar.inc(n);
        }
        Ok(())
    }
    .await;
    drop(rx);
    let produced = worker.join().map_err(|_| "the case generator crashed")?;
    bar.finish_and_clear();
    let inserted = Instant::now();
    for (_, create) in &indexes {
        db.execute_unprepared(create).await?;
    }
    // The rollups of the current state, each rebuilt from every case in one statement
    // (also after a failed load, so that they match whatever was inserted).
    {
        let txn = db.begin().await?;
        for rollup in &migration::rollups::ALL {
            rollup.rebuild(&txn).await?;
        }
        txn.commit().await?;
    }
    let indexing = inserted.elapsed().as_secs_f64();
    result.map_err(|e| e.to_string())?;
    if produced != cases {
        return Err(format!("generated {produced} cases but inserted {cases}").into());
    }

    if backend == DbBackend::Postgres {
        for table in ["departments", "citizens", "cases", "case_events", "ratings"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
            ))
            .await?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {cases} cases, {events} case events, {ratings} ratings, {citizens} citizens, {department_count} departments \
         (submitted {from} to {to}, seed {}) in {secs:.1} s (indexing {indexing:.1} s): {:.0} cases/s",
        args.seed,
        cases as f64 / secs.max(1e-9)
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
