//! Several `minyi serve` processes on one database, as behind a load balancer: periodic
//! jobs run once per period across them, a key revoked through one instance is refused by
//! the others at once, and each instance keeps its share of the rate-limit budget.

use entities::{case, case_event, CaseAction, CaseStatus, Role};
use minyi::keys::KeyGrant;
use minyi_tests::databases::TestDatabase;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::process::ServerProcess;
use minyi_tests::{db_test, Backend};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Statement,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The job the tests watch and its period on every instance.
const JOB: &str = "supervise_overdue";
const PERIOD: &str = "supervise_overdue=0.3";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a reqwest client builds")
}

/// `POST /graphql` at `base_url`, with a bearer key if given: the HTTP status and the body.
async fn graphql_at(base_url: &str, key: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = client()
        .post(format!("{base_url}/graphql"))
        .json(&json!({ "query": query }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("POST /graphql is answered");
    let status = response.status().as_u16();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// The samples of `metric` on the instance, by their label set (`job="…",outcome="…"`).
async fn samples(base_url: &str, metric: &str) -> BTreeMap<String, f64> {
    let text = client()
        .get(format!("{base_url}/metrics"))
        .send()
        .await
        .expect("GET /metrics is answered")
        .text()
        .await
        .expect("/metrics is readable");
    text.lines()
        .filter_map(|line| line.strip_prefix(&format!("{metric}{{")))
        .filter_map(|rest| {
            let (labels, value) = rest.split_once("} ")?;
            Some((labels.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// `n` cases in progress whose reply was due in January 2025: far past the supervision
/// threshold, not flagged yet.
async fn plant_overdue_cases(db: &DatabaseConnection, n: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let mut new = NewCase::new("510104", at(2025, 1, 2, 2, 0, 0))
            .status(CaseStatus::InProgress)
            .title(&format!("逾期未办 {i}"));
        new.accepted_at = Some(at(2025, 1, 2, 3, 0, 0));
        new.reply_due_at = Some(at(2025, 1, 10, 15, 59, 59));
        ids.push(fixtures::case(db, new).await.id);
    }
    ids
}

async fn supervised_count(db: &DatabaseConnection, ids: &[i64]) -> u64 {
    case::Entity::find()
        .filter(case::Column::Id.is_in(ids.iter().copied()))
        .filter(case::Column::Supervised.eq(true))
        .count(db)
        .await
        .expect("counting supervised cases")
}

/// Rows of `job_runs` for the job: (slot, instance_id, outcome).
async fn job_runs(db: &DatabaseConnection, job: &str) -> Vec<(i64, String, Option<String>)> {
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT slot, instance_id, outcome FROM job_runs WHERE job = {placeholder} ORDER BY slot"
            ),
            [job.into()],
        ))
        .await
        .expect("reading job_runs");
    rows.iter()
        .map(|row| {
            (
                row.try_get("", "slot").expect("slot"),
                row.try_get("", "instance_id").expect("instance_id"),
                row.try_get("", "outcome").expect("outcome"),
            )
        })
        .collect()
}

async fn jobs_run_once_across_three_instances(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let url = database.url();
    let db = minyi::db::connect(&url, None)
        .await
        .expect("the test connects to its database");
    let mut ids = plant_overdue_cases(&db, 12).await;
    let servers: Vec<ServerProcess> = (0..3)
        .map(|_| ServerProcess::start(&url, &["--job-period", PERIOD]))
        .collect();
    // More work while all three run, so that later slots have something to do too.
    ids.extend(plant_overdue_cases(&db, 12).await);

    let deadline = Instant::now() + Duration::from_secs(60);
    while supervised_count(&db, &ids).await < ids.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "only {} of {} overdue cases were flagged within a minute; stderr of the first instance:\n{}",
            supervised_count(&db, &ids).await,
            ids.len(),
            servers[0].stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more periods, so that every instance has met a slot boundary with the others.
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let mut attempts_per_instance = Vec::new();
    let mut taken_by_other = 0.0;
    for server in &servers {
        let runs = samples(&server.base_url, "minyi_job_runs_total").await;
        let of_job: BTreeMap<_, _> = runs
            .iter()
            .filter(|(labels, _)| labels.starts_with(&format!("job=\"{JOB}\",")))
            .collect();
        assert!(
            !of_job
                .keys()
                .any(|labels| labels.contains("outcome=\"failed\"")),
            "no run failed: {of_job:?}\n{}",
            server.stderr()
        );
        taken_by_other += runs
            .get(&format!("job=\"{JOB}\",outcome=\"skipped_taken_by_other\""))
            .copied()
            .unwrap_or(0.0);
        attempts_per_instance.push(of_job.values().copied().sum::<f64>());
    }
    assert!(
        attempts_per_instance.iter().all(|&n| n >= 1.0),
        "every instance attempted the job: {attempts_per_instance:?}"
    );
    assert!(
        taken_by_other >= 1.0,
        "instances met at slot boundaries and lost claims to each other: {attempts_per_instance:?}"
    );
    drop(servers);

    // Exactly one supervision event per case, written by the job.
    for id in &ids {
        let events = case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(*id))
            .filter(case_event::Column::Action.eq(CaseAction::Supervise))
            .all(&db)
            .await
            .expect("reading events");
        assert_eq!(events.len(), 1, "supervise events of case {id}");
        assert_eq!(events[0].actor, minyi::workflow::supervision::ACTOR);
    }
    // One row per slot, and no run failed (a run slower than its period on a busy machine
    // makes PostgreSQL skip the next slot: `skipped_overlap`, never a second run at once).
    let runs = job_runs(&db, JOB).await;
    let mut slots: Vec<i64> = runs.iter().map(|(slot, _, _)| *slot).collect();
    slots.dedup();
    assert_eq!(slots.len(), runs.len(), "no slot twice in job_runs");
    assert!(
        runs.iter().all(|(_, _, outcome)| {
            matches!(
                outcome.as_deref(),
                Some("ran") | Some("skipped_overlap") | None
            )
        }),
        "{runs:?}"
    );
    let winners: std::collections::BTreeSet<&str> = runs
        .iter()
        .map(|(_, instance, _)| instance.as_str())
        .collect();
    eprintln!(
        "{} slots run by {} instance(s); attempts per instance {attempts_per_instance:?}",
        runs.len(),
        winners.len()
    );
    assert!(runs.len() >= 4, "0.3 s slots over seconds: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_once_across_three_instances_on_postgres() {
    jobs_run_once_across_three_instances(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_once_across_three_instances_on_sqlite() {
    jobs_run_once_across_three_instances(Backend::Sqlite).await;
}

db_test!(
    a_key_revoked_through_one_instance_is_refused_by_another_on_its_next_request,
    |app| async move {
        let other = ServerProcess::start(&app.database_url(), &["--no-jobs"]);
        let grant = |role, region: Option<&str>| KeyGrant {
            role,
            region_code: region.map(str::to_string),
            department_id: None,
            panel_id: None,
            label: None,
        };
        let admin = app.create_key(grant(Role::Admin, None)).await;
        let leader = minyi::keys::create_key(&app.db, grant(Role::Leader, Some("510100")))
            .await
            .expect("a leader key");
        let query = "{ regions { code } }";
        let (status, _) = graphql_at(&other.base_url, Some(&leader.secret), query).await;
        assert_eq!(status, 200, "the key works on the other instance");

        let revoke = format!(
            "mutation {{ revokeApiKey(id: \"{}\") {{ id }} }}",
            leader.id
        );
        let (status, body) = graphql_at(&app.base_url, Some(&admin), &revoke).await;
        assert_eq!(
            (status, &body["data"]["revokeApiKey"]["id"]),
            (200, &json!(leader.id.to_string()))
        );

        let (status, body) = graphql_at(&other.base_url, Some(&leader.secret), query).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(
            minyi_tests::errors_code(&body).as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_instances_an_instance_serves_half_the_rate_budget_then_answers_429() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    // A budget of 20 points for the cluster: 10 for this instance, five `{ regions { code } }`
    // at 2 points each; a point a second comes back, too slow to matter here.
    let server = ServerProcess::start(
        &database.url(),
        &[
            "--no-jobs",
            "--instances",
            "2",
            "--rate-capacity",
            "20",
            "--rate-restore",
            "2",
            "--max-complexity",
            "10",
        ],
    );
    let mut served = 0;
    let refused = loop {
        let (status, body) = graphql_at(&server.base_url, None, "{ regions { code } }").await;
        if status != 200 {
            break (status, body);
        }
        served += 1;
        assert!(served <= 20, "never refused");
    };
    assert_eq!(served, 5);
    assert_eq!(refused.0, 429, "{}", refused.1);
    assert_eq!(
        refused.1["extensions"]["cost"]["throttleStatus"]["maximumAvailable"],
        10
    );
}

db_test!(
    a_slot_is_claimed_by_one_instance_only_and_its_outcome_recorded,
    |app| async move {
        use minyi::jobs::lease::{claim, finish, Ended};
        let now = minyi::clock::now();
        assert!(claim(&app.db, "test_job", 42, "a", now)
            .await
            .expect("claims"));
        assert!(!claim(&app.db, "test_job", 42, "b", now)
            .await
            .expect("claims"));
        assert!(claim(&app.db, "test_job", 43, "b", now)
            .await
            .expect("claims"));
        finish(
            &app.db,
            "test_job",
            42,
            now,
            &Ended::Ran { rows_affected: 7 },
        )
        .await
        .expect("records");
        finish(
            &app.db,
            "test_job",
            43,
            now,
            &Ended::Failed {
                error: "boom".into(),
            },
        )
        .await
        .expect("records");
        assert_eq!(
            job_runs(&app.db, "test_job").await,
            [
                (42, "a".to_string(), Some("ran".to_string())),
                (43, "b".to_string(), Some("failed".to_string())),
            ]
        );
    }
);

db_test!(job_runs_older_than_a_week_are_pruned, |app| async move {
    use minyi::jobs::lease::claim;
    let now = minyi::clock::now();
    let old = now - chrono::Duration::days(8);
    let recent = now - chrono::Duration::days(6);
    assert!(claim(&app.db, "test_job", 1, "a", old)
        .await
        .expect("claims"));
    assert!(claim(&app.db, "test_job", 2, "a", recent)
        .await
        .expect("claims"));
    let pruned = minyi::jobs::prune_job_runs(&app.db, now)
        .await
        .expect("prunes");
    assert_eq!(pruned, 1);
    let left: Vec<i64> = job_runs(&app.db, "test_job")
        .await
        .into_iter()
        .map(|(slot, _, _)| slot)
        .collect();
    assert_eq!(left, [2]);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_holding_the_job_lock_makes_another_instance_skip_on_postgres() {
    use minyi::jobs::lease::OverlapGuard;
    let database = TestDatabase::create(Backend::Postgres).await;
    // Two pools: two instances.
    let first = minyi::db::connect(&database.url(), None)
        .await
        .expect("connects");
    let second = minyi::db::connect(&database.url(), None)
        .await
        .expect("connects");
    let held = OverlapGuard::acquire(&first, JOB)
        .await
        .expect("asks")
        .expect("the first instance takes the lock");
    assert!(OverlapGuard::acquire(&second, JOB)
        .await
        .expect("asks")
        .is_none());
    // Another job's lock is free meanwhile.
    let other = OverlapGuard::acquire(&second, "prune_job_runs")
        .await
        .expect("asks")
        .expect("another job's lock is free");
    other.release().await.expect("releases");
    held.release().await.expect("releases");
    let again = OverlapGuard::acquire(&second, JOB)
        .await
        .expect("asks")
        .expect("free once the first run ended");
    again.release().await.expect("releases");
}
