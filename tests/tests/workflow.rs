//! The write side seen from outside: a case's whole life over GraphQL, deadlines on the
//! official calendar, idempotent submission, concurrent writes, refusals that write
//! nothing, automatic supervision, duplicates and ratings.

#[path = "workflow/cases.rs"]
mod cases;
#[path = "workflow/support.rs"]
mod support;
#[path = "workflow/writes.rs"]
mod writes;

use entities::{CaseAction, CaseKind, Channel};
use minyi::auth::Principal;
use minyi::workflow::service::{apply, Command, Env};
use minyi::workflow::submit::{submit, CitizenInput, SubmitInput};
use minyi::workflow::{supervision, CalendarCache};
use minyi_tests::fixtures::at;
use minyi_tests::{data, db_test, errors_code};
use serde_json::json;
use support::*;

db_test!(
    a_case_walks_its_whole_life_and_its_timeline_shows_every_step,
    |app| async move {
        let s = staff(&app).await;
        let resp = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("路灯不亮", "13900000001") }),
            )
            .await;
        let submitted = data(&resp)["submitCase"].clone();
        let token = submitted["ratingToken"]
            .as_str()
            .expect("a rating token")
            .to_string();
        let case = &submitted["case"];
        let vars = json!({ "id": case["id"] });
        let number = case["trackingNumber"].as_str().expect("tracking number");
        assert!(number.starts_with("MY") && number.len() == 17, "{number}");
        assert_eq!(case["status"], "SUBMITTED");
        let hours = (instant(&case["respondDueAt"]) - instant(&case["submittedAt"])).num_hours();
        assert_eq!(hours, 8, "the seeded policy responds within 8 clock hours");

        let (leader, handler) = (Some(s.leader.as_str()), Some(s.handler.as_str()));
        let accepted = act(&app, leader, "acceptCase(id: $id)", vars.clone()).await;
        assert_eq!(accepted["status"], "ACCEPTED");
        let calendar = CalendarCache::default();
        let cal = calendar.get(&app.db).await.expect("calendar");
        let due = cal.add_working_days(instant(&accepted["acceptedAt"]), 7);
        assert_eq!(
            instant(&accepted["replyDueAt"]),
            due,
            "7 working days after acceptance"
        );

        let dept = s.department;
        let assigned = act(
            &app,
            leader,
            &format!("assignCase(id: $id, departmentId: \"{dept}\")"),
            vars.clone(),
        )
        .await;
        assert_eq!(assigned["status"], "ASSIGNED");
        assert_eq!(assigned["department"]["id"], dept.to_string());
        act(
            &app,
            leader,
            "remindCase(id: $id, note: \"请加快办理\")",
            vars.clone(),
        )
        .await;
        assert_eq!(
            act(&app, handler, "claimCase(id: $id)", vars.clone()).await["status"],
            "IN_PROGRESS"
        );
        let extended = act(
            &app,
            leader,
            "extendDeadline(id: $id, workingDays: 2, reason: \"需要现场勘查\")",
            vars.clone(),
        )
        .await;
        assert_eq!(
            instant(&extended["replyDueAt"]),
            cal.add_working_days(due, 2)
        );
        let replied = act(
            &app,
            handler,
            "replyCase(id: $id, reply: \"已安排维修\")",
            vars.clone(),
        )
        .await;
        assert_eq!(replied["status"], "REPLIED");
        let rated = act(
            &app,
            None,
            &format!(
                "rateCase(id: $id, level: DISSATISFIED, timeliness: 2, ratingToken: \"{token}\")"
            ),
            vars.clone(),
        )
        .await;
        assert_eq!(rated["rating"]["level"], "DISSATISFIED");
        let reopened = act(
            &app,
            leader,
            "reopenCase(id: $id, reason: \"群众不满意\")",
            vars.clone(),
        )
        .await;
        assert_eq!(reopened["status"], "IN_PROGRESS");
        assert_eq!(reopened["reopenCount"], 1);
        act(
            &app,
            handler,
            "replyCase(id: $id, reply: \"路灯已修好\")",
            vars.clone(),
        )
        .await;
        let rated = act(
            &app,
            None,
            &format!("rateCase(id: $id, level: SATISFIED, ratingToken: \"{token}\")"),
            vars.clone(),
        )
        .await;
        assert_eq!(
            rated["rating"]["level"], "SATISFIED",
            "a new reply may be rated again"
        );
        assert_eq!(
            act(&app, handler, "closeCase(id: $id)", vars.clone()).await["status"],
            "CLOSED"
        );
        assert_eq!(
            act(&app, leader, "archiveCase(id: $id)", vars.clone()).await["status"],
            "ARCHIVED"
        );

        let resp = app
        .graphql_as(leader, "query($id: ID!) { case(id: $id) { events { action fromStatus toStatus replyDueAt department { id } } } }", vars)
        .await;
        let events = data(&resp)["case"]["events"]
            .as_array()
            .expect("events")
            .clone();
        let actions: Vec<&str> = events
            .iter()
            .map(|e| e["action"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(
            actions,
            [
                "SUBMIT", "ACCEPT", "ASSIGN", "REMIND", "CLAIM", "EXTEND", "REPLY", "RATE",
                "REOPEN", "REPLY", "RATE", "CLOSE", "ARCHIVE"
            ]
        );
        // Each event starts where the previous one ended, and deadline-setting events say
        // which deadline they put in force.
        for pair in events.windows(2) {
            assert_eq!(pair[1]["fromStatus"], pair[0]["toStatus"], "{pair:?}");
        }
        for e in &events {
            let sets_deadline =
                matches!(e["action"].as_str(), Some("ACCEPT" | "EXTEND" | "REOPEN"));
            assert_eq!(!e["replyDueAt"].is_null(), sets_deadline, "{e}");
        }
        assert_eq!(events[2]["department"]["id"], dept.to_string());
        assert_eq!(
            events.last().map(|e| e["toStatus"].clone()),
            Some(json!("ARCHIVED"))
        );
        minyi_tests::assert_rollup_exact(&app.db).await;
    }
);

