//! The rating policy: a dissatisfied rating reopens the case when the deadline policy
//! matching the case says `reopenOnDissatisfied` — the workflow's own Reopen, in the
//! rating's transaction, with its event, a fresh deadline and the rollup moved.

// The workflow tests' helpers; this file uses only some of them.
#[allow(dead_code)]
#[path = "workflow/support.rs"]
mod support;

use entities::{CaseAction, CaseStatus};
use minyi::workflow::rating::REOPEN_NOTE;
use minyi_tests::{data, db_test};
use serde_json::{json, Value};
use support::*;

/// A replied case and its rating token.
async fn replied(app: &minyi_tests::TestApp, s: &Staff, title: &str) -> (Value, String) {
    let resp = app
        .graphql(SUBMIT, json!({ "input": submission(title, "13900000011") }))
        .await;
    let submitted = &data(&resp)["submitCase"];
    let token = submitted["ratingToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let vars = json!({ "id": submitted["case"]["id"] });
    act(app, Some(&s.leader), "acceptCase(id: $id)", vars.clone()).await;
    act(
        app,
        Some(&s.leader),
        &format!("assignCase(id: $id, departmentId: \"{}\")", s.department),
        vars.clone(),
    )
    .await;
    act(app, Some(&s.handler), "claimCase(id: $id)", vars.clone()).await;
    act(
        app,
        Some(&s.handler),
        "replyCase(id: $id, reply: \"已处理\")",
        vars.clone(),
    )
    .await;
    (vars, token)
}

async fn rate(app: &minyi_tests::TestApp, vars: &Value, level: &str, token: &str) -> Value {
    act(
        app,
        None,
        &format!("rateCase(id: $id, level: {level}, ratingToken: \"{token}\")"),
        vars.clone(),
    )
    .await
}

db_test!(
    a_dissatisfied_rating_reopens_the_case_only_where_the_policy_says_so,
    |app| async move {
        let s = staff(&app).await;
        // Without the policy (the seeded defaults) the case stays replied.
        let (vars, token) = replied(&app, &s, "路灯不亮").await;
        let rated = rate(&app, &vars, "DISSATISFIED", &token).await;
        assert_eq!(rated["status"], "REPLIED");
        assert_eq!(rated["reopenCount"], 0);

        let policy = app
            .graphql_as(
                Some(&s.admin),
                "mutation($input: DeadlinePolicyInput!) { setDeadlinePolicy(input: $input) { reopenOnDissatisfied } }",
                json!({ "input": {
                    "name": "锦江区网站投诉：不满意重办",
                    "channel": "WEBSITE", "kind": "COMPLAINT", "regionCode": "510104",
                    "respondHours": 8, "replyWorkingDays": 5, "reopenOnDissatisfied": true
                } }),
            )
            .await;
        assert_eq!(
            data(&policy)["setDeadlinePolicy"]["reopenOnDissatisfied"],
            true
        );

        let (vars, token) = replied(&app, &s, "噪音扰民").await;
        let id = id_of(&json!({ "id": vars["id"] }));
        let before = row(&app, id).await;
        let rated = rate(&app, &vars, "DISSATISFIED", &token).await;
        assert_eq!(rated["status"], "IN_PROGRESS");
        assert_eq!(rated["reopenCount"], 1);
        assert_eq!(rated["rating"]["level"], "DISSATISFIED");
        let after = row(&app, id).await;
        assert_eq!(after.replied_at, None);
        assert_eq!(after.version, before.version + 1, "one guarded write");
        let due = after.reply_due_at.expect("a fresh deadline");
        // The policy's 5 working days counted from the rating, not from the acceptance.
        assert!(due >= before.reply_due_at.expect("the first deadline"));

        let events = events_of(&app, id).await;
        let tail: Vec<(CaseAction, Option<CaseStatus>, Option<CaseStatus>)> = events
            .iter()
            .rev()
            .take(2)
            .rev()
            .map(|e| (e.action, e.from_status, e.to_status))
            .collect();
        assert_eq!(
            tail,
            vec![
                (
                    CaseAction::Rate,
                    Some(CaseStatus::Replied),
                    Some(CaseStatus::Replied)
                ),
                (
                    CaseAction::Reopen,
                    Some(CaseStatus::Replied),
                    Some(CaseStatus::InProgress)
                ),
            ]
        );
        let reopen = events.last().expect("the reopen event");
        assert_eq!(reopen.reply_due_at, Some(due));
        assert_eq!(reopen.note.as_deref(), Some(REOPEN_NOTE));
        minyi_tests::assert_rollup_exact(&app.db).await;

        // A satisfied rating of the next reply leaves it replied.
        act(
            &app,
            Some(&s.handler),
            "replyCase(id: $id, reply: \"已修复\")",
            vars.clone(),
        )
        .await;
        let rated = rate(&app, &vars, "SATISFIED", &token).await;
        assert_eq!(rated["status"], "REPLIED");
        assert_eq!(rated["reopenCount"], 1);
    }
);

/// Submits on `channel`, walks the case to replied with `department` (as admin) and
/// rates it `level` with its token.
async fn rated_case(
    app: &minyi_tests::TestApp,
    s: &Staff,
    channel: &str,
    department: i32,
    level: &str,
) {
    let mut input = submission("井盖破损", "13900000012");
    input["channel"] = json!(channel);
    let resp = app.graphql(SUBMIT, json!({ "input": input })).await;
    let submitted = &data(&resp)["submitCase"];
    let token = submitted["ratingToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let vars = json!({ "id": submitted["case"]["id"] });
    let admin = Some(s.admin.as_str());
    act(app, admin, "acceptCase(id: $id)", vars.clone()).await;
    act(
        app,
        admin,
        &format!("assignCase(id: $id, departmentId: \"{department}\")"),
        vars.clone(),
    )
    .await;
    act(app, admin, "claimCase(id: $id)", vars.clone()).await;
    act(
        app,
        admin,
        "replyCase(id: $id, reply: \"已修复\")",
        vars.clone(),
    )
    .await;
    rate(app, &vars, level, &token).await;
}

db_test!(
    ratings_feed_the_satisfaction_rate_by_channel_and_by_department,
    |app| async move {
        let s = staff(&app).await;
        rated_case(&app, &s, "WEBSITE", s.department, "SATISFIED").await;
        rated_case(&app, &s, "WEBSITE", s.department, "DISSATISFIED").await;
        rated_case(
            &app,
            &s,
            "HOTLINE",
            s.other_department,
            "BASICALLY_SATISFIED",
        )
        .await;
        let query = "query($by: Dimension!) { breakdown(by: $by, from: \"2026-01-01T00:00:00Z\", \
            to: \"2027-01-01T00:00:00Z\") { key stats { rated satisfied dissatisfied satisfactionRate } } }";
        let rates = |resp: &Value| -> Vec<(String, i64, f64)> {
            let mut rows: Vec<(String, i64, f64)> = data(resp)["breakdown"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|g| g["stats"]["rated"].as_i64().unwrap_or(0) > 0)
                .map(|g| {
                    (
                        g["key"].as_str().unwrap_or_default().to_string(),
                        g["stats"]["rated"].as_i64().unwrap_or(0),
                        g["stats"]["satisfactionRate"].as_f64().unwrap_or(-1.0),
                    )
                })
                .collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows
        };
        let by_channel = app
            .graphql_as(Some(&s.admin), query, json!({ "by": "CHANNEL" }))
            .await;
        assert_eq!(
            rates(&by_channel),
            vec![
                ("hotline".to_string(), 1, 1.0),
                ("website".to_string(), 2, 0.5)
            ]
        );
        let by_department = app
            .graphql_as(Some(&s.admin), query, json!({ "by": "DEPARTMENT" }))
            .await;
        let mut want = vec![
            (s.department.to_string(), 2, 0.5),
            (s.other_department.to_string(), 1, 1.0),
        ];
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(rates(&by_department), want);
    }
);
