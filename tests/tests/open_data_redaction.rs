//! Stored redaction and publishing, seen from outside: every writer stores the public
//! copy of its free text with it, the public reads only that copy (never the raw text,
//! not even when the copy is missing), `publishCase` re-redacts and shows a replied
//! case, `unpublishCase` takes it down, and `minyi redact --all` rewrites the copies.

use entities::{case, case_event, rating, CaseAction, CaseStatus, RatingLevel, Role};
use minyi::keys::KeyGrant;
use minyi::open_data::redact_all::{self, RedactArgs, Summary};
use minyi_tests::fixtures::{self, at, NewCase};
use minyi_tests::{data, db_test, errors_code, TestApp};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};

/// Keys for the platform office of Chengdu, one Chengdu department and an admin.
struct Keys {
    leader: String,
    handler: String,
    admin: String,
    department: i32,
}

async fn keys(app: &TestApp) -> Keys {
    let dept = fixtures::department(&app.db, "成都市水务局", "510100", None).await;
    let grant = |role, region: Option<&str>, department: Option<i32>| KeyGrant {
        role,
        region_code: region.map(str::to_string),
        department_id: department,
        panel_id: None,
        label: None,
    };
    Keys {
        leader: app
            .create_key(grant(Role::Leader, Some("510100"), None))
            .await,
        handler: app
            .create_key(grant(Role::Handler, None, Some(dept.id)))
            .await,
        admin: app.create_key(grant(Role::Admin, None, None)).await,
        department: dept.id,
    }
}

const CASE_TEXT: &str = "id status published version title body reply rating { comment }";

/// Runs a mutation on case `id` and returns the case, panicking on any error.
async fn act(app: &TestApp, key: &str, call: &str, id: i64) -> Value {
    let query = format!("mutation($id: ID!) {{ {call} {{ {CASE_TEXT} }} }}");
    let resp = app
        .graphql_as(Some(key), &query, json!({ "id": id.to_string() }))
        .await;
    let name = call.split('(').next().unwrap_or(call);
    data(&resp)[name].clone()
}

/// The same mutation, expecting a refusal: its error code.
async fn refused(app: &TestApp, key: Option<&str>, call: &str, id: i64) -> Option<String> {
    let query = format!("mutation($id: ID!) {{ {call} {{ id }} }}");
    let resp = app
        .graphql_as(key, &query, json!({ "id": id.to_string() }))
        .await;
    errors_code(&resp)
}

/// Case `id` as `key` (None: the public) sees it.
async fn read(app: &TestApp, key: Option<&str>, id: i64) -> Value {
    let query = format!("query($id: ID!) {{ case(id: $id) {{ {CASE_TEXT} }} }}");
    let resp = app
        .graphql_as(key, &query, json!({ "id": id.to_string() }))
        .await;
    data(&resp)["case"].clone()
}

async fn row(app: &TestApp, id: i64) -> case::Model {
    case::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("reading the case")
        .expect("the case exists")
}

async fn actions(app: &TestApp, id: i64) -> Vec<(CaseAction, Option<String>)> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(id))
        .order_by_asc(case_event::Column::Id)
        .all(&app.db)
        .await
        .expect("reading events")
        .into_iter()
        .map(|e| (e.action, e.note))
        .collect()
}

/// A replied, unpublished case of citizen 王小明 in Chengdu's Jinjiang district.
async fn replied_case(app: &TestApp, keys: &Keys) -> case::Model {
    let citizen = fixtures::citizen(&app.db, "王小明").await;
    let mut new = NewCase::new("510104", at(2026, 3, 2, 2, 0, 0))
        .status(CaseStatus::Replied)
        .published(false)
        .title("王小明家门口积水");
    new.citizen_id = Some(citizen.id);
    new.department_id = Some(keys.department);
    new.reply = Some("已联系王小明，电话13912345678，积水已排除".into());
    fixtures::case(&app.db, new).await
}

