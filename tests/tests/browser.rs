//! The web front end in a real browser (headless Chromium through chromedriver): the
//! dashboard shows exactly what the GraphQL API answers for the same scope and window,
//! drilling down changes it, the ranking keeps the API's order, the public sees nothing
//! unpublished or personal, and no page logs an error. Screenshots of every view land
//! in `target/screenshots/` for review (docs/DASHBOARD.md shows them).
//!
//! The pages are engine-independent (they only speak GraphQL), so these run on SQLite.

use chrono::{Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use entities::{CaseStatus, Role};
use minyi::keys::KeyGrant;
use minyi_tests::browser::Browser;
use minyi_tests::fixtures::{self, NewCase};
use minyi_tests::{data, Backend, TestApp};
use sea_orm::EntityTrait;
use serde_json::{json, Value};

const KPI_METRICS: [&str; 7] = [
    "received",
    "due",
    "replyRate",
    "onTimeRate",
    "completionRate",
    "satisfactionRate",
    "overdueNow",
];

/// An app with deterministic demo data for the last twelve months.
async fn seeded_app() -> TestApp {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let args = minyi::seed::SeedArgs {
        demo: true,
        cases: 3_000,
        seed: 11,
        from: None,
        to: None,
    };
    minyi::seed::run(&app.db, &args)
        .await
        .unwrap_or_else(|e| panic!("seeding demo data: {e}"));
    app
}

async fn leader_key(app: &TestApp, region: &str) -> String {
    app.create_key(KeyGrant {
        role: Role::Leader,
        region_code: Some(region.into()),
        department_id: None,
        panel_id: None,
        label: Some("browser test".into()),
    })
    .await
}

/// `[from, to)` of last calendar month in Asia/Shanghai, as the page computes it.
fn last_month() -> (String, String, NaiveDate) {
    let shanghai = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let today = Utc::now().with_timezone(&shanghai).date_naive();
    let this_month = today.with_day(1).expect("day 1 exists");
    let previous = (this_month - Duration::days(1))
        .with_day(1)
        .expect("day 1 exists");
    let midnight = |day: NaiveDate| {
        shanghai
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .single()
            .expect("a fixed offset has no gaps")
            .with_timezone(&Utc)
            .to_rfc3339()
    };
    (midnight(previous), midnight(this_month), previous)
}

async fn stats(app: &TestApp, key: Option<&str>, region: &str, from: &str, to: &str) -> Value {
    let response = app
        .graphql_as(
            key,
            "query($scope: ScopeInput, $from: DateTime!, $to: DateTime!) {
               stats(scope: $scope, from: $from, to: $to) {
                 received due replyRate onTimeRate completionRate satisfactionRate overdueNow } }",
            json!({ "scope": { "regionCode": region }, "from": from, "to": to }),
        )
        .await;
    data(&response)["stats"].clone()
}

/// The raw values the KPI tiles carry (`data-value`), parsed back to JSON numbers.
async fn tile_values(browser: &Browser) -> Value {
    let values = browser
        .eval(
            "const out = {};
             for (const tile of document.querySelectorAll('.kpi')) {
               out[tile.dataset.metric] = tile.dataset.value === '' ? null : Number(tile.dataset.value);
             }
             return out;",
        )
        .await;
    values
}

fn assert_tiles_equal(tiles: &Value, stats: &Value, scope: &str) {
    for metric in KPI_METRICS {
        let shown = &tiles[metric];
        let expected = &stats[metric];
        let equal = match (shown.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-12,
            _ => shown.is_null() && expected.is_null(),
        };
        assert!(
            equal,
            "{scope}: tile {metric} shows {shown}, stats says {expected}"
        );
    }
}

/// Stores the key in the tab's session storage (same origin), as the key button does.
async fn sign_in(browser: &Browser, app: &TestApp, key: &str) {
    browser
        .client
        .goto(&format!("{}/web/assets/minyi.css", app.base_url))
        .await
        .expect("the stylesheet opens");
    browser
        .eval(&format!(
            "sessionStorage.setItem('minyi.apiKey', {}); return true;",
            json!(key)
        ))
        .await;
}

