//! Third-party evaluation panels end to end over GraphQL, on both databases: the reviewer
//! pool, a panel with its rubric, the seeded draw and stratified sample (re-run from the
//! seed with the library's own functions), evaluator keys, blind scoring with its
//! refusals, the close with hand-computed results, publishing, and the third-party
//! component of department rankings.

use chrono::{DateTime, Utc};
use entities::reviewer::ReviewerKind;
use entities::{case, department, CaseStatus, Role};
use minyi::evaluation::{draw, sampling};
use minyi::keys::KeyGrant;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, db_test, errors_code, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const SEED: u64 = 20_261_126;

fn grant(role: Role, panel_id: Option<i32>) -> KeyGrant {
    KeyGrant {
        role,
        region_code: None,
        department_id: None,
        panel_id,
        label: None,
    }
}

fn id_of(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an id: {v}"))
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-6)
}

/// A closed case of `department`, replied to at `replied_at`.
async fn handled(app: &TestApp, d: &department::Model, replied_at: DateTime<Utc>) -> case::Model {
    let mut new = NewCase::new("510104", replied_at - chrono::Duration::days(3))
        .status(CaseStatus::Closed)
        .department(d);
    new.replied_at = Some(replied_at);
    new.closed_at = Some(replied_at);
    new.reply = Some("已处理".to_string());
    fixtures::case(&app.db, new).await
}

struct World {
    admin: String,
    a: department::Model,
    b: department::Model,
    /// The cases a panel over March 2026 may sample, by department.
    candidates: Vec<case::Model>,
    outside_period: case::Model,
}

/// Departments A (6 handled cases in March) and B (4), a case of A replied in April and
/// one still in progress: neither of the last two may ever be sampled.
async fn world(app: &TestApp) -> World {
    let a = fixtures::department(&app.db, "绵阳市住房和城乡建设局", "510700", None).await;
    let b = fixtures::department(&app.db, "绵阳市交通运输局", "510700", None).await;
    let mut candidates = Vec::new();
    for day in 1..=6 {
        candidates.push(handled(app, &a, at(2026, 3, day * 4, 2, 0, 0)).await);
    }
    for day in 1..=4 {
        candidates.push(handled(app, &b, at(2026, 3, day * 5, 3, 0, 0)).await);
    }
    let outside_period = handled(app, &a, at(2026, 4, 2, 2, 0, 0)).await;
    let in_progress = NewCase::new("510104", at(2026, 3, 10, 1, 0, 0))
        .status(CaseStatus::InProgress)
        .department(&a);
    fixtures::case(&app.db, in_progress).await;
    World {
        admin: app.create_key(grant(Role::Admin, None)).await,
        a,
        b,
        candidates,
        outside_period,
    }
}

const PANEL_FIELDS: &str = "id name status seed scaleMin scaleMax sampleSize minPerDepartment \
    criteria { id name weight meanScore }";

async fn create_panel(app: &TestApp, admin: &str, seed: Option<&str>) -> Value {
    let resp = app
        .graphql_as(
            Some(admin),
            &format!(
                "mutation($input: CreateEvaluationPanelInput!) {{ createEvaluationPanel(input: $input) {{ {PANEL_FIELDS} }} }}"
            ),
            json!({ "input": {
                "name": "2026年3月第三方评价",
                "periodFrom": "2026-03-01T00:00:00Z",
                "periodTo": "2026-04-01T00:00:00Z",
                "regionCode": "510000",
                "scaleMin": 1,
                "scaleMax": 5,
                "criteria": [
                    { "name": "办理时效", "weight": 0.5 },
                    { "name": "服务态度", "weight": 0.3 },
                    { "name": "办理结果", "weight": 0.2 }
                ],
                "experts": 1,
                "cadres": 1,
                "citizenRepresentatives": 1,
                "sampleSize": 6,
                "minPerDepartment": 2,
                "seed": seed,
            } }),
        )
        .await;
    data(&resp)["createEvaluationPanel"].clone()
}

