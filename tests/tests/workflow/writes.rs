//! Idempotent submission, concurrent writes and refusals that write nothing.

use super::support::*;
use entities::{case, CaseAction};
use minyi_tests::{data, db_test, errors_code};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

db_test!(
    a_retried_submission_returns_the_same_case,
    |app| async move {
        let vars = json!({ "input": submission("重复提交", "13900000004"), "key": "client-42" });
        let first = app.graphql(SUBMIT, vars.clone()).await;
        let second = app.graphql(SUBMIT, vars).await;
        let (a, b) = (&data(&first)["submitCase"], &data(&second)["submitCase"]);
        assert_eq!(a["case"]["id"], b["case"]["id"]);
        assert_eq!(a["case"]["trackingNumber"], b["case"]["trackingNumber"]);
        assert_eq!(
            (a["replayed"].clone(), b["replayed"].clone()),
            (json!(false), json!(true))
        );
        let rows = case::Entity::find()
            .filter(case::Column::Title.eq("重复提交"))
            .count(&app.db)
            .await;
        assert_eq!(rows.expect("count"), 1);
        // The same key for a different message is a client bug, not a replay.
        let mut other = submission("另一件事", "13900000004");
        other["title"] = json!("另一件事");
        let clash = app
            .graphql(SUBMIT, json!({ "input": other, "key": "client-42" }))
            .await;
        assert_eq!(errors_code(&clash).as_deref(), Some("CONFLICT"));
    }
);

db_test!(
    two_handlers_replying_to_the_same_version_leave_one_winner_and_one_conflict,
    |app| async move {
        let s = staff(&app).await;
        let vars = in_progress(&app, &s, "并发答复").await;
        let id: i64 = vars["id"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("id");
        let version = row(&app, id).await.version;
        let v = json!({ "id": vars["id"], "v": version });
        let (a, b) = tokio::join!(
            app.graphql_as(Some(&s.handler), REPLY, v.clone()),
            app.graphql_as(Some(&s.handler), REPLY, v.clone())
        );
        let mut codes = [errors_code(&a), errors_code(&b)];
        codes.sort();
        assert_eq!(codes, [None, Some("CONFLICT".to_string())], "{a}\n{b}");
        let replies = events_of(&app, id)
            .await
            .iter()
            .filter(|e| e.action == CaseAction::Reply)
            .count();
        assert_eq!(replies, 1);
        assert_eq!(row(&app, id).await.version, version + 1);
    }
);

db_test!(
    concurrent_replies_without_a_version_never_both_win_nor_fail_internally,
    |app| async move {
        let s = staff(&app).await;
        for round in 0..3 {
            let vars = in_progress(&app, &s, &format!("并发{round}")).await;
            let (a, b) = tokio::join!(
                app.graphql_as(Some(&s.handler), REPLY, vars.clone()),
                app.graphql_as(Some(&s.handler), REPLY, vars.clone())
            );
            let codes = [errors_code(&a), errors_code(&b)];
            assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 1, "{a}\n{b}");
            let loser = codes.iter().flatten().next().cloned().unwrap_or_default();
            assert!(
                loser == "CONFLICT" || loser == "INVALID_TRANSITION",
                "{loser}: {a}\n{b}"
            );
            let replies = events_of(&app, id_of(&vars)).await;
            assert_eq!(
                replies
                    .iter()
                    .filter(|e| e.action == CaseAction::Reply)
                    .count(),
                1
            );
        }
        minyi_tests::assert_rollup_exact(&app.db).await;
    }
);

db_test!(
    an_illegal_transition_is_refused_with_the_status_and_writes_nothing,
    |app| async move {
        let s = staff(&app).await;
        let resp = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("非法操作", "13900000006") }),
            )
            .await;
        let vars = json!({ "id": data(&resp)["submitCase"]["case"]["id"] });
        let id = id_of(&vars);
        let before = (events_of(&app, id).await.len(), row(&app, id).await);
        let refused = app.graphql_as(Some(&s.admin), REPLY, vars).await;
        assert_eq!(errors_code(&refused).as_deref(), Some("INVALID_TRANSITION"));
        assert_eq!(refused["errors"][0]["extensions"]["status"], "SUBMITTED");
        assert_eq!(
            (events_of(&app, id).await.len(), row(&app, id).await),
            before
        );
    }
);
