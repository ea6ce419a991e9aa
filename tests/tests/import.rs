//! `minyi import --format georeport-v2`: real Baltimore 311 data imported with exact
//! counts (checked against the CSV parsed here), idempotent re-imports, rejected rows
//! with their line and reason, time zones, redaction, publication, the metrics' two paths
//! agreeing on imported cases, and the CLI's refusals.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entities::{case, department, region, CaseStatus};
use minyi::open_data::import::{self, ImportArgs, Rejection, Summary};
use minyi_tests::{assert_rollup_exact, data, db_test, TestApp};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn baltimore_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/civic/baltimore-311-sample.csv")
}

fn baltimore_mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/data/import/baltimore-311.toml")
}

async fn run_import(app: &TestApp, args: &ImportArgs) -> Summary {
    import::import(&app.db, args, |_| {})
        .await
        .unwrap_or_else(|e| panic!("the import failed: {e}"))
}

/// A file in a fresh temporary directory (kept alive by the returned guard).
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("the file is written");
    (dir, path)
}

async fn count_cases(app: &TestApp) -> u64 {
    case::Entity::find()
        .count(&app.db)
        .await
        .expect("cases are countable")
}

async fn count_events(app: &TestApp) -> i64 {
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM case_events",
        ))
        .await
        .expect("events are countable")
        .expect("one row");
    row.try_get::<i64>("", "n").expect("a count")
}

async fn case_by_external_id(app: &TestApp, id: &str) -> case::Model {
    case::Entity::find()
        .filter(case::Column::ExternalId.eq(id))
        .one(&app.db)
        .await
        .expect("cases are readable")
        .unwrap_or_else(|| panic!("no case with external id {id}"))
}

/// The Baltimore sample's own numbers, computed from the CSV independently of the import.
struct Expected {
    total: u64,
    closed: u64,
    per_agency: BTreeMap<String, u64>,
}

fn expected_baltimore() -> Expected {
    let path = baltimore_csv();
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| {
        panic!(
            "the Baltimore sample {} opens ({e}): the tests read the shared reference data \
             next to the project (../shared/data)",
            path.display()
        )
    });
    let headers = reader.headers().expect("a header").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (agency, status) = (column("Agency"), column("SRStatus"));
    let mut expected = Expected {
        total: 0,
        closed: 0,
        per_agency: BTreeMap::new(),
    };
    for record in reader.records() {
        let record = record.expect("a readable record");
        expected.total += 1;
        // "Closed", "Closed (Duplicate)", "Closed (Transferred)".
        if record[status].starts_with("Closed") {
            expected.closed += 1;
        }
        *expected
            .per_agency
            .entry(record[agency].to_string())
            .or_default() += 1;
    }
    expected
}

async fn cases_per_department(app: &TestApp) -> BTreeMap<String, u64> {
    let departments: BTreeMap<i32, String> = department::Entity::find()
        .all(&app.db)
        .await
        .expect("departments are readable")
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut out = BTreeMap::new();
    for c in case::Entity::find()
        .all(&app.db)
        .await
        .expect("cases are readable")
    {
        let id = c
            .department_id
            .expect("every imported case has a department");
        *out.entry(departments[&id].clone()).or_default() += 1;
    }
    out
}

db_test!(
    the_baltimore_sample_imports_with_exact_counts_and_again_adds_nothing,
    |app| async move {
        let expected = expected_baltimore();
        assert_eq!(expected.total, 10_000, "the sample's documented size");
        let mut args = ImportArgs::new(baltimore_csv());
        args.columns = Some(baltimore_mapping());
        let first = run_import(&app, &args).await;
        assert_eq!(first.read, expected.total);
        assert_eq!(first.imported, expected.total);
        assert_eq!(first.already_present, 0);
        assert_eq!(first.rejected, vec![]);
        assert_eq!(first.departments_created, expected.per_agency.len() as u64);
        assert_eq!(count_cases(&app).await, expected.total);
        assert_eq!(cases_per_department(&app).await, expected.per_agency);
        let closed = case::Entity::find()
            .filter(case::Column::Status.eq(CaseStatus::Closed))
            .count(&app.db)
            .await
            .expect("countable");
        assert_eq!(closed, expected.closed);
        // Without region codes or --region, every case is in the unassigned region.
        let unassigned = region::Entity::find_by_id(import::UNASSIGNED_REGION_CODE.to_string())
            .one(&app.db)
            .await
            .expect("regions are readable")
            .expect("the unassigned region was created");
        assert_eq!(unassigned.name, import::UNASSIGNED_REGION_NAME);
        let elsewhere = case::Entity::find()
            .filter(case::Column::RegionCode.ne(import::UNASSIGNED_REGION_CODE))
            .count(&app.db)
            .await
            .expect("countable");
        assert_eq!(elsewhere, 0);
        // 04/12/2018 11:11:26 AM in Baltimore (EDT, UTC−4).
        let first_row = case_by_external_id(&app, "18-00269879").await;
        assert_eq!(
            first_row.submitted_at.to_rfc3339(),
            "2018-04-12T15:11:26+00:00"
        );
        assert_eq!(
            first_row.closed_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2018-04-12T16:45:47+00:00")
        );
        assert_eq!(first_row.title, "TRT-Traffic Signal Repairs");
        assert_eq!(first_row.external_id.as_deref(), Some("18-00269879"));
        let events = count_events(&app).await;
        // Closed: submit, accept, assign, claim, reply, close; open: the first three.
        let open = expected.total - expected.closed;
        assert_eq!(events, (expected.closed * 6 + open * 3) as i64);

        let again = run_import(&app, &args).await;
        assert_eq!(again.read, expected.total);
        assert_eq!(again.imported, 0);
        assert_eq!(again.already_present, expected.total);
        assert_eq!(again.departments_created, 0);
        assert_eq!(again.categories_created, 0);
        assert_eq!(count_cases(&app).await, expected.total);
        assert_eq!(count_events(&app).await, events);
        assert_rollup_exact(&app.db).await;
    }
);

