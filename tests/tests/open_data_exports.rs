//! The open-data doors for bulk use, seen from outside: the case exports (CSV, NDJSON, the
//! CLI), the data dictionary, the DCAT catalog, citable releases and their HTTP caching.

use entities::{case, release, release_file, CaseKind, CaseStatus, Channel, RatingLevel};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{db_test, Backend, TestApp};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The cases every export test starts from.
struct World {
    /// Published, replied and rated, in Jinjiang district (Chengdu, Sichuan).
    replied: case::Model,
    /// Published, accepted and past its reply deadline, in Dongcheng district (Beijing).
    overdue: case::Model,
    /// Not published.
    hidden: case::Model,
    /// Published but merged into `replied` as a duplicate.
    duplicate: case::Model,
    department: entities::department::Model,
    category: entities::category::Model,
}

async fn world(app: &TestApp) -> World {
    let db = &app.db;
    let department = fixtures::department(db, "锦江区住房和城乡建设局", "510104", None).await;
    let category = fixtures::category(db, None).await;
    let mut replied = NewCase::new("510104", at(2024, 3, 1, 1, 30, 0))
        .status(CaseStatus::Replied)
        .department(&department)
        .category(&category);
    replied.accepted_at = Some(at(2024, 3, 1, 2, 0, 0));
    replied.reply_due_at = Some(at(2024, 3, 11, 15, 59, 59));
    replied.replied_at = Some(at(2024, 3, 4, 8, 0, 0));
    replied.reply = Some("路灯已于3月4日修复。".to_string());
    let replied = fixtures::case(db, replied).await;
    fixtures::rating(
        db,
        &replied,
        RatingLevel::Satisfied,
        at(2024, 3, 5, 0, 0, 0),
    )
    .await;
    let mut overdue = NewCase::new("110101", at(2024, 3, 5, 2, 0, 0))
        .status(CaseStatus::Accepted)
        .title("工地夜间施工噪音扰民");
    overdue.body = "工地每晚施工到凌晨，严重影响休息。".to_string();
    overdue.channel = Channel::Hotline;
    overdue.kind = CaseKind::HelpRequest;
    overdue.accepted_at = Some(at(2024, 3, 5, 3, 0, 0));
    overdue.reply_due_at = Some(at(2024, 3, 14, 15, 59, 59));
    let overdue = fixtures::case(db, overdue).await;
    let hidden = fixtures::case(
        db,
        NewCase::new("510104", at(2024, 3, 2, 0, 0, 0))
            .title("未公开的留言")
            .published(false),
    )
    .await;
    let mut duplicate = NewCase::new("510104", at(2024, 3, 3, 0, 0, 0)).title("重复提交的留言");
    duplicate.duplicate_of = Some(replied.id);
    let duplicate = fixtures::case(db, duplicate).await;
    World {
        replied,
        overdue,
        hidden,
        duplicate,
        department,
        category,
    }
}

async fn body_of(app: &TestApp, path: &str) -> (reqwest::StatusCode, Vec<u8>) {
    let response = app.get(path).await;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: unreadable body: {e}"));
    (status, bytes.to_vec())
}

/// The CSV export at `path` as (header, rows keyed by column name).
async fn csv_rows(app: &TestApp, path: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let (status, bytes) = body_of(app, path).await;
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("the CSV header of {path} parses: {e}"))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            let record = record.unwrap_or_else(|e| panic!("a CSV record of {path} parses: {e}"));
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The case ids of the CSV export at `path`, in file order.
async fn exported_ids(app: &TestApp, path: &str) -> Vec<i64> {
    csv_rows(app, path)
        .await
        .1
        .iter()
        .map(|row| {
            row["case_id"]
                .parse()
                .unwrap_or_else(|e| panic!("case_id: {e}"))
        })
        .collect()
}

