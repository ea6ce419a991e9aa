//! Helpers shared by the workflow tests: staff keys, submissions, reading rows back.

use chrono::{DateTime, Utc};
use entities::{case, case_event, Role};
use minyi::keys::KeyGrant;
use minyi_tests::fixtures;
use minyi_tests::{data, TestApp};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

pub const CASE_FIELDS: &str = "id trackingNumber status reopenCount replyDueAt acceptedAt \
    submittedAt respondDueAt supervised duplicateOf department { id } rating { level }";

/// Keys of the roles that walk a case, scoped to Chengdu and one of its departments.
pub struct Staff {
    pub admin: String,
    pub leader: String,
    pub handler: String,
    pub department: i32,
    pub other_department: i32,
}

pub async fn staff(app: &TestApp) -> Staff {
    let dept = fixtures::department(&app.db, "成都市住房和城乡建设局", "510100", None).await;
    let other = fixtures::department(&app.db, "成都市交通运输局", "510100", None).await;
    let grant = |role, region: Option<&str>, department: Option<i32>| KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: department,
        panel_id: None,
        label: None,
    };
    Staff {
        admin: app.create_key(grant(Role::Admin, None, None)).await,
        leader: app
            .create_key(grant(Role::Leader, Some("510100"), None))
            .await,
        handler: app
            .create_key(grant(Role::Handler, None, Some(dept.id)))
            .await,
        department: dept.id,
        other_department: other.id,
    }
}

/// Runs a mutation on a case and returns its `Case`, panicking on any error.
pub async fn act(app: &TestApp, key: Option<&str>, call: &str, vars: Value) -> Value {
    let query = format!("mutation($id: ID!) {{ {call} {{ {CASE_FIELDS} }} }}");
    let resp = app.graphql_as(key, &query, vars).await;
    let name = call.split('(').next().unwrap_or(call);
    data(&resp)[name].clone()
}

pub const SUBMIT: &str = "mutation($input: SubmitCaseInput!, $key: String) { \
    submitCase(input: $input, idempotencyKey: $key) { case { id trackingNumber status submittedAt respondDueAt } ratingToken replayed } }";

pub fn submission(title: &str, phone: &str) -> Value {
    json!({
        "title": title,
        "body": "小区门口的路灯坏了一周，晚上出行很不安全。",
        "channel": "WEBSITE",
        "kind": "COMPLAINT",
        "categoryId": null,
        "regionCode": "510104",
        "citizen": { "name": "张三", "phone": phone, "idNumber": null }
    })
}

pub fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not an RFC 3339 instant: {v}"))
}

pub async fn events_of(app: &TestApp, id: i64) -> Vec<case_event::Model> {
    let mut rows = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(id))
        .all(&app.db)
        .await
        .expect("reading events");
    rows.sort_by_key(|e| e.id);
    rows
}

pub async fn row(app: &TestApp, id: i64) -> case::Model {
    case::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("read")
        .expect("the case exists")
}

pub fn id_of(case: &Value) -> i64 {
    case["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id: {case}"))
}

/// A case in progress with the given staff, for the concurrency tests.
pub async fn in_progress(app: &TestApp, s: &Staff, title: &str) -> Value {
    let resp = app
        .graphql(SUBMIT, json!({ "input": submission(title, "13900000005") }))
        .await;
    let vars = json!({ "id": data(&resp)["submitCase"]["case"]["id"] });
    act(app, Some(&s.leader), "acceptCase(id: $id)", vars.clone()).await;
    act(
        app,
        Some(&s.leader),
        &format!("assignCase(id: $id, departmentId: \"{}\")", s.department),
        vars.clone(),
    )
    .await;
    act(app, Some(&s.handler), "claimCase(id: $id)", vars.clone()).await;
    vars
}

pub const REPLY: &str = "mutation($id: ID!, $v: Int) { replyCase(id: $id, reply: \"答复\", expectedVersion: $v) { id status } }";