async fn step(app: &TestApp, admin: &str, mutation: &str, id: &Value) -> Value {
    let resp = app
        .graphql_as(
            Some(admin),
            &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ {PANEL_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    data(&resp)[mutation].clone()
}

/// The pool: 3 experts, 2 cadres, 3 citizen representatives; returns them for the re-run.
async fn pool(app: &TestApp, admin: &str) -> Vec<draw::Candidate> {
    let mut out = Vec::new();
    let kinds = [
        ("EXPERT", ReviewerKind::Expert, 3),
        ("CADRE", ReviewerKind::Cadre, 2),
        (
            "CITIZEN_REPRESENTATIVE",
            ReviewerKind::CitizenRepresentative,
            3,
        ),
    ];
    for (name, kind, n) in kinds {
        for i in 0..n {
            let resp = app
                .graphql_as(
                    Some(admin),
                    "mutation($input: CreateReviewerInput!) { createReviewer(input: $input) { id kind active } }",
                    json!({ "input": { "name": format!("{name} {i}"), "kind": name } }),
                )
                .await;
            let r = &data(&resp)["createReviewer"];
            assert_eq!(r["active"], true);
            out.push(draw::Candidate {
                id: id_of(&r["id"]) as i32,
                kind,
            });
        }
    }
    out
}

const SCORE: &str = "mutation($case: ID!, $scores: [CriterionScoreInput!]!) { \
    submitPanelScores(caseId: $case, scores: $scores) { memberId caseId criterionId score } }";

fn scores(criteria: &[Value], values: [i32; 3]) -> Value {
    Value::Array(
        criteria
            .iter()
            .zip(values)
            .map(|(c, v)| json!({ "criterionId": c["id"], "score": v }))
            .collect(),
    )
}

db_test!(
    a_panel_is_drawn_sampled_scored_blind_closed_published_and_feeds_the_ranking,
    |app| async move {
        let w = world(&app).await;
        let admin = w.admin.as_str();
        let pool = pool(&app, admin).await;

        // ---- create: DRAFT, with the seed recorded
        let panel = create_panel(&app, admin, Some(&SEED.to_string())).await;
        assert_eq!(panel["status"], "DRAFT");
        assert_eq!(panel["seed"], SEED.to_string());
        let criteria: Vec<Value> = panel["criteria"].as_array().cloned().unwrap_or_default();
        assert_eq!(criteria.len(), 3);
        assert_eq!(criteria[0]["meanScore"], Value::Null);
        let pid = panel["id"].clone();

        // ---- draw: the members are what anyone re-running the draw from the seed gets
        let drawn = step(&app, admin, "drawPanelMembers", &pid).await;
        assert_eq!(drawn["status"], "DRAWN");
        let members = app
            .graphql_as(
                Some(admin),
                "query($id: ID!) { evaluationPanel(id: $id) { members { id kind drawPosition reviewer { id } } } }",
                json!({ "id": pid }),
            )
            .await;
        let members: Vec<Value> = data(&members)["evaluationPanel"]["members"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let rerun = draw::draw_members(
            &pool,
            draw::KindCounts {
                experts: 1,
                cadres: 1,
                citizen_representatives: 1,
            },
            SEED,
        )
        .expect("the pool is large enough");
        let got: Vec<i64> = members
            .iter()
            .map(|m| id_of(&m["reviewer"]["id"]))
            .collect();
        let want: Vec<i64> = rerun.iter().map(|c| i64::from(c.id)).collect();
        assert_eq!(got, want, "the draw is reproducible from the seed");
        let kinds: Vec<&str> = members
            .iter()
            .map(|m| m["kind"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(kinds, ["EXPERT", "CADRE", "CITIZEN_REPRESENTATIVE"]);
        assert_eq!(
            errors_code(
                &app.graphql_as(
                    Some(admin),
                    "mutation($id: ID!) { drawPanelMembers(id: $id) { id } }",
                    json!({ "id": pid })
                )
                .await
            )
            .as_deref(),
            Some("CONFLICT"),
            "a panel is drawn once"
        );

        // ---- sample: stratified by department, 3 + 3 by the allocation rule, and the
        // same cases as the library's sampler given the seed
        let sampled = step(&app, admin, "samplePanelCases", &pid).await;
        assert_eq!(sampled["status"], "SCORING");
        let resp = app
            .graphql_as(
                Some(admin),
                "query($id: ID!) { evaluationPanel(id: $id) { samples { caseId department { id } case { id } } } }",
                json!({ "id": pid }),
            )
            .await;
        let samples: Vec<Value> = data(&resp)["evaluationPanel"]["samples"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut per_department: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for s in &samples {
            assert_eq!(
                s["case"]["id"], s["caseId"],
                "the admin sees the sampled case"
            );
            per_department
                .entry(id_of(&s["department"]["id"]))
                .or_default()
                .push(id_of(&s["caseId"]));
        }
        // Floors 2 + 2; the 2 left shared over 4 and 2 cases beyond the floors:
        // quotas 1.33 and 0.67 → 1 + 0, the last to B's larger remainder.
        assert_eq!(per_department[&i64::from(w.a.id)].len(), 3);
        assert_eq!(per_department[&i64::from(w.b.id)].len(), 3);
        let candidates: Vec<sampling::Candidate> = w
            .candidates
            .iter()
            .map(|c| sampling::Candidate {
                case_id: c.id,
                department_id: c.department_id.unwrap_or_default(),
                category_id: c.category_id,
            })
            .collect();
        let plan = sampling::SamplePlan {
            size: 6,
            min_per_department: 2,
            by_category: false,
        };
        let mut want: Vec<i64> = sampling::sample(&candidates, plan, SEED)
            .iter()
            .map(|c| c.case_id)
            .collect();
        want.sort_unstable();
        let mut got: Vec<i64> = per_department.values().flatten().copied().collect();
        got.sort_unstable();
        assert_eq!(got, want, "the sample is reproducible from the seed");
        assert!(!got.contains(&w.outside_period.id));

        // ---- member keys; an evaluator key of another panel
        let mut keys = Vec::new();
        for m in &members {
            let resp = app
                .graphql_as(
                    Some(admin),
                    "mutation($m: ID!) { issuePanelMemberKey(memberId: $m) { secret member { id hasKey } } }",
                    json!({ "m": m["id"] }),
                )
                .await;
            let issued = &data(&resp)["issuePanelMemberKey"];
            assert_eq!(issued["member"]["hasKey"], true);
            keys.push(issued["secret"].as_str().unwrap_or_default().to_string());
        }
        let other_panel = create_panel(&app, admin, Some("7")).await;
        let outsider = app
            .create_key(grant(
                Role::Evaluator,
                Some(id_of(&other_panel["id"]) as i32),
            ))
            .await;

        // ---- what an evaluator sees: their sampled cases, nothing else
        let a_cases = &per_department[&i64::from(w.a.id)];
        let b_cases = &per_department[&i64::from(w.b.id)];
        let case_q = "query($id: ID!) { case(id: $id) { id } }";
        let seen = app
            .graphql_as(
                Some(&keys[0]),
                case_q,
                json!({ "id": a_cases[0].to_string() }),
            )
            .await;
        assert_eq!(id_of(&data(&seen)["case"]["id"]), a_cases[0]);
        let personal = app
            .graphql_as(
                Some(&keys[0]),
                "query($id: ID!) { case(id: $id) { citizen { name } } }",
                json!({ "id": a_cases[0].to_string() }),
            )
            .await;
        assert_eq!(
            errors_code(&personal).as_deref(),
            Some("FORBIDDEN"),
            "evaluators never see personal data"
        );
        let unsampled = w
            .candidates
            .iter()
            .map(|c| c.id)
            .find(|id| !got.contains(id))
            .expect("some case was not sampled");
        let hidden = app
            .graphql_as(
                Some(&keys[0]),
                case_q,
                json!({ "id": unsampled.to_string() }),
            )
            .await;
        assert_eq!(errors_code(&hidden).as_deref(), Some("NOT_FOUND"));
        let foreign = app
            .graphql_as(
                Some(&outsider),
                case_q,
                json!({ "id": a_cases[0].to_string() }),
            )
            .await;
        assert_eq!(errors_code(&foreign).as_deref(), Some("NOT_FOUND"));
        let foreign_panel = app
            .graphql_as(
                Some(&outsider),
                "query($id: ID!) { evaluationPanel(id: $id) { id } }",
                json!({ "id": pid }),
            )
            .await;
        assert_eq!(errors_code(&foreign_panel).as_deref(), Some("NOT_FOUND"));
        let public_panel = app
            .graphql(
                "query($id: ID!) { evaluationPanel(id: $id) { id } }",
                json!({ "id": pid }),
            )
            .await;
        assert_eq!(errors_code(&public_panel).as_deref(), Some("NOT_FOUND"));

        // ---- scoring and its refusals
        let submit = |key: usize, case_id: i64, values: [i32; 3]| {
            let vars = json!({ "case": case_id.to_string(), "scores": scores(&criteria, values) });
            let key = keys[key].clone();
            let app = &app;
            async move { app.graphql_as(Some(&key), SCORE, vars).await }
        };
        let out_of_range = submit(0, a_cases[0], [6, 5, 5]).await;
        assert_eq!(
            errors_code(&out_of_range).as_deref(),
            Some("BAD_USER_INPUT")
        );
        let partial = app
            .graphql_as(
                Some(&keys[0]),
                SCORE,
                json!({ "case": a_cases[0].to_string(), "scores": [{ "criterionId": criteria[0]["id"], "score": 3 }] }),
            )
            .await;
        assert_eq!(errors_code(&partial).as_deref(), Some("BAD_USER_INPUT"));
        let not_sampled = submit(0, unsampled, [3, 3, 3]).await;
        assert_eq!(errors_code(&not_sampled).as_deref(), Some("NOT_FOUND"));
        let by_admin = app
            .graphql_as(
                Some(admin),
                SCORE,
                json!({ "case": a_cases[0].to_string(), "scores": scores(&criteria, [3, 3, 3]) }),
            )
            .await;
        assert_eq!(errors_code(&by_admin).as_deref(), Some("FORBIDDEN"));
        let by_outsider = submit_as(&app, &outsider, a_cases[0], &criteria).await;
        assert_eq!(errors_code(&by_outsider).as_deref(), Some("FORBIDDEN"));

        // Member 0: A 5, 4, 3 and B 2, 2, 3; member 1: A 5, 4, 4 and B 1, 2, 3;
        // member 2: only the first case of A, 4. Every criterion gets the same score,
        // so each weighted score is that score.
        let plan: [(usize, [i32; 3], [i32; 3]); 2] =
            [(0, [5, 4, 3], [2, 2, 3]), (1, [5, 4, 4], [1, 2, 3])];
        for (member, a_scores, b_scores) in plan {
            for (case_id, s) in a_cases
                .iter()
                .zip(a_scores)
                .chain(b_cases.iter().zip(b_scores))
            {
                let resp = submit(member, *case_id, [s, s, s]).await;
                assert_eq!(
                    data(&resp)["submitPanelScores"].as_array().map(Vec::len),
                    Some(3)
                );
            }
        }
        assert!(errors_code(&submit(2, a_cases[0], [4, 4, 4]).await).is_none());
        let duplicate = submit(0, a_cases[0], [1, 1, 1]).await;
        assert_eq!(errors_code(&duplicate).as_deref(), Some("CONFLICT"));

        // ---- blind until close: a member reads their own scores only
        let scores_q = "query($id: ID!) { evaluationPanel(id: $id) { results { alpha } scores { memberId score } } }";
        let own = app
            .graphql_as(Some(&keys[1]), scores_q, json!({ "id": pid }))
            .await;
        let own_panel = &data(&own)["evaluationPanel"];
        assert_eq!(own_panel["results"], Value::Null);
        let own_scores = own_panel["scores"].as_array().cloned().unwrap_or_default();
        assert_eq!(own_scores.len(), 18, "6 cases × 3 criteria, all their own");
        assert!(own_scores.iter().all(|s| s["memberId"] == members[1]["id"]));

        // ---- close: the results by hand
        let closed = step(&app, admin, "closeEvaluationPanel", &pid).await;
        assert_eq!(closed["status"], "CLOSED");
        let late = submit(2, a_cases[1], [3, 3, 3]).await;
        assert_eq!(
            errors_code(&late).as_deref(),
            Some("CONFLICT"),
            "no score after the close"
        );
        // 42 scores per criterion summing to 42 over 13 member-case pairs.
        for c in closed["criteria"].as_array().cloned().unwrap_or_default() {
            assert!(close(&c["meanScore"], 42.0 / 13.0), "{c}");
        }
        let results_q = "query($id: ID!) { evaluationPanel(id: $id) { results { alpha departments { \
            department { id } cases meanScore ciLow ciHigh normalizedScore } } scores { memberId } } }";
        let resp = app
            .graphql_as(Some(&keys[1]), results_q, json!({ "id": pid }))
            .await;
        let after = &data(&resp)["evaluationPanel"];
        assert_eq!(
            after["scores"].as_array().map(Vec::len),
            Some(39),
            "after the close every member's scores are visible"
        );
        let results = &after["results"];
        // Units (5,5,4) (4,4) (3,4) (2,1) (2,2) (3,3): D_o = 6/13, D_e = 119/39, α = 101/119.
        assert!(close(&results["alpha"], 101.0 / 119.0), "{results}");
        let departments = results["departments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(departments.len(), 2);
        // A: case means 14/3, 4, 3.5 → 73/18; t(0.975, 2) = 4.302653.
        let a = &departments[0];
        assert_eq!(id_of(&a["department"]["id"]), i64::from(w.a.id));
        assert_eq!(a["cases"], 3);
        assert!(close(&a["meanScore"], 73.0 / 18.0));
        assert!((a["ciLow"].as_f64().unwrap_or_default() - 2.601_554_7).abs() < 1e-5);
        assert!((a["ciHigh"].as_f64().unwrap_or_default() - 5.509_556_4).abs() < 1e-5);
        assert!(close(&a["normalizedScore"], 55.0 / 72.0));
        // B: case means 1.5, 2, 3 → 13/6.
        let b = &departments[1];
        assert_eq!(id_of(&b["department"]["id"]), i64::from(w.b.id));
        assert!(close(&b["meanScore"], 13.0 / 6.0));
        assert!((b["ciLow"].as_f64().unwrap_or_default() - 0.269_375_1).abs() < 1e-5);
        assert!((b["ciHigh"].as_f64().unwrap_or_default() - 4.063_958_2).abs() < 1e-5);
        assert!(close(&b["normalizedScore"], 7.0 / 24.0));

        // ---- publish: the public sees the panel and its results
        assert_eq!(
            errors_code(&app.graphql(results_q, json!({ "id": pid })).await).as_deref(),
            Some("NOT_FOUND"),
            "not public before publishing"
        );
        let published = step(&app, admin, "publishEvaluationPanel", &pid).await;
        assert_eq!(published["status"], "PUBLISHED");
        let public = app
            .graphql(
                "query($id: ID!) { evaluationPanel(id: $id) { status results { alpha departments { normalizedScore } } } }",
                json!({ "id": pid }),
            )
            .await;
        let public = &data(&public)["evaluationPanel"];
        assert!(close(&public["results"]["alpha"], 101.0 / 119.0));
        let listed = app.graphql("{ evaluationPanels { id } }", json!({})).await;
        assert_eq!(data(&listed)["evaluationPanels"], json!([{ "id": pid }]));

        // ---- ranking: the third-party weight alone ranks by the normalised panel score
        let ranking_q = "query($w: RankWeights) { ranking(unit: DEPARTMENT, weights: $w, \
            from: \"2026-03-01T00:00:00Z\", to: \"2026-04-01T00:00:00Z\") { rank unit { id } score thirdPartyScore } }";
        let ranked = app
            .graphql_as(
                Some(admin),
                ranking_q,
                json!({ "w": { "thirdParty": 1.0 } }),
            )
            .await;
        let rows = data(&ranked)["ranking"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(id_of(&rows[0]["unit"]["id"]), i64::from(w.a.id));
        assert!(close(&rows[0]["score"], 55.0 / 72.0));
        assert!(close(&rows[1]["score"], 7.0 / 24.0));
        // With the third-party weight alone, the score is the panel score itself.
        assert!(close(&rows[0]["thirdPartyScore"], 55.0 / 72.0));
        assert!(close(&rows[1]["thirdPartyScore"], 7.0 / 24.0));
        // Without the third-party weight the panel plays no part: these fixture cases
        // have no event trail, so no rate is known and no score either.
        let plain = app
            .graphql_as(Some(admin), ranking_q, json!({ "w": null }))
            .await;
        let rows = data(&plain)["ranking"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r["score"].is_null()), "{rows:?}");
        assert!(
            rows.iter().all(|r| r["thirdPartyScore"].is_null()),
            "{rows:?}"
        );
    }
);

async fn submit_as(app: &TestApp, key: &str, case_id: i64, criteria: &[Value]) -> Value {
    app.graphql_as(
        Some(key),
        SCORE,
        json!({ "case": case_id.to_string(), "scores": scores(criteria, [3, 3, 3]) }),
    )
    .await
}

db_test!(
    panels_refuse_bad_rubrics_small_pools_and_steps_out_of_order,
    |app| async move {
        let w = world(&app).await;
        let admin = w.admin.as_str();
        let create = "mutation($input: CreateEvaluationPanelInput!) { createEvaluationPanel(input: $input) { id } }";
        let base = json!({
            "name": "p", "periodFrom": "2026-03-01T00:00:00Z", "periodTo": "2026-04-01T00:00:00Z",
            "scaleMin": 1, "scaleMax": 5, "criteria": [{ "name": "结果", "weight": 1.0 }],
            "experts": 1, "cadres": 1, "citizenRepresentatives": 0,
            "sampleSize": 4, "minPerDepartment": 1
        });
        let with = |key: &str, value: Value| {
            let mut input = base.clone();
            input[key] = value;
            json!({ "input": input })
        };
        for (key, value) in [
            ("scaleMax", json!(1)),
            ("criteria", json!([])),
            ("criteria", json!([{ "name": "结果", "weight": 0.0 }])),
            (
                "criteria",
                json!([{ "name": "结果", "weight": 1.0 }, { "name": "结果", "weight": 1.0 }]),
            ),
            ("periodTo", json!("2026-02-01T00:00:00Z")),
            ("experts", json!(0)),
            ("seed", json!("-1")),
            ("seed", json!("abc")),
            ("minPerDepartment", json!(5)),
            ("regionCode", json!("999999")),
        ] {
            let resp = app
                .graphql_as(Some(admin), create, with(key, value.clone()))
                .await;
            assert_eq!(
                errors_code(&resp).as_deref(),
                Some("BAD_USER_INPUT"),
                "{key} = {value}"
            );
        }
        let handler = app
            .create_key(KeyGrant {
                department_id: Some(w.a.id),
                ..grant(Role::Handler, None)
            })
            .await;
        let forbidden = app
            .graphql_as(Some(&handler), create, json!({ "input": base }))
            .await;
        assert_eq!(errors_code(&forbidden).as_deref(), Some("FORBIDDEN"));

        // No reviewers yet: the draw is refused and the panel stays a DRAFT.
        let resp = app
            .graphql_as(Some(admin), create, json!({ "input": base }))
            .await;
        let pid = data(&resp)["createEvaluationPanel"]["id"].clone();
        let draw_q = "mutation($id: ID!) { drawPanelMembers(id: $id) { status } }";
        let empty = app
            .graphql_as(Some(admin), draw_q, json!({ "id": pid }))
            .await;
        assert_eq!(errors_code(&empty).as_deref(), Some("BAD_USER_INPUT"));
        let sample_q = "mutation($id: ID!) { samplePanelCases(id: $id) { status } }";
        let early = app
            .graphql_as(Some(admin), sample_q, json!({ "id": pid }))
            .await;
        assert_eq!(errors_code(&early).as_deref(), Some("CONFLICT"));
        let close_q = "mutation($id: ID!) { closeEvaluationPanel(id: $id) { status } }";
        let early = app
            .graphql_as(Some(admin), close_q, json!({ "id": pid }))
            .await;
        assert_eq!(errors_code(&early).as_deref(), Some("CONFLICT"));
        let status = app
            .graphql_as(
                Some(admin),
                "query($id: ID!) { evaluationPanel(id: $id) { status } }",
                json!({ "id": pid }),
            )
            .await;
        assert_eq!(data(&status)["evaluationPanel"]["status"], "DRAFT");
    }
);
