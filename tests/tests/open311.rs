//! Open311 GeoReport v2 read endpoints (`/open311/v2/…`) as real clients call them:
//! the window a client asks for, the defaults and the caps of the spec, paging, one
//! request by id, the services, XML equal to JSON, no personal data, HTTP caching, and
//! errors in the Open311 format.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entities::{case, category, CaseStatus};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{db_test, TestApp};
use quick_xml::events::Event;
use quick_xml::Reader;
use sea_orm::{ActiveModelTrait, ActiveValue, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const CHENGDU_JINJIANG: &str = "510104";
/// A mobile number and a (checksum-valid) resident ID number, planted in a citizen's text.
const PHONE: &str = "13912345678";
const ID_NUMBER: &str = "11010519491231002X";

/// `GET path` answered with a JSON body: (status, body).
async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    let text = response.text().await.expect("the body is readable");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("GET {path} answered {status} with non-JSON ({e}): {text}"));
    (status, body)
}

/// The `service_request_id`s of a JSON list of requests, in order.
fn ids(requests: &Value) -> Vec<String> {
    requests
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {requests}"))
        .iter()
        .map(|r| r["service_request_id"].as_str().expect("an id").to_string())
        .collect()
}

/// The leaf categories of the seeded tree, by id: (first, second).
async fn two_services(app: &TestApp) -> (category::Model, category::Model) {
    let leaves = category::Entity::find()
        .filter(category::Column::ParentId.is_not_null())
        .order_by_asc(category::Column::Id)
        .all(&app.db)
        .await
        .expect("categories are readable");
    assert!(leaves.len() >= 2, "the seeded tree has two leaves");
    (leaves[0].clone(), leaves[1].clone())
}

/// A citizen's case with a phone and an ID number in its title and body.
fn with_personal_data(new: NewCase) -> NewCase {
    NewCase {
        body: format!("我的身份证号{ID_NUMBER}，电话{PHONE}，路灯一直不亮。"),
        ..new.title(&format!("路灯不亮 联系{PHONE}"))
    }
}

/// The world of the October window: which cases a client asking for October must get.
struct October {
    service: category::Model,
    other_service: category::Model,
    /// In the window, newest first, as the answer lists them.
    expected: Vec<case::Model>,
}

async fn october(app: &TestApp) -> October {
    let db = &app.db;
    let (service, other_service) = two_services(app).await;
    let department = fixtures::department(db, "锦江区城市管理局", CHENGDU_JINJIANG, None).await;
    let in_window = |at: DateTime<Utc>| {
        NewCase::new(CHENGDU_JINJIANG, at)
            .category(&service)
            .department(&department)
    };
    // Beijing 2026-10-01 00:00:00 is the first instant in, 10-31 23:59:59 the last.
    let first = fixtures::case(db, in_window(at(2026, 9, 30, 16, 0, 0))).await;
    let open = fixtures::case(
        db,
        with_personal_data(in_window(at(2026, 10, 5, 2, 0, 0)).status(CaseStatus::InProgress)),
    )
    .await;
    let closed = fixtures::case(
        db,
        NewCase {
            reply: Some("已于10月21日修复。".to_string()),
            ..in_window(at(2026, 10, 20, 1, 0, 0)).status(CaseStatus::Closed)
        },
    )
    .await;
    let other = fixtures::case(
        db,
        NewCase::new(CHENGDU_JINJIANG, at(2026, 10, 25, 3, 0, 0))
            .category(&other_service)
            .status(CaseStatus::Rejected),
    )
    .await;
    let last = fixtures::case(db, in_window(at(2026, 10, 31, 15, 59, 59))).await;
    // Out: just before, just after, unpublished, a duplicate merged into another case.
    fixtures::case(db, in_window(at(2026, 9, 30, 15, 59, 59))).await;
    fixtures::case(db, in_window(at(2026, 10, 31, 16, 0, 0))).await;
    fixtures::case(db, in_window(at(2026, 10, 10, 0, 0, 0)).published(false)).await;
    fixtures::case(
        db,
        NewCase {
            duplicate_of: Some(open.id),
            ..in_window(at(2026, 10, 11, 0, 0, 0))
        },
    )
    .await;
    October {
        service,
        other_service,
        expected: vec![last, other, closed, open, first],
    }
}