db_test!(
    redaction_every_writer_stores_the_public_copy_and_the_public_reads_only_it,
    |app| async move {
        let k = keys(&app).await;
        let submit = "mutation($i: SubmitCaseInput!) { submitCase(input: $i) { case { id } } }";
        let input = json!({
            "title": "李建国反映：手机13912345678打不通",
            "body": "我是李建国，邮箱lijianguo@example.com，热线一直占线。",
            "channel": "WEBSITE",
            "kind": "COMPLAINT",
            "regionCode": "510104",
            "citizen": { "name": "李建国", "phone": "13912345678" }
        });
        let resp = app.graphql(submit, json!({ "i": input })).await;
        let id: i64 = data(&resp)["submitCase"]["case"]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("a case id");
        let stored = row(&app, id).await;
        assert_eq!(
            stored.public_title.as_deref(),
            Some("[姓名]反映：手机[手机号]打不通")
        );
        assert_eq!(
            stored.public_body.as_deref(),
            Some("我是[姓名]，邮箱[邮箱]，热线一直占线。")
        );
        assert_eq!(stored.public_reply, None, "no reply yet");

        act(&app, &k.leader, "acceptCase(id: $id)", id).await;
        let assign = format!("assignCase(id: $id, departmentId: \"{}\")", k.department);
        act(&app, &k.leader, &assign, id).await;
        act(&app, &k.handler, "claimCase(id: $id)", id).await;
        let reply = "replyCase(id: $id, reply: \"已回访李建国，请拨13800001111联系\")";
        act(&app, &k.handler, reply, id).await;
        assert_eq!(
            row(&app, id).await.public_reply.as_deref(),
            Some("已回访[姓名]，请拨[手机号]联系")
        );
        let rate = "rateCase(id: $id, level: SATISFIED, comment: \"李建国很满意，13912345678\")";
        act(&app, &k.admin, rate, id).await;
        let comment = rating::Entity::find()
            .filter(rating::Column::CaseId.eq(id))
            .one(&app.db)
            .await
            .expect("reading the rating")
            .expect("the rating");
        assert_eq!(
            comment.public_comment.as_deref(),
            Some("[姓名]很满意，[手机号]")
        );

        let published = act(&app, &k.leader, "publishCase(id: $id)", id).await;
        assert_eq!(published["published"], true);
        assert_eq!(
            published["status"], "REPLIED",
            "publishing keeps the status"
        );

        let public = read(&app, None, id).await;
        assert_eq!(public["title"], "[姓名]反映：手机[手机号]打不通");
        assert_eq!(public["body"], "我是[姓名]，邮箱[邮箱]，热线一直占线。");
        assert_eq!(public["reply"], "已回访[姓名]，请拨[手机号]联系");
        assert_eq!(public["rating"]["comment"], "[姓名]很满意，[手机号]");
        let staff = read(&app, Some(&k.leader), id).await;
        assert_eq!(staff["title"], "李建国反映：手机13912345678打不通");
        assert_eq!(staff["reply"], "已回访李建国，请拨13800001111联系");
        assert_eq!(staff["rating"]["comment"], "李建国很满意，13912345678");
    }
);

db_test!(
    redaction_a_missing_public_copy_is_shown_empty_never_as_the_raw_text,
    |app| async move {
        let k = keys(&app).await;
        let case = replied_case(&app, &k).await;
        case::Entity::update_many()
            .col_expr(case::Column::Published, Expr::value(true))
            .col_expr(
                case::Column::PublicTitle,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                case::Column::PublicBody,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                case::Column::PublicReply,
                Expr::value(Option::<String>::None),
            )
            .filter(case::Column::Id.eq(case.id))
            .exec(&app.db)
            .await
            .expect("forgetting the public copy");
        let public = read(&app, None, case.id).await;
        assert_eq!(public["title"], "");
        assert_eq!(public["body"], "");
        assert_eq!(public["reply"], "");
        let staff = read(&app, Some(&k.leader), case.id).await;
        assert_eq!(staff["title"], "王小明家门口积水");
    }
);

