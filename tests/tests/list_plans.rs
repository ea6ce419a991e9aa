//! The plans of the list statements: which index each database walks for a page of
//! cases. A page of 20 reads 21 index entries when the index holds only the cases the
//! caller may see in list order; through another index it steps over the others first.

use entities::case;
use entities::CaseStatus;
use migration::m20261127_000017_published_list_index::PUBLISHED_LIST_INDEX;
use minyi::auth::Principal;
use minyi::graphql::cases::{page_of, page_with};
use minyi::graphql::page_relations::Joined;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{db_test, TestApp};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, QueryTrait, Statement,
    TransactionTrait, Value,
};
use std::collections::BTreeSet;

/// Published and unpublished cases over three months, newest unpublished (as cases are
/// published once handled).
async fn cases_some_published(app: &TestApp) {
    for day in 1..=24u32 {
        let month = 1 + (day - 1) / 8;
        let published = day <= 16;
        fixtures::case(
            &app.db,
            NewCase::new("510104", at(2026, month, day, 2, 0, 0))
                .status(CaseStatus::Closed)
                .published(published),
        )
        .await;
    }
}

/// The indexes `statement`'s plan reads, by the names of the indexes of `cases` (on
/// PostgreSQL a partition's index is named after the partition: it is mapped to its
/// parent's name). On PostgreSQL sequential scans are off for the plan, since tables of a
/// few rows are cheaper to scan whatever the indexes: what is asked is which index fits.
async fn indexes_read(app: &TestApp, statement: Statement) -> BTreeSet<String> {
    let backend = app.db.get_database_backend();
    let explain = |prefix: &str| {
        Statement::from_sql_and_values(
            backend,
            format!("{prefix} {}", statement.sql),
            statement
                .values
                .iter()
                .flat_map(|v| v.0.iter().cloned())
                .collect::<Vec<Value>>(),
        )
    };
    match backend {
        DbBackend::Postgres => {
            let txn = app.db.begin().await.expect("a transaction");
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .expect("seqscan off");
            let lines: Vec<String> = txn
                .query_all_raw(explain("EXPLAIN"))
                .await
                .expect("explain")
                .into_iter()
                .map(|r| r.try_get::<String>("", "QUERY PLAN").expect("plan line"))
                .collect();
            let parents = txn
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT c.relname AS child, p.relname AS parent FROM pg_inherits i \
                     JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
                     WHERE p.relkind = 'I'",
                ))
                .await
                .expect("index parents");
            txn.rollback().await.expect("rollback");
            let parent_of: Vec<(String, String)> = parents
                .into_iter()
                .map(|r| {
                    (
                        r.try_get::<String>("", "child").expect("child"),
                        r.try_get::<String>("", "parent").expect("parent"),
                    )
                })
                .collect();
            lines
                .iter()
                .filter_map(|l| l.split(" using ").nth(1))
                .filter_map(|rest| rest.split_whitespace().next())
                .map(|index| {
                    parent_of
                        .iter()
                        .find(|(child, _)| child == index)
                        .map(|(_, parent)| parent.clone())
                        .unwrap_or_else(|| index.to_string())
                })
                .collect()
        }
        _ => app
            .db
            .query_all_raw(explain("EXPLAIN QUERY PLAN"))
            .await
            .expect("explain query plan")
            .into_iter()
            .map(|r| r.try_get::<String>("", "detail").expect("detail"))
            .filter_map(|d| d.split(" USING INDEX ").nth(1).map(str::to_string))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
            .collect(),
    }
}

/// The indexes the public's page of 20 (newest first) beyond `cursor` reads.
async fn public_page_reads(app: &TestApp, cursor: Condition) -> BTreeSet<String> {
    let page = public_page(app, cursor);
    indexes_read(app, page).await
}

/// The public's page of 20, newest first, beyond `cursor`: the resolver's statement.
fn public_page(app: &TestApp, cursor: Condition) -> Statement {
    page_of(
        app.db.get_database_backend(),
        Principal::public().case_visibility(),
        cursor,
        Order::Desc,
        21,
    )
}

