//! Monthly partitions of `cases` and `case_events` on PostgreSQL (migration 000008):
//! the tables are partitioned with a DEFAULT partition and the coming year's months,
//! every partition carries the parent's indexes, rows land in their month, the unique
//! keys stay unique across months, `ensure_partitions` creates missing months (moving
//! waiting rows out of DEFAULT), and a one-month window reads one partition.

use chrono::{DateTime, Datelike, Months, Utc};
use entities::case;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, street_light_complaint, Backend, TestApp};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, SqlErr, Statement};
use serde_json::json;

async fn app() -> TestApp {
    TestApp::spawn(Backend::Postgres).await
}

async fn strings(app: &TestApp, sql: &str) -> Vec<String> {
    app.db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| {
            r.try_get::<String>("", "v")
                .unwrap_or_else(|e| panic!("{sql}: column v: {e}"))
        })
        .collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get::<i64>("", "n")
        .unwrap_or_else(|e| panic!("{sql}: column n: {e}"))
}

/// The lines of an `EXPLAIN`.
async fn plan(app: &TestApp, sql: &str) -> Vec<String> {
    app.db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|r| {
            r.try_get::<String>("", "QUERY PLAN")
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .collect()
}

/// The partitions of `table`, by name.
async fn partitions(app: &TestApp, table: &str) -> Vec<String> {
    strings(
        app,
        &format!(
            "SELECT c.relname::text AS v FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = '{table}'::regclass ORDER BY 1"
        ),
    )
    .await
}

/// `name: columns [INCLUDE …] [WHERE …]` of every index of `relation`, with the table's
/// name taken out, sorted by the parent index it belongs to.
async fn index_shapes(app: &TestApp, relation: &str, parent: &str) -> Vec<String> {
    strings(
        app,
        &format!(
            "SELECT COALESCE(p.relname, i.relname)::text || ': ' || \
             split_part(pg_get_indexdef(i.oid), ' USING ', 2) AS v \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             LEFT JOIN pg_inherits h ON h.inhrelid = i.oid \
             LEFT JOIN pg_class p ON p.oid = h.inhparent \
             WHERE x.indrelid = '{relation}'::regclass ORDER BY 1"
        ),
    )
    .await
    .into_iter()
    .map(|s| s.replace(relation, parent))
    .collect()
}

fn month_name(table: &str, t: DateTime<Utc>) -> String {
    let month = migration::partitioning::month_of(t);
    format!("{table}_p{:04}_{:02}", month.year(), month.month())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_and_events_are_partitioned_by_month_with_a_default_on_postgres() {
    let app = app().await;
    for (table, key) in [("cases", "submitted_at"), ("case_events", "at")] {
        let strategy = strings(
            &app,
            &format!(
                "SELECT p.partstrat::text || ' ' || pg_get_partkeydef(p.partrelid) AS v \
                 FROM pg_partitioned_table p WHERE p.partrelid = '{table}'::regclass"
            ),
        )
        .await;
        assert_eq!(strategy, [format!("r RANGE ({key})")], "{table}");
        let names = partitions(&app, table).await;
        let now = Utc::now();
        for months in 0..=12 {
            let month = now
                .checked_add_months(Months::new(months))
                .expect("a later month");
            assert!(
                names.contains(&month_name(table, month)),
                "{table} has a partition {months} months ahead: {names:?}"
            );
        }
        assert!(
            names.contains(&month_name(
                table,
                now.checked_sub_months(Months::new(1)).expect("last month")
            )),
            "{table} keeps last month: {names:?}"
        );
        assert!(names.contains(&format!("{table}_default")), "{names:?}");
        let primary = strings(
            &app,
            &format!(
                "SELECT pg_get_constraintdef(oid) AS v FROM pg_constraint \
                 WHERE conrelid = '{table}'::regclass AND contype = 'p'"
            ),
        )
        .await;
        assert_eq!(primary, [format!("PRIMARY KEY (id, {key})")]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_partition_has_the_indexes_of_its_parent_on_postgres() {
    let app = app().await;
    for table in ["cases", "case_events"] {
        let parent = index_shapes(&app, table, table).await;
        // cases: 18 since migration 000015 replaced the two deadline indexes by one on
        // an expression (keyed by province first since 000022), which every partition
        // must have too.
        assert!(
            parent.len() >= if table == "cases" { 18 } else { 3 },
            "{table}: {parent:?}"
        );
        if table == "cases" {
            assert!(
                parent.iter().any(|shape| shape.starts_with(
                    "idx_cases_rollup_ahead: btree (province_code, GREATEST(first_reply_due_at, reply_due_at))"
                )),
                "{parent:?}"
            );
        }
        for partition in partitions(&app, table).await {
            assert_eq!(
                index_shapes(&app, &partition, table).await,
                parent,
                "{partition} has the indexes of {table}"
            );
        }
    }
    let lookups = strings(
        &app,
        "SELECT indexname::text AS v FROM pg_indexes WHERE tablename = 'cases' \
         AND indexname IN ('idx_cases_tracking_number', 'idx_cases_idempotency_key', 'idx_cases_external_id') \
         ORDER BY 1",
    )
    .await;
    assert_eq!(
        lookups,
        [
            "idx_cases_external_id",
            "idx_cases_idempotency_key",
            "idx_cases_tracking_number"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_case_and_its_event_land_in_this_months_partitions_on_postgres() {
    let app = app().await;
    let key = app.admin_key().await;
    let resp = app
        .graphql_as(
            Some(&key),
            "mutation($input: SubmitCaseInput!) { submitCase(input: $input, idempotencyKey: \"k-1\") { case { id } } }",
            json!({ "input": street_light_complaint("路灯不亮", "13800000000") }),
        )
        .await;
    let id = data(&resp)["submitCase"]["case"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let now = Utc::now();
    assert_eq!(
        strings(
            &app,
            &format!("SELECT tableoid::regclass::text AS v FROM cases WHERE id = {id}")
        )
        .await,
        [month_name("cases", now)]
    );
    assert_eq!(
        strings(
            &app,
            &format!("SELECT DISTINCT tableoid::regclass::text AS v FROM case_events WHERE case_id = {id}")
        )
        .await,
        [month_name("case_events", now)]
    );
    // Its tracking number and (caller-scoped) idempotency key are claimed in case_keys.
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) AS n FROM case_keys WHERE case_id = {id}")
        )
        .await,
        2
    );
}

/// A case with `external_id` and `idempotency_key` set, inserted like a writer does.
async fn insert_keyed(
    app: &TestApp,
    submitted_at: DateTime<Utc>,
    tracking: &str,
    key: &str,
    external: &str,
) -> Result<case::Model, DbErr> {
    let row = fixtures::case(&app.db, NewCase::new("510104", submitted_at)).await;
    let sql = format!(
        "INSERT INTO cases (tracking_number, title, body, channel, kind, region_code, province_code, \
         status, submitted_at, published, supervised, reopen_count, version, updated_at, \
         idempotency_key, external_id) \
         SELECT '{tracking}', title, body, channel, kind, region_code, province_code, status, \
         submitted_at, published, supervised, reopen_count, version, updated_at, '{key}', '{external}' \
         FROM cases WHERE id = {}",
        row.id
    );
    app.db
        .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?;
    Ok(row)
}

fn is_unique_violation(result: Result<case::Model, DbErr>) -> bool {
    matches!(
        result.as_ref().map_err(|e| e.sql_err()),
        Err(Some(SqlErr::UniqueConstraintViolation(_)))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_in_one_month_is_refused_in_another_on_postgres() {
    let app = app().await;
    let (january, june) = (at(2026, 1, 15, 2, 0, 0), at(2026, 6, 15, 2, 0, 0));
    insert_keyed(&app, january, "TRK-1", "key-1", "ext-1")
        .await
        .expect("the first case with these keys is stored");
    assert!(
        is_unique_violation(insert_keyed(&app, june, "TRK-2", "key-1", "ext-2").await),
        "a repeated idempotency key is refused"
    );
    assert!(
        is_unique_violation(insert_keyed(&app, june, "TRK-3", "key-3", "ext-1").await),
        "a repeated external id is refused"
    );
    assert!(
        is_unique_violation(insert_keyed(&app, june, "TRK-1", "key-4", "ext-4").await),
        "a repeated tracking number is refused"
    );
    // An UPDATE that would repeat a key is refused too, and one that frees a key frees it.
    let err = app
        .db
        .execute_unprepared("UPDATE cases SET external_id = 'ext-1' WHERE external_id IS NULL")
        .await
        .expect_err("an update repeating a key is refused");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err}"
    );
    app.db
        .execute_unprepared("UPDATE cases SET external_id = 'ext-1b' WHERE external_id = 'ext-1'")
        .await
        .expect("renaming a key");
    insert_keyed(&app, june, "TRK-5", "key-5", "ext-1")
        .await
        .expect("the freed external id is free");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM case_keys WHERE kind = 'external_id'"
        )
        .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_partitions_creates_missing_months_and_moves_waiting_rows_on_postgres() {
    let app = app().await;
    let far = at(2031, 3, 10, 4, 0, 0);
    let row = fixtures::case(&app.db, NewCase::new("510104", far)).await;
    fixtures::event(
        &app.db,
        &row,
        entities::CaseAction::Submit,
        None,
        Some(entities::CaseStatus::Submitted),
        far,
    )
    .await;
    let where_it_is = format!(
        "SELECT tableoid::regclass::text AS v FROM cases WHERE id = {}",
        row.id
    );
    assert_eq!(strings(&app, &where_it_is).await, ["cases_default"]);
    let keys_before = count(&app, "SELECT COUNT(*) AS n FROM case_keys").await;

    let created = minyi::partitions::ensure_partitions(&app.db, at(2031, 2, 20, 0, 0, 0), far)
        .await
        .expect("partitions are created");
    assert_eq!(created, 4, "February and March of both tables");
    assert_eq!(strings(&app, &where_it_is).await, ["cases_p2031_03"]);
    assert_eq!(
        strings(
            &app,
            &format!(
                "SELECT tableoid::regclass::text AS v FROM case_events WHERE case_id = {}",
                row.id
            )
        )
        .await,
        ["case_events_p2031_03"]
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM cases_default").await,
        0
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) AS n FROM case_keys").await,
        keys_before,
        "moving rows keeps their keys"
    );
    assert_eq!(
        index_shapes(&app, "cases_p2031_03", "cases").await,
        index_shapes(&app, "cases", "cases").await,
        "the attached partition has every index"
    );
    let again = minyi::partitions::ensure_partitions(&app.db, at(2031, 2, 20, 0, 0, 0), far)
        .await
        .expect("nothing to do");
    assert_eq!(again, 0);
    let ahead = minyi::partitions::ensure_partitions_job(&app.db, Utc::now())
        .await
        .expect("the job's call");
    assert_eq!(ahead, 0, "startup already created the coming year");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_month_window_scans_only_that_months_partition_on_postgres() {
    let app = app().await;
    minyi::partitions::ensure_partitions(
        &app.db,
        at(2026, 1, 10, 0, 0, 0),
        at(2026, 3, 10, 0, 0, 0),
    )
    .await
    .expect("January to March have partitions");
    for month in [1, 2, 3] {
        fixtures::case(
            &app.db,
            NewCase::new("510104", at(2026, month, 10, 2, 0, 0)),
        )
        .await;
    }
    app.db
        .execute_unprepared("ANALYZE cases")
        .await
        .expect("analyze");
    let plan = plan(
        &app,
        "EXPLAIN SELECT COUNT(*) AS n FROM cases WHERE province_code = '510000' \
         AND submitted_at >= '2026-02-01 00:00:00+08' AND submitted_at < '2026-03-01 00:00:00+08'",
    )
    .await
    .join("\n");
    let scanned: Vec<&str> = plan
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| w.starts_with("cases_p") || *w == "cases_default")
        .collect();
    assert_eq!(scanned, ["cases_p2026_02"], "{plan}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM cases WHERE province_code = '510000' \
             AND submitted_at >= '2026-02-01 00:00:00+08' AND submitted_at < '2026-03-01 00:00:00+08'"
        )
        .await,
        1
    );
}
