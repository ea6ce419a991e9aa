//! The dashboard benchmark's load driver (run by `scripts/bench`, which seeds the
//! database and starts `minyi serve`). For each query of a realistic leader-dashboard
//! mix it prints p50/p95 at concurrency 1 and requests/s with p50/p95 at concurrency 8
//! over GraphQL, then the same engine calls made directly on the database (the SQL
//! the GraphQL resolver runs), so the GraphQL overhead can be read off.
//!
//!     bench --url http://127.0.0.1:18080 --key SECRET \
//!           --database-url 'sqlite://…' [--region 510000] [--seconds 20] [--only a,b]
//!
//! Every phase is bounded by `--seconds` per query and concurrency, and by requests:
//! `--reps` (default 40) at concurrency 1, 64 × `--reps` at concurrency 8.

use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use dashboard_queries::{
    breakdown, rank_history, ranking, ranking_ends, stats, time_series, Dimension, Interval,
    RankUnit, RankWeights, RankingEnds, Scope, StatsFilter, Window,
};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    url: String,
    key: String,
    database_url: String,
    region: String,
    seconds: u64,
    reps: usize,
    /// Substrings of query names (`--only a,b`), or whole names after `=` (`--only
    /// '=province stats'`: not the slower questions whose names contain it): run only
    /// those queries.
    only: Vec<String>,
}

impl Args {
    fn wants(&self, name: &str) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|o| match o.strip_prefix('=') {
                Some(whole) => name == whole,
                None => name.contains(o.as_str()),
            })
    }
}