// Every imported request writes 3 or 6 case events: each index of `case_events` is paid
// for by every one of them, so only the two the reads use are kept (migration 000016
// dropped `(action, at)`, which no statement used).
db_test!(
    case_events_are_indexed_by_case_and_by_time_only,
    |app| async move {
        // Secondary indexes only: SQLite lists its automatic ones with no SQL, the
        // primary key is PostgreSQL's constraint.
        let sql = match app.db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "SELECT indexname::text AS name FROM pg_indexes WHERE tablename = 'case_events' \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY 1"
            }
            _ => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name = 'case_events' ORDER BY 1"
            }
        };
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                sql,
            ))
            .await
            .expect("the indexes are listed");
        let of_events: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "name").expect("a name"))
            .collect();
        assert_eq!(
            of_events,
            ["idx_case_events_at_case", "idx_case_events_case_id_at"]
        );
    }
);

const HEADER: &str =
    "service_request_id,status,service_code,service_name,description,agency_responsible,requested_datetime,expected_datetime,closed_datetime,region_code\n";

db_test!(
    rejected_rows_are_reported_with_their_line_and_reason_and_the_rest_imports,
    |app| async move {
        let text = format!(
            "{HEADER}\
             ok-1,closed,road,Roads,Pothole,Transport Bureau,2024-03-01T09:00:00,,2024-03-02T09:00:00,510104\n\
             ,open,road,Roads,No id,Transport Bureau,2024-03-01T09:00:00,,,510104\n\
             bad-time,open,road,Roads,Bad time,Transport Bureau,03/01/2024,,,510104\n\
             bad-region,open,road,Roads,Bad region,Transport Bureau,2024-03-01T09:00:00,,,999999\n\
             ok-1,open,road,Roads,Repeat,Transport Bureau,2024-03-01T09:00:00,,,510104\n\
             bad-status,pending,road,Roads,Odd status,Transport Bureau,2024-03-01T09:00:00,,,510104\n\
             ok-2,open,road,Roads,Fine,Transport Bureau,2024-03-01T09:00:00,,,510104\n"
        );
        let (_dir, path) = file("requests.csv", &text);
        let summary = run_import(&app, &ImportArgs::new(&path)).await;
        let rejection = |line: u64, reason: &str| Rejection {
            line,
            reason: reason.to_string(),
        };
        assert_eq!(
            summary.rejected,
            vec![
                rejection(3, "service_request_id is missing"),
                rejection(
                    4,
                    "requested_datetime: \"03/01/2024\" is not an ISO 8601 timestamp"
                ),
                rejection(5, "region_code \"999999\" is not a known region"),
                rejection(6, "service_request_id \"ok-1\" repeats line 2"),
                rejection(7, "status \"pending\" is neither open nor closed"),
            ]
        );
        assert_eq!(summary.unit, "line");
        assert_eq!((summary.read, summary.imported), (7, 2));
        assert_eq!(count_cases(&app).await, 2);
        let ok = case_by_external_id(&app, "ok-1").await;
        assert_eq!(ok.region_code, "510104");
        assert_eq!(ok.city_code.as_deref(), Some("510100"));
        assert_eq!(ok.status, CaseStatus::Closed);
        assert_rollup_exact(&app.db).await;
    }
);