async fn ndjson_rows(app: &TestApp, path: &str) -> Vec<Value> {
    let (status, bytes) = body_of(app, path).await;
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    String::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{path} is UTF-8: {e}"))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

async fn dictionary_names(app: &TestApp) -> Vec<String> {
    let (status, bytes) = body_of(app, "/exports/dictionary.json").await;
    assert_eq!(status, 200);
    let dictionary: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
    dictionary["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no columns in {dictionary}"))
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

db_test!(
    the_csv_export_parses_back_with_the_dictionarys_header_and_exact_values,
    |app| async move {
        let w = world(&app).await;
        let (header, rows) = csv_rows(&app, "/exports/cases.csv").await;
        assert_eq!(header, dictionary_names(&app).await);
        assert_eq!(
            rows.len(),
            2,
            "only the published, not merged cases: {rows:?}"
        );
        let row = &rows[0];
        let want = [
            ("case_id", w.replied.id.to_string()),
            ("tracking_number", w.replied.tracking_number.clone()),
            ("title", "小区门口路灯不亮".to_string()),
            ("reply", "路灯已于3月4日修复。".to_string()),
            ("channel", "WEBSITE".to_string()),
            ("kind", "COMPLAINT".to_string()),
            ("category_code", w.category.code.clone()),
            ("category_name", w.category.name.clone()),
            ("region_code", "510104".to_string()),
            ("region_name", "锦江区".to_string()),
            ("province_code", "510000".to_string()),
            ("city_code", "510100".to_string()),
            ("county_code", "510104".to_string()),
            ("department_id", w.department.id.to_string()),
            ("department_name", "锦江区住房和城乡建设局".to_string()),
            ("status", "REPLIED".to_string()),
            ("submitted_at", "2024-03-01T09:30:00+08:00".to_string()),
            ("accepted_at", "2024-03-01T10:00:00+08:00".to_string()),
            ("reply_due_at", "2024-03-11T23:59:59+08:00".to_string()),
            ("replied_at", "2024-03-04T16:00:00+08:00".to_string()),
            ("closed_at", String::new()),
            ("overdue", "false".to_string()),
            ("rating_level", "SATISFIED".to_string()),
            ("repeat_of", String::new()),
            ("latitude", String::new()),
        ];
        for (column, value) in want {
            assert_eq!(row[column], value, "column {column}");
        }
        let second = &rows[1];
        assert_eq!(second["case_id"], w.overdue.id.to_string());
        assert_eq!(second["channel"], "HOTLINE");
        assert_eq!(second["kind"], "HELP_REQUEST");
        assert_eq!(second["overdue"], "true");
        assert_eq!(second["department_id"], "");
        assert_eq!(second["region_name"], "东城区");
        assert_eq!(second["city_code"], "110100");
    }
);

db_test!(
    unpublished_and_merged_cases_never_leave_through_either_format,
    |app| async move {
        let w = world(&app).await;
        let expected = vec![w.replied.id, w.overdue.id];
        assert_eq!(exported_ids(&app, "/exports/cases.csv").await, expected);
        let ndjson: Vec<i64> = ndjson_rows(&app, "/exports/cases.ndjson")
            .await
            .iter()
            .map(|row| row["case_id"].as_i64().unwrap_or_default())
            .collect();
        assert_eq!(ndjson, expected);
        for hidden in [w.hidden.id, w.duplicate.id] {
            assert!(!ndjson.contains(&hidden));
        }
        let (_, csv) = body_of(&app, "/exports/cases.csv").await;
        let csv = String::from_utf8_lossy(&csv);
        assert!(!csv.contains("未公开的留言") && !csv.contains("重复提交的留言"));
    }
);

db_test!(
    the_ndjson_export_has_the_dictionarys_keys_and_typed_values,
    |app| async move {
        let w = world(&app).await;
        let rows = ndjson_rows(&app, "/exports/cases.ndjson").await;
        let keys: Vec<String> = rows[0]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let mut names = dictionary_names(&app).await;
        names.sort();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort();
        assert_eq!(keys_sorted, names);
        assert_eq!(rows[0]["case_id"], w.replied.id);
        assert_eq!(rows[0]["department_id"], w.department.id);
        assert_eq!(rows[0]["overdue"], false);
        assert_eq!(rows[0]["closed_at"], Value::Null);
        assert_eq!(rows[0]["submitted_at"], "2024-03-01T09:30:00+08:00");
        assert_eq!(rows[1]["overdue"], true);
        assert_eq!(rows[1]["rating_level"], Value::Null);
        assert_eq!(rows[1]["title"], "工地夜间施工噪音扰民");
    }
);

db_test!(
    each_filter_selects_exactly_the_expected_cases,
    |app| async move {
        let w = world(&app).await;
        let (a, b) = (w.replied.id, w.overdue.id);
        let parent = w.category.parent_id.unwrap_or(w.category.id);
        let cases: Vec<(String, Vec<i64>)> = vec![
            ("regionCode=510000".into(), vec![a]),
            ("regionCode=510104".into(), vec![a]),
            ("regionCode=110000".into(), vec![b]),
            (format!("departmentId={}", w.department.id), vec![a]),
            (format!("categoryId={parent}"), vec![a]),
            ("channel=HOTLINE".into(), vec![b]),
            ("channel=website".into(), vec![a]),
            ("kind=HELP_REQUEST".into(), vec![b]),
            ("status=REPLIED".into(), vec![a]),
            ("status=CLOSED".into(), vec![]),
            ("submittedFrom=2024-03-02".into(), vec![b]),
            ("submittedTo=2024-03-02".into(), vec![a]),
            (
                "submittedFrom=2024-03-01T09:30:00%2B08:00&submittedTo=2024-03-01T09:30:01%2B08:00"
                    .into(),
                vec![a],
            ),
            ("overdue=true".into(), vec![b]),
            ("overdue=false".into(), vec![a]),
            ("search=%E8%B7%AF%E7%81%AF".into(), vec![a]), // 路灯
            (
                "search=%E5%99%AA%E9%9F%B3&regionCode=110101".into(),
                vec![b],
            ), // 噪音
            ("regionCode=510000&channel=HOTLINE".into(), vec![]),
        ];
        for (query, want) in cases {
            assert_eq!(
                exported_ids(&app, &format!("/exports/cases.csv?{query}")).await,
                want,
                "?{query}"
            );
        }
    }
);

db_test!(
    a_bad_filter_is_a_400_that_names_the_parameter,
    |app| async move {
        world(&app).await;
        let cases = [
            ("/exports/cases.csv?regionCode=990000", "regionCode"),
            ("/exports/cases.csv?regionCode=51", "regionCode"),
            ("/exports/cases.csv?departmentId=999999", "departmentId"),
            ("/exports/cases.csv?categoryId=abc", "categoryId"),
            ("/exports/cases.csv?channel=FAX", "channel"),
            ("/exports/cases.csv?status=DONE", "status"),
            (
                "/exports/cases.csv?submittedFrom=yesterday",
                "submittedFrom",
            ),
            ("/exports/cases.csv?overdue=maybe", "overdue"),
            ("/exports/cases.csv?region=510000", "region"),
            ("/exports/cases.ndjson?bom=1", "bom"),
        ];
        for (path, parameter) in cases {
            let (status, bytes) = body_of(&app, path).await;
            assert_eq!(status, 400, "{path}");
            let body: Value =
                serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: not JSON ({e})"));
            assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{path}");
            assert_eq!(body["error"]["parameter"], parameter, "{path}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(parameter)),
                "{path}: {body}"
            );
        }
    }
);

db_test!(
    planted_personal_data_never_appears_in_an_export,
    |app| async move {
        let db = &app.db;
        let citizen = fixtures::citizen(db, "张三丰").await;
        let mut planted = NewCase::new("510104", at(2024, 4, 1, 0, 0, 0))
            .title("张三丰反映：电话13912345678无人接听");
        planted.body =
            "本人身份证号11010519491231002X，邮箱zhangsanfeng@example.com，请回电13912345678。"
                .to_string();
        planted.citizen_id = Some(citizen.id);
        planted.reply = Some("已联系张三丰先生（13912345678）。".to_string());
        planted.status = CaseStatus::Replied;
        let planted = fixtures::case(db, planted).await;
        for path in ["/exports/cases.csv", "/exports/cases.ndjson"] {
            let (status, bytes) = body_of(&app, path).await;
            assert_eq!(status, 200);
            let text = String::from_utf8(bytes).unwrap_or_default();
            assert!(
                text.contains(&planted.tracking_number),
                "{path} carries the case"
            );
            for secret in [
                "13912345678",
                "11010519491231002X",
                "zhangsanfeng@example.com",
                "张三丰",
            ] {
                assert!(!text.contains(secret), "{path} leaks {secret}: {text}");
            }
        }
        // Searching the raw text for the phone number finds nothing either.
        assert_eq!(
            exported_ids(&app, "/exports/cases.csv?search=13912345678").await,
            Vec::<i64>::new()
        );
    }
);

db_test!(
    the_byte_order_mark_is_there_only_when_asked,
    |app| async move {
        world(&app).await;
        let (_, plain) = body_of(&app, "/exports/cases.csv").await;
        let (_, marked) = body_of(&app, "/exports/cases.csv?bom=1").await;
        assert!(plain.starts_with(b"case_id,tracking_number,"));
        assert!(marked.starts_with(b"\xEF\xBB\xBFcase_id,tracking_number,"));
        assert_eq!(&marked[3..], plain.as_slice());
        let (_, ndjson) = body_of(&app, "/exports/cases.ndjson").await;
        assert!(ndjson.starts_with(b"{\"case_id\":"));
    }
);

db_test!(
    exports_answer_304_to_a_matching_etag_until_a_new_case_is_published,
    |app| async move {
        world(&app).await;
        let path = "/exports/cases.csv?regionCode=510000";
        let first = app.get(path).await;
        assert_eq!(first.status(), 200);
        let headers = first.headers().clone();
        assert_eq!(headers["cache-control"], "public, max-age=60");
        assert_eq!(
            headers["content-type"],
            "text/csv; charset=utf-8; header=present"
        );
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"minyi-cases.csv\""
        );
        let etag = headers["etag"].to_str().unwrap_or_default().to_string();
        let again = |etag: String| {
            let client = reqwest::Client::builder().no_proxy().build();
            let url = format!("{}{path}", app.base_url);
            async move {
                client
                    .unwrap_or_else(|e| panic!("{e}"))
                    .get(url)
                    .header("if-none-match", etag)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
            }
        };
        let cached = again(etag.clone()).await;
        assert_eq!(cached.status(), 304);
        assert_eq!(cached.headers()["etag"], etag.as_str());
        // Another format or filter is another version.
        let ndjson = app.get("/exports/cases.ndjson?regionCode=510000").await;
        assert_ne!(ndjson.headers()["etag"], etag.as_str());
        // An unpublished case changes nothing the public sees.
        fixtures::case(
            &app.db,
            NewCase::new("510104", at(2024, 5, 1, 0, 0, 0)).published(false),
        )
        .await;
        assert_eq!(again(etag.clone()).await.status(), 304);
        fixtures::case(&app.db, NewCase::new("510104", at(2024, 5, 2, 0, 0, 0))).await;
        let fresh = again(etag.clone()).await;
        assert_eq!(fresh.status(), 200);
        assert_ne!(fresh.headers()["etag"], etag.as_str());
    }
);

