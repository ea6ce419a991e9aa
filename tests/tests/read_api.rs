//! The read API seen from outside: regions, cases (filters, paging, visibility), the
//! statement count of a nested page, and the HTTP surface around GraphQL.

use entities::{CaseStatus, RatingLevel, Role};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, db_test, errors_code, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn ids(nodes: &Value) -> Vec<String> {
    nodes
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {nodes}"))
        .iter()
        .map(|n| {
            n["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {n}"))
                .to_string()
        })
        .collect()
}

db_test!(
    jinjiang_district_is_a_county_under_chengdu,
    |app| async move {
        let resp = app
            .graphql(
                r#"{ region(code: "510104") { code name level parent { code name level } } }"#,
                json!({}),
            )
            .await;
        let region = &data(&resp)["region"];
        assert_eq!(region["code"], "510104");
        assert_eq!(region["name"], "锦江区");
        assert_eq!(region["level"], "COUNTY");
        assert_eq!(region["parent"]["code"], "510100");
        assert_eq!(region["parent"]["name"], "成都市");
        assert_eq!(region["parent"]["level"], "CITY");
    }
);

db_test!(
    the_top_level_of_regions_is_the_31_provinces,
    |app| async move {
        let resp = app
            .graphql("{ regions { code name level } }", json!({}))
            .await;
        let regions = data(&resp)["regions"].as_array().expect("a list").clone();
        assert_eq!(regions.len(), 31);
        assert!(
            regions.iter().all(|r| r["level"] == "PROVINCE"),
            "{regions:?}"
        );
        assert!(regions
            .iter()
            .any(|r| r["code"] == "510000" && r["name"] == "四川省"));
    }
);

db_test!(
    the_townships_of_a_county_have_nine_digit_codes,
    |app| async move {
        let resp = app
            .graphql(
                r#"{ regions(parentCode: "510104") { code name level parent { code } } }"#,
                json!({}),
            )
            .await;
        let towns = data(&resp)["regions"].as_array().expect("a list").clone();
        assert!(!towns.is_empty());
        for town in &towns {
            let code = town["code"].as_str().expect("a code");
            assert_eq!(code.len(), 9, "{town}");
            assert!(code.starts_with("510104"), "{town}");
            assert_eq!(town["level"], "TOWNSHIP");
            assert_eq!(town["parent"]["code"], "510104");
        }
        assert!(towns
            .iter()
            .any(|t| t["code"] == "510104017" && t["name"] == "锦官驿街道"));
    }
);

