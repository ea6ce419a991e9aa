//! The authorization matrix: every role (in and out of scope) × every mutation and the
//! `case` query, each on a fresh case in the status the operation needs, so that the
//! only thing deciding the outcome is who asks. See docs/WORKFLOW.md for the rule:
//! UNAUTHENTICATED (no key, keyed-only operation) → FORBIDDEN (role never may) →
//! NOT_FOUND (outside scope) → the operation's own checks.

use chrono::TimeDelta;
use entities::{case, deadline_policy, department, CaseStatus, Role};
use minyi::keys::{create_key, KeyGrant};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{db_test, errors_code, TestApp};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{json, Value};

/// Who asks, in the column order of [`MATRIX`].
const WHO: [&str; 7] = [
    "public",
    "leader in",
    "leader out",
    "handler in",
    "handler out",
    "evaluator",
    "admin",
];

const OK: &str = "OK";
const UN: &str = "UNAUTHENTICATED";
const FB: &str = "FORBIDDEN";
const NF: &str = "NOT_FOUND";

/// Operation → expected outcome for each caller of [`WHO`].
const MATRIX: [(&str, [&str; 7]); 25] = [
    ("submitCase", [OK, OK, OK, OK, OK, FB, OK]),
    ("acceptCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("rejectCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("assignCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("transferCase", [UN, OK, NF, OK, NF, FB, OK]),
    ("claimCase", [UN, FB, FB, OK, NF, FB, OK]),
    ("respondCase", [UN, FB, FB, OK, NF, FB, OK]),
    ("remindCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("extendDeadline", [UN, OK, NF, FB, FB, FB, OK]),
    ("replyCase", [UN, FB, FB, OK, NF, FB, OK]),
    ("closeCase", [UN, OK, NF, OK, NF, FB, OK]),
    // Without the citizen's token: only admins; a caller who sees the case is refused.
    ("rateCase", [NF, FB, NF, FB, NF, FB, OK]),
    ("reopenCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("superviseCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("mergeDuplicate", [UN, OK, NF, FB, FB, FB, OK]),
    ("archiveCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("publishCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("unpublishCase", [UN, OK, NF, FB, FB, FB, OK]),
    ("case", [NF, OK, NF, OK, NF, NF, OK]),
    ("createDepartment", [UN, FB, FB, FB, FB, FB, OK]),
    ("updateDepartment", [UN, FB, FB, FB, FB, FB, OK]),
    ("setDeadlinePolicy", [UN, FB, FB, FB, FB, FB, OK]),
    ("deleteDeadlinePolicy", [UN, FB, FB, FB, FB, FB, OK]),
    ("createApiKey", [UN, FB, FB, FB, FB, FB, OK]),
    ("revokeApiKey", [UN, FB, FB, FB, FB, FB, OK]),
];

struct World {
    keys: Vec<Option<String>>,
    /// The department of the in-scope handler, in Chengdu.
    home: department::Model,
    /// Another Chengdu department, for transfers.
    neighbour: department::Model,
}

fn grant(
    role: Role,
    region: Option<&str>,
    department: Option<i32>,
    panel: Option<i32>,
) -> KeyGrant {
    KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: department,
        panel_id: panel,
        label: None,
    }
}

async fn world(app: &TestApp) -> World {
    let home = fixtures::department(&app.db, "成都市城管委", "510100", None).await;
    let neighbour = fixtures::department(&app.db, "成都市水务局", "510100", None).await;
    let away = fixtures::department(&app.db, "绵阳市城管局", "510700", None).await;
    // An evaluator's key belongs to an existing panel.
    let admin = app.create_key(grant(Role::Admin, None, None, None)).await;
    let panel = app
        .graphql_as(
            Some(&admin),
            "mutation($input: CreateEvaluationPanelInput!) { createEvaluationPanel(input: $input) { id } }",
            serde_json::json!({ "input": {
                "name": "2026年第一季度第三方评价", "periodFrom": "2026-01-01T00:00:00Z",
                "periodTo": "2026-04-01T00:00:00Z", "scaleMin": 1, "scaleMax": 5,
                "criteria": [{ "name": "办理结果", "weight": 1.0 }],
                "experts": 1, "cadres": 1, "citizenRepresentatives": 0,
                "sampleSize": 4, "minPerDepartment": 1
            } }),
        )
        .await;
    let panel_id: i32 = minyi_tests::data(&panel)["createEvaluationPanel"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("creating a panel: {panel}"));
    let keys = vec![
        None,
        Some(
            app.create_key(grant(Role::Leader, Some("510100"), None, None))
                .await,
        ),
        Some(
            app.create_key(grant(Role::Leader, Some("510700"), None, None))
                .await,
        ),
        Some(
            app.create_key(grant(Role::Handler, None, Some(home.id), None))
                .await,
        ),
        Some(
            app.create_key(grant(Role::Handler, None, Some(away.id), None))
                .await,
        ),
        Some(
            app.create_key(grant(Role::Evaluator, None, None, Some(panel_id)))
                .await,
        ),
        Some(admin),
    ];
    World {
        keys,
        home,
        neighbour,
    }
}

/// A fresh unpublished case in Jinjiang (Chengdu) in `status`, with the home department
/// from assignment on.
async fn case_in(app: &TestApp, w: &World, status: CaseStatus) -> case::Model {
    let mut new = NewCase::new("510104", at(2026, 3, 2, 2, 0, 0))
        .status(status)
        .published(false);
    if !matches!(status, CaseStatus::Submitted | CaseStatus::Accepted) {
        new = new.department(&w.home);
    }
    if status != CaseStatus::Submitted {
        new.accepted_at = Some(new.submitted_at);
        new.reply_due_at = Some(new.submitted_at + TimeDelta::days(30));
    }
    fixtures::case(&app.db, new).await
}

/// The operation's document and variables, on fresh rows it may consume.
async fn prepare(app: &TestApp, w: &World, op: &str) -> (String, Value) {
    use CaseStatus::*;
    let on = |status| async move { json!({ "id": case_in(app, w, status).await.id.to_string() }) };
    let case_op = |call: &str| format!("mutation($id: ID!) {{ {call} {{ id }} }}");
    match op {
        "submitCase" => (
            "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { case { id } } }".into(),
            json!({ "i": { "title": "t", "body": "b", "channel": "APP", "kind": "HELP_REQUEST",
                "regionCode": "510104", "citizen": { "name": "王五" } } }),
        ),
        "acceptCase" => (case_op("acceptCase(id: $id)"), on(Submitted).await),
        "rejectCase" => (case_op("rejectCase(id: $id, reason: \"不属受理范围\")"), on(Submitted).await),
        "assignCase" => (case_op(&format!("assignCase(id: $id, departmentId: \"{}\")", w.home.id)), on(Accepted).await),
        "transferCase" => (
            case_op(&format!("transferCase(id: $id, departmentId: \"{}\", reason: \"职责\")", w.neighbour.id)),
            on(Assigned).await,
        ),
        "claimCase" => (case_op("claimCase(id: $id)"), on(Assigned).await),
        "respondCase" => (case_op("respondCase(id: $id, note: \"已电话联系\")"), on(InProgress).await),
        "remindCase" => (case_op("remindCase(id: $id)"), on(Assigned).await),
        "extendDeadline" => (case_op("extendDeadline(id: $id, workingDays: 2, reason: \"r\")"), on(InProgress).await),
        "replyCase" => (case_op("replyCase(id: $id, reply: \"答复\")"), on(InProgress).await),
        "closeCase" => (case_op("closeCase(id: $id)"), on(Replied).await),
        "rateCase" => (case_op("rateCase(id: $id, level: SATISFIED)"), on(Replied).await),
        "reopenCase" => (case_op("reopenCase(id: $id, reason: \"不满意\")"), on(Replied).await),
        "superviseCase" => (case_op("superviseCase(id: $id, reason: \"领导批示\")"), on(InProgress).await),
        "archiveCase" => (case_op("archiveCase(id: $id)"), on(Closed).await),
        "publishCase" => (case_op("publishCase(id: $id)"), on(Replied).await),
        "unpublishCase" => {
            let mut new = NewCase::new("510104", at(2026, 3, 2, 2, 0, 0)).status(Closed);
            new.department_id = Some(w.home.id);
            let published = fixtures::case(&app.db, new).await;
            (
                case_op("unpublishCase(id: $id, reason: \"涉及隐私\")"),
                json!({ "id": published.id.to_string() }),
            )
        }
        "mergeDuplicate" => {
            let (d, c) = (case_in(app, w, Accepted).await, case_in(app, w, Accepted).await);
            (
                "mutation($d: ID!, $c: ID!) { mergeDuplicate(caseId: $d, canonicalId: $c) { id } }".into(),
                json!({ "d": d.id.to_string(), "c": c.id.to_string() }),
            )
        }
        "case" => ("query($id: ID!) { case(id: $id) { id } }".into(), on(Assigned).await),
        "createDepartment" => (
            "mutation { createDepartment(input: { name: \"新部门\", regionCode: \"510100\", kind: GOVERNMENT }) { id } }".into(),
            json!({}),
        ),
        "updateDepartment" => {
            let d = fixtures::department(&app.db, "待改名", "510100", None).await;
            (
                "mutation($id: ID!) { updateDepartment(id: $id, input: { name: \"已改名\" }) { id } }".into(),
                json!({ "id": d.id.to_string() }),
            )
        }
        "setDeadlinePolicy" => (
            "mutation { setDeadlinePolicy(input: { name: \"p\", kind: REPORT, respondHours: 8, replyWorkingDays: 5 }) { id } }".into(),
            json!({}),
        ),
        "deleteDeadlinePolicy" => {
            let p = deadline_policy::ActiveModel {
                name: Set("待删".into()),
                respond_hours: Set(8),
                reply_working_days: Set(9),
                ..Default::default()
            }
            .insert(&app.db)
            .await
            .expect("insert policy");
            ("mutation($id: ID!) { deleteDeadlinePolicy(id: $id) }".into(), json!({ "id": p.id.to_string() }))
        }
        "createApiKey" => (
            "mutation { createApiKey(input: { role: LEADER, regionCode: \"510100\" }) { id secret } }".into(),
            json!({}),
        ),
        "revokeApiKey" => {
            let k = create_key(&app.db, grant(Role::Admin, None, None, None)).await.expect("key");
            ("mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }".into(), json!({ "id": k.id.to_string() }))
        }
        other => panic!("no preparation for {other}"),
    }
}

db_test!(
    every_role_gets_exactly_the_outcome_of_the_matrix,
    |app| async move {
        let w = world(&app).await;
        let mut wrong = Vec::new();
        for (op, expected) in MATRIX {
            for (who, want) in expected.iter().enumerate() {
                let (query, vars) = prepare(&app, &w, op).await;
                let resp = app.graphql_as(w.keys[who].as_deref(), &query, vars).await;
                let got = errors_code(&resp).unwrap_or_else(|| OK.to_string());
                let answered = resp["data"][op].is_object() || resp["data"][op].is_string();
                if got != *want || (got == OK && !answered) {
                    wrong.push(format!(
                        "{op} as {}: expected {want}, got {got}: {resp}",
                        WHO[who]
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} cell(s) differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
);

db_test!(
    a_revoked_key_is_unauthenticated_from_then_on,
    |app| async move {
        let w = world(&app).await;
        let admin = w.keys[6].as_deref();
        let created = app
        .graphql_as(
            admin,
            "mutation($d: ID) { createApiKey(input: { role: HANDLER, departmentId: $d }) { id secret } }",
            json!({ "d": w.home.id.to_string() }),
        )
        .await;
        let key = &created["data"]["createApiKey"];
        let secret = key["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"))
            .to_string();
        let probe = "{ categories { id } }";
        assert!(errors_code(&app.graphql_as(Some(&secret), probe, json!({})).await).is_none());
        let revoked = app
            .graphql_as(
                admin,
                "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
                json!({ "id": key["id"] }),
            )
            .await;
        assert!(errors_code(&revoked).is_none(), "{revoked}");
        let after = app.graphql_as(Some(&secret), probe, json!({})).await;
        assert_eq!(errors_code(&after).as_deref(), Some("UNAUTHENTICATED"));
    }
);

db_test!(
    a_leader_cannot_assign_to_a_department_outside_their_region,
    |app| async move {
        let w = world(&app).await;
        let away = fixtures::department(&app.db, "绵阳市住建局", "510700", None).await;
        let case = case_in(&app, &w, CaseStatus::Accepted).await;
        let resp = app
            .graphql_as(
                w.keys[1].as_deref(),
                "mutation($id: ID!, $d: ID!) { assignCase(id: $id, departmentId: $d) { id } }",
                json!({ "id": case.id.to_string(), "d": away.id.to_string() }),
            )
            .await;
        assert_eq!(errors_code(&resp).as_deref(), Some("FORBIDDEN"));
    }
);

db_test!(
    moving_a_department_rewrites_the_path_of_its_subtree,
    |app| async move {
        let w = world(&app).await;
        let admin = w.keys[6].as_deref();
        let create = "mutation($p: ID) { createDepartment(input: { name: \"科室\", regionCode: \"510104\", parentId: $p, kind: GOVERNMENT }) { id } }";
        let made = app
            .graphql_as(admin, create, json!({ "p": w.home.id.to_string() }))
            .await;
        let unit: i32 = made["data"]["createDepartment"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{made}"));
        let made = app
            .graphql_as(admin, create, json!({ "p": unit.to_string() }))
            .await;
        let leaf: i32 = made["data"]["createDepartment"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{made}"));
        let db = &app.db;
        let path = |id: i32| async move {
            use sea_orm::EntityTrait;
            department::Entity::find_by_id(id)
                .one(db)
                .await
                .expect("read")
                .expect("exists")
                .path
        };
        assert_eq!(path(leaf).await, format!("/{}/{unit}/{leaf}/", w.home.id));
        let moved = app
        .graphql_as(admin, "mutation($id: ID!, $p: ID) { updateDepartment(id: $id, input: { parentId: $p }) { id } }",
            json!({ "id": unit.to_string(), "p": w.neighbour.id.to_string() }))
        .await;
        assert!(errors_code(&moved).is_none(), "{moved}");
        assert_eq!(
            path(leaf).await,
            format!("/{}/{unit}/{leaf}/", w.neighbour.id)
        );
        let cycle = app
        .graphql_as(admin, "mutation($id: ID!, $p: ID) { updateDepartment(id: $id, input: { parentId: $p }) { id } }",
            json!({ "id": unit.to_string(), "p": leaf.to_string() }))
        .await;
        assert_eq!(errors_code(&cycle).as_deref(), Some("BAD_USER_INPUT"));
    }
);