db_test!(
    the_dictionary_describes_every_column_in_both_languages_and_matches_the_docs,
    |app| async move {
        let response = app.get("/exports/dictionary.json").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("etag"));
        let dictionary: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        let columns = dictionary["columns"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(columns.len(), 27);
        for column in &columns {
            for key in ["name", "type", "nullable"] {
                assert!(!column[key].is_null(), "{key} of {column}");
            }
            assert!(column["meaning"]["en"]
                .as_str()
                .is_some_and(|s| !s.is_empty()));
            assert!(column["meaning"]["zh"]
                .as_str()
                .is_some_and(|s| !s.is_empty()));
        }
        let channel = columns
            .iter()
            .find(|c| c["name"] == "channel")
            .cloned()
            .unwrap_or_default();
        assert_eq!(channel["type"], "enum");
        assert_eq!(channel["values"][2]["value"], "HOTLINE");
        assert_eq!(channel["values"][2]["zh"], "12345热线");
        let status = columns
            .iter()
            .find(|c| c["name"] == "status")
            .cloned()
            .unwrap_or_default();
        assert_eq!(status["values"].as_array().map(Vec::len), Some(8));
        let docs = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/DATA_DICTIONARY.md"),
        )
        .unwrap_or_else(|e| panic!("docs/DATA_DICTIONARY.md: {e}"));
        assert!(
            docs.contains(&minyi::open_data::dictionary::markdown_table()),
            "docs/DATA_DICTIONARY.md must carry the table of the column list, verbatim:\n{}",
            minyi::open_data::dictionary::markdown_table()
        );
    }
);