db_test!(
    redaction_publishing_redacts_the_text_anew_in_one_versioned_write,
    |app| async move {
        let k = keys(&app).await;
        let case = replied_case(&app, &k).await;
        // A copy written under older rules.
        case::Entity::update_many()
            .col_expr(case::Column::PublicTitle, Expr::value("王小明家门口积水"))
            .filter(case::Column::Id.eq(case.id))
            .exec(&app.db)
            .await
            .expect("staling the public copy");
        assert_eq!(
            read_public_code(&app, case.id).await.as_deref(),
            Some("NOT_FOUND")
        );
        let published = act(&app, &k.leader, "publishCase(id: $id)", case.id).await;
        assert_eq!(published["version"], case.version + 1);
        let stored = row(&app, case.id).await;
        assert!(stored.published);
        assert_eq!(stored.public_title.as_deref(), Some("[姓名]家门口积水"));
        assert_eq!(
            stored.public_reply.as_deref(),
            Some("已联系[姓名]，电话[手机号]，积水已排除")
        );
        assert_eq!(actions(&app, case.id).await, [(CaseAction::Publish, None)]);
        assert_eq!(read(&app, None, case.id).await["title"], "[姓名]家门口积水");
    }
);

async fn read_public_code(app: &TestApp, id: i64) -> Option<String> {
    let resp = app
        .graphql(
            "query($id: ID!) { case(id: $id) { id } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    errors_code(&resp)
}

db_test!(
    redaction_a_refused_publication_writes_nothing,
    |app| async move {
        let k = keys(&app).await;
        let mut open = NewCase::new("510104", at(2026, 3, 2, 2, 0, 0))
            .status(CaseStatus::InProgress)
            .published(false);
        open.department_id = Some(k.department);
        let open = fixtures::case(&app.db, open).await;
        let replied = replied_case(&app, &k).await;
        assert_eq!(
            refused(&app, Some(&k.leader), "publishCase(id: $id)", open.id)
                .await
                .as_deref(),
            Some("INVALID_TRANSITION"),
            "a case is published with its answer"
        );
        assert_eq!(
            refused(&app, Some(&k.handler), "publishCase(id: $id)", replied.id)
                .await
                .as_deref(),
            Some("FORBIDDEN")
        );
        assert_eq!(
            refused(&app, None, "publishCase(id: $id)", replied.id)
                .await
                .as_deref(),
            Some("UNAUTHENTICATED")
        );
        let stale = format!(
            "publishCase(id: $id, expectedVersion: {})",
            replied.version + 5
        );
        assert_eq!(
            refused(&app, Some(&k.leader), &stale, replied.id)
                .await
                .as_deref(),
            Some("CONFLICT")
        );
        assert_eq!(
            refused(
                &app,
                Some(&k.leader),
                "unpublishCase(id: $id, reason: \"隐私\")",
                replied.id
            )
            .await
            .as_deref(),
            Some("BAD_USER_INPUT"),
            "not published"
        );
        for id in [open.id, replied.id] {
            let now = row(&app, id).await;
            assert!(!now.published);
            assert_eq!(now.version, 1);
            assert!(actions(&app, id).await.is_empty());
        }
        act(&app, &k.leader, "publishCase(id: $id)", replied.id).await;
        assert_eq!(
            refused(&app, Some(&k.leader), "publishCase(id: $id)", replied.id)
                .await
                .as_deref(),
            Some("BAD_USER_INPUT"),
            "already published"
        );
    }
);

db_test!(
    redaction_unpublishing_takes_a_case_off_the_public_site_with_its_reason,
    |app| async move {
        let k = keys(&app).await;
        let case = replied_case(&app, &k).await;
        act(&app, &k.leader, "publishCase(id: $id)", case.id).await;
        assert_eq!(read(&app, None, case.id).await["title"], "[姓名]家门口积水");
        assert_eq!(
            refused(
                &app,
                Some(&k.leader),
                "unpublishCase(id: $id, reason: \"  \")",
                case.id
            )
            .await
            .as_deref(),
            Some("BAD_USER_INPUT")
        );
        let down = act(
            &app,
            &k.admin,
            "unpublishCase(id: $id, reason: \"当事人申请撤回\")",
            case.id,
        )
        .await;
        assert_eq!(down["published"], false);
        assert_eq!(down["status"], "REPLIED");
        assert_eq!(
            read_public_code(&app, case.id).await.as_deref(),
            Some("NOT_FOUND")
        );
        assert_eq!(
            actions(&app, case.id).await,
            [
                (CaseAction::Publish, None),
                (CaseAction::Unpublish, Some("当事人申请撤回".to_string()))
            ]
        );
    }
);

db_test!(
    redaction_redact_all_rewrites_stale_copies_and_only_those,
    |app| async move {
        let k = keys(&app).await;
        let stale = replied_case(&app, &k).await;
        let missing = replied_case(&app, &k).await;
        let current = replied_case(&app, &k).await;
        case::Entity::update_many()
            .col_expr(case::Column::PublicTitle, Expr::value("旧规则的标题"))
            .filter(case::Column::Id.eq(stale.id))
            .exec(&app.db)
            .await
            .expect("staling a copy");
        case::Entity::update_many()
            .col_expr(
                case::Column::PublicTitle,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                case::Column::PublicBody,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                case::Column::PublicReply,
                Expr::value(Option::<String>::None),
            )
            .filter(case::Column::Id.eq(missing.id))
            .exec(&app.db)
            .await
            .expect("dropping a copy");
        let commented = fixtures::rating(
            &app.db,
            &current,
            RatingLevel::Satisfied,
            at(2026, 3, 5, 2, 0, 0),
        )
        .await;
        rating::Entity::update_many()
            .col_expr(
                rating::Column::Comment,
                Expr::value("谢谢王小明的邻居，13912345678"),
            )
            .filter(rating::Column::Id.eq(commented.id))
            .exec(&app.db)
            .await
            .expect("adding a comment without its copy");
        fixtures::rating(
            &app.db,
            &stale,
            RatingLevel::Dissatisfied,
            at(2026, 3, 5, 2, 0, 0),
        )
        .await;

        let batches = std::sync::Mutex::new(Vec::new());
        let summary = redact_all::redact_all(&app.db, 2, &|rows| {
            batches.lock().expect("the batch list").push(rows)
        })
        .await
        .expect("redact --all");
        assert_eq!(
            summary,
            Summary {
                cases: 3,
                ratings: 2,
                changed: 3,
                skipped: 0
            }
        );
        assert_eq!(*batches.lock().expect("the batch list"), [2, 1, 2]);
        assert_eq!(
            summary.to_string(),
            "3 cases, 2 ratings rewritten, 3 changed"
        );
        for id in [stale.id, missing.id, current.id] {
            let now = row(&app, id).await;
            assert_eq!(now.public_title.as_deref(), Some("[姓名]家门口积水"));
            assert_eq!(
                now.public_reply.as_deref(),
                Some("已联系[姓名]，电话[手机号]，积水已排除")
            );
            assert_eq!(now.version, 1, "a derived copy is not a change of the case");
        }
        let comment = rating::Entity::find_by_id(commented.id)
            .one(&app.db)
            .await
            .expect("reading the rating")
            .expect("the rating");
        assert_eq!(
            comment.public_comment.as_deref(),
            Some("谢谢[姓名]的邻居，[手机号]")
        );

        let again = redact_all::redact_all(&app.db, 1000, &|_| {})
            .await
            .expect("again");
        assert_eq!(again.changed, 0, "a second run finds nothing to change");

        let refused = redact_all::run(
            &app.db,
            &RedactArgs {
                all: false,
                batch_size: 1000,
            },
        )
        .await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "`minyi redact` rewrites the public text of every case and rating; pass --all to confirm"
        );
    }
);