db_test!(
    a_transfer_moves_the_case_out_of_the_first_handlers_sight,
    |app| async move {
        let s = staff(&app).await;
        let resp = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("井盖缺失", "13900000002") }),
            )
            .await;
        let vars = json!({ "id": data(&resp)["submitCase"]["case"]["id"] });
        let (leader, handler) = (Some(s.leader.as_str()), Some(s.handler.as_str()));
        act(&app, leader, "acceptCase(id: $id)", vars.clone()).await;
        act(
            &app,
            leader,
            &format!("assignCase(id: $id, departmentId: \"{}\")", s.department),
            vars.clone(),
        )
        .await;
        act(&app, handler, "claimCase(id: $id)", vars.clone()).await;
        let other = s.other_department;
        let moved = act(
            &app,
            handler,
            &format!(
                "transferCase(id: $id, departmentId: \"{other}\", reason: \"属交通部门职责\")"
            ),
            vars.clone(),
        )
        .await;
        assert_eq!(moved["status"], "ASSIGNED");
        assert_eq!(moved["department"]["id"], other.to_string());
        let again = app
            .graphql_as(
                handler,
                "mutation($id: ID!) { claimCase(id: $id) { id } }",
                vars,
            )
            .await;
        assert_eq!(errors_code(&again).as_deref(), Some("NOT_FOUND"));
    }
);