/// Runs the `minyi` binary against the app's database; returns (success, stdout, stderr).
fn minyi(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(minyi_tests::process::minyi_binary())
        .arg("--database-url")
        .arg(app.database_url())
        .args(args)
        .env_remove("MINYI_DATA_DIR")
        .output()
        .unwrap_or_else(|e| panic!("running minyi {args:?}: {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

db_test!(the_cli_export_equals_the_http_export, |app| async move {
    world(&app).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        (vec!["--format", "csv"], "/exports/cases.csv"),
        (vec!["--format", "csv", "--bom"], "/exports/cases.csv?bom=1"),
        (vec!["--format", "ndjson"], "/exports/cases.ndjson"),
        (
            vec![
                "--format",
                "csv",
                "--region-code",
                "510000",
                "--status",
                "REPLIED",
            ],
            "/exports/cases.csv?regionCode=510000&status=REPLIED",
        ),
    ];
    for (i, (flags, path)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("export-{i}"));
        let out_arg = out.display().to_string();
        let mut args = vec!["export", "cases", "--out", out_arg.as_str()];
        args.extend(flags.iter().copied());
        let (ok, _, stderr) = minyi(&app, &args);
        assert!(ok, "minyi {args:?} failed: {stderr}");
        assert!(stderr.starts_with("exported "), "{stderr}");
        let (_, http) = body_of(&app, path).await;
        let file = std::fs::read(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file, http, "minyi {args:?} vs GET {path}");
    }
    let (ok, stdout, _) = minyi(&app, &["export", "cases", "--format", "ndjson"]);
    assert!(ok);
    let (_, http) = body_of(&app, "/exports/cases.ndjson").await;
    assert_eq!(
        stdout.as_bytes(),
        http.as_slice(),
        "stdout equals the HTTP export"
    );

    let target = dir.path().join("refused.csv");
    let target_arg = target.display().to_string();
    let (ok, _, stderr) = minyi(
        &app,
        &[
            "export",
            "cases",
            "--format",
            "csv",
            "--channel",
            "FAX",
            "--out",
            &target_arg,
        ],
    );
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--channel: unknown value \"FAX\""),
        "{stderr}"
    );
    assert!(!target.exists(), "nothing written on a refused export");
});