const OCTOBER: &str = "start_date=2026-10-01T00:00:00+08:00&end_date=2026-10-31T23:59:59+08:00";

db_test!(
    a_clients_october_window_returns_exactly_the_published_cases_of_october,
    |app| async move {
        let world = october(&app).await;
        // As a real client writes it: the `+` of the offsets not percent-encoded.
        let (status, requests) = get_json(
            &app,
            &format!("/open311/v2/requests.json?{OCTOBER}&status=open,closed"),
        )
        .await;
        assert_eq!(status, 200, "{requests}");
        let want: Vec<String> = world
            .expected
            .iter()
            .map(|c| c.tracking_number.clone())
            .collect();
        assert_eq!(ids(&requests), want);
        // The same window percent-encoded, in UTC, and as bare dates.
        for query in [
            "start_date=2026-10-01T00%3A00%3A00%2B08%3A00&end_date=2026-10-31T23%3A59%3A59%2B08%3A00",
            "start_date=2026-09-30T16:00:00Z&end_date=2026-10-31T15:59:59Z",
            "start_date=2026-10-01&end_date=2026-10-31",
        ] {
            let (status, same) = get_json(&app, &format!("/open311/v2/requests.json?{query}")).await;
            assert_eq!((status, ids(&same)), (200, want.clone()), "{query}");
        }
        let _ = world.other_service;
    }
);

db_test!(
    a_request_shows_the_public_fields_in_beijing_time_and_no_personal_data,
    |app| async move {
        let world = october(&app).await;
        let open = &world.expected[3];
        let (_, requests) = get_json(&app, &format!("/open311/v2/requests.json?{OCTOBER}")).await;
        let public = |text: &str| minyi::open_data::redaction::public_text(text, None);
        assert_eq!(
            requests[3],
            json!({
                "service_request_id": open.tracking_number,
                "status": "open",
                "status_notes": null,
                "service_name": world.service.name,
                "service_code": world.service.code,
                "title": public(&open.title),
                "description": public(&open.body),
                "agency_responsible": "锦江区城市管理局",
                "service_notice": null,
                "requested_datetime": "2026-10-05T10:00:00+08:00",
                "updated_datetime": "2026-10-05T10:00:00+08:00",
                "expected_datetime": null,
                "address": null,
                "address_id": null,
                "zipcode": null,
                "lat": null,
                "long": null,
                "media_url": null,
            })
        );
        assert_eq!(requests[2]["status"], "closed");
        assert_eq!(requests[2]["status_notes"], "已于10月21日修复。");
        assert_eq!(requests[1]["status"], "closed");
        assert_eq!(requests[1]["status_notes"], "不予受理");
        assert_eq!(requests[1]["agency_responsible"], Value::Null);
        for path in [
            format!("/open311/v2/requests.json?{OCTOBER}"),
            format!("/open311/v2/requests.xml?{OCTOBER}"),
            format!("/open311/v2/requests/{}.json", open.tracking_number),
            format!("/open311/v2/requests/{}.xml", open.tracking_number),
        ] {
            let text = app.get(&path).await.text().await.expect("readable");
            assert!(text.contains(&open.tracking_number), "{path}: {text}");
            assert!(!text.contains(PHONE), "{path} shows the phone: {text}");
            assert!(
                !text.contains(ID_NUMBER),
                "{path} shows the ID number: {text}"
            );
        }
    }
);

db_test!(
    service_code_and_status_narrow_the_window,
    |app| async move {
        let world = october(&app).await;
        let tracking = |i: usize| world.expected[i].tracking_number.clone();
        let (_, only_service) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?{OCTOBER}&service_code={}",
                world.service.code
            ),
        )
        .await;
        assert_eq!(
            ids(&only_service),
            vec![tracking(0), tracking(2), tracking(3), tracking(4)]
        );
        let (_, closed) = get_json(
            &app,
            &format!("/open311/v2/requests.json?{OCTOBER}&status=closed"),
        )
        .await;
        assert_eq!(ids(&closed), vec![tracking(1), tracking(2)]);
        let (_, both_services_open) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?{OCTOBER}&status=open&service_code={},{}",
                world.other_service.code, world.service.code
            ),
        )
        .await;
        assert_eq!(
            ids(&both_services_open),
            vec![tracking(0), tracking(3), tracking(4)]
        );
        let (_, unknown_service) = get_json(
            &app,
            &format!("/open311/v2/requests.json?{OCTOBER}&service_code=NO-SUCH"),
        )
        .await;
        assert_eq!(unknown_service, json!([]));
    }
);