db_test!(
    a_public_search_looks_only_in_the_masked_text,
    |app| async move {
        let keys = keys(&app).await;
        let planted = fixtures::case(
            &app.db,
            NewCase {
                body: "噪音扰民，请回电13912345678。".to_string(),
                ..NewCase::new("510104", at(2026, 10, 8, 9, 0, 0)).title("夜间施工噪音")
            },
        )
        .await;
        let search = |term: &str| json!({ "filter": { "search": term } });
        let query =
            "query($filter: CaseFilter) { cases(filter: $filter) { totalCount nodes { id } } }";

        // The public finds the case by its words, but a phone number tells it nothing.
        let by_words = app.graphql(query, search("施工噪音")).await;
        assert_eq!(
            data(&by_words)["cases"]["nodes"],
            json!([{ "id": planted.id.to_string() }])
        );
        let by_phone = app.graphql(query, search("13912345678")).await;
        assert_eq!(data(&by_phone)["cases"]["totalCount"], json!(0));

        // Staff who may read the raw text still find it by the number the citizen left.
        let staff = app
            .graphql_as(Some(&keys.leader), query, search("13912345678"))
            .await;
        assert_eq!(
            data(&staff)["cases"]["nodes"],
            json!([{ "id": planted.id.to_string() }])
        );
    }
);
