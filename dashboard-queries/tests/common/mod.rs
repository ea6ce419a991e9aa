//! Test support: fresh databases (SQLite always, PostgreSQL when MINYI_TEST_DATABASE_URL
//! is set), random case histories written straight into the tables, and a naive
//! in-memory implementation of every metric over those raw histories.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use dashboard_queries::calendar::WorkCalendar;
use dashboard_queries::percentile::summarize;
use dashboard_queries::{Scope, Stats, StatsFilter, Window};
use entities::{case, case_event, department, rating};
use entities::{CaseAction, CaseKind, CaseStatus, Channel, DepartmentKind, RatingLevel};
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, NotSet, Set,
};
use std::sync::atomic::{AtomicU32, Ordering};

/// A migrated database that lives as long as this value.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// One fresh, migrated database per backend available here.
pub async fn databases() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    if let Ok(url) = std::env::var("MINYI_TEST_DATABASE_URL") {
        if !url.is_empty() {
            out.push(postgres(&url).await);
        }
    }
    out
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    let db = Database::connect(&url).await.expect("open sqlite");
    Migrator::up(&db, None).await.expect("migrate sqlite");
    seed_reference(&db).await;
    TestDb {
        db,
        name: "sqlite",
        _dir: Some(dir),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub async fn postgres(url: &str) -> TestDb {
    let admin = Database::connect(url).await.expect("connect postgres");
    let name = format!(
        "dq_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        Utc::now().timestamp_micros()
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    let db = Database::connect(format!("{prefix}/{name}{query}"))
        .await
        .expect("connect test database");
    Migrator::up(&db, None).await.expect("migrate postgres");
    seed_reference(&db).await;
    TestDb {
        db,
        name: "postgres",
        _dir: None,
    }
}

/// Departments: 1 (city government) ⊃ 2 (its housing bureau); 3 elsewhere.
pub const DEPARTMENTS: [(i32, Option<i32>, &str, &str); 3] = [
    (1, None, "/1/", "510100"),
    (2, Some(1), "/1/2/", "510104"),
    (3, None, "/3/", "510700"),
];

/// (province, city, county, region_code) of the places cases come from.
/// The last one is a township of Dongguan, a city without counties: no county code, the
/// township hangs directly under the city.
pub const PLACES: [(&str, Option<&str>, Option<&str>, &str); 7] = [
    ("510000", Some("510100"), Some("510104"), "510104017"),
    ("510000", Some("510100"), Some("510104"), "510104018"),
    ("510000", Some("510100"), Some("510105"), "510105"),
    ("510000", Some("510700"), Some("510703"), "510703001"),
    ("510000", Some("510100"), None, "510100"),
    ("110000", Some("110100"), Some("110101"), "110101001"),
    ("440000", Some("441900"), None, "441900003"),
];

async fn seed_reference(db: &DatabaseConnection) {
    for (id, parent, path, region) in DEPARTMENTS {
        department::ActiveModel {
            id: Set(id),
            name: Set(format!("部门{id}")),
            region_code: Set(region.into()),
            parent_id: Set(parent),
            kind: Set(DepartmentKind::Government),
            path: Set(path.into()),
            created_at: Set(Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()),
        }
        .insert(db)
        .await
        .expect("insert department");
    }
}

/// A top-level category id and two of its children.
pub async fn categories(db: &DatabaseConnection) -> (i32, i32, i32, i32) {
    let all = entities::category::Entity::find().all(db).await.unwrap();
    let top = all.iter().find(|c| c.code == "urban").unwrap().id;
    let kids: Vec<i32> = all
        .iter()
        .filter(|c| c.parent_id == Some(top))
        .map(|c| c.id)
        .collect();
    let other = all.iter().find(|c| c.code == "environment").unwrap().id;
    (top, kids[0], kids[1], other)
}

/// One generated case with its whole trail, in chronological (= insertion) order.
#[derive(Debug, Clone)]
pub struct CaseHistory {
    pub id: i64,
    pub place: usize,
    pub department_id: Option<i32>,
    pub category_id: Option<i32>,
    pub channel: Channel,
    pub kind: CaseKind,
    pub submitted_at: DateTime<Utc>,
    pub repeat_of: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub events: Vec<Ev>,
    pub ratings: Vec<(RatingLevel, DateTime<Utc>)>,
}

#[derive(Debug, Clone)]
pub struct Ev {
    pub at: DateTime<Utc>,
    pub action: CaseAction,
    pub to: Option<CaseStatus>,
    pub due: Option<DateTime<Utc>>,
}

/// splitmix64: small, seedable, good enough to draw histories.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap()
}

/// A gap: often 0 s (ties on the second), or minutes, hours, days.
fn gap(rng: &mut Rng) -> Duration {
    match rng.below(5) {
        0 => Duration::zero(),
        1 => Duration::seconds(rng.below(3600) as i64 + 1),
        2 => Duration::hours(rng.below(48) as i64 + 1),
        _ => Duration::seconds(rng.below(6 * 86_400) as i64 + 1),
    }
}

fn step(
    events: &mut Vec<Ev>,
    t: &mut DateTime<Utc>,
    rng: &mut Rng,
    action: CaseAction,
    to: Option<CaseStatus>,
    due: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    *t += gap(rng);
    events.push(Ev {
        at: *t,
        action,
        to,
        due,
    });
    *t
}

/// Random histories of `n` cases submitted over ~60 days from `base_time()`.
pub fn generate(seed: u64, n: usize, cats: (i32, i32, i32, i32)) -> Vec<CaseHistory> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<CaseHistory> = Vec::with_capacity(n);
    for i in 0..n {
        let id = i as i64 + 1;
        let submitted_at = base_time() + Duration::seconds(rng.below(60 * 86_400) as i64);
        let place = rng.below(PLACES.len() as u64) as usize;
        let department_id = match rng.below(4) {
            0 => None,
            d => Some(d as i32),
        };
        let category_id = match rng.below(5) {
            0 => None,
            1 => Some(cats.0),
            2 => Some(cats.1),
            3 => Some(cats.2),
            _ => Some(cats.3),
        };
        let channel = Channel::ALL[rng.below(3) as usize];
        let kind = CaseKind::ALL[rng.below(3) as usize];
        let mut t = submitted_at;
        let mut events = vec![Ev {
            at: t,
            action: CaseAction::Submit,
            to: Some(CaseStatus::Submitted),
            due: None,
        }];
        let mut ratings = Vec::new();
        macro_rules! push {
            ($t:expr, $rng:expr, $action:expr, $to:expr, $due:expr) => {
                step(&mut events, $t, $rng, $action, $to, $due)
            };
        }
        let fate = rng.below(100);
        if fate < 10 {
            // never looked at
        } else if fate < 22 {
            push!(
                &mut t,
                &mut rng,
                CaseAction::Reject,
                Some(CaseStatus::Rejected),
                None
            );
        } else {
            let acc = push!(
                &mut t,
                &mut rng,
                CaseAction::Accept,
                Some(CaseStatus::Accepted),
                None
            );
            let mut due = acc + Duration::hours(rng.below(10 * 24) as i64 + 1);
            events.last_mut().unwrap().due = Some(due);
            if rng.chance(70) {
                push!(
                    &mut t,
                    &mut rng,
                    CaseAction::Assign,
                    Some(CaseStatus::Assigned),
                    None
                );
            }
            if rng.chance(60) {
                push!(
                    &mut t,
                    &mut rng,
                    CaseAction::Claim,
                    Some(CaseStatus::InProgress),
                    None
                );
            }
            if rng.chance(40) {
                push!(&mut t, &mut rng, CaseAction::Respond, None, None);
            }
            if rng.chance(20) {
                push!(&mut t, &mut rng, CaseAction::Remind, None, None);
            }
            let mut rounds = 0;
            loop {
                rounds += 1;
                if rng.chance(25) {
                    due += Duration::hours(rng.below(5 * 24) as i64 + 1);
                    push!(&mut t, &mut rng, CaseAction::Extend, None, Some(due));
                }
                if !rng.chance(75) {
                    break;
                }
                push!(
                    &mut t,
                    &mut rng,
                    CaseAction::Reply,
                    Some(CaseStatus::Replied),
                    None
                );
                let mut dissatisfied = false;
                if rng.chance(60) {
                    let level = RatingLevel::ALL[rng.below(3) as usize];
                    let at = push!(&mut t, &mut rng, CaseAction::Rate, None, None);
                    ratings.push((level, at));
                    dissatisfied = level == RatingLevel::Dissatisfied;
                }
                if dissatisfied && rounds < 3 && rng.chance(60) {
                    due = t + Duration::hours(rng.below(7 * 24) as i64 + 1);
                    push!(
                        &mut t,
                        &mut rng,
                        CaseAction::Reopen,
                        Some(CaseStatus::InProgress),
                        None
                    );
                    events.last_mut().unwrap().due = Some(due);
                    continue;
                }
                if rng.chance(60) {
                    push!(
                        &mut t,
                        &mut rng,
                        CaseAction::Close,
                        Some(CaseStatus::Closed),
                        None
                    );
                    if rng.chance(30) {
                        push!(
                            &mut t,
                            &mut rng,
                            CaseAction::Archive,
                            Some(CaseStatus::Archived),
                            None
                        );
                    }
                }
                break;
            }
        }
        let mut duplicate_of = None;
        if i > 0 && rng.chance(10) {
            duplicate_of = Some(rng.below(i as u64) as i64 + 1);
            push!(
                &mut t,
                &mut rng,
                CaseAction::Merge,
                Some(CaseStatus::Closed),
                None
            );
        }
        let repeat_of = (i > 0 && rng.chance(12)).then(|| rng.below(i as u64) as i64 + 1);
        out.push(CaseHistory {
            id,
            place,
            department_id,
            category_id,
            channel,
            kind,
            submitted_at,
            repeat_of,
            duplicate_of,
            events,
            ratings,
        });
    }
    out
}