#[test]
fn an_export_through_a_read_only_url_of_an_unmigrated_database_says_why_it_fails() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("empty.db");
    std::fs::write(&file, b"").unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(minyi_tests::process::minyi_binary())
        .arg("--database-url")
        .arg(format!("sqlite://{}?mode=ro", file.display()))
        .args(["export", "cases", "--format", "csv"])
        .output()
        .unwrap_or_else(|e| panic!("running minyi: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "no rows without a schema");
    assert!(
        stderr.contains("the URL opens the database read-only") && stderr.contains("migrate up"),
        "{stderr}"
    );
}

/// Writes each test once for both engines with a data directory for releases.
macro_rules! release_test {
    ($name:ident, |$app:ident, $dir:ident| $body:expr) => {
        minyi_tests::pastey::paste! {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_sqlite>]() {
                let $dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                let data_dir = $dir.path().to_path_buf();
                let $app = TestApp::spawn_with(Backend::Sqlite, |c| c.data_dir = data_dir).await;
                $body.await;
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn [<$name _on_postgres>]() {
                let $dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
                let data_dir = $dir.path().to_path_buf();
                let $app = TestApp::spawn_with(Backend::Postgres, |c| c.data_dir = data_dir).await;
                $body.await;
            }
        }
    };
}

async fn recorded_files(app: &TestApp, name: &str) -> BTreeMap<String, release_file::Model> {
    let release = release::Entity::find()
        .filter(release::Column::Name.eq(name))
        .one(&app.db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("release {name} is recorded"));
    release_file::Entity::find()
        .filter(release_file::Column::ReleaseId.eq(release.id))
        .all(&app.db)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|f| (f.file_name.clone(), f))
        .collect()
}

