//! `ranking(first, last)`: the top and the bottom of a department ranking, with the ranks
//! of the whole ranking, on the monthly rollup (a whole month) and on the case scan (the
//! same cases, a window one second shorter); bad ends refused; the query limits do not
//! take the ends for a page; `rankHistory` still lists every unit.

use entities::CaseStatus;
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, db_test, errors_code, TestApp};
use serde_json::{json, Value};

/// March 2025 in Asia/Shanghai: whole months, so the monthly department rollup answers.
const FROM: &str = "2025-02-28T16:00:00Z";
const TO: &str = "2025-03-31T16:00:00Z";
/// One second into the month: the same cases, read from the case rows.
const FROM_SCAN: &str = "2025-02-28T16:00:01Z";

const RANKING: &str = "query($scope: ScopeInput, $from: DateTime!, $to: DateTime!, \
    $first: Int, $last: Int) { ranking(unit: DEPARTMENT, scope: $scope, from: $from, to: $to, \
    minCases: 2, first: $first, last: $last) { rank unit { id name } score eligible \
    stats { received replyRate } } }";

/// Five departments of Chengdu with 4 cases each, of which 4, 3, 2, 1 and 0 were replied
/// in time (scores 1, 0.75, 0.5, 0.25, 0: ranks 1–5 in that order), and one with a
/// single replied case: ineligible under `minCases: 2`. Returns the ids by name.
async fn world(app: &TestApp) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    for (name, cases, replied) in [
        ("甲局", 4, 4),
        ("乙局", 4, 3),
        ("丙局", 4, 2),
        ("丁局", 4, 1),
        ("戊局", 4, 0),
        ("己局", 1, 1),
    ] {
        let department = fixtures::department(&app.db, name, "510100", None).await;
        for n in 0..cases {
            let mut case = NewCase::new("510104", at(2025, 3, 10, 2, 0, 0)).department(&department);
            case.accepted_at = Some(at(2025, 3, 10, 3, 0, 0));
            case.reply_due_at = Some(at(2025, 3, 15, 3, 0, 0));
            case.status = CaseStatus::Accepted;
            if n < replied {
                case.replied_at = Some(at(2025, 3, 12, 3, 0, 0));
                case.reply = Some("已处理".into());
                case.status = CaseStatus::Replied;
            }
            fixtures::case(&app.db, case).await;
        }
        ids.push((name.to_string(), department.id.to_string()));
    }
    ids
}