/// Empties the case tables (reference data stays).
pub async fn clear(db: &DatabaseConnection) {
    for t in [
        "ratings",
        "case_events",
        "cases",
        "case_rollup_daily",
        "case_rollup_monthly",
        "case_rollup_department_monthly",
    ] {
        db.execute_unprepared(&format!("DELETE FROM {t}"))
            .await
            .unwrap();
    }
}

/// The first-round deadline: the latest accept/extend deadline before any reopen.
pub fn first_round_due(c: &CaseHistory) -> Option<DateTime<Utc>> {
    let mut due = None;
    for e in &c.events {
        if e.action == CaseAction::Reopen {
            break;
        }
        if matches!(e.action, CaseAction::Accept | CaseAction::Extend) && e.due.is_some() {
            due = e.due;
        }
    }
    due
}

/// The instant after which nothing happens to any of the cases.
pub fn last_instant(cases: &[CaseHistory]) -> DateTime<Utc> {
    cases
        .iter()
        .flat_map(|c| {
            c.events
                .iter()
                .map(|e| e.at)
                .chain(c.ratings.iter().map(|r| r.1))
        })
        .max()
        .unwrap_or_else(base_time)
}

/// The case row after its first `k` events and first `j` ratings, with the current
/// values exactly as every writer keeps them. A duplicate without a merge event
/// (imported) is merged from its submission.
pub fn row_after(c: &CaseHistory, k: usize, j: usize) -> case::Model {
    let (province, city, county, region) = PLACES[c.place];
    let seen = &c.events[..k];
    let first = |a: CaseAction| seen.iter().find(|e| e.action == a).map(|e| e.at);
    let last = |a: CaseAction| seen.iter().rev().find(|e| e.action == a).map(|e| e.at);
    let status = seen
        .iter()
        .rev()
        .find_map(|e| e.to)
        .unwrap_or(CaseStatus::Submitted);
    let merged = !c.events.iter().any(|e| e.action == CaseAction::Merge)
        || seen.iter().any(|e| e.action == CaseAction::Merge);
    // Before its first assign a case sits with another department (or none), so the
    // writes move it between the department rollup's cells.
    let department_id = if seen.iter().any(|e| e.action == CaseAction::Assign)
        || !c.events.iter().any(|e| e.action == CaseAction::Assign)
    {
        c.department_id
    } else {
        initial_department(c)
    };
    let first_round = CaseHistory {
        events: seen.to_vec(),
        ..c.clone()
    };
    let updated = seen
        .last()
        .map(|e| e.at)
        .into_iter()
        .chain(c.ratings[..j].iter().map(|r| r.1))
        .max()
        .unwrap_or(c.submitted_at);
    case::Model {
        id: c.id,
        tracking_number: format!("T{:08}", c.id),
        title: format!("case {}", c.id),
        body: String::new(),
        channel: c.channel,
        kind: c.kind,
        category_id: c.category_id,
        region_code: region.into(),
        province_code: province.into(),
        city_code: city.map(Into::into),
        county_code: county.map(Into::into),
        department_id,
        citizen_id: None,
        status,
        submitted_at: c.submitted_at,
        accepted_at: first(CaseAction::Accept),
        rejected_at: first(CaseAction::Reject),
        respond_due_at: None,
        responded_at: seen
            .iter()
            .find(|e| matches!(e.action, CaseAction::Respond | CaseAction::Reply))
            .map(|e| e.at),
        reply_due_at: seen.iter().rev().find_map(|e| e.due),
        first_reply_due_at: first_round_due(&first_round),
        rating_level: c.ratings[..j].last().map(|r| r.0),
        first_replied_at: first(CaseAction::Reply),
        replied_at: last(CaseAction::Reply),
        closed_at: last(CaseAction::Close),
        archived_at: first(CaseAction::Archive),
        reply: None,
        duplicate_of: if merged { c.duplicate_of } else { None },
        repeat_of: c.repeat_of,
        published: false,
        supervised: false,
        reopen_count: seen
            .iter()
            .filter(|e| e.action == CaseAction::Reopen)
            .count() as i32,
        version: 1 + (k + j) as i32,
        idempotency_key: None,
        updated_at: updated,
        public_title: None,
        public_body: None,
        public_reply: None,
        external_id: None,
        address: None,
        latitude: None,
        longitude: None,
    }
}

