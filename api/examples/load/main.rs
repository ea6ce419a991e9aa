//! The load driver run by `scripts/load` and `scripts/bench-scale`: a realistic mix of
//! public reads, leader dashboards and citizen submissions (`--mix day`) or the 9 a.m.
//! dashboard mix (`--mix dashboard`) against one or more `minyi serve` instances on
//! loopback, at increasing concurrency, reporting throughput, p50/p95/p99 and the error
//! rate of each level.
//!
//!     load --url http://127.0.0.1:18080[,http://127.0.0.1:18081] --key LEADER_SECRET
//!          [--region 510000] [--levels 1,4,16,64] [--seconds 12]
//!          [--mix day|dashboard] [--report markdown|tsv]
//!
//! Several `--url`s (repeated or comma-separated) are sent requests round-robin, as a load
//! balancer in front of API replicas would.
//!
//! Bounded: each level runs `--seconds` (closed loop: every worker sends its next request
//! when the last one is answered), each request times out after 30 s, and the whole run
//! is cut at levels × (seconds + 30) s. Only loopback targets are accepted. Exits non-zero
//! when any request of any level failed.

mod dashboard;
mod mix;
mod report;
mod target;

use mix::{Mix, Operation};
use report::{Level, Sample};
use std::sync::Arc;
use std::time::{Duration, Instant};
use target::ReportFormat;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long one request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// True when every level ran without an error.
async fn run() -> Result<bool, BoxError> {
    let args = target::Args::parse(std::env::args().skip(1))?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(256)
        .build()?;
    let mix = Arc::new(Mix::prepare(&client, &args).await?);
    eprintln!(
        "load: {} on {} with {} published cases to read; {} s per level",
        args.urls.join(", "),
        args.region,
        mix.case_ids.len(),
        args.seconds
    );
    let mut levels = Vec::new();
    let bound = Duration::from_secs((args.seconds + 30) * args.levels.len() as u64);
    let all = async {
        for &concurrency in &args.levels {
            let level = run_level(
                &client,
                &mix,
                concurrency,
                Duration::from_secs(args.seconds),
            )
            .await;
            eprintln!("{}", level.summary_line());
            levels.push(level);
        }
    };
    if tokio::time::timeout(bound, all).await.is_err() {
        return Err(format!("the run did not finish within {} s", bound.as_secs()).into());
    }
    match args.report {
        ReportFormat::Markdown => {
            print!("{}", report::table(&levels));
            print!(
                "{}",
                report::by_operation(levels.last().ok_or("no level ran")?)
            );
        }
        ReportFormat::Tsv => print!("{}", report::tsv(&levels)),
    }
    let clean = levels.iter().all(|level| level.errors() == 0);
    if !clean {
        eprintln!("load: FAILED: some requests failed (first errors above)");
    }
    Ok(clean)
}

/// `concurrency` workers sending requests back to back for `duration`.
async fn run_level(
    client: &reqwest::Client,
    mix: &Arc<Mix>,
    concurrency: usize,
    duration: Duration,
) -> Level {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (client, mix) = (client.clone(), mix.clone());
        let seed = (concurrency * 1000 + worker) as u64;
        workers.spawn(async move {
            let mut rng = mix::rng(seed);
            let mut samples = Vec::new();
            let mut first_error = None;
            while Instant::now() < deadline {
                let operation = mix.pick(&mut rng);
                let sent = Instant::now();
                let outcome = mix.send(&client, operation, &mut rng).await;
                if let (Err(e), None) = (&outcome, &first_error) {
                    first_error = Some(format!("{}: {e}", operation.name()));
                }
                samples.push(Sample {
                    operation,
                    latency: sent.elapsed(),
                    ok: outcome.is_ok(),
                });
            }
            (samples, first_error)
        });
    }
    let mut level = Level::new(concurrency);
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok((samples, first_error)) => {
                if let Some(error) = first_error {
                    eprintln!("load: c={concurrency}: {error}");
                }
                level.samples.extend(samples);
            }
            Err(e) => {
                eprintln!("load: a worker stopped: {e}");
                level.lost_workers += 1;
            }
        }
    }
    level.elapsed = started.elapsed();
    level
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::PublicCases => "PublicCases",
            Operation::PublicCase => "PublicCase",
            Operation::DashboardStats => "DashboardStats",
            Operation::DashboardBreakdown => "DashboardBreakdown",
            Operation::DashboardSeries => "DashboardSeries",
            Operation::DashboardRanking => "DashboardRanking",
            Operation::SubmitCase => "SubmitCase",
            Operation::ProvinceStats => "ProvinceStats",
            Operation::CityBreakdown => "CityBreakdown",
            Operation::MonthlySeries => "MonthlySeries",
            Operation::DepartmentRanking => "DepartmentRanking",
            Operation::OverdueList => "OverdueList",
            Operation::CaseList => "CaseList",
        }
    }
}