db_test!(
    timestamps_without_an_offset_are_read_in_the_import_time_zone,
    |app| async move {
        let row = |id: &str| {
            format!(
                "{HEADER}{id},open,,,,Hotline,2024-01-15T09:00:00,2024-01-20T09:00:00+08:00,,\n"
            )
        };
        let (_d1, shanghai) = file("shanghai.csv", &row("tz-sh"));
        run_import(&app, &ImportArgs::new(&shanghai)).await;
        let (_d2, new_york) = file("new-york.csv", &row("tz-ny"));
        let mut args = ImportArgs::new(&new_york);
        args.timezone = Some("America/New_York".into());
        run_import(&app, &args).await;
        let sh = case_by_external_id(&app, "tz-sh").await;
        let ny = case_by_external_id(&app, "tz-ny").await;
        assert_eq!(sh.submitted_at.to_rfc3339(), "2024-01-15T01:00:00+00:00");
        assert_eq!(ny.submitted_at.to_rfc3339(), "2024-01-15T14:00:00+00:00");
        // A timestamp with its own offset ignores the zone.
        for c in [&sh, &ny] {
            assert_eq!(
                c.reply_due_at.map(|t| t.to_rfc3339()).as_deref(),
                Some("2024-01-20T01:00:00+00:00")
            );
        }
    }
);

const PUBLIC_CASES: &str =
    "query($code: String) { cases(first: 10, filter: { regionCode: $code }) \
     { totalCount nodes { title body } } }";

db_test!(
    imported_cases_are_public_and_masked_unless_imported_unpublished,
    |app| async move {
        let text = format!(
            "{HEADER}pub-1,open,noise,Noise,Loud bar; call me on 13812345678 or mail li.lei@example.com,Police,2024-03-01T09:00:00,,,510104\n"
        );
        let (_d1, published) = file("published.csv", &text);
        run_import(&app, &ImportArgs::new(&published)).await;
        let stored = case_by_external_id(&app, "pub-1").await;
        let public_body = stored.public_body.clone().expect("public_body is written");
        assert!(!public_body.contains("13812345678"), "{public_body}");
        assert!(!public_body.contains("li.lei@example.com"), "{public_body}");
        assert!(
            public_body.starts_with("Loud bar; call me on "),
            "{public_body}"
        );
        assert_eq!(stored.public_title.as_deref(), Some("Noise"));

        let resp = app.graphql(PUBLIC_CASES, json!({ "code": "510104" })).await;
        let cases = &data(&resp)["cases"];
        assert_eq!(cases["totalCount"], 1, "{resp}");
        assert_eq!(cases["nodes"][0]["body"], public_body.as_str());
        assert_eq!(cases["nodes"][0]["title"], "Noise");

        let text = format!(
            "{HEADER}hidden-1,open,noise,Noise,Quiet please,Police,2024-03-01T09:00:00,,,510105\n"
        );
        let (_d2, unpublished) = file("unpublished.csv", &text);
        let mut args = ImportArgs::new(&unpublished);
        args.unpublished = true;
        let summary = run_import(&app, &args).await;
        assert_eq!(summary.imported, 1);
        let resp = app.graphql(PUBLIC_CASES, json!({ "code": "510105" })).await;
        assert_eq!(data(&resp)["cases"]["totalCount"], 0, "{resp}");
        assert!(!case_by_external_id(&app, "hidden-1").await.published);
    }
);

db_test!(a_json_array_imports_like_the_csv, |app| async move {
    let text = r#"[
            {"service_request_id": "j-1", "status": "closed", "service_code": "trash",
             "service_name": "Trash", "agency_responsible": "Sanitation",
             "requested_datetime": "2024-05-01T08:00:00Z", "updated_datetime": "2024-05-02T08:00:00Z",
             "lat": 30.66, "long": 104.06},
            {"service_request_id": "j-2", "status": "open", "requested_datetime": "never"}
        ]"#;
    let (_dir, path) = file("requests.json", text);
    let mut args = ImportArgs::new(&path);
    args.region = Some("510104".into());
    let summary = run_import(&app, &args).await;
    assert_eq!(summary.unit, "element");
    assert_eq!(summary.imported, 1);
    assert_eq!(
        summary.rejected,
        vec![Rejection {
            line: 2,
            reason: "requested_datetime: \"never\" is not an ISO 8601 timestamp".into()
        }]
    );
    let c = case_by_external_id(&app, "j-1").await;
    assert_eq!(c.region_code, "510104");
    // Plain GeoReport v2 has no closing time: the last update is it.
    assert_eq!(
        c.closed_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-05-02T08:00:00+00:00")
    );
    assert_eq!((c.latitude, c.longitude), (Some(30.66), Some(104.06)));
});

const STATS: &str = "query($from: DateTime!, $to: DateTime!, $asOf: DateTime) { \
     stats(scope: { regionCode: \"510100\" }, from: $from, to: $to, asOf: $asOf) \
     { received accepted closed due repliedWhenDue onTimeRate overdueNow replied } }";

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

