//! Repeats and automatic supervision, duplicates, ratings.

use super::support::*;
use entities::CaseAction;
use minyi_tests::fixtures;
use minyi_tests::{data, db_test, errors_code};
use serde_json::json;

db_test!(
    a_citizen_reporting_again_unresolved_puts_the_earlier_case_under_supervision,
    |app| async move {
        let topic = fixtures::category(&app.db, Some("urban.municipal")).await;
        let about = |title: &str, phone: &str| {
            let mut input = submission(title, phone);
            input["categoryId"] = json!(topic.id.to_string());
            json!({ "input": input })
        };
        let first = app
            .graphql(SUBMIT, about("第一次反映", "13900000007"))
            .await;
        let earlier = id_of(&data(&first)["submitCase"]["case"]);
        let second = app
            .graphql(SUBMIT, about("第二次反映", "13900000007"))
            .await;
        let later = id_of(&data(&second)["submitCase"]["case"]);
        assert_eq!(row(&app, later).await.repeat_of, Some(earlier));
        assert!(row(&app, earlier).await.supervised);
        let events = events_of(&app, earlier).await;
        assert_eq!(
            events
                .iter()
                .filter(|e| e.action == CaseAction::Supervise)
                .count(),
            1
        );
        // Someone else's message on the same topic is no repeat.
        let third = app.graphql(SUBMIT, about("别人反映", "13900000008")).await;
        assert_eq!(
            row(&app, id_of(&data(&third)["submitCase"]["case"]))
                .await
                .repeat_of,
            None
        );
        minyi_tests::assert_rollup_exact(&app.db).await;
    }
);

db_test!(
    a_duplicate_merges_into_a_canonical_case_once_and_never_in_a_chain,
    |app| async move {
        let s = staff(&app).await;
        let a = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("原件", "13900000010") }),
            )
            .await;
        let b = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("重复件", "13900000011") }),
            )
            .await;
        let (a, b) = (
            id_of(&data(&a)["submitCase"]["case"]),
            id_of(&data(&b)["submitCase"]["case"]),
        );
        let merge = "mutation($d: ID!, $c: ID!) { mergeDuplicate(caseId: $d, canonicalId: $c) { status duplicateOf } }";
        let ids = |d: i64, c: i64| json!({ "d": d.to_string(), "c": c.to_string() });
        let merged = app.graphql_as(Some(&s.leader), merge, ids(b, a)).await;
        assert_eq!(
            data(&merged)["mergeDuplicate"],
            json!({ "status": "CLOSED", "duplicateOf": a.to_string() })
        );
        let chain = app.graphql_as(Some(&s.leader), merge, ids(a, b)).await;
        assert_eq!(errors_code(&chain).as_deref(), Some("BAD_USER_INPUT"));
        let itself = app.graphql_as(Some(&s.leader), merge, ids(a, a)).await;
        assert_eq!(errors_code(&itself).as_deref(), Some("BAD_USER_INPUT"));
        let again = app.graphql_as(Some(&s.leader), merge, ids(b, a)).await;
        assert_eq!(errors_code(&again).as_deref(), Some("INVALID_TRANSITION"));
        minyi_tests::assert_rollup_exact(&app.db).await;
    }
);

db_test!(
    a_reply_is_rated_once_and_only_with_the_cases_own_token,
    |app| async move {
        let s = staff(&app).await;
        let mine = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("评价", "13900000012") }),
            )
            .await;
        let other = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("别的", "13900000013") }),
            )
            .await;
        let token = data(&mine)["submitCase"]["ratingToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let other_token = data(&other)["submitCase"]["ratingToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let id = data(&mine)["submitCase"]["case"]["id"].clone();
        let vars = json!({ "id": id });
        act(&app, Some(&s.leader), "acceptCase(id: $id)", vars.clone()).await;
        act(
            &app,
            Some(&s.leader),
            &format!("assignCase(id: $id, departmentId: \"{}\")", s.department),
            vars.clone(),
        )
        .await;
        act(&app, Some(&s.handler), "claimCase(id: $id)", vars.clone()).await;
        act(
            &app,
            Some(&s.handler),
            "replyCase(id: $id, reply: \"已处理\")",
            vars.clone(),
        )
        .await;
        let rate = "mutation($id: ID!, $t: String, $s: Int) { rateCase(id: $id, level: SATISFIED, attitude: $s, ratingToken: $t) { id } }";
        let with = |t: &str, score: i32| json!({ "id": id, "t": t, "s": score });
        let wrong = app.graphql(rate, with(&other_token, 5)).await;
        assert_eq!(
            errors_code(&wrong).as_deref(),
            Some("NOT_FOUND"),
            "the case is not published"
        );
        let out_of_range = app.graphql(rate, with(&token, 6)).await;
        assert_eq!(
            errors_code(&out_of_range).as_deref(),
            Some("BAD_USER_INPUT")
        );
        assert!(errors_code(&app.graphql(rate, with(&token, 5)).await).is_none());
        let twice = app.graphql(rate, with(&token, 4)).await;
        assert_eq!(errors_code(&twice).as_deref(), Some("INVALID_TRANSITION"));
        // A rating token is no API key.
        let as_key = app
            .graphql_as(Some(&token), "{ categories { id } }", json!({}))
            .await;
        assert_eq!(errors_code(&as_key).as_deref(), Some("UNAUTHENTICATED"));
        minyi_tests::assert_rollup_exact(&app.db).await;
    }
);