db_test!(an_unknown_region_code_is_bad_user_input, |app| async move {
    let resp = app
        .graphql(r#"{ region(code: "999999") { name } }"#, json!({}))
        .await;
    assert_eq!(
        errors_code(&resp).as_deref(),
        Some("BAD_USER_INPUT"),
        "{resp}"
    );
    let resp = app
        .graphql(
            r#"query($code: String) { cases(filter: { regionCode: $code }) { totalCount } }"#,
            json!({ "code": "519999" }),
        )
        .await;
    assert_eq!(
        errors_code(&resp).as_deref(),
        Some("BAD_USER_INPUT"),
        "{resp}"
    );
    let resp = app
        .graphql(r#"{ region(code: "51ab") { name } }"#, json!({}))
        .await;
    assert_eq!(
        errors_code(&resp).as_deref(),
        Some("BAD_USER_INPUT"),
        "{resp}"
    );
});

db_test!(
    a_page_of_a_thousand_cases_is_bad_user_input,
    |app| async move {
        let resp = app
            .graphql("{ cases(first: 1000) { totalCount } }", json!({}))
            .await;
        assert_eq!(
            errors_code(&resp).as_deref(),
            Some("BAD_USER_INPUT"),
            "{resp}"
        );
        let resp = app
            .graphql("{ cases(last: 0) { totalCount } }", json!({}))
            .await;
        assert_eq!(
            errors_code(&resp).as_deref(),
            Some("BAD_USER_INPUT"),
            "{resp}"
        );
    }
);

db_test!(a_malformed_cursor_is_bad_user_input, |app| async move {
    for cursor in ["not-a-cursor", "", "YzE6eDox"] {
        let resp = app
            .graphql(
                "query($c: String) { cases(first: 5, after: $c) { totalCount } }",
                json!({ "c": cursor }),
            )
            .await;
        assert_eq!(
            errors_code(&resp).as_deref(),
            Some("BAD_USER_INPUT"),
            "{cursor}: {resp}"
        );
    }
});

db_test!(
    cases_filtered_by_a_city_are_exactly_its_subtree,
    |app| async move {
        let db = &app.db;
        let t = |minute| at(2025, 3, 1, 9, minute, 0);
        let mut chengdu = BTreeSet::new();
        let mut jinjiang = BTreeSet::new();
        // Chengdu: the city itself, two districts, a township of Jinjiang.
        for (code, minute) in [
            ("510100", 1),
            ("510104", 2),
            ("510104", 3),
            ("510104017", 4),
            ("510105", 5),
        ] {
            let case = fixtures::case(db, NewCase::new(code, t(minute))).await;
            chengdu.insert(case.id.to_string());
            if code.starts_with("510104") {
                jinjiang.insert(case.id.to_string());
            }
        }
        // Elsewhere: Mianyang (same province) and Beijing.
        let mut sichuan = chengdu.clone();
        for (code, minute) in [("510703", 6), ("510700", 7)] {
            sichuan.insert(
                fixtures::case(db, NewCase::new(code, t(minute)))
                    .await
                    .id
                    .to_string(),
            );
        }
        fixtures::case(db, NewCase::new("110101", t(8))).await;

        let query = "query($code: String) {
        cases(first: 100, filter: { regionCode: $code }) { totalCount nodes { id region { code } } }
    }";
        for (code, expected) in [
            ("510100", &chengdu),
            ("510104", &jinjiang),
            ("510000", &sichuan),
        ] {
            let resp = app.graphql(query, json!({ "code": code })).await;
            let cases = &data(&resp)["cases"];
            assert_eq!(cases["totalCount"], expected.len(), "{code}: {resp}");
            let got: BTreeSet<String> = ids(&cases["nodes"]).into_iter().collect();
            assert_eq!(&got, expected, "{code}");
        }
        let resp = app.graphql(query, json!({ "code": "510104017" })).await;
        let cases = &data(&resp)["cases"];
        assert_eq!(cases["totalCount"], 1);
        assert_eq!(cases["nodes"][0]["region"]["code"], "510104017");
        let resp = app.graphql("{ cases { totalCount } }", json!({})).await;
        assert_eq!(data(&resp)["cases"]["totalCount"], 8);
    }
);

db_test!(
    paging_forwards_and_backwards_returns_every_case_once_in_order,
    |app| async move {
        // 23 cases; every third shares its submission second with the previous one, so the
        // id tie-break is exercised too.
        let mut expected = Vec::new();
        for i in 0..23u32 {
            let second = i - (i % 3 == 2) as u32;
            let case = fixtures::case(
                &app.db,
                NewCase::new("510104", at(2025, 4, 1, 8, 0, second)),
            )
            .await;
            expected.push((case.submitted_at, case.id));
        }
        // The default order: newest first, then the higher id.
        expected.sort_by(|a, b| b.cmp(a));
        let expected: Vec<String> = expected.iter().map(|(_, id)| id.to_string()).collect();

        let forward = "query($after: String) {
        cases(first: 7, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { id }
        }
    }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        for _ in 0..10 {
            let resp = app.graphql(forward, json!({ "after": after })).await;
            let cases = &data(&resp)["cases"];
            assert_eq!(cases["totalCount"], 23);
            seen.extend(ids(&cases["nodes"]));
            if cases["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = cases["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected, "forwards");

        let backward = "query($before: String) {
        cases(last: 7, before: $before) {
            pageInfo { hasPreviousPage startCursor } edges { cursor node { id } }
        }
    }";
        let mut seen: Vec<String> = Vec::new();
        let mut before = Value::Null;
        for _ in 0..10 {
            let resp = app.graphql(backward, json!({ "before": before })).await;
            let cases = &data(&resp)["cases"];
            let page: Vec<String> = cases["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|e| e["node"]["id"].as_str().expect("an id").to_string())
                .collect();
            seen.splice(0..0, page);
            if cases["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = cases["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(seen, expected, "backwards");
    }
);

db_test!(the_public_sees_only_published_cases, |app| async move {
    let db = &app.db;
    let mut published = BTreeSet::new();
    for minute in 0..3 {
        let case = fixtures::case(db, NewCase::new("510104", at(2025, 5, 1, 9, minute, 0))).await;
        published.insert(case.id.to_string());
    }
    let original = published.iter().next().cloned().expect("a case");
    let mut hidden = Vec::new();
    for minute in 3..5 {
        let new = NewCase::new("510104", at(2025, 5, 1, 9, minute, 0)).published(false);
        hidden.push(fixtures::case(db, new).await.id.to_string());
    }
    let mut duplicate = NewCase::new("510104", at(2025, 5, 1, 9, 6, 0));
    duplicate.duplicate_of = original.parse().ok();
    hidden.push(fixtures::case(db, duplicate).await.id.to_string());

    let query = "{ cases(first: 50) { totalCount nodes { id } } }";
    let resp = app.graphql(query, json!({})).await;
    let cases = &data(&resp)["cases"];
    assert_eq!(cases["totalCount"], 3);
    let got: BTreeSet<String> = ids(&cases["nodes"]).into_iter().collect();
    assert_eq!(got, published);
    for id in &hidden {
        let resp = app
            .graphql(
                "query($id: ID!) { case(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(
            resp["data"]["case"].is_null(),
            "the public reached case {id}: {resp}"
        );
    }

    let admin = app
        .create_key(minyi::keys::KeyGrant {
            role: Role::Admin,
            region_code: None,
            department_id: None,
            panel_id: None,
            label: Some("test".into()),
        })
        .await;
    let resp = app.graphql_as(Some(&admin), query, json!({})).await;
    assert_eq!(data(&resp)["cases"]["totalCount"], 6);
});

db_test!(
    a_nested_page_issues_as_many_statements_for_100_cases_as_for_10,
    |app| async move {
        let db = &app.db;
        let chengdu = fixtures::department(db, "成都市人民政府", "510100", None).await;
        let mut departments = vec![chengdu.clone()];
        for name in [
            "成都市住房和城乡建设局",
            "成都市交通运输局",
            "成都市生态环境局",
        ] {
            departments.push(fixtures::department(db, name, "510100", Some(&chengdu)).await);
        }
        let category = fixtures::category(db, None).await;
        let regions = [
            "510104",
            "510105",
            "510106",
            "510107",
            "510108",
            "510104017",
            "510100",
        ];
        for i in 0..100u32 {
            let mut new = NewCase::new(
                regions[i as usize % regions.len()],
                at(2025, 6, 1, 0, 0, 0) + chrono::Duration::minutes(i.into()),
            )
            .status(CaseStatus::Closed)
            .department(&departments[i as usize % departments.len()]);
            if i % 2 == 0 {
                new = new.category(&category);
            }
            let case = fixtures::case(db, new).await;
            if i % 3 == 0 {
                fixtures::rating(db, &case, RatingLevel::Satisfied, case.submitted_at).await;
            }
        }
        let query = "query($n: Int) {
        cases(first: $n) { nodes { region { name } department { name } category { name } rating { level } } }
    }";
        // The list primes each relation's loader with the whole page's keys in one
        // statement (no batching delay that could split a batch), so the count is exact
        // on every try: the same for 10 cases as for 100.
        let mut observed: Vec<(usize, u64)> = Vec::new();
        for n in [10usize, 100, 10, 100] {
            let before = app.statements().await;
            let resp = app.graphql(query, json!({ "n": n })).await;
            let after = app.statements().await;
            let nodes = data(&resp)["cases"]["nodes"]
                .as_array()
                .expect("nodes")
                .clone();
            assert_eq!(nodes.len(), n);
            assert!(nodes
                .iter()
                .all(|c| c["region"]["name"].is_string() && c["department"]["name"].is_string()));
            assert!(nodes.iter().any(|c| c["rating"]["level"] == "SATISFIED"));
            assert!(nodes
                .iter()
                .any(|c| c["category"]["name"] == category.name.as_str()));
            observed.push((n, after - before));
        }
        assert!(
            observed.iter().all(|(_, count)| *count == observed[0].1),
            "statements for 10 cases vs 100 cases (page size, statements): {observed:?}"
        );
        assert!(
            observed[0].1 <= 10,
            "too many statements for one page: {observed:?}"
        );
        // Edges and nodes of one page share the relations read for the first of them.
        let both = "query($n: Int) { cases(first: $n) {
            edges { node { region { name } department { name } category { name } rating { level } } }
            nodes { region { name } department { name } category { name } rating { level } }
        } }";
        let before = app.statements().await;
        let resp = app.graphql(both, json!({ "n": 100 })).await;
        let after = app.statements().await;
        assert_eq!(
            data(&resp)["cases"]["edges"].as_array().map(Vec::len),
            Some(100)
        );
        assert_eq!(
            after - before,
            observed[0].1,
            "edges and nodes: {} statements, nodes alone {observed:?}",
            after - before
        );
    }
);