release_test!(
    a_release_reproduces_its_bytes_and_its_downloads_match_them,
    |app, dir| async move {
        let w = world(&app).await;
        let data_dir = dir.path().display().to_string();
        for name in ["first", "second"] {
            let (ok, stdout, stderr) = minyi(
                &app,
                &[
                    "release",
                    "create",
                    "--name",
                    name,
                    "--until",
                    "2024-12-31",
                    "--data-dir",
                    &data_dir,
                ],
            );
            assert!(ok, "release create {name}: {stderr}");
            assert!(
                stdout.starts_with(&format!("release {name} created")),
                "{stdout}"
            );
        }
        let first = recorded_files(&app, "first").await;
        let second = recorded_files(&app, "second").await;
        assert_eq!(
            first.keys().cloned().collect::<Vec<_>>(),
            ["cases.csv", "cases.ndjson", "dictionary.json"]
        );
        for (file, entry) in &first {
            assert_eq!(entry.sha256, second[file].sha256, "{file} is reproduced");
            assert_eq!(entry.bytes, second[file].bytes);
        }
        assert_eq!(first["cases.csv"].rows, Some(2));
        assert_eq!(first["cases.ndjson"].rows, Some(2));
        assert_eq!(first["dictionary.json"].rows, None);

        // The frozen CSV is the export of the same cases (overdue evaluated at the cutoff:
        // the overdue case's deadline passed before the end of 2024).
        let (_, live) = body_of(&app, "/exports/cases.csv?submittedTo=2025-01-01").await;
        let frozen = std::fs::read(dir.path().join("releases/first/cases.csv"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(frozen, live);

        for (file, entry) in &first {
            let path = format!("/releases/first/{file}");
            let response = app.get(&path).await;
            assert_eq!(response.status(), 200, "{path}");
            let etag = format!("\"{}\"", entry.sha256);
            assert_eq!(response.headers()["etag"], etag.as_str());
            assert_eq!(
                response.headers()["cache-control"],
                "public, max-age=31536000"
            );
            let bytes = response.bytes().await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(hex::encode(Sha256::digest(&bytes)), entry.sha256, "{path}");
            assert_eq!(bytes.len() as i64, entry.bytes);
            let on_disk = std::fs::read(dir.path().join("releases/first").join(file))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(bytes.as_ref(), on_disk.as_slice());
            let cached = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
                .get(format!("{}{path}", app.base_url))
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(cached.status(), 304, "{path}");
        }

        // A release never changes: publishing more does not touch it, a second create
        // with its name is refused, and nothing is left half-written.
        fixtures::case(&app.db, NewCase::new("510104", at(2024, 6, 1, 0, 0, 0))).await;
        let (ok, _, stderr) = minyi(
            &app,
            &[
                "release",
                "create",
                "--name",
                "first",
                "--until",
                "2024-12-31",
                "--data-dir",
                &data_dir,
            ],
        );
        assert!(!ok);
        assert!(stderr.contains("release first already exists"), "{stderr}");
        let (_, again) = body_of(&app, "/releases/first/cases.csv").await;
        assert_eq!(
            hex::encode(Sha256::digest(&again)),
            first["cases.csv"].sha256
        );
        let entries: BTreeSet<String> = std::fs::read_dir(dir.path().join("releases"))
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            entries,
            BTreeSet::from(["first".to_string(), "second".to_string()])
        );
        let (ok, listed, _) = minyi(&app, &["release", "list", "--data-dir", &data_dir]);
        assert!(ok);
        assert!(
            listed.starts_with("first\t") && listed.contains("\nsecond\t"),
            "{listed}"
        );
        assert!(listed.contains("2 cases"), "{listed}");

        assert_eq!(body_of(&app, "/releases/third/cases.csv").await.0, 404);
        assert_eq!(body_of(&app, "/releases/first/secret.txt").await.0, 404);
        let _ = w;
    }
);

release_test!(
    a_missing_or_altered_release_file_is_an_error_never_a_silent_200,
    |app, dir| async move {
        world(&app).await;
        minyi::open_data::release::create(&app.db, dir.path(), "r1", at(2025, 1, 1, 0, 0, 0))
            .await
            .unwrap_or_else(|e| panic!("release create: {e}"));
        let release_dir = dir.path().join("releases/r1");
        // Served once intact, then altered in place (same size): 500, never the changed bytes.
        assert_eq!(body_of(&app, "/releases/r1/cases.csv").await.0, 200);
        let csv = release_dir.join("cases.csv");
        let mut bytes = std::fs::read(&csv).unwrap_or_else(|e| panic!("{e}"));
        let last = bytes.len() - 3;
        bytes[last] ^= 0x01;
        std::fs::write(&csv, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body_of(&app, "/releases/r1/cases.csv").await.0, 500);
        // Truncated or missing: 500 before any byte.
        let ndjson = release_dir.join("cases.ndjson");
        let mut bytes = std::fs::read(&ndjson).unwrap_or_else(|e| panic!("{e}"));
        bytes.pop();
        std::fs::write(&ndjson, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body_of(&app, "/releases/r1/cases.ndjson").await.0, 500);
        std::fs::remove_file(release_dir.join("dictionary.json")).unwrap_or_else(|e| panic!("{e}"));
        let (status, body) = body_of(&app, "/releases/r1/dictionary.json").await;
        assert_eq!(status, 500);
        let body: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body["error"]["code"], "INTERNAL");
    }
);

