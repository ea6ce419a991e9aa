//! The two readers of the bulk exports write the same bytes: the SQLite reader (its own
//! connection, rows borrowed from the statement) and the generic sea-orm reader it
//! replaced on SQLite, which PostgreSQL keeps. Citable releases depend on it: a file
//! written before the fast reader existed must be written again byte for byte.

use chrono::{DateTime, TimeDelta, Utc};
use entities::{case, CaseKind, CaseStatus, Channel, RatingLevel};
use minyi::open_data::export::encode::Format;
use minyi::open_data::export::pipeline::{write_all_with, ExportJob, Reader};
use minyi::open_data::export::{cli_condition, FilterArgs};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{db_test, Backend, TestApp};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

/// The ids of the cases the tests look at.
struct Ids {
    plain: i64,
    tricky: i64,
    overdue: i64,
    visible_repeat: i64,
    hidden_repeat: i64,
    unredacted: i64,
}

/// Cases covering every kind of exported column: integers, text with commas, quotes,
/// line breaks, tabs, backslashes and control characters, empty text and NULL text,
/// enums, timestamps whose China-time day, month and year differ from UTC's, fractions
/// of seconds, NULL timestamps, overdue true and false, ratings, a `repeat_of` of a
/// public and of a hidden case, coordinates, and a missing category and department.
async fn world(app: &TestApp) -> Ids {
    let db = &app.db;
    let department = fixtures::department(db, "锦江区住建局, \"一科\"", "510104", None).await;
    let category = fixtures::category(db, None).await;

    let plain = fixtures::case(db, NewCase::new("110101", at(2024, 3, 1, 1, 30, 0))).await;

    let mut tricky = NewCase::new("510104", at(2023, 12, 31, 16, 30, 0))
        .status(CaseStatus::Closed)
        .department(&department)
        .category(&category)
        .title("路灯, \"坏了\"\r\n第二行\t制表\\反斜杠\u{1}控制");
    tricky.body = "逗号,引号\"换行\n结束".to_string();
    tricky.channel = Channel::Wechat;
    tricky.kind = CaseKind::Suggestion;
    tricky.accepted_at = Some(at(2024, 2, 28, 16, 0, 0) + TimeDelta::microseconds(999_999));
    tricky.reply_due_at = Some(at(2024, 3, 10, 15, 59, 59) + TimeDelta::milliseconds(500));
    tricky.replied_at = Some(at(2024, 2, 29, 23, 59, 59));
    tricky.closed_at = Some(at(2024, 3, 31, 16, 0, 0));
    tricky.reply = Some(String::new());
    let tricky = fixtures::case(db, tricky).await;
    fixtures::rating(
        db,
        &tricky,
        RatingLevel::Dissatisfied,
        at(2024, 4, 1, 0, 0, 0),
    )
    .await;

    let mut overdue = NewCase::new("510104", at(2024, 3, 5, 2, 0, 0)).status(CaseStatus::Accepted);
    overdue.accepted_at = Some(at(2024, 3, 5, 3, 0, 0));
    overdue.reply_due_at = Some(at(2024, 3, 14, 15, 59, 59));
    overdue.channel = Channel::Hotline;
    overdue.kind = CaseKind::HelpRequest;
    let overdue = fixtures::case(db, overdue).await;

    let hidden = fixtures::case(
        db,
        NewCase::new("510104", at(2024, 3, 2, 0, 0, 0))
            .title("未公开的留言")
            .published(false),
    )
    .await;
    let visible_repeat = fixtures::case(db, NewCase::new("510104", at(2024, 3, 6, 0, 0, 0))).await;
    let hidden_repeat = fixtures::case(db, NewCase::new("510104", at(2024, 3, 7, 0, 0, 0))).await;
    let unredacted = fixtures::case(db, NewCase::new("440305", at(2024, 3, 8, 0, 0, 0))).await;
    let mut duplicate = NewCase::new("510104", at(2024, 3, 9, 0, 0, 0));
    duplicate.duplicate_of = Some(plain.id);
    fixtures::case(db, duplicate).await;

    let set = |id: i64, column: case::Column, value: Expr| async move {
        case::Entity::update_many()
            .col_expr(column, value)
            .filter(case::Column::Id.eq(id))
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("updating case {id}: {e}"));
    };
    set(
        visible_repeat.id,
        case::Column::RepeatOf,
        Expr::value(plain.id),
    )
    .await;
    set(
        hidden_repeat.id,
        case::Column::RepeatOf,
        Expr::value(hidden.id),
    )
    .await;
    set(
        tricky.id,
        case::Column::Latitude,
        Expr::value(30.657_49_f64),
    )
    .await;
    set(
        tricky.id,
        case::Column::Longitude,
        Expr::value(104.063_21_f64),
    )
    .await;
    set(plain.id, case::Column::Latitude, Expr::value(-0.000_4_f64)).await;
    set(plain.id, case::Column::Longitude, Expr::value(116.0_f64)).await;
    set(
        unredacted.id,
        case::Column::PublicTitle,
        Expr::value(Option::<String>::None),
    )
    .await;
    set(
        unredacted.id,
        case::Column::PublicBody,
        Expr::value(Option::<String>::None),
    )
    .await;
    if app.backend == Backend::Sqlite {
        // A timestamp in SQLite's own spelling (what a hand-written UPDATE leaves): the
        // fast reader must read it as sqlx does.
        db.execute_unprepared(&format!(
            "UPDATE cases SET replied_at = '2024-03-09 17:00:00' WHERE id = {}",
            overdue.id
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    }
    Ids {
        plain: plain.id,
        tricky: tricky.id,
        overdue: overdue.id,
        visible_repeat: visible_repeat.id,
        hidden_repeat: hidden_repeat.id,
        unredacted: unredacted.id,
    }
}

fn as_of() -> DateTime<Utc> {
    at(2024, 3, 20, 0, 0, 0)
}

async fn export(
    app: &TestApp,
    reader: Reader,
    format: Format,
    bom: bool,
    filter: &FilterArgs,
) -> Vec<u8> {
    let condition = cli_condition(&app.db, filter, as_of())
        .await
        .unwrap_or_else(|e| panic!("{filter:?}: {e}"));
    let job = ExportJob {
        condition,
        format,
        bom,
        as_of: as_of(),
    };
    let mut out = Vec::new();
    write_all_with(&app.db, reader, job, &mut out)
        .await
        .unwrap_or_else(|e| panic!("export with {filter:?}: {e}"));
    out
}

fn csv_records(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{e}"));
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

db_test!(
    sqlite_exports_use_their_own_reader_and_postgres_the_generic_one,
    |app| async move {
        let reader = Reader::for_database(&app.db);
        match app.backend {
            Backend::Sqlite => assert!(matches!(reader, Reader::SqliteFile(_)), "{reader:?}"),
            Backend::Postgres => assert!(matches!(reader, Reader::Generic), "{reader:?}"),
        }
    }
);

db_test!(
    both_readers_write_the_same_bytes_for_every_format_and_filter,
    |app| async move {
        let ids = world(&app).await;
        let fast = Reader::for_database(&app.db);
        let filters = [
            FilterArgs::default(),
            FilterArgs {
                region_code: Some("510000".to_string()),
                submitted_from: Some("2024-01-01".to_string()),
                submitted_to: Some("2024-03-07T00:00:00Z".to_string()),
                ..Default::default()
            },
            FilterArgs {
                overdue: Some("false".to_string()),
                channel: Some("WEBSITE".to_string()),
                ..Default::default()
            },
            FilterArgs {
                overdue: Some("true".to_string()),
                ..Default::default()
            },
            FilterArgs {
                search: Some("路灯".to_string()),
                status: Some("CLOSED".to_string()),
                ..Default::default()
            },
        ];
        for filter in &filters {
            for (format, bom) in [
                (Format::Csv, false),
                (Format::Csv, true),
                (Format::Ndjson, false),
            ] {
                let generic = export(&app, Reader::Generic, format, bom, filter).await;
                let chosen = export(&app, fast.clone(), format, bom, filter).await;
                assert_eq!(
                    String::from_utf8_lossy(&chosen),
                    String::from_utf8_lossy(&generic),
                    "{format:?}, bom {bom}, {filter:?}"
                );
                assert_eq!(chosen, generic, "{format:?}, bom {bom}, {filter:?}");
            }
        }

        let ids_of = |bytes: &[u8]| -> Vec<i64> {
            csv_records(bytes)
                .iter()
                .map(|r| r["case_id"].parse().unwrap_or_else(|e| panic!("{e}")))
                .collect()
        };
        let all = export(&app, fast.clone(), Format::Csv, false, &filters[0]).await;
        assert_eq!(
            ids_of(&all),
            vec![
                ids.plain,
                ids.tricky,
                ids.overdue,
                ids.visible_repeat,
                ids.hidden_repeat,
                ids.unredacted
            ]
        );
        let sichuan = export(&app, fast.clone(), Format::Csv, false, &filters[1]).await;
        assert_eq!(
            ids_of(&sichuan),
            vec![ids.tricky, ids.overdue, ids.visible_repeat]
        );
        let late = export(&app, fast.clone(), Format::Csv, false, &filters[3]).await;
        assert_eq!(ids_of(&late), vec![ids.overdue]);
        let found = export(&app, fast.clone(), Format::Csv, false, &filters[4]).await;
        assert_eq!(ids_of(&found), vec![ids.tricky]);

        let with_bom = export(&app, fast.clone(), Format::Csv, true, &filters[0]).await;
        assert_eq!(&with_bom[..3], b"\xEF\xBB\xBF");
        assert_eq!(&with_bom[3..], all.as_slice());
    }
);

db_test!(
    the_fast_reader_spells_every_column_kind_exactly,
    |app| async move {
        let ids = world(&app).await;
        let fast = Reader::for_database(&app.db);
        let csv = export(
            &app,
            fast.clone(),
            Format::Csv,
            false,
            &FilterArgs::default(),
        )
        .await;
        let rows: BTreeMap<i64, BTreeMap<String, String>> = csv_records(&csv)
            .into_iter()
            .map(|r| (r["case_id"].parse().unwrap_or(0), r))
            .collect();
        let tricky = &rows[&ids.tricky];
        let want = [
            ("title", "路灯, \"坏了\"\r\n第二行\t制表\\反斜杠\u{1}控制"),
            ("body", "逗号,引号\"换行\n结束"),
            ("reply", ""),
            ("channel", "WECHAT"),
            ("kind", "SUGGESTION"),
            ("department_name", "锦江区住建局, \"一科\""),
            ("status", "CLOSED"),
            ("submitted_at", "2024-01-01T00:30:00+08:00"),
            ("accepted_at", "2024-02-29T00:00:00+08:00"),
            ("reply_due_at", "2024-03-10T23:59:59+08:00"),
            ("replied_at", "2024-03-01T07:59:59+08:00"),
            ("closed_at", "2024-04-01T00:00:00+08:00"),
            ("overdue", "false"),
            ("rating_level", "DISSATISFIED"),
            ("repeat_of", ""),
            ("latitude", "30.657"),
            ("longitude", "104.063"),
        ];
        for (column, value) in want {
            assert_eq!(tricky[column], value, "column {column}");
        }
        let plain = &rows[&ids.plain];
        assert_eq!(plain["latitude"], "-0.000");
        assert_eq!(plain["longitude"], "116.000");
        assert_eq!(plain["category_code"], "");
        assert_eq!(plain["department_id"], "");
        assert_eq!(plain["accepted_at"], "");
        assert_eq!(rows[&ids.overdue]["overdue"], "true");
        assert_eq!(
            rows[&ids.visible_repeat]["repeat_of"],
            ids.plain.to_string()
        );
        assert_eq!(
            rows[&ids.hidden_repeat]["repeat_of"], "",
            "a hidden earlier case is not named"
        );
        if app.backend == Backend::Sqlite {
            assert_eq!(
                rows[&ids.overdue]["replied_at"],
                "2024-03-10T01:00:00+08:00"
            );
        }

        let ndjson = export(&app, fast, Format::Ndjson, false, &FilterArgs::default()).await;
        let lines: Vec<serde_json::Value> = String::from_utf8(ndjson)
            .unwrap_or_else(|e| panic!("{e}"))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect();
        let unredacted = lines
            .iter()
            .find(|l| l["case_id"] == ids.unredacted)
            .unwrap_or_else(|| panic!("case {} exported", ids.unredacted));
        assert_eq!(
            unredacted["title"],
            serde_json::Value::Null,
            "NULL stays null in NDJSON"
        );
        assert_eq!(unredacted["region_name"], "南山区");
        let tricky = lines
            .iter()
            .find(|l| l["case_id"] == ids.tricky)
            .unwrap_or_else(|| panic!("case {} exported", ids.tricky));
        assert_eq!(tricky["reply"], "", "empty text stays empty in NDJSON");
        assert_eq!(
            tricky["title"],
            "路灯, \"坏了\"\r\n第二行\t制表\\反斜杠\u{1}控制"
        );
    }
);