db_test!(a_mutation_over_get_is_refused_with_405, |app| async move {
    let resp = app
        .get("/graphql?query=mutation%20%7B%20__typename%20%7D")
        .await;
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let body: Value = resp.json().await.expect("a JSON body");
    assert_eq!(errors_code(&body).as_deref(), Some("BAD_USER_INPUT"));

    let resp = app
        .get("/graphql?query=%7B%20regions%20%7B%20code%20%7D%20%7D")
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("a JSON body");
    assert_eq!(data(&body)["regions"].as_array().map(Vec::len), Some(31));
});

db_test!(health_and_readiness_answer_ok, |app| async move {
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.expect("a body"), "ok");
    let resp = app.get("/readyz").await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.expect("a body"), "ready");
});

db_test!(
    the_sdl_is_served_and_names_the_case_type,
    |app| async move {
        let resp = app.get("/schema.graphql").await;
        assert_eq!(resp.status().as_u16(), 200);
        let sdl = resp.text().await.expect("a body");
        assert!(sdl.contains("type Case "), "{sdl}");
        assert_eq!(sdl, minyi::graphql::sdl());
    }
);

/// The `src`/`href` URLs of the page.
fn linked_urls(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

async fn assert_graphiql_page(app: &TestApp, html: &str) {
    assert!(html.contains("/graphiql/assets/graphiql.min.js"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "an external URL: {html}"
    );
    let urls = linked_urls(html);
    assert_eq!(urls.len(), 5, "{urls:?}");
    for url in urls {
        assert!(url.starts_with("/graphiql/assets/"), "{url}");
        let resp = app.get(&url).await;
        assert_eq!(resp.status().as_u16(), 200, "{url}");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let expected_type = if url.contains(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            header("content-type").starts_with(expected_type),
            "{url}: {}",
            header("content-type")
        );
        assert!(
            header("cache-control").contains("max-age=31536000"),
            "{url}"
        );
        assert!(resp.bytes().await.expect("a body").len() > 500, "{url}");
    }
}

db_test!(
    graphiql_and_its_assets_are_served_without_external_urls,
    |app| async move {
        let resp = app.get("/graphiql").await;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")));
        let html = resp.text().await.expect("a body");
        assert_graphiql_page(&app, &html).await;

        // A browser opening /graphql gets the same page.
        let resp = reqwest::Client::new()
            .get(format!("{}/graphql", app.base_url))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await
            .expect("GET /graphql");
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.text().await.expect("a body"), html);

        assert_eq!(
            app.get("/graphiql/assets/nope.js").await.status().as_u16(),
            404
        );
    }
);

db_test!(metrics_count_database_statements, |app| async move {
    let before = app.statements().await;
    data(
        &app.graphql(r#"{ region(code: "510104") { name } }"#, json!({}))
            .await,
    );
    assert!(app.statements().await > before);
    let text = app.get("/metrics").await.text().await.expect("a body");
    assert!(
        text.contains("# TYPE minyi_db_statements_total counter"),
        "{text}"
    );
});

/// The SDL is reviewed like code: a schema change shows up as a diff of this file.
#[test]
fn the_schema_matches_its_snapshot() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/schema.graphql");
    let sdl = minyi::graphql::sdl();
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::write(&path, &sdl).expect("writing the snapshot");
        return;
    }
    let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
    if snapshot != sdl {
        let first_difference = snapshot
            .lines()
            .zip(sdl.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| snapshot.lines().count().min(sdl.lines().count()))
            + 1;
        panic!(
            "the GraphQL schema differs from {} (first at line {first_difference}).\n\
             If the change is intended, update the snapshot and review its diff:\n\
             \n    UPDATE_SNAPSHOTS=1 cargo nextest run -p minyi-tests the_schema_matches_its_snapshot\n",
            path.display()
        );
    }
}