/// The department a case has before its first assign: never its final one.
fn initial_department(c: &CaseHistory) -> Option<i32> {
    match c.department_id {
        None => Some(1 + (c.id % 3) as i32),
        Some(_) if c.id % 2 == 0 => None,
        Some(d) => Some(d % 3 + 1),
    }
}

/// Writes histories into the tables like the workflow does: every case is inserted
/// as submitted, then every later event and rating rewrites its row, all cases'
/// writes interleaved in time order, each with the rollup delta of the write. The
/// final rows hold the current values; the rollup must equal their contributions.
pub async fn insert(db: &DatabaseConnection, cases: &[CaseHistory]) {
    // (at, case index, events seen, ratings seen) of every write after the first.
    let mut writes: Vec<(DateTime<Utc>, usize, usize, usize)> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let k0 = 1.min(c.events.len());
        let (mut k, mut j) = (k0, 0);
        while k < c.events.len() || j < c.ratings.len() {
            let next_event = c.events.get(k).map(|e| e.at);
            let next_rating = c.ratings.get(j).map(|r| r.1);
            let at = match (next_event, next_rating) {
                (Some(e), Some(r)) if r < e => {
                    j += 1;
                    r
                }
                (Some(e), _) => {
                    k += 1;
                    e
                }
                (None, Some(r)) => {
                    j += 1;
                    r
                }
                (None, None) => break,
            };
            writes.push((at, i, k, j));
        }
    }
    writes.sort_by_key(|w| (w.0, w.1, w.2 + w.3));
    let mut rows: Vec<case::Model> = Vec::with_capacity(cases.len());
    for c in cases {
        let row = row_after(c, 1.min(c.events.len()), 0);
        case::ActiveModel::from(row.clone())
            .reset_all()
            .insert(db)
            .await
            .expect("insert case");
        dashboard_queries::rollup::apply_delta(db, None, &row)
            .await
            .expect("rollup insert");
        rows.push(row);
    }
    for (_, i, k, j) in writes {
        let row = row_after(&cases[i], k, j);
        let mut am = case::ActiveModel::from(row.clone()).reset_all();
        am.id = sea_orm::ActiveValue::Unchanged(row.id);
        am.update(db).await.expect("update case");
        dashboard_queries::rollup::apply_delta(db, Some(&rows[i]), &row)
            .await
            .expect("rollup update");
        rows[i] = row;
    }
    // The rollup is exactly the sum of the final rows' contributions (with any cases
    // written before).
    let all = case::Entity::find().all(db).await.expect("read cases");
    let mut want: std::collections::BTreeMap<
        dashboard_queries::rollup::RollupKey,
        dashboard_queries::rollup::Counters,
    > = std::collections::BTreeMap::new();
    for row in &all {
        if let Some((key, c)) = dashboard_queries::rollup::contribution(row) {
            let e = want.entry(key).or_default();
            let sum: Vec<i64> = e
                .values()
                .iter()
                .zip(c.values().iter())
                .map(|(a, b)| a + b)
                .collect();
            *e = counters(&sum);
        }
    }
    let got = dashboard_queries::rollup::read_all(db)
        .await
        .expect("read rollup");
    assert_eq!(got, want, "the rollup kept by the writes");
    let got = dashboard_queries::department_rollup::read_all(db)
        .await
        .expect("read department rollup");
    assert_eq!(
        got,
        dashboard_queries::department_rollup::expected(&all),
        "the department rollup kept by the writes"
    );
    let got = dashboard_queries::deadline_rollup::read_all(db)
        .await
        .expect("read deadline rollup");
    assert_eq!(
        got,
        dashboard_queries::deadline_rollup::expected(&all),
        "the deadline rollup kept by the writes"
    );
    for (c, row) in cases.iter().zip(&rows) {
        assert_eq!(row, &row_after(c, c.events.len(), c.ratings.len()));
    }
    insert_trails(db, cases).await;
}