db_test!(
    service_request_id_lists_requests_and_overrides_the_other_filters,
    |app| async move {
        let world = october(&app).await;
        let (a, b) = (&world.expected[0], &world.expected[3]);
        // The window and the status would exclude both; the ids win, as the spec says.
        let (status, requests) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?service_request_id={},{},NO-SUCH&status=closed&start_date=2020-01-01",
                b.tracking_number, a.tracking_number
            ),
        )
        .await;
        assert_eq!(status, 200, "{requests}");
        assert_eq!(
            ids(&requests),
            vec![a.tracking_number.clone(), b.tracking_number.clone()]
        );
    }
);

db_test!(
    one_request_by_id_is_a_list_of_one_and_unknown_or_unpublished_ids_are_404,
    |app| async move {
        let world = october(&app).await;
        let closed = &world.expected[2];
        let (_, listed) = get_json(&app, &format!("/open311/v2/requests.json?{OCTOBER}")).await;
        let (status, one) = get_json(
            &app,
            &format!("/open311/v2/requests/{}.json", closed.tracking_number),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(one, json!([listed[2].clone()]));

        let unpublished = case::Entity::find()
            .filter(case::Column::Published.eq(false))
            .one(&app.db)
            .await
            .expect("readable")
            .expect("the unpublished fixture");
        for id in ["T0000", unpublished.tracking_number.as_str()] {
            let (status, error) = get_json(&app, &format!("/open311/v2/requests/{id}.json")).await;
            assert_eq!(status, 404);
            assert_eq!(
                error,
                json!([{ "code": 404, "description": format!("no published service request `{id}`") }])
            );
        }
        let response = app
            .get(&format!(
                "/open311/v2/requests/{}.xml",
                unpublished.tracking_number
            ))
            .await;
        assert_eq!(response.status().as_u16(), 404);
        let xml = response.text().await.expect("readable");
        assert_eq!(
            xml_items(&xml, "errors", "error"),
            vec![BTreeMap::from([
                ("code".to_string(), "404".to_string()),
                (
                    "description".to_string(),
                    format!(
                        "no published service request `{}`",
                        unpublished.tracking_number
                    )
                ),
            ])]
        );
    }
);

/// Inserts `count` published cases of `template`'s kind submitted one second apart,
/// newest at `newest`, in batches (no write-path side effects: Open311 reads rows only).
async fn many_cases(app: &TestApp, template: &case::Model, newest: DateTime<Utc>, count: usize) {
    let mut rows = Vec::with_capacity(count);
    for i in 0..count {
        let submitted = newest - Duration::seconds(i as i64);
        // Every column written (`reset_all`), a fresh id and tracking number.
        let mut row = case::ActiveModel::from(template.clone()).reset_all();
        row.id = ActiveValue::NotSet;
        row.tracking_number = ActiveValue::Set(format!("BULK{i:06}"));
        row.submitted_at = ActiveValue::Set(submitted);
        row.updated_at = ActiveValue::Set(submitted);
        rows.push(row);
    }
    for chunk in rows.chunks(100) {
        case::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .expect("bulk cases insert");
    }
}

db_test!(
    without_dates_the_last_90_days_are_answered_at_most_1000_at_a_time,
    |app| async move {
        // Whole seconds, like every stored instant.
        let now = Utc::now().trunc_subsecs(0);
        let template = fixtures::case(
            &app.db,
            NewCase::new(CHENGDU_JINJIANG, now - Duration::days(91)),
        )
        .await;
        // 1,001 cases from a day ago backwards (all well inside the 90 days).
        many_cases(&app, &template, now - Duration::days(1), 1001).await;
        let (status, first) = get_json(&app, "/open311/v2/requests.json").await;
        assert_eq!(status, 200);
        let first = ids(&first);
        assert_eq!(first.len(), 1000);
        assert_eq!(first[0], "BULK000000");
        assert_eq!(first[999], "BULK000999");
        // One statement a page of 1,000, names joined in (fewest of a few tries: the
        // pool may ping in between).
        let mut fewest = u64::MAX;
        for _ in 0..5 {
            let before = app.statements().await;
            let (status, _) = get_json(&app, "/open311/v2/requests.json").await;
            assert_eq!(status, 200);
            fewest = fewest.min(app.statements().await - before);
        }
        assert_eq!(fewest, 1, "statements for a page of 1000 requests");
        let (_, second) = get_json(&app, "/open311/v2/requests.json?page=2").await;
        // The 91-day-old case is outside the default window.
        assert_eq!(ids(&second), vec!["BULK001000"]);
        let w3c = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        // Only a start: the 90 days from it, which hold the old case and none of the
        // recent ones.
        let (_, from_start) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?start_date={}",
                w3c(now - Duration::days(91) - Duration::hours(1))
            ),
        )
        .await;
        assert_eq!(ids(&from_start), vec![template.tracking_number.clone()]);
        // Only an end: the 90 days up to it, here the 501 oldest bulk cases and the old one.
        let (_, up_to_end) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?end_date={}",
                w3c(now - Duration::days(1) - Duration::seconds(500))
            ),
        )
        .await;
        let up_to_end = ids(&up_to_end);
        assert_eq!(up_to_end.len(), 502);
        assert_eq!(up_to_end[0], "BULK000500");
        assert_eq!(up_to_end[501], template.tracking_number);
    }
);

