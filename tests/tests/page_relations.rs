//! A page of cases brings its regions and departments along in its own statement
//! (`minyi::graphql::page_relations`): the public's list of cases with their region and
//! department is one statement, and every case still gets its own region and department
//! (or none).

use chrono::{Duration, Utc};
use entities::CaseStatus;
use minyi_tests::fixtures::{self, NewCase};
use minyi_tests::{data, db_test, TestApp};
use serde_json::{json, Value};

/// Six published cases of the last hours in three districts of Chengdu, every other one
/// handled by one of two departments; returns `(region name, department name)` per case,
/// newest first.
async fn published_cases(app: &TestApp) -> Vec<(String, Option<String>)> {
    let db = &app.db;
    let departments = [
        fixtures::department(db, "锦江区住建局", "510104", None).await,
        fixtures::department(db, "青羊区城管局", "510105", None).await,
    ];
    let regions = [
        ("510104", "锦江区"),
        ("510105", "青羊区"),
        ("510106", "金牛区"),
    ];
    let now = Utc::now();
    let mut made = Vec::new();
    for i in 0..6usize {
        let (code, name) = regions[i % regions.len()];
        let mut new = NewCase::new(code, now - Duration::minutes(10 * (i as i64 + 1)))
            .status(CaseStatus::Closed)
            .published(true);
        let department = (i % 2 == 0).then(|| &departments[(i / 2) % departments.len()]);
        if let Some(d) = department {
            new = new.department(d);
        }
        fixtures::case(db, new).await;
        made.push((name.to_string(), department.map(|d| d.name.clone())));
    }
    made
}

fn names(nodes: &Value) -> Vec<(String, Option<String>)> {
    nodes
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["region"]["name"].as_str().expect("a region").to_string(),
                n["department"]["name"].as_str().map(str::to_string),
            )
        })
        .collect()
}

db_test!(
    a_page_of_cases_with_their_regions_and_departments_is_one_statement,
    |app| async move {
        let want = published_cases(&app).await;
        let query = "query($n: Int) { cases(first: $n) { nodes { id region { name } department { name } } } }";
        for n in [2usize, 5] {
            let before = app.statements().await;
            let resp = app.graphql(query, json!({ "n": n })).await;
            let after = app.statements().await;
            assert_eq!(names(&data(&resp)["cases"]["nodes"]), want[..n].to_vec());
            assert_eq!(after - before, 1, "the page of {n} is one statement");
        }
        // Through edges too, and both at once share the joined rows. (A page of all 6
        // would be two statements on PostgreSQL: the newest months' probe cannot tell
        // whether older cases follow.)
        let both = "{ cases(first: 5) { edges { node { region { name } department { name } } } \
                    nodes { region { name } department { name } } } }";
        let before = app.statements().await;
        let resp = app.graphql(both, json!({})).await;
        let after = app.statements().await;
        let page = &data(&resp)["cases"];
        let edges: Vec<Value> = page["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"].clone())
            .collect();
        assert_eq!(names(&Value::Array(edges)), want[..5].to_vec());
        assert_eq!(names(&page["nodes"]), want[..5].to_vec());
        assert_eq!(after - before, 1);
    }
);