db_test!(
    the_public_first_page_binds_nothing_so_postgresql_plans_it_once,
    |app| async move {
        cases_some_published(&app).await;
        let page = public_page(&app, Condition::all());
        assert!(
            page.values.as_ref().is_none_or(|v| v.0.is_empty()),
            "{page:?}"
        );
        assert!(page.sql.ends_with(" LIMIT 21"), "{}", page.sql);
        // One connection (a transaction) runs the page three times and reads its own
        // plan cache: the pool forces custom plans for statements with parameters, and
        // this one, having none, keeps its one generic plan.
        let txn = app.db.begin().await.expect("a transaction");
        for _ in 0..3 {
            let rows = case::Entity::find()
                .from_raw_sql(page.clone())
                .all(&txn)
                .await
                .expect("the public's first page");
            assert_eq!(rows.len(), 16, "the 16 published cases");
        }
        if app.db.get_database_backend() == DbBackend::Postgres {
            let mode = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT current_setting('plan_cache_mode') AS mode",
                ))
                .await
                .expect("the setting")
                .expect("a row");
            assert_eq!(
                mode.try_get::<String>("", "mode").expect("mode"),
                "force_custom_plan"
            );
            let plans = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
                     WHERE statement = $1",
                    [page.sql.clone().into()],
                ))
                .await
                .expect("the plan cache")
                .expect("the page is a prepared statement of this connection");
            assert_eq!(
                plans.try_get::<i64>("", "generic_plans").expect("generic"),
                3
            );
            assert_eq!(plans.try_get::<i64>("", "custom_plans").expect("custom"), 0);
        }
        txn.rollback().await.expect("rollback");
    }
);

db_test!(
    the_public_list_walks_the_index_of_published_cases_only,
    |app| async move {
        cases_some_published(&app).await;
        let only_the_public_index = BTreeSet::from([PUBLISHED_LIST_INDEX.to_string()]);
        assert_eq!(
            public_page_reads(&app, Condition::all()).await,
            only_the_public_index
        );
        // A next page (after a cursor) walks the same index from the cursor on.
        let cursor = at(2026, 2, 10, 2, 0, 0);
        let beyond = Condition::any()
            .add(case::Column::SubmittedAt.lt(cursor))
            .add(
                Condition::all()
                    .add(case::Column::SubmittedAt.eq(cursor))
                    .add(case::Column::Id.lt(9i64)),
            );
        assert_eq!(public_page_reads(&app, beyond).await, only_the_public_index);
        // The page as the resolver asks it when regions and departments are selected:
        // the cases by the same index, the joined rows by their keys.
        let joined = page_with(
            app.db.get_database_backend(),
            Principal::public().case_visibility(),
            Condition::all(),
            Order::Desc,
            21,
            Joined {
                regions: true,
                departments: true,
            },
        );
        let read = indexes_read(&app, joined).await;
        assert!(read.contains(PUBLISHED_LIST_INDEX), "{read:?}");
        assert!(
            read.iter()
                .all(|i| i == PUBLISHED_LIST_INDEX || !i.starts_with("idx_cases")),
            "no other index of cases: {read:?}"
        );
    }
);

/// On SQLite the export of every published case stays a scan of the table in id order:
/// the partial index (published cases in time order) would need a sort of all of them,
/// which the streamed export must not do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_published_cases_scans_the_table_in_id_order_on_sqlite() {
    let app = TestApp::spawn(minyi_tests::Backend::Sqlite).await;
    cases_some_published(&app).await;
    let export = minyi::open_data::export::rows::select(
        Condition::all().add(Principal::public().case_visibility()),
    )
    .build(DbBackend::Sqlite);
    let details: Vec<String> = app
        .db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", export.sql),
            export.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .expect("explain query plan")
        .into_iter()
        .map(|r| r.try_get::<String>("", "detail").expect("detail"))
        .collect();
    assert_eq!(
        details.first().map(String::as_str),
        Some("SCAN cases"),
        "{details:?}"
    );
    assert!(
        !details.iter().any(|d| d.contains("TEMP B-TREE")),
        "no sort: {details:?}"
    );
}

/// The key columns of the public's partial index, in order.
async fn public_index_keys(app: &TestApp) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => format!(
            "SELECT a.attname AS name FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             CROSS JOIN LATERAL unnest(i.indkey[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, n) \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE c.relname = '{PUBLISHED_LIST_INDEX}' ORDER BY k.n"
        ),
        _ => format!("SELECT name FROM pragma_index_info('{PUBLISHED_LIST_INDEX}') ORDER BY seqno"),
    };
    app.db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("the index's columns")
        .iter()
        .map(|row| row.try_get::<String>("", "name").expect("a column name"))
        .collect()
}

db_test!(
    the_public_index_is_keyed_by_submission_alone_on_postgresql_and_with_the_id_on_sqlite,
    |app| async move {
        // PostgreSQL counts 3/4 of the physical order of an index of several key columns:
        // keyed (submitted_at, id), the public's index looked dearer than the metrics
        // index keyed by submitted_at alone, and at 10M cases the page walked that one
        // over ~17,700 unpublished cases (migration 000021).
        let want = match app.db.get_database_backend() {
            DbBackend::Postgres => vec!["submitted_at"],
            _ => vec!["submitted_at", "id"],
        };
        assert_eq!(public_index_keys(&app).await, want);
    }
);