db_test!(
    pages_follow_each_other_newest_first_with_ties_broken_by_id,
    |app| async move {
        let day = at(2026, 10, 8, 0, 0, 0);
        let mut made = Vec::new();
        for hour in [1, 2, 2, 3, 4] {
            made.push(
                fixtures::case(
                    &app.db,
                    NewCase::new(CHENGDU_JINJIANG, day + Duration::hours(hour)),
                )
                .await
                .tracking_number,
            );
        }
        // Newest first; the two cases of 02:00 by id, the later insert first.
        let want = vec![
            made[4].clone(),
            made[3].clone(),
            made[2].clone(),
            made[1].clone(),
            made[0].clone(),
        ];
        let mut got = Vec::new();
        for page in 1..=4 {
            let (status, requests) = get_json(
                &app,
                &format!("/open311/v2/requests.json?{OCTOBER}&page_size=2&page={page}"),
            )
            .await;
            assert_eq!(status, 200);
            let page_ids = ids(&requests);
            assert_eq!(
                page_ids.len(),
                [2, 2, 1, 0][page - 1],
                "page {page}: {page_ids:?}"
            );
            got.extend(page_ids);
        }
        assert_eq!(got, want);
    }
);

db_test!(
    the_services_are_the_categories_and_define_no_attributes,
    |app| async move {
        let categories = category::Entity::find()
            .order_by_asc(category::Column::Code)
            .all(&app.db)
            .await
            .expect("categories are readable");
        let (status, services) = get_json(&app, "/open311/v2/services.json").await;
        assert_eq!(status, 200);
        let services = services.as_array().expect("a list").clone();
        assert_eq!(services.len(), categories.len());
        for (service, category) in services.iter().zip(&categories) {
            let parent = category
                .parent_id
                .and_then(|id| categories.iter().find(|c| c.id == id));
            assert_eq!(
                *service,
                json!({
                    "service_code": category.code,
                    "service_name": category.name,
                    "description": match parent {
                        Some(p) => format!("{} / {}", p.name, category.name),
                        None => category.name.clone(),
                    },
                    "metadata": false,
                    "type": "realtime",
                    "keywords": null,
                    "group": parent.map(|p| p.name.clone()),
                })
            );
        }
        let code = &categories[0].code;
        let (status, definition) =
            get_json(&app, &format!("/open311/v2/services/{code}.json")).await;
        assert_eq!(status, 200);
        assert_eq!(
            definition,
            json!({ "service_code": code, "attributes": [] })
        );
        let (status, error) = get_json(&app, "/open311/v2/services/NO-SUCH.json").await;
        assert_eq!(status, 404);
        assert_eq!(
            error,
            json!([{ "code": 404, "description": "no service `NO-SUCH`" }])
        );
        let xml = app
            .get(&format!("/open311/v2/services/{code}.xml"))
            .await
            .text()
            .await
            .expect("readable");
        assert!(
            xml.ends_with(&format!(
                "<service_definition><service_code>{code}</service_code><attributes></attributes></service_definition>"
            )),
            "{xml}"
        );
    }
);