/// `(rank, unit name)` of each row.
fn ranked(rows: &Value) -> Vec<(Option<u64>, String)> {
    rows.as_array()
        .unwrap_or_else(|| panic!("a ranking: {rows}"))
        .iter()
        .map(|r| {
            (
                r["rank"].as_u64(),
                r["unit"]["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn rank(n: u64, name: &str) -> (Option<u64>, String) {
    (Some(n), name.to_string())
}

async fn ranking(app: &TestApp, from: &str, region: &str, ends: Value) -> Value {
    let mut variables = json!({ "scope": { "regionCode": region }, "from": from, "to": TO });
    for (k, v) in ends.as_object().into_iter().flatten() {
        variables[k] = v.clone();
    }
    app.graphql(RANKING, variables).await
}

async fn ends(app: &TestApp, from: &str, region: &str, ends: Value) -> Vec<(Option<u64>, String)> {
    ranked(&data(&ranking(app, from, region, ends).await)["ranking"])
}

db_test!(
    the_top_and_the_bottom_keep_their_ranks_in_the_whole_ranking,
    |app| async move {
        let ids = world(&app).await;
        for from in [FROM, FROM_SCAN] {
            for region in ["510000", "510100"] {
                let both = ranking(&app, from, region, json!({ "first": 2, "last": 2 })).await;
                let rows = data(&both)["ranking"].clone();
                assert_eq!(
                    ranked(&rows),
                    vec![
                        rank(1, "甲局"),
                        rank(2, "乙局"),
                        rank(4, "丁局"),
                        rank(5, "戊局")
                    ],
                    "{region} from {from}"
                );
                // The rows are the whole ranking's rows: ids, scores and stats.
                assert_eq!(rows[0]["unit"]["id"], ids[0].1);
                assert_eq!(rows[0]["score"], 1.0);
                assert_eq!(rows[1]["score"], 0.75);
                assert_eq!(rows[2]["stats"]["received"], 4);
                assert_eq!(rows[2]["stats"]["replyRate"], 0.25);
                assert_eq!(rows[3]["score"], 0.0);
                assert_eq!(rows[3]["eligible"], true);

                assert_eq!(
                    ends(&app, from, region, json!({ "last": 3 })).await,
                    vec![rank(3, "丙局"), rank(4, "丁局"), rank(5, "戊局")],
                    "the third from the bottom keeps rank 3"
                );
                assert_eq!(
                    ends(&app, from, region, json!({ "first": 1 })).await,
                    vec![rank(1, "甲局")]
                );
            }
        }
    }
);

db_test!(
    overlapping_ends_list_each_unit_once_and_leave_ineligible_units_out,
    |app| async move {
        world(&app).await;
        let five = vec![
            rank(1, "甲局"),
            rank(2, "乙局"),
            rank(3, "丙局"),
            rank(4, "丁局"),
            rank(5, "戊局"),
        ];
        for from in [FROM, FROM_SCAN] {
            assert_eq!(
                ends(&app, from, "510000", json!({ "first": 3, "last": 3 })).await,
                five
            );
            assert_eq!(
                ends(&app, from, "510000", json!({ "first": 100 })).await,
                five,
                "己局 (one case, under minCases) is in neither end"
            );
            let mut whole = five.clone();
            whole.push((None, "己局".to_string()));
            assert_eq!(
                ends(&app, from, "510000", json!({})).await,
                whole,
                "without ends: the whole ranking, ineligible units last"
            );
        }
    }
);

db_test!(
    zero_empties_an_end_and_negative_ends_are_refused,
    |app| async move {
        world(&app).await;
        assert_eq!(
            ends(&app, FROM, "510000", json!({ "first": 0 })).await,
            vec![]
        );
        assert_eq!(
            ends(&app, FROM, "510000", json!({ "first": 0, "last": 1 })).await,
            vec![rank(5, "戊局")]
        );
        assert_eq!(
            ends(&app, FROM, "510000", json!({ "first": 0, "last": 0 })).await,
            vec![]
        );
        for bad in [json!({ "first": -1 }), json!({ "last": -3, "first": 2 })] {
            let resp = ranking(&app, FROM, "510000", bad.clone()).await;
            assert_eq!(
                errors_code(&resp).as_deref(),
                Some("BAD_USER_INPUT"),
                "{bad}: {resp}"
            );
        }
    }
);

db_test!(
    the_query_limits_do_not_take_the_ends_for_a_page,
    |app| async move {
        world(&app).await;
        // 50,000 is above the 10,000 nodes a query may return: as a page size it would be
        // refused, but the ends never return more rows than the ranking has.
        assert_eq!(
            ends(&app, FROM, "510000", json!({ "first": 50000, "last": 3 }))
                .await
                .len(),
            5
        );
        let literal = app
            .graphql(
                "{ ranking(unit: DEPARTMENT, from: \"2025-02-28T16:00:00Z\", \
                 to: \"2025-03-31T16:00:00Z\", minCases: 2, last: 3) { rank } }",
                json!({}),
            )
            .await;
        let ranks: Vec<u64> = data(&literal)["ranking"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["rank"].as_u64())
            .collect();
        assert_eq!(ranks, vec![3, 4, 5]);
    }
);

db_test!(
    rank_history_and_its_alerts_still_see_every_unit,
    |app| async move {
        world(&app).await;
        let resp = app
            .graphql(
                "query($from: DateTime!, $to: DateTime!) { rankHistory(unit: DEPARTMENT, \
             scope: { regionCode: \"510000\" }, from: $from, to: $to, minCases: 2, bottomN: 2) \
             { months { monthStart rows { rank unit { name } } } alerts { unit { name } } } }",
                json!({ "from": FROM, "to": TO }),
            )
            .await;
        let months = data(&resp)["rankHistory"]["months"]
            .as_array()
            .expect("months")
            .clone();
        assert_eq!(months.len(), 1);
        assert_eq!(
            ranked(&months[0]["rows"]),
            vec![
                rank(1, "甲局"),
                rank(2, "乙局"),
                rank(3, "丙局"),
                rank(4, "丁局"),
                rank(5, "戊局"),
                (None, "己局".to_string()),
            ]
        );
        // One month: no two months in a row.
        assert_eq!(data(&resp)["rankHistory"]["alerts"], json!([]));
    }
);