#[tokio::test]
async fn the_dashboard_shows_the_stats_of_its_scope_and_window_and_drills_into_a_city() {
    let app = seeded_app().await;
    let key = leader_key(&app, "510000").await;
    let (from, to, _) = last_month();
    let browser = Browser::start(1366, 768).await;
    sign_in(&browser, &app, &key).await;

    browser
        .open(&format!("{}/dashboard?window=lastMonth", app.base_url), 1)
        .await;
    let province = stats(&app, Some(&key), "510000", &from, &to).await;
    assert!(
        province["received"].as_i64().unwrap_or(0) > 0,
        "the demo data has cases last month: {province}"
    );
    assert_tiles_equal(&tile_values(&browser).await, &province, "Sichuan");
    browser.screenshot("dashboard-1366x768").await;

    // Drill into Chengdu with the scope picker.
    browser
        .eval(
            "const picker = document.getElementById('scope-child');
             picker.value = '510100';
             picker.dispatchEvent(new Event('change'));
             return true;",
        )
        .await;
    browser.wait_loaded(2).await;
    let chengdu = stats(&app, Some(&key), "510100", &from, &to).await;
    assert_ne!(chengdu["received"], province["received"]);
    assert_tiles_equal(&tile_values(&browser).await, &chengdu, "Chengdu");
    let crumbs = browser
        .eval(
            "return [...document.querySelectorAll('#scope-path .crumb')].map(c => c.dataset.code);",
        )
        .await;
    assert_eq!(crumbs, json!(["510000", "510100"]));
    assert!(browser
        .client
        .current_url()
        .await
        .expect("a URL")
        .as_str()
        .contains("region=510100"));

    // The ranking table lists the departments in the API's order, with the page's
    // default weights and minimum.
    let ranking = app
        .graphql_as(
            Some(&key),
            "query($from: DateTime!, $to: DateTime!) {
               ranking(unit: DEPARTMENT, scope: { regionCode: \"510100\" }, from: $from, to: $to,
                       weights: { replyRate: 0.4, onTimeRate: 0.3, satisfactionRate: 0.3 },
                       minCases: 10) { unit { id } } }",
            json!({ "from": from, "to": to }),
        )
        .await;
    let expected: Vec<Value> = data(&ranking)["ranking"]
        .as_array()
        .expect("a ranking")
        .iter()
        .map(|row| row["unit"]["id"].clone())
        .collect();
    assert!(!expected.is_empty(), "Chengdu has departments to rank");
    let shown = browser
        .eval("return [...document.querySelectorAll('#ranking-table tbody tr')].map(r => r.dataset.unitId);")
        .await;
    assert_eq!(shown, Value::Array(expected));

    // The breakdown table has one row per group the API returns: Chengdu's districts
    // and counties (and a group for cases filed at city level, if any).
    let rows = browser
        .eval("return [...document.querySelectorAll('#breakdown-rows tbody tr td:first-child')].map(td => td.textContent).sort();")
        .await;
    let breakdown = app
        .graphql_as(
            Some(&key),
            "query($from: DateTime!, $to: DateTime!) {
               breakdown(by: REGION, scope: { regionCode: \"510100\" }, from: $from, to: $to) { label } }",
            json!({ "from": from, "to": to }),
        )
        .await;
    let mut labels: Vec<Value> = data(&breakdown)["breakdown"]
        .as_array()
        .expect("a breakdown")
        .iter()
        .map(|group| group["label"].clone())
        .collect();
    labels.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert!(labels.len() >= 20, "Chengdu has 20 districts and counties");
    assert_eq!(rows, Value::Array(labels));
    browser.screenshot("dashboard-chengdu").await;
    assert_eq!(browser.all_errors().await, Vec::<String>::new());

    // The English switch relabels the page.
    browser
        .client
        .find(fantoccini::Locator::Id("lang-switch"))
        .await
        .expect("a language switch")
        .click()
        .await
        .expect("the switch clicks");
    browser.wait_loaded(1).await;
    let heading = browser
        .eval("return document.querySelector('h1').textContent;")
        .await;
    assert_eq!(heading, json!("minyi · leader dashboard"));
    assert_eq!(browser.all_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn the_wall_screen_dashboard_and_the_monthly_bulletin_render_without_errors() {
    let app = seeded_app().await;
    let key = leader_key(&app, "510000").await;
    let (from, to, month) = last_month();
    let browser = Browser::start(1920, 1080).await;
    sign_in(&browser, &app, &key).await;

    browser
        .open(&format!("{}/dashboard?window=lastMonth", app.base_url), 1)
        .await;
    browser.screenshot("dashboard-1920x1080").await;
    assert_eq!(browser.all_errors().await, Vec::<String>::new());

    // The bulletin at a stable URL: the month, the region and a frozen as-of.
    let as_of = Utc::now().to_rfc3339();
    let url = format!(
        "{}/dashboard/bulletin?month={}&region=510000&asOf={}",
        app.base_url,
        month.format("%Y-%m"),
        as_of.replace('+', "%2B")
    );
    browser.open(&url, 1).await;
    let response = app
        .graphql_as(
            Some(&key),
            "query($from: DateTime!, $to: DateTime!, $asOf: DateTime) {
               stats(scope: { regionCode: \"510000\" }, from: $from, to: $to, asOf: $asOf) { received closed } }",
            json!({ "from": from, "to": to, "asOf": as_of }),
        )
        .await;
    let expected = &data(&response)["stats"];
    for metric in ["received", "closed"] {
        let shown = browser
            .eval(&format!(
                "return document.querySelector('#bulletin-kpi-table tr[data-metric={metric}] td').textContent.replace(/[^0-9]/g, '');"
            ))
            .await;
        assert_eq!(
            shown.as_str().and_then(|s| s.parse::<i64>().ok()),
            expected[metric].as_i64(),
            "bulletin {metric}"
        );
    }
    browser.screenshot("bulletin").await;
    assert_eq!(browser.all_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn a_public_visitor_sees_no_unpublished_case_and_no_personal_data() {
    let app = seeded_app().await;
    let phone = "13912345678";
    let id_number = "11010519491231002X";
    let yesterday = Utc::now() - Duration::days(1);
    let secret = fixtures::case(
        &app.db,
        NewCase {
            body: format!("我的电话{phone}，身份证{id_number}，请联系我。"),
            ..NewCase::new("510104", yesterday)
                .published(false)
                .title("未公开的留言标题")
        },
    )
    .await;
    let public = fixtures::case(
        &app.db,
        NewCase {
            body: format!("联系电话 {phone}，证件号 {id_number}。"),
            ..NewCase::new("510104", yesterday)
                .status(CaseStatus::Submitted)
                .title("公开留言：路灯维修")
        },
    )
    .await;

    let browser = Browser::start(1366, 768).await;
    browser.open(&format!("{}/data", app.base_url), 1).await;
    browser.screenshot("data-portal").await;
    // The portal lists the data dictionary's every column and the catalog's downloads.
    let dictionary: Value = app
        .get("/exports/dictionary.json")
        .await
        .json()
        .await
        .expect("the dictionary is JSON");
    let shown = browser
        .eval("return document.querySelectorAll('#dictionary-table tbody tr').length;")
        .await;
    assert_eq!(
        shown.as_u64(),
        dictionary["columns"].as_array().map(|c| c.len() as u64)
    );
    let downloads = browser
        .eval("return [...document.querySelectorAll('#catalog-table tbody a')].map(a => new URL(a.href).pathname);")
        .await;
    assert_eq!(
        downloads,
        json!([
            "/exports/cases.csv",
            "/exports/cases.ndjson",
            "/exports/dictionary.json"
        ])
    );
    browser
        .eval("document.getElementById('catalog-heading').scrollIntoView(); return true;")
        .await;
    browser.screenshot("data-portal-catalog").await;
    let html = browser.html().await;
    assert!(!html.contains(phone) && !html.contains(id_number));
    assert!(!html.contains(&secret.tracking_number));
    assert!(!html.contains("未公开的留言标题"));
    // Every case the portal lists is a published one.
    let listed = browser
        .eval("return [...document.querySelectorAll('#search-table tbody tr')].map(r => Number(r.dataset.caseId));")
        .await;
    let listed: Vec<i64> = serde_json::from_value(listed).expect("case ids");
    assert!(!listed.is_empty());
    for id in &listed {
        let row = entities::case::Entity::find_by_id(*id)
            .one(&app.db)
            .await
            .expect("the case is readable")
            .expect("the case exists");
        assert!(row.published, "case {id} is listed but not published");
    }

    // Searching finds the published case, masked.
    browser
        .eval(
            "document.getElementById('search-text').value = '路灯维修';
             document.getElementById('search-form').requestSubmit();
             return true;",
        )
        .await;
    browser
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(&format!(
            "#search-table tr[data-case-id='{}']",
            public.id
        )))
        .await
        .expect("the published case is found");
    let html = browser.html().await;
    assert!(!html.contains(phone) && !html.contains(id_number));
    assert_eq!(browser.all_errors().await, Vec::<String>::new());

    // The dashboard without a key is the public view: published cases only.
    browser
        .open(&format!("{}/dashboard", app.base_url), 1)
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('who').textContent;")
            .await,
        json!("公众视图")
    );
    let html = browser.html().await;
    assert!(!html.contains(phone) && !html.contains(id_number));
    assert!(!html.contains(&secret.tracking_number));
    assert_eq!(browser.all_errors().await, Vec::<String>::new());
    browser.close().await;
}

#[tokio::test]
async fn a_small_township_shows_as_hidden_to_the_public_never_as_zero() {
    let app = seeded_app().await;
    let admin = app.admin_key().await;
    let (from, to, _) = last_month();
    // A township of Chengdu with a few cases last month (below the threshold of 5).
    let mut township = None;
    let counties = app
        .graphql("{ regions(parentCode: \"510100\") { code } }", json!({}))
        .await;
    for county in data(&counties)["regions"].as_array().expect("counties") {
        let response = app
            .graphql_as(
                Some(&admin),
                "query($scope: ScopeInput, $from: DateTime!, $to: DateTime!) {
                   breakdown(by: REGION, scope: $scope, from: $from, to: $to) { key stats { received } } }",
                json!({ "scope": { "regionCode": county["code"] }, "from": from, "to": to }),
            )
            .await;
        township = data(&response)["breakdown"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| {
                let n = g["stats"]["received"].as_i64().unwrap_or(0);
                g["key"].as_str().is_some_and(|k| k.len() == 9) && (1..5).contains(&n)
            })
            .map(|g| g["key"].as_str().unwrap_or_default().to_string());
        if township.is_some() {
            break;
        }
    }
    let township = township.expect("the demo data has a township with 1 to 4 cases last month");

    let browser = Browser::start(1366, 768).await;
    browser
        .open(
            &format!(
                "{}/dashboard?region={township}&window=lastMonth",
                app.base_url
            ),
            1,
        )
        .await;
    let received = browser
        .eval("const tile = document.getElementById('kpi-received'); return [tile.dataset.value, tile.querySelector('.value').textContent];")
        .await;
    assert_eq!(received, json!(["", "小于阈值，已隐藏"]));
    browser.screenshot("dashboard-suppressed-township").await;
    assert_eq!(browser.all_errors().await, Vec::<String>::new());
    browser.close().await;
}