fn counters(v: &[i64]) -> dashboard_queries::rollup::Counters {
    dashboard_queries::rollup::Counters {
        received: v[0],
        accepted: v[1],
        rejected: v[2],
        closed: v[3],
        replied: v[4],
        rated: v[5],
        satisfied: v[6],
        basically_satisfied: v[7],
        dissatisfied: v[8],
        repeats: v[9],
        due_set: v[10],
        replied_due_set: v[11],
        on_time_set: v[12],
        open_due_set: v[13],
    }
}

pub async fn insert_trails(db: &DatabaseConnection, cases: &[CaseHistory]) {
    for c in cases {
        let mut prev: Option<CaseStatus> = None;
        let events: Vec<case_event::ActiveModel> = c
            .events
            .iter()
            .map(|e| {
                let m = case_event::ActiveModel {
                    id: NotSet,
                    case_id: Set(c.id),
                    at: Set(e.at),
                    action: Set(e.action),
                    from_status: Set(prev),
                    to_status: Set(e.to),
                    department_id: Set(c.department_id),
                    reply_due_at: Set(e.due),
                    actor: Set("test".into()),
                    note: Set(None),
                };
                if e.to.is_some() {
                    prev = e.to;
                }
                m
            })
            .collect();
        if !events.is_empty() {
            case_event::Entity::insert_many(events)
                .exec(db)
                .await
                .unwrap();
        }
        for (level, at) in &c.ratings {
            rating::ActiveModel {
                id: NotSet,
                case_id: Set(c.id),
                level: Set(*level),
                timeliness: Set(None),
                attitude: Set(None),
                result: Set(None),
                comment: Set(None),
                rated_at: Set(*at),
                public_comment: Set(None),
            }
            .insert(db)
            .await
            .unwrap();
        }
    }
}