/// Every `@type` and property IRI of an expanded JSON-LD document, with the nodes by type.
fn walk(
    value: &Value,
    types: &mut BTreeMap<String, Vec<Value>>,
    properties: &mut BTreeSet<String>,
) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| walk(v, types, properties)),
        Value::Object(map) => {
            if let Some(Value::Array(ts)) = map.get("@type") {
                for t in ts.iter().filter_map(Value::as_str) {
                    types.entry(t.to_string()).or_default().push(value.clone());
                }
            }
            for (key, v) in map {
                if !key.starts_with('@') {
                    properties.insert(key.clone());
                }
                walk(v, types, properties);
            }
        }
        _ => {}
    }
}

/// Expands a JSON-LD document offline (no loader: every context must be inline).
async fn expand(text: &str) -> Value {
    use json_ld::syntax::{IntoJsonWithContext, Parse};
    use json_ld::JsonLdProcessor;
    let (document, _) = json_ld::syntax::Value::parse_str(text)
        .unwrap_or_else(|e| panic!("the catalog is not JSON: {e:?}"));
    let input = json_ld::RemoteDocument::<json_ld::IriBuf>::new(
        None,
        Some(
            "application/ld+json"
                .parse()
                .unwrap_or_else(|e| panic!("{e:?}")),
        ),
        document,
    );
    let expanded = input
        .expand(&json_ld::NoLoader)
        .await
        .unwrap_or_else(|e| panic!("the catalog does not expand as JSON-LD: {e:?}"));
    let objects: Vec<Value> = expanded
        .into_iter()
        .map(|object| {
            let json = object.into_json_with(&());
            serde_json::from_str(&json.to_string()).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    Value::Array(objects)
}

const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";

release_test!(
    the_catalog_expands_as_json_ld_into_dcat_datasets_distributions_and_services,
    |app, dir| async move {
        world(&app).await;
        let created =
            minyi::open_data::release::create(&app.db, dir.path(), "2024", at(2025, 1, 1, 0, 0, 0))
                .await
                .unwrap_or_else(|e| panic!("release create: {e}"));
        let response = app.get("/catalog.jsonld").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/ld+json");
        let etag = response.headers()["etag"]
            .to_str()
            .unwrap_or_default()
            .to_string();
        let text = response.text().await.unwrap_or_default();
        let expanded = expand(&text).await;
        let mut types = BTreeMap::new();
        let mut properties = BTreeSet::new();
        walk(&expanded, &mut types, &mut properties);
        let count = |t: &str| types.get(&format!("{DCAT}{t}")).map_or(0, Vec::len);
        assert_eq!(count("Catalog"), 1);
        assert_eq!(count("Dataset"), 2, "the live cases and the release");
        assert_eq!(
            count("Distribution"),
            6,
            "csv, ndjson, dictionary; and the release's three"
        );
        assert_eq!(count("DataService"), 2, "GraphQL and Open311");
        for property in [
            format!("{DCAT}dataset"),
            format!("{DCAT}distribution"),
            format!("{DCAT}mediaType"),
            format!("{DCAT}byteSize"),
            format!("{DCAT}downloadURL"),
            format!("{DCAT}endpointURL"),
            format!("{DCAT}servesDataset"),
            format!("{DCT}license"),
            format!("{DCT}publisher"),
            format!("{DCT}temporal"),
            format!("{DCT}spatial"),
            "http://spdx.org/rdf/terms#checksum".to_string(),
        ] {
            assert!(
                properties.contains(&property),
                "{property} is in the expanded catalog"
            );
        }
        // The release's CSV with its size and checksum, as recorded.
        let csv = created
            .files
            .iter()
            .find(|f| f.file_name == "cases.csv")
            .cloned()
            .unwrap_or_else(|| panic!("the release has a CSV"));
        let url = format!("{}/releases/2024/cases.csv", app.base_url);
        let distribution = types[&format!("{DCAT}Distribution")]
            .iter()
            .find(|d| d["@id"] == url.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{url} is a distribution"));
        assert_eq!(
            distribution[format!("{DCAT}byteSize")][0]["@value"],
            csv.bytes.to_string()
        );
        assert_eq!(
            distribution["http://spdx.org/rdf/terms#checksum"][0]
                ["http://spdx.org/rdf/terms#checksumValue"][0]["@value"],
            csv.sha256
        );
        assert_eq!(
            distribution[format!("{DCAT}mediaType")][0]["@id"],
            "https://www.iana.org/assignments/media-types/text/csv"
        );
        // Coverage from the published cases: Sichuan and Beijing, March 2024.
        let catalog = &types[&format!("{DCAT}Catalog")][0];
        let spatial: BTreeSet<String> = catalog[format!("{DCT}spatial")]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                s[format!("{DCT}identifier")][0]["@value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        assert_eq!(
            spatial,
            BTreeSet::from(["110000".to_string(), "510000".to_string()])
        );
        let temporal = &catalog[format!("{DCT}temporal")][0];
        assert_eq!(
            temporal[format!("{DCAT}startDate")][0]["@value"],
            "2024-03-01T01:30:00Z"
        );
        assert_eq!(
            temporal[format!("{DCAT}endDate")][0]["@value"],
            "2024-03-05T02:00:00Z"
        );

        let cached = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .get(format!("{}/catalog.jsonld", app.base_url))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cached.status(), 304);
    }
);