/// The children of every `<item>` under `<root>`, as name → text (an empty element is "").
fn xml_items(xml: &str, root: &str, item: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut items = Vec::new();
    let mut current: BTreeMap<String, String> = BTreeMap::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
                if path.len() == 2 {
                    current.insert(name.clone(), String::new());
                }
                path.push(name);
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
                assert_eq!(path.len(), 2, "an empty <{name}/> outside an item");
                current.insert(name, String::new());
            }
            Ok(Event::Text(t)) => {
                if path.len() == 3 {
                    let text = t.decode().expect("decodable text");
                    let text = quick_xml::escape::unescape(&text).expect("well-formed text");
                    current.entry(path[2].clone()).or_default().push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                // quick-xml reports `&amp;` etc. on their own.
                if path.len() == 3 {
                    let name = r.decode().expect("decodable reference");
                    let text = quick_xml::escape::unescape(&format!("&{name};"))
                        .expect("a known entity")
                        .into_owned();
                    current.entry(path[2].clone()).or_default().push_str(&text);
                }
            }
            Ok(Event::End(_)) => {
                if path.len() == 2 {
                    assert_eq!(path[0], root);
                    assert_eq!(path[1], item);
                    items.push(std::mem::take(&mut current));
                }
                path.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    assert!(path.is_empty(), "unclosed elements {path:?}");
    items
}

/// A JSON object as the XML shows it: strings as they are, numbers and booleans as
/// text, null as an empty element.
fn as_xml_fields(object: &Value) -> BTreeMap<String, String> {
    object
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect()
}

db_test!(
    xml_is_well_formed_and_carries_the_same_values_as_json,
    |app| async move {
        let world = october(&app).await;
        // Markup characters in public text must come out escaped.
        case::Entity::update_many()
            .col_expr(
                case::Column::PublicTitle,
                sea_orm::sea_query::Expr::value("<b>路灯</b> & \"它\" '坏了'"),
            )
            .col_expr(
                case::Column::Latitude,
                sea_orm::sea_query::Expr::value(30.657),
            )
            .col_expr(
                case::Column::Longitude,
                sea_orm::sea_query::Expr::value(104.066),
            )
            .col_expr(
                case::Column::Address,
                sea_orm::sea_query::Expr::value("锦江区红星路三段1号"),
            )
            .filter(case::Column::Id.eq(world.expected[0].id))
            .exec(&app.db)
            .await
            .expect("the public title is updated");
        for (json_path, xml_path, root, item) in [
            (
                format!("/open311/v2/requests.json?{OCTOBER}"),
                format!("/open311/v2/requests.xml?{OCTOBER}"),
                "service_requests",
                "request",
            ),
            (
                "/open311/v2/services.json".to_string(),
                "/open311/v2/services.xml".to_string(),
                "services",
                "service",
            ),
        ] {
            let (_, json) = get_json(&app, &json_path).await;
            let response = app.get(&xml_path).await;
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(
                response.headers()["content-type"],
                "text/xml; charset=utf-8"
            );
            let xml = response.text().await.expect("readable");
            let want: Vec<_> = json
                .as_array()
                .expect("a list")
                .iter()
                .map(as_xml_fields)
                .collect();
            assert_eq!(xml_items(&xml, root, item), want, "{xml_path}");
        }
        let (_, json) = get_json(&app, &format!("/open311/v2/requests.json?{OCTOBER}")).await;
        assert_eq!(json[0]["title"], "<b>路灯</b> & \"它\" '坏了'");
        assert_eq!(json[0]["lat"], 30.657);
        assert_eq!(json[0]["long"], 104.066);
        assert_eq!(json[0]["address"], "锦江区红星路三段1号");
    }
);

db_test!(
    a_client_holding_the_current_etag_gets_304_until_the_data_changes,
    |app| async move {
        let world = october(&app).await;
        for path in [
            format!("/open311/v2/requests.json?{OCTOBER}"),
            "/open311/v2/services.xml".to_string(),
            format!(
                "/open311/v2/requests/{}.json",
                world.expected[0].tracking_number
            ),
        ] {
            let fresh = app.get(&path).await;
            assert_eq!(fresh.status().as_u16(), 200);
            assert_eq!(fresh.headers()["cache-control"], "public, max-age=60");
            let etag = fresh.headers()["etag"].to_str().expect("ascii").to_string();
            let cached = conditional_get(&app, &path, &etag).await;
            assert_eq!(cached.status().as_u16(), 304, "{path}");
            assert_eq!(cached.headers()["etag"].to_str().expect("ascii"), etag);
            assert_eq!(cached.text().await.expect("readable"), "");
        }
        let path = format!("/open311/v2/requests.json?{OCTOBER}");
        let etag = app.get(&path).await.headers()["etag"]
            .to_str()
            .expect("ascii")
            .to_string();
        fixtures::case(
            &app.db,
            NewCase::new(CHENGDU_JINJIANG, at(2026, 10, 15, 0, 0, 0)),
        )
        .await;
        let changed = conditional_get(&app, &path, &etag).await;
        assert_eq!(changed.status().as_u16(), 200);
        assert_ne!(changed.headers()["etag"].to_str().expect("ascii"), etag);
    }
);

async fn conditional_get(app: &TestApp, path: &str, etag: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .get(format!("{}{path}", app.base_url))
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("answered")
}

db_test!(
    bad_parameters_and_formats_are_answered_in_the_open311_error_format,
    |app| async move {
        for (path, status, description) in [
            (
                "/open311/v2/requests.json?start_date=yesterday",
                400,
                "start_date must be an ISO 8601 date-time such as 2026-10-01T00:00:00+08:00, not `yesterday`",
            ),
            (
                "/open311/v2/requests.json?end_date=2026-10-32",
                400,
                "end_date must be an ISO 8601 date-time such as 2026-10-01T00:00:00+08:00, not `2026-10-32`",
            ),
            (
                "/open311/v2/requests.json?status=pending",
                400,
                "status must be open or closed (comma-separated), not `pending`",
            ),
            (
                "/open311/v2/requests.json?start_date=2026-01-01&end_date=2026-10-01",
                400,
                "start_date and end_date may not span more than 90 days",
            ),
            (
                "/open311/v2/requests.json?page_size=5000",
                400,
                "page_size must be a whole number from 1 to 1000, not `5000`",
            ),
            (
                "/open311/v2/requests.csv",
                404,
                "format `csv` is not served: use .json or .xml",
            ),
            (
                "/open311/v2/tickets.json",
                404,
                "no resource `tickets`: use services or requests",
            ),
        ] {
            let (got, body) = get_json(&app, path).await;
            assert_eq!(got, status, "{path}: {body}");
            assert_eq!(
                body,
                json!([{ "code": status, "description": description }]),
                "{path}"
            );
        }
        let response = app.get("/open311/v2/requests.xml?page=0").await;
        assert_eq!(response.status().as_u16(), 400);
        let xml = response.text().await.expect("readable");
        assert_eq!(
            xml_items(&xml, "errors", "error"),
            vec![BTreeMap::from([
                ("code".to_string(), "400".to_string()),
                (
                    "description".to_string(),
                    "page must be a whole number from 1, not `0`".to_string()
                ),
            ])]
        );
    }
);

db_test!(
    jurisdiction_id_and_other_client_parameters_are_ignored,
    |app| async move {
        let world = october(&app).await;
        let (status, requests) = get_json(
            &app,
            &format!(
                "/open311/v2/requests.json?jurisdiction_id=chengdu.gov.cn&api_key=&extensions=true&{OCTOBER}"
            ),
        )
        .await;
        assert_eq!(status, 200, "{requests}");
        assert_eq!(ids(&requests).len(), world.expected.len());
    }
);