/// Whether a case is in the scope and filter (the naive way: from the constants).
pub fn in_scope(c: &CaseHistory, scope: &Scope, filter: &StatsFilter, top: (i32, &[i32])) -> bool {
    let (province, city, county, region) = PLACES[c.place];
    if let Some(code) = &scope.region_code {
        let hit = [Some(province), city, county, Some(region)].contains(&Some(code.as_str()));
        if !hit {
            return false;
        }
    }
    if let Some(d) = scope.department_id {
        let path = DEPARTMENTS.iter().find(|x| x.0 == d).unwrap().2;
        let ok = c.department_id.is_some_and(|cd| {
            DEPARTMENTS
                .iter()
                .any(|x| x.0 == cd && x.2.starts_with(path))
        });
        if !ok {
            return false;
        }
    }
    if filter.channel.is_some_and(|ch| ch != c.channel) || filter.kind.is_some_and(|k| k != c.kind)
    {
        return false;
    }
    if let Some(cat) = filter.category_id {
        let ok = c.category_id == Some(cat)
            || (cat == top.0 && c.category_id.is_some_and(|x| top.1.contains(&x)));
        if !ok {
            return false;
        }
    }
    true
}

/// Every metric, computed directly from the generated trails.
pub fn naive(
    cases: &[CaseHistory],
    scope: &Scope,
    filter: &StatsFilter,
    w: &Window,
    cal: &WorkCalendar,
    top: (i32, &[i32]),
) -> Stats {
    let t = w.as_of;
    let mut s = Stats::default();
    let (mut rh, mut rd, mut ph, mut pd) = (vec![], vec![], vec![], vec![]);
    for c in cases {
        if c.submitted_at < w.from || c.submitted_at >= w.to || c.submitted_at > t {
            continue;
        }
        if !in_scope(c, scope, filter, top) {
            continue;
        }
        let seen: Vec<&Ev> = c.events.iter().filter(|e| e.at <= t).collect();
        if c.duplicate_of.is_some() && seen.iter().any(|e| e.action == CaseAction::Merge) {
            continue;
        }
        s.received += 1;
        let first =
            |acts: &[CaseAction]| seen.iter().find(|e| acts.contains(&e.action)).map(|e| e.at);
        let acc = first(&[CaseAction::Accept]);
        let rep = first(&[CaseAction::Reply]);
        let resp = first(&[CaseAction::Respond, CaseAction::Reply]);
        if first(&[CaseAction::Reject]).is_some() {
            s.rejected += 1;
        }
        let mut due1 = None;
        for e in &seen {
            if e.action == CaseAction::Reopen {
                break;
            }
            if matches!(e.action, CaseAction::Accept | CaseAction::Extend) && e.due.is_some() {
                due1 = e.due;
            }
        }
        let due_now = seen.iter().rev().find_map(|e| e.due);
        let status = seen.iter().rev().find_map(|e| e.to);
        if let Some(acc) = acc {
            s.accepted += 1;
            if let Some(d) = due1.filter(|d| *d <= t) {
                s.due += 1;
                if rep.is_some() {
                    s.replied_when_due += 1;
                }
                if rep.is_some_and(|r| r <= d) {
                    s.on_time += 1;
                }
            }
            if matches!(status, Some(CaseStatus::Closed | CaseStatus::Archived)) {
                s.closed += 1;
            }
            if matches!(
                status,
                Some(CaseStatus::Accepted | CaseStatus::Assigned | CaseStatus::InProgress)
            ) && due_now.is_some_and(|d| d < t)
            {
                s.overdue_now += 1;
            }
            if let Some(r) = rep {
                rh.push(WorkCalendar::clock_hours(acc, r));
                rd.push(cal.working_days_between(acc, r));
            }
            if let Some(r) = resp {
                ph.push(WorkCalendar::clock_hours(acc, r));
                pd.push(cal.working_days_between(acc, r));
            }
        }
        if rep.is_some() {
            s.replied += 1;
        }
        if let Some((level, _)) = c.ratings.iter().rev().find(|r| r.1 <= t) {
            s.rated += 1;
            match level {
                RatingLevel::Satisfied => s.satisfied += 1,
                RatingLevel::BasicallySatisfied => s.basically_satisfied += 1,
                RatingLevel::Dissatisfied => s.dissatisfied += 1,
            }
        }
        if c.repeat_of.is_some() {
            s.repeats += 1;
        }
    }
    let r = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
    s.reply_rate = r(s.replied_when_due, s.due);
    s.on_time_rate = r(s.on_time, s.due);
    s.completion_rate = r(s.closed, s.accepted);
    s.satisfaction_rate = r(s.satisfied + s.basically_satisfied, s.rated);
    s.participation_rate = r(s.rated, s.replied);
    s.repeat_rate = r(s.repeats, s.received);
    s.reply_hours = summarize(&mut rh);
    s.reply_working_days = summarize(&mut rd);
    s.response_hours = summarize(&mut ph);
    s.response_working_days = summarize(&mut pd);
    s
}