db_test!(
    the_metrics_as_of_now_and_as_of_the_past_agree_with_the_imported_trail,
    |app| async move {
        let now = Utc::now().trunc_subsecs(0);
        let day = |n: i64| iso(now - Duration::days(n));
        // A: closed before its deadline; B: closed after it; C: open, deadline passed.
        let text = format!(
            "{HEADER}\
             A,closed,,,,Water,{},{},{},510104\n\
             B,closed,,,,Water,{},{},{},510104\n\
             C,open,,,,Water,{},{},,510105\n",
            day(10),
            day(8),
            day(9),
            day(10),
            day(8),
            day(5),
            day(7),
            day(5),
        );
        let (_dir, path) = file("trail.csv", &text);
        assert_eq!(run_import(&app, &ImportArgs::new(&path)).await.imported, 3);
        let stats = |as_of: Option<String>| {
            let app = &app;
            async move {
                let resp = app
                    .graphql(
                        STATS,
                        json!({ "from": day(30), "to": iso(now + Duration::days(1)), "asOf": as_of }),
                    )
                    .await;
                data(&resp)["stats"].clone()
            }
        };
        let current = stats(None).await;
        assert_eq!(
            current,
            json!({ "received": 3, "accepted": 3, "closed": 2, "due": 3, "repliedWhenDue": 2,
                    "onTimeRate": 1.0 / 3.0, "overdueNow": 1, "replied": 2 })
        );
        // Six days ago A was closed, B was open past its deadline and C not yet due.
        let past = stats(Some(day(6))).await;
        assert_eq!(
            past,
            json!({ "received": 3, "accepted": 3, "closed": 1, "due": 2, "repliedWhenDue": 1,
                    "onTimeRate": 0.5, "overdueNow": 1, "replied": 1 })
        );
        // An instant past but after every event: the trail gives the current answer.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let just_past = stats(Some(iso(Utc::now() - Duration::milliseconds(500)))).await;
        assert_eq!(just_past, current);
        assert_rollup_exact(&app.db).await;
    }
);

/// Runs the real binary; returns (success, stderr).
fn minyi(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(minyi_tests::process::minyi_binary())
        .args(args)
        .env("MINYI_LOG", "warn")
        .output()
        .expect("minyi runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_cli_refuses_bad_input_in_one_line_before_touching_the_database() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let database = dir.path().join("never.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let csv = dir.path().join("requests.csv");
    std::fs::write(&csv, HEADER).expect("written");
    let bad_mapping = dir.path().join("bad.toml");
    std::fs::write(&bad_mapping, "[columns]\nticket = \"Id\"\n").expect("written");
    let missing = dir.path().join("missing.csv");
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec!["--format", "xml"],
            "error: unknown import format \"xml\": the only one is georeport-v2",
        ),
        (vec!["--format", "georeport-v2"], "error: cannot open "),
        (
            vec!["--format", "georeport-v2", "--columns"],
            "error: bad mapping ",
        ),
    ];
    for (i, (extra, start)) in cases.into_iter().enumerate() {
        let file = if i == 1 { &missing } else { &csv };
        let mut args = vec!["--database-url", url.as_str(), "import"];
        let file = file.display().to_string();
        args.push(&file);
        args.extend(extra);
        let mapping = bad_mapping.display().to_string();
        if i == 2 {
            args.push(&mapping);
        }
        let (ok, stderr) = minyi(&args);
        assert!(!ok, "{args:?} succeeded");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(start), "{args:?}: {stderr}");
    }
    assert!(!database.exists(), "no database was created");
}

#[test]
fn the_cli_prints_its_summary_and_the_rejections_and_writes_them_to_a_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let csv = dir.path().join("requests.csv");
    std::fs::write(
        &csv,
        format!(
            "{HEADER}\
             c-1,closed,road,Roads,Pothole,Transport Bureau,2024-03-01T09:00:00,,2024-03-02T09:00:00,510104\n\
             c-2,open,road,Roads,Pothole,Transport Bureau,2024-03-01T09:00:00,,,123\n"
        ),
    )
    .expect("written");
    let rejects = dir.path().join("rejects.csv");
    let output = std::process::Command::new(minyi_tests::process::minyi_binary())
        .args(["--database-url", &url, "import"])
        .arg(&csv)
        .args(["--format", "georeport-v2", "--rejects"])
        .arg(&rejects)
        .env("MINYI_LOG", "warn")
        .output()
        .expect("minyi runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.starts_with(&format!("read 2 rows from {} in ", csv.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            ": 1 imported, 0 already present, 1 rejected; 1 departments and 1 categories created"
        ),
        "{stdout}"
    );
    assert_eq!(
        stderr,
        "rejected line 3: region_code \"123\" is not a known region\n"
    );
    assert_eq!(
        std::fs::read_to_string(&rejects).expect("the rejects file"),
        "line,reason\n3,\"region_code \"\"123\"\" is not a known region\"\n"
    );
}