db_test!(
    the_public_reads_free_text_with_personal_data_masked_and_staff_read_it_verbatim,
    |app| async move {
        let citizen = fixtures::citizen(&app.db, "李秀英").await;
        let mut new = NewCase::new("510104", at(2025, 3, 3, 9, 0, 0));
        new.body = "我是李秀英，电话138-1234-5678，身份证11010519491231002X，小区电梯坏了。".into();
        new.reply = Some("已联系李秀英女士，电梯已于3月5日修复。".into());
        new.citizen_id = Some(citizen.id);
        let case = fixtures::case(&app.db, new).await;
        let query = "query($id: ID!) { case(id: $id) { body reply } }";
        let vars = json!({ "id": case.id.to_string() });

        let public = app.graphql(query, vars.clone()).await;
        assert_eq!(
            data(&public)["case"]["body"],
            "我是[姓名]，电话[手机号]，身份证[身份证号]，小区电梯坏了。"
        );
        assert_eq!(
            data(&public)["case"]["reply"],
            "已联系[姓名]女士，电梯已于3月5日修复。"
        );

        let admin = app.admin_key().await;
        let staff = app.graphql_as(Some(&admin), query, vars).await;
        assert_eq!(
            data(&staff)["case"]["body"],
            "我是李秀英，电话138-1234-5678，身份证11010519491231002X，小区电梯坏了。"
        );
    }
);