/// Equality up to float rounding in the duration means.
pub fn assert_same(got: &Stats, want: &Stats, context: &str) {
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    let mut g = got.clone();
    for (gs, ws) in [
        (&mut g.reply_hours, &want.reply_hours),
        (&mut g.reply_working_days, &want.reply_working_days),
        (&mut g.response_hours, &want.response_hours),
        (&mut g.response_working_days, &want.response_working_days),
    ] {
        assert_eq!(gs.count, ws.count, "{context}: duration count");
        assert!(close(gs.mean, ws.mean), "{context}: mean {gs:?} vs {ws:?}");
        assert!(
            close(gs.median, ws.median),
            "{context}: median {gs:?} vs {ws:?}"
        );
        assert!(close(gs.p90, ws.p90), "{context}: p90 {gs:?} vs {ws:?}");
        *gs = *ws;
    }
    assert_eq!(&g, want, "{context}");
}

pub fn window(from_day: i64, to_day: i64, as_of: DateTime<Utc>) -> Window {
    Window::new(
        base_time() + Duration::days(from_day),
        base_time() + Duration::days(to_day),
        Some(as_of),
    )
    .unwrap()
}

/// Writes later events and ratings of cases already inserted, as the writers do: each
/// case's row becomes the row of its whole history (`cases[i]` with `later[i]`'s events
/// and ratings appended), with the rollup delta of that write, and the new events and
/// ratings join the trail. Returns the whole histories.
pub async fn write_later(
    db: &DatabaseConnection,
    cases: &[CaseHistory],
    later: &[CaseHistory],
) -> Vec<CaseHistory> {
    let mut whole = cases.to_vec();
    for add in later {
        let i = whole
            .iter()
            .position(|c| c.id == add.id)
            .expect("a later write of a case already inserted");
        let before = row_after(&whole[i], whole[i].events.len(), whole[i].ratings.len());
        whole[i].events.extend(add.events.iter().cloned());
        whole[i].ratings.extend(add.ratings.iter().cloned());
        let after = row_after(&whole[i], whole[i].events.len(), whole[i].ratings.len());
        let mut am = case::ActiveModel::from(after.clone()).reset_all();
        am.id = sea_orm::ActiveValue::Unchanged(after.id);
        am.update(db).await.expect("update case");
        dashboard_queries::rollup::apply_delta(db, Some(&before), &after)
            .await
            .expect("rollup update");
    }
    insert_trails(db, later).await;
    whole
}