db_test!(
    deadlines_follow_the_official_calendar_across_spring_festival_2025,
    |app| async move {
        let calendar = CalendarCache::default();
        let cal = calendar.get(&app.db).await.expect("calendar");
        let admin = Principal::system();
        // 2025-01-27 10:00 in Shanghai, the last working day before the holiday.
        let env = Env {
            db: &app.db,
            calendar: cal,
            principal: &admin,
            now: at(2025, 1, 27, 2, 0, 0),
        };
        let input = |kind| SubmitInput {
            title: "春节前反映的问题".into(),
            body: "内容".into(),
            channel: Channel::Hotline,
            kind,
            category_id: None,
            region_code: "510104".into(),
            citizen: CitizenInput {
                name: "李四".into(),
                phone: None,
                id_number: None,
                email: None,
                address: None,
            },
        };
        let complaint = submit(env, input(CaseKind::Complaint), None)
            .await
            .expect("submit")
            .case;
        let accepted = apply(env, complaint.id, None, Command::Accept)
            .await
            .expect("accept");
        // 01-28..02-04 are off; 02-05, 06, 07, Sat 02-08 (make-up), 10, 11, 12 are the 7.
        assert_eq!(accepted.reply_due_at, Some(at(2025, 2, 12, 15, 59, 59)));
        let question = submit(env, input(CaseKind::Consultation), None)
            .await
            .expect("submit")
            .case;
        let accepted = apply(env, question.id, None, Command::Accept)
            .await
            .expect("accept");
        assert_eq!(
            accepted.reply_due_at,
            Some(at(2025, 2, 7, 15, 59, 59)),
            "consultations: 3 days"
        );
        // Extensions count from the deadline in force: Fri 02-07 + 1 = the make-up Saturday.
        let extended = apply(
            env,
            question.id,
            None,
            Command::Extend {
                working_days: 1,
                reason: "调查".into(),
            },
        )
        .await
        .expect("extend");
        assert_eq!(extended.reply_due_at, Some(at(2025, 2, 8, 15, 59, 59)));
        let events = events_of(&app, question.id).await;
        let dues: Vec<_> = events.iter().filter_map(|e| e.reply_due_at).collect();
        assert_eq!(
            dues,
            [at(2025, 2, 7, 15, 59, 59), at(2025, 2, 8, 15, 59, 59)]
        );

        // Long overdue now: the supervision pass flags it once, however often it runs.
        let now = minyi::clock::now();
        let first = supervision::supervise_overdue(&app.db, cal, 3, now)
            .await
            .expect("pass");
        let second = supervision::supervise_overdue(&app.db, cal, 3, now)
            .await
            .expect("pass");
        assert_eq!((first, second), (2, 0));
        let flags = events_of(&app, complaint.id).await;
        let supervised: Vec<_> = flags
            .iter()
            .filter(|e| e.action == CaseAction::Supervise)
            .collect();
        assert_eq!(supervised.len(), 1);
        assert_eq!(supervised[0].actor, supervision::ACTOR);
        assert!(row(&app, complaint.id).await.supervised);
    }
);

db_test!(
    a_region_policy_set_by_an_admin_governs_the_cases_below_it,
    |app| async move {
        let s = staff(&app).await;
        let set = app
        .graphql_as(
            Some(&s.admin),
            "mutation { setDeadlinePolicy(input: { name: \"成都投诉5日\", kind: COMPLAINT, regionCode: \"510100\", respondHours: 4, replyWorkingDays: 5 }) { id replyWorkingDays } }",
            json!({}),
        )
        .await;
        assert_eq!(data(&set)["setDeadlinePolicy"]["replyWorkingDays"], 5);
        let resp = app
            .graphql(
                SUBMIT,
                json!({ "input": submission("噪音", "13900000003") }),
            )
            .await;
        let case = &data(&resp)["submitCase"]["case"];
        assert_eq!(
            (instant(&case["respondDueAt"]) - instant(&case["submittedAt"])).num_hours(),
            4
        );
        let accepted = act(
            &app,
            Some(&s.leader),
            "acceptCase(id: $id)",
            json!({ "id": case["id"] }),
        )
        .await;
        let calendar = CalendarCache::default();
        let cal = calendar.get(&app.db).await.expect("calendar");
        let due = cal.add_working_days(instant(&accepted["acceptedAt"]), 5);
        assert_eq!(instant(&accepted["replyDueAt"]), due);
    }
);