fn args() -> Result<Args, BoxError> {
    let mut a = Args {
        url: String::new(),
        key: String::new(),
        database_url: String::new(),
        region: "510000".into(),
        seconds: 20,
        reps: 40,
        only: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value()?,
            "--key" => a.key = value()?,
            "--database-url" => a.database_url = value()?,
            "--region" => a.region = value()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--reps" => a.reps = value()?.parse()?,
            "--only" => {
                a.only = value()?
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.url.is_empty() || a.database_url.is_empty() {
        return Err("--url and --database-url are required".into());
    }
    Ok(a)
}

fn midnight(d: NaiveDate) -> chrono::DateTime<Utc> {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// Latencies in ms, sorted.
struct Sample {
    ms: Vec<f64>,
    wall: f64,
}

impl Sample {
    fn p(&self, q: f64) -> f64 {
        if self.ms.is_empty() {
            return f64::NAN;
        }
        self.ms[((self.ms.len() - 1) as f64 * q).round() as usize]
    }
    fn rps(&self) -> f64 {
        self.ms.len() as f64 / self.wall.max(1e-9)
    }
}

/// Runs `call` with `concurrency` workers until `reps` calls or `seconds` elapsed.
async fn run<F, Fut>(concurrency: usize, reps: usize, seconds: u64, call: F) -> Sample
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    let call = Arc::new(call);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let issued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        let issued = issued.clone();
        workers.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            while Instant::now() < deadline
                && issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < reps
            {
                let s = Instant::now();
                if let Err(e) = call().await {
                    eprintln!("request failed: {e}");
                    break;
                }
                ms.push(s.elapsed().as_secs_f64() * 1000.0);
            }
            ms
        }));
    }
    let mut ms = Vec::new();
    for w in workers {
        if let Ok(part) = w.await {
            ms.extend(part);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    ms.sort_by(f64::total_cmp);
    Sample { ms, wall }
}

async fn graphql(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    query: &str,
    variables: &Value,
) -> Result<(), BoxError> {
    let mut req = client
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let body: Value = req.send().await?.json().await?;
    if let Some(errors) = body.get("errors") {
        return Err(format!("GraphQL errors: {errors}").into());
    }
    Ok(())
}

const STATS_FIELDS: &str = "received accepted rejected due repliedWhenDue replyRate onTimeRate \
    closed completionRate rated satisfied basicallySatisfied dissatisfied satisfactionRate \
    participationRate overdueNow";

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), BoxError> {
    let a = args()?;
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let to = midnight(first.checked_add_months(Months::new(1)).unwrap_or(first));
    let from = midnight(first.checked_sub_months(Months::new(11)).unwrap_or(first));
    // The Shanghai midnight that starts the current month: "as of last month-end".
    let month_start = midnight(first);
    let vars = json!({ "r": a.region, "from": from, "to": to });
    let sf = STATS_FIELDS;
    let mix: Vec<(&str, Option<&str>, String)> = vec![
        (
            "province stats",
            Some(&a.key),
            format!("query($r:String,$from:DateTime!,$to:DateTime!){{ stats(scope:{{regionCode:$r}}, from:$from, to:$to) {{ {sf} }} }}"),
        ),
        (
            "province stats + replyHours",
            Some(&a.key),
            format!("query($r:String,$from:DateTime!,$to:DateTime!){{ stats(scope:{{regionCode:$r}}, from:$from, to:$to) {{ {sf} replyHours {{ mean median p90 }} }} }}"),
        ),
        (
            "breakdown by city",
            Some(&a.key),
            format!("query($r:String,$from:DateTime!,$to:DateTime!){{ breakdown(by:REGION, scope:{{regionCode:$r}}, from:$from, to:$to) {{ key label stats {{ {sf} }} }} }}"),
        ),
        (
            "12-month series",
            Some(&a.key),
            format!("query($r:String,$from:DateTime!,$to:DateTime!){{ timeSeries(interval:MONTH, scope:{{regionCode:$r}}, from:$from, to:$to) {{ start stats {{ {sf} }} }} }}"),
        ),
        (
            "department ranking",
            Some(&a.key),
            "query($r:String,$from:DateTime!,$to:DateTime!){ ranking(unit:DEPARTMENT, scope:{regionCode:$r}, from:$from, to:$to, minCases:20) { rank unit { id name } score eligible stats { received replyRate onTimeRate satisfactionRate } } }".to_string(),
        ),
        (
            "department ranking, top 20 + bottom 3",
            Some(&a.key),
            "query($r:String,$from:DateTime!,$to:DateTime!){ ranking(unit:DEPARTMENT, scope:{regionCode:$r}, from:$from, to:$to, minCases:20, first:20, last:3) { rank unit { id name } score eligible stats { received replyRate onTimeRate satisfactionRate } } }".to_string(),
        ),
        (
            "overdue list",
            Some(&a.key),
            "query($r:String){ cases(filter:{overdue:true, regionCode:$r}, first:20) { nodes { id title status } } }".to_string(),
        ),
        (
            "public case list",
            None,
            "{ cases(first:20) { nodes { id title region { name } department { name } } } }"
                .to_string(),
        ),
    ];

    let client = reqwest::Client::builder().no_proxy().build()?;
    println!(
        "window {from} .. {to} (12 months, Asia/Shanghai), as of now, region {}",
        a.region
    );
    println!(
        "{:<30} {:>9} {:>9} | {:>9} {:>9} {:>8}",
        "GraphQL query", "c1 p50", "c1 p95", "c8 p50", "c8 p95", "c8 req/s"
    );
    for (name, key, query) in mix.iter().filter(|(name, _, _)| a.wants(name)) {
        let mk = |client: reqwest::Client| {
            let url = a.url.clone();
            let key = key.map(str::to_string);
            let query = query.clone();
            let vars = vars.clone();
            move || {
                let client = client.clone();
                let url = url.clone();
                let key = key.clone();
                let query = query.clone();
                let vars = vars.clone();
                async move { graphql(&client, &url, key.as_deref(), &query, &vars).await }
            }
        };
        // One warm-up call (page cache, prepared statements).
        mk(client.clone())().await?;
        let c1 = run(1, a.reps, a.seconds, mk(client.clone())).await;
        // Concurrency 8 gets 64 requests per `--reps`: at `reps` alone a 1 ms list ran
        // 16 requests, mostly new pool connections, and its req/s measured the warm-up.
        // Slow questions stay bounded by `--seconds`.
        let c8 = run(8, (a.reps * 64).max(64), a.seconds, mk(client.clone())).await;
        println!(
            "{:<30} {:>6.1} ms {:>6.1} ms | {:>6.1} ms {:>6.1} ms {:>8.1}",
            name,
            c1.p(0.5),
            c1.p(0.95),
            c8.p(0.5),
            c8.p(0.95),
            c8.rps()
        );
    }

    // The same engine calls, directly on the database (no HTTP, no GraphQL), on
    // connections set up as the server's are (`api/src/db.rs`): on PostgreSQL, custom
    // plans only, or after five runs a generic plan walks whole windows and the engine
    // would look slower than the server that calls it.
    // A pool of 8 as the server's SQLite pool (PostgreSQL: the server's 20; 8 is plenty for
    // one caller), so that an answer's independent statements run at once here too.
    let mut options = sea_orm::ConnectOptions::new(a.database_url.clone());
    options
        .max_connections(8)
        .map_sqlx_postgres_opts(|opts| opts.options([("plan_cache_mode", "force_custom_plan")]));
    let db = sea_orm::Database::connect(options).await?;
    let db = Arc::new(db);
    let scope = Scope {
        region_code: Some(a.region.clone()),
        department_id: None,
    };
    println!("{:<30} {:>9} {:>9}", "engine, direct", "c1 p50", "c1 p95");
    type Call = Box<
        dyn Fn(
                Arc<sea_orm::DatabaseConnection>,
                Scope,
            ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>
            + Send
            + Sync,
    >;
    let calls: Vec<(&str, Call)> = vec![
        (
            "province stats",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    stats(&*db, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "province stats + durations",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?;
                    stats(&*db, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "breakdown by city",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    breakdown(&*db, Dimension::Region, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "12-month series",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    time_series(&*db, Interval::Month, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "department ranking",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    ranking(
                        &*db,
                        RankUnit::Department,
                        &RankWeights::default(),
                        &s,
                        &StatsFilter::default(),
                        &w,
                        20,
                    )
                    .await?;
                    Ok(())
                })
            }),
        ),
        (
            "department ranking, top 20 + bottom 3",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    let ends = RankingEnds {
                        first: Some(20),
                        last: Some(3),
                    };
                    ranking_ends(
                        &*db,
                        RankUnit::Department,
                        &RankWeights::default(),
                        &s,
                        &StatsFilter::default(),
                        &w,
                        20,
                        ends,
                    )
                    .await?;
                    Ok(())
                })
            }),
        ),
        (
            "department ranking, scan",
            Box::new(move |db, s| {
                Box::pin(async move {
                    // One second off a month start: the same cases, read by the scan
                    // rather than the monthly department rollup (the figure before it).
                    let w = Window::new(from + chrono::Duration::seconds(1), to, None)?
                        .without_durations();
                    ranking(
                        &*db,
                        RankUnit::Department,
                        &RankWeights::default(),
                        &s,
                        &StatsFilter::default(),
                        &w,
                        20,
                    )
                    .await?;
                    Ok(())
                })
            }),
        ),
        (
            "department rank history",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    rank_history(
                        &*db,
                        RankUnit::Department,
                        &RankWeights::default(),
                        &s,
                        &StatsFilter::default(),
                        &w,
                        20,
                    )
                    .await?;
                    Ok(())
                })
            }),
        ),
        (
            "breakdown by department",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, None)?.without_durations();
                    breakdown(&*db, Dimension::Department, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "province stats, as of 30 days ago",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, Some(Utc::now() - chrono::Duration::days(30)))?
                        .without_durations();
                    stats(&*db, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "province stats, as of 30 days ago, scan",
            Box::new(move |db, s| {
                Box::pin(async move {
                    // One second off a Shanghai midnight: the same cases, read by the
                    // scan rather than the daily rollup.
                    let w = Window::new(
                        from + chrono::Duration::seconds(1),
                        to,
                        Some(Utc::now() - chrono::Duration::days(30)),
                    )?
                    .without_durations();
                    stats(&*db, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
        (
            "department ranking, as of last month-end",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, Some(month_start))?.without_durations();
                    ranking(
                        &*db,
                        RankUnit::Department,
                        &RankWeights::default(),
                        &s,
                        &StatsFilter::default(),
                        &w,
                        20,
                    )
                    .await?;
                    Ok(())
                })
            }),
        ),
        (
            "12-month series, as of last month-end",
            Box::new(move |db, s| {
                Box::pin(async move {
                    let w = Window::new(from, to, Some(month_start))?.without_durations();
                    time_series(&*db, Interval::Month, &s, &StatsFilter::default(), &w).await?;
                    Ok(())
                })
            }),
        ),
    ];
    for (name, call) in calls.into_iter().filter(|(name, _)| a.wants(name)) {
        let call = Arc::new(call);
        let mk = || {
            let call = call.clone();
            let db = db.clone();
            let scope = scope.clone();
            move || call(db.clone(), scope.clone())
        };
        mk()().await?;
        let reps = if name.contains("as of") { 5 } else { a.reps };
        let c1 = run(1, reps, a.seconds, mk()).await;
        println!("{:<30} {:>6.1} ms {:>6.1} ms", name, c1.p(0.5), c1.p(0.95));
    }
    Ok(())
}
