//! The deterministic case generator: one ChaCha stream, cases in submission order, each
//! with its citizen, events and ratings. Pure: no I/O, no wall clock.

use super::lifecycle::{replay, Timeline};
use super::org::{Org, Region, Unit};
use super::people::{person, pick};
use super::text::{self, compose, Places, Topic, TOPICS};
use crate::open_data::redaction::public_text;
use chrono::{DateTime, Days, NaiveDate, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Asia::Shanghai;
use dashboard_queries::calendar::WorkCalendar;
use entities::{
    case, case_event, citizen, rating, CaseAction, CaseKind, CaseStatus, Channel, RatingLevel,
    RegionLevel,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};

/// The shares and delays of the simulated handling. Tuned so that, over a year's window
/// seen at its end, the metrics land near the facts of `domain.md`.
pub mod mix {
    /// Share of submissions that duplicate a recent case and are merged into it.
    pub const DUPLICATE: f64 = 0.02;
    /// Share of (non-duplicate) submissions a citizen sends again about an earlier case.
    pub const REPEAT: f64 = 0.04;
    /// Share of (non-duplicate) submissions rejected.
    pub const REJECT: f64 = 0.03;
    /// Accepted cases that are never replied within the window (long-pending).
    pub const STUCK: f64 = 0.014;
    /// Accepted cases replied after their deadline.
    pub const LATE: f64 = 0.09;
    /// Of the cases that would be late, the share that gets an extension approved instead.
    pub const EXTENDED: f64 = 0.35;
    /// Replied cases the citizen rates.
    pub const RATED: f64 = 0.6;
    /// Replied cases published.
    pub const PUBLISHED: f64 = 0.8;
    /// Cases whose first assignment is to the wrong unit and get transferred.
    pub const MISROUTED: f64 = 0.04;
    /// Closed cases archived 30–60 days after closing.
    pub const ARCHIVED: f64 = 0.7;
}

/// The window and size of a run.
#[derive(Debug, Clone)]
pub struct Params {
    pub seed: u64,
    pub cases: u64,
    /// First and last local (Asia/Shanghai) day of submissions, inclusive.
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Params {
    /// The first instant of the window.
    pub fn start(&self) -> DateTime<Utc> {
        local_midnight(self.from)
    }

    /// The last instant of the window: 23:59:59 local on `to`. Nothing happens later.
    pub fn end(&self) -> DateTime<Utc> {
        local_midnight(self.to.checked_add_days(Days::new(1)).unwrap_or(self.to))
            - TimeDelta::seconds(1)
    }
}

pub fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Asia/Shanghai has no daylight saving: midnight always exists exactly once.
    Shanghai
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// Where the ids of a run start (one past the tables' current maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstIds {
    pub case: i64,
    pub event: i64,
    pub rating: i64,
    pub citizen: i64,
}

impl Default for FirstIds {
    fn default() -> Self {
        FirstIds {
            case: 1,
            event: 1,
            rating: 1,
            citizen: 1,
        }
    }
}

/// One batch of rows, ready to insert.
#[derive(Debug, Default)]
pub struct Chunk {
    pub citizens: Vec<citizen::Model>,
    pub cases: Vec<case::Model>,
    pub events: Vec<case_event::Model>,
    pub ratings: Vec<rating::Model>,
}

/// A category the generator writes about: its text topic and its ids.
struct CategoryChoice {
    topic: &'static Topic,
    id: i32,
    parent_id: Option<i32>,
}

/// What the generator remembers of a recent case, for duplicates and repeats.
#[derive(Clone)]
struct Recent {
    id: i64,
    tracking: String,
    citizen_id: Option<i64>,
    category: usize,
    category_id: Option<i32>,
    region: usize,
    kind: CaseKind,
    title: String,
    submitted_at: DateTime<Utc>,
    handled: bool,
    department_id: Option<i32>,
}

/// The weighted cities cases come from, each with its counties, and each county with
/// its townships (indexes into `regions`).
struct Geography {
    regions: Vec<Region>,
    cities: Vec<(usize, u32)>,
    counties: HashMap<usize, Vec<usize>>,
    townships: HashMap<usize, Vec<usize>>,
    index: HashMap<String, usize>,
}

const CHANNELS: &[(Channel, u32)] = &[
    (Channel::Hotline, 30),
    (Channel::Wechat, 16),
    (Channel::LeaderBoard, 12),
    (Channel::Website, 10),
    (Channel::App, 9),
    (Channel::Mailbox, 8),
    (Channel::Alipay, 6),
    (Channel::Weibo, 5),
    (Channel::Video, 2),
    (Channel::Visit, 2),
];

const KINDS: &[(CaseKind, u32)] = &[
    (CaseKind::Complaint, 33),
    (CaseKind::HelpRequest, 24),
    (CaseKind::Consultation, 20),
    (CaseKind::Suggestion, 12),
    (CaseKind::Report, 7),
    (CaseKind::Praise, 4),
];

/// Relative volume by local hour of day.
const HOURS: [u32; 24] = [
    3, 2, 1, 1, 1, 2, 5, 12, 25, 32, 33, 28, 18, 20, 29, 30, 28, 23, 16, 18, 20, 17, 11, 6,
];

/// Cities weighted by how many messages they send (Chengdu leads, as in the sources).
fn city_weight(code: &str) -> u32 {
    match code {
        "510100" => 40,
        "510700" | "511300" | "510600" | "511500" | "511100" | "510500" | "511700" => 8,
        c if c.starts_with("51") => 5,
        _ => 14,
    }
}

fn weighted<T: Copy, R: Rng>(rng: &mut R, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut x = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// A log-normally distributed duration with the given median (seconds) and spread.
fn lognormal<R: Rng>(rng: &mut R, median_secs: f64, sigma: f64, cap_secs: f64) -> TimeDelta {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let secs = (median_secs * (sigma * z).exp()).clamp(1.0, cap_secs);
    TimeDelta::seconds(secs as i64)
}

fn between<R: Rng>(rng: &mut R, lo_secs: i64, hi_secs: i64) -> TimeDelta {
    TimeDelta::seconds(rng.random_range(lo_secs..=hi_secs.max(lo_secs)))
}

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Handlers work 08:00–22:00 local: an action due at night happens the next morning.
fn office<R: Rng>(rng: &mut R, t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&Shanghai);
    let hour = local.hour();
    if (8..22).contains(&hour) {
        return t;
    }
    let mut day = local.date_naive();
    if hour >= 22 {
        day = day.checked_add_days(Days::new(1)).unwrap_or(day);
    }
    local_midnight(day) + TimeDelta::hours(8) + between(rng, 0, 90 * MINUTE)
}

pub struct Generator {
    rng: ChaCha8Rng,
    calendar: WorkCalendar,
    params: Params,
    end: DateTime<Utc>,
    geo: Geography,
    org: Org,
    categories: Vec<CategoryChoice>,
    category_weights: Vec<(usize, u32)>,
    next: FirstIds,
    recent: VecDeque<Recent>,
    stride: u64,
    /// Submission instants of the current day still to generate, latest last-popped.
    day_times: Vec<DateTime<Utc>>,
    day: NaiveDate,
    day_seq: u32,
    /// Cumulative share of the cases per day (for the day plan).
    day_plan: Vec<(NaiveDate, u64)>,
    day_index: usize,
    produced: u64,
    /// Names of the citizens made so far (cases of this run refer only to them): the
    /// redaction of a case's text masks its citizen's own name.
    citizen_names: HashMap<i64, String>,
}

impl Generator {
    /// `regions`: the chosen regions (see `mod.rs`); `categories`: (id, code, parent_id).
    pub fn new(
        params: Params,
        calendar: WorkCalendar,
        regions: Vec<Region>,
        org: Org,
        categories: &[(i32, String, Option<i32>)],
        first: FirstIds,
    ) -> Result<Self, String> {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let index: HashMap<String, usize> = regions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.code.clone(), i))
            .collect();
        let mut cities = Vec::new();
        let mut counties: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut townships: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            let parent = r.parent_code.as_ref().and_then(|p| index.get(p)).copied();
            match (r.level, parent) {
                (RegionLevel::City, _) => cities.push((i, city_weight(&r.code))),
                (RegionLevel::County, Some(p)) => counties.entry(p).or_default().push(i),
                (RegionLevel::Township, Some(p)) => townships.entry(p).or_default().push(i),
                _ => {}
            }
        }
        if cities.is_empty() {
            return Err("no cities among the chosen regions".into());
        }
        let mut choices = Vec::new();
        let mut category_weights = Vec::new();
        for topic in TOPICS {
            if let Some((id, _, parent)) = categories.iter().find(|(_, code, _)| code == topic.code)
            {
                category_weights.push((choices.len(), topic.weight));
                choices.push(CategoryChoice {
                    topic,
                    id: *id,
                    parent_id: *parent,
                });
            }
        }
        if choices.is_empty() {
            return Err("the categories table has none of the default topic codes".into());
        }
        let day_plan = plan_days(&mut rng, &calendar, &params);
        let stride = params.cases.div_ceil(100_000).max(1);
        let end = params.end();
        Ok(Generator {
            rng,
            calendar,
            end,
            day: params.from,
            params,
            geo: Geography {
                regions,
                cities,
                counties,
                townships,
                index,
            },
            org,
            categories: choices,
            category_weights,
            next: first,
            recent: VecDeque::new(),
            stride,
            day_times: Vec::new(),
            day_seq: 0,
            day_plan,
            day_index: 0,
            produced: 0,
            citizen_names: HashMap::new(),
        })
    }

    /// The next submission instant, moving through the day plan.
    fn next_time(&mut self) -> Option<DateTime<Utc>> {
        while self.day_times.is_empty() {
            let (day, count) = *self.day_plan.get(self.day_index)?;
            self.day_index += 1;
            self.day = day;
            self.day_seq = 0;
            let midnight = local_midnight(day);
            let hours: Vec<(u32, u32)> = HOURS
                .iter()
                .enumerate()
                .map(|(h, w)| (h as u32, *w))
                .collect();
            let mut times: Vec<DateTime<Utc>> = (0..count)
                .map(|_| {
                    let h = weighted(&mut self.rng, &hours);
                    midnight
                        + TimeDelta::seconds(i64::from(h) * HOUR + self.rng.random_range(0..HOUR))
                })
                .collect();
            // Popped from the back: latest first in the vector's front.
            times.sort_unstable_by(|a, b| b.cmp(a));
            self.day_times = times;
        }
        self.day_seq += 1;
        self.day_times.pop()
    }

    /// Generates up to `max` further cases; None when all are done.
    pub fn next_chunk(&mut self, max: usize) -> Option<Chunk> {
        let mut chunk = Chunk::default();
        while chunk.cases.len() < max && self.produced < self.params.cases {
            let Some(at) = self.next_time() else { break };
            self.one_case(at, &mut chunk);
            self.produced += 1;
        }
        (!chunk.cases.is_empty()).then_some(chunk)
    }

    pub fn produced(&self) -> u64 {
        self.produced
    }

    fn pick_region(&mut self) -> usize {
        let city = weighted(&mut self.rng, &self.geo.cities);
        let u: f64 = self.rng.random();
        if u < 0.02 {
            let province = self.geo.regions[city].province_code.clone();
            if let Some(&p) = self.geo.index.get(&province) {
                return p;
            }
        }
        if u < 0.10 {
            return city;
        }
        let Some(counties) = self.geo.counties.get(&city).filter(|c| !c.is_empty()) else {
            return city;
        };
        let county = counties[self.rng.random_range(0..counties.len())];
        if u < 0.40 {
            return county;
        }
        match self.geo.townships.get(&county).filter(|t| !t.is_empty()) {
            Some(towns) => towns[self.rng.random_range(0..towns.len())],
            None => county,
        }
    }

    /// The region's ancestors, nearest first, including itself.
    fn chain(&self, region: usize) -> Vec<usize> {
        let mut out = vec![region];
        let mut current = region;
        while let Some(parent) = self.geo.regions[current]
            .parent_code
            .as_ref()
            .and_then(|p| self.geo.index.get(p))
        {
            out.push(*parent);
            current = *parent;
        }
        out
    }

    /// The department of `unit` handling a case in `region`: the township office for some
    /// local cases, mostly the county's unit, sometimes the city's; up the tree when the
    /// level has no such unit, and the government of the region as the last resort.
    fn handler(&mut self, region: usize, unit: Unit) -> Option<i32> {
        let chain = self.chain(region);
        let level = self.geo.regions[region].level;
        let u: f64 = self.rng.random();
        let mut start = 0;
        if level == RegionLevel::Township {
            if u < 0.18 || unit == Unit::Township {
                if let Some(id) = self
                    .org
                    .unit(&self.geo.regions[region].code, Unit::Township)
                {
                    return Some(id);
                }
            }
            start = if u > 0.88 { 2 } else { 1 };
        } else if level == RegionLevel::County && u > 0.85 {
            start = 1;
        }
        let unit = if unit == Unit::Township {
            Unit::CivilAffairs
        } else {
            unit
        };
        for &r in chain.iter().skip(start).chain(chain.iter()) {
            if let Some(id) = self.org.unit(&self.geo.regions[r].code, unit) {
                return Some(id);
            }
        }
        chain
            .iter()
            .find_map(|&r| self.org.unit(&self.geo.regions[r].code, Unit::Government))
    }

    fn places(&self, region: usize) -> (String, String, String, String) {
        let chain = self.chain(region);
        let names: Vec<&str> = chain
            .iter()
            .rev()
            .map(|&i| self.geo.regions[i].name.as_str())
            .collect();
        let r = &self.geo.regions[region];
        let name_of = |code: &Option<String>| {
            code.as_ref()
                .and_then(|c| self.geo.index.get(c))
                .map(|&i| self.geo.regions[i].name.clone())
        };
        let city = name_of(&r.city_code).unwrap_or_else(|| r.name.clone());
        let county = name_of(&r.county_code).unwrap_or_else(|| city.clone());
        (r.name.clone(), county, city, names.concat())
    }

    fn recent_pick(
        &mut self,
        min_age: TimeDelta,
        max_age: TimeDelta,
        now: DateTime<Utc>,
    ) -> Option<Recent> {
        // The deque is in submission order: the age range is one slice of it.
        let lo = self
            .recent
            .partition_point(|r| now - r.submitted_at > max_age);
        let hi = self
            .recent
            .partition_point(|r| now - r.submitted_at >= min_age);
        if lo >= hi {
            return None;
        }
        for _ in 0..8 {
            let i = self.rng.random_range(lo..hi);
            if self.recent.get(i).is_some_and(|r| r.handled) {
                return self.recent.get(i).cloned();
            }
        }
        None
    }

    fn new_citizen(&mut self, region: usize, full_place: &str, chunk: &mut Chunk) -> i64 {
        let r = &self.geo.regions[region];
        let area = r
            .county_code
            .clone()
            .or_else(|| r.city_code.clone())
            .unwrap_or_else(|| r.province_code.clone());
        let p = person(&mut self.rng, full_place, &area, self.params.from);
        let id = self.next.citizen;
        self.next.citizen += 1;
        self.citizen_names.insert(id, p.name.clone());
        chunk.citizens.push(citizen::Model {
            id,
            name: p.name,
            phone: p.phone,
            id_number: p.id_number,
            email: p.email,
            address: p.address,
        });
        id
    }

    fn one_case(&mut self, submitted_at: DateTime<Utc>, chunk: &mut Chunk) {
        let id = self.next.case;
        self.next.case += 1;
        let tracking = format!("MY{}{:06}", self.day.format("%Y%m%d"), self.day_seq);
        let channel = weighted(&mut self.rng, CHANNELS);
        let u: f64 = self.rng.random();

        // A duplicate of a recent case, or a citizen's repeat of an earlier one.
        let duplicate_of = if u < mix::DUPLICATE {
            self.recent_pick(TimeDelta::hours(1), TimeDelta::days(20), submitted_at)
        } else {
            None
        };
        let repeat_of = if duplicate_of.is_none()
            && (mix::DUPLICATE..mix::DUPLICATE + mix::REPEAT).contains(&u)
        {
            self.recent_pick(TimeDelta::days(7), TimeDelta::days(90), submitted_at)
                .filter(|r| r.citizen_id.is_some())
        } else {
            None
        };
        let earlier = duplicate_of.as_ref().or(repeat_of.as_ref());

        let (category, region, kind) = match earlier {
            Some(e) => (e.category, e.region, e.kind),
            None => {
                let category = weighted(&mut self.rng, &self.category_weights);
                let region = self.pick_region();
                let kind = weighted(&mut self.rng, KINDS);
                (category, region, kind)
            }
        };
        let (topic, leaf_id, parent_id) = {
            let c = &self.categories[category];
            (c.topic, c.id, c.parent_id)
        };
        let category_id = match earlier {
            Some(e) => e.category_id,
            // A few writers pick only the top-level topic.
            None if self.rng.random_bool(0.03) => parent_id.or(Some(leaf_id)),
            None => Some(leaf_id),
        };
        let (place, county, city, full_place) = self.places(region);

        // The praised unit is named in the text, so choose it first.
        let praised = if kind == CaseKind::Praise {
            self.handler(region, topic.unit)
        } else {
            None
        };
        let praised_name = praised.and_then(|d| self.org.name(d)).map(str::to_string);
        let places = Places {
            place: &place,
            county: &county,
            city: &city,
        };
        let (title, body, unit) = match (&duplicate_of, &repeat_of) {
            (Some(d), _) => (
                d.title.clone(),
                format!(
                    "此前已有人就“{}”反映过（{}），问题至今仍未解决，现通过其他渠道再次反映，请尽快处理。",
                    d.title, d.tracking
                ),
                topic.unit,
            ),
            (None, Some(r)) => {
                let t = compose(&mut self.rng, topic, kind, &places, praised_name.as_deref());
                (
                    format!("再次反映：{}", r.title),
                    format!("我于{}反映的问题（{}）至今没有得到实质解决。{}", r.submitted_at.with_timezone(&Shanghai).format("%Y年%m月%d日"), r.tracking, t.body),
                    t.unit,
                )
            }
            (None, None) => {
                let t = compose(&mut self.rng, topic, kind, &places, praised_name.as_deref());
                (t.title, t.body, t.unit)
            }
        };

        let citizen_id = match earlier {
            Some(e) if repeat_of.is_some() || self.rng.random_bool(0.5) => e.citizen_id,
            _ => {
                let v: f64 = self.rng.random();
                if v < 0.04 {
                    None
                } else if v < 0.08 {
                    let back = self.recent.len().min(500);
                    let pick_i = self
                        .recent
                        .len()
                        .saturating_sub(1 + self.rng.random_range(0..back.max(1)));
                    match self.recent.get(pick_i).and_then(|r| r.citizen_id) {
                        Some(c) => Some(c),
                        None => Some(self.new_citizen(region, &full_place, chunk)),
                    }
                } else {
                    Some(self.new_citizen(region, &full_place, chunk))
                }
            }
        };

        let department = match (&repeat_of, praised) {
            (Some(r), _) if r.department_id.is_some() => r.department_id,
            (_, Some(p)) => Some(p),
            _ => self.handler(region, unit),
        };

        let r = &self.geo.regions[region];
        let mut row = case::Model {
            id,
            tracking_number: tracking.clone(),
            title: title.clone(),
            body,
            channel,
            kind,
            category_id,
            region_code: r.code.clone(),
            province_code: r.province_code.clone(),
            city_code: r.city_code.clone(),
            county_code: r.county_code.clone(),
            department_id: None,
            citizen_id,
            status: CaseStatus::Submitted,
            submitted_at,
            accepted_at: None,
            rejected_at: None,
            respond_due_at: Some(submitted_at + TimeDelta::hours(8)),
            responded_at: None,
            reply_due_at: None,
            first_reply_due_at: None,
            first_replied_at: None,
            replied_at: None,
            closed_at: None,
            archived_at: None,
            reply: None,
            rating_level: None,
            duplicate_of: duplicate_of.as_ref().map(|d| d.id),
            repeat_of: repeat_of.as_ref().map(|r| r.id),
            published: false,
            supervised: false,
            reopen_count: 0,
            version: 0,
            idempotency_key: None,
            updated_at: submitted_at,
            public_title: None,
            public_body: None,
            public_reply: None,
            external_id: None,
            address: None,
            latitude: None,
            longitude: None,
        };

        let first_rating = chunk.ratings.len();
        let mut tl = Timeline::new(self.end);
        tl.push(
            submitted_at,
            CaseAction::Submit,
            Some(CaseStatus::Submitted),
            None,
            None,
            None,
        );
        let mut replies: Vec<String> = Vec::new();
        let handled = if let Some(d) = &duplicate_of {
            let at = submitted_at + between(&mut self.rng, 30 * MINUTE, 30 * HOUR);
            tl.push(
                at,
                CaseAction::Merge,
                Some(CaseStatus::Closed),
                None,
                None,
                Some(format!("与{}重复，已合并办理", d.tracking)),
            );
            false
        } else if self.rng.random_bool(mix::REJECT) {
            let at = {
                let at0 = submitted_at
                    + lognormal(&mut self.rng, 3.0 * HOUR as f64, 1.0, 3.0 * DAY as f64);
                office(&mut self.rng, at0)
            };
            let reason = pick(&mut self.rng, text::REJECT_REASONS).to_string();
            tl.push(
                at,
                CaseAction::Reject,
                Some(CaseStatus::Rejected),
                None,
                None,
                Some(reason),
            );
            false
        } else {
            self.handle(
                &mut tl,
                &mut chunk.ratings,
                &mut replies,
                id,
                kind,
                channel,
                region,
                department,
                repeat_of.is_some(),
            );
            true
        };

        replay(&mut row, &tl.events, &chunk.ratings[first_rating..]);
        row.reply = replies.pop();
        // Stored redacted like every writer does, so public reads never redact.
        let name = citizen_id
            .and_then(|c| self.citizen_names.get(&c))
            .map(String::as_str);
        row.public_title = Some(public_text(&row.title, name));
        row.public_body = Some(public_text(&row.body, name));
        row.public_reply = row.reply.as_deref().map(|r| public_text(r, name));
        for r in &mut chunk.ratings[first_rating..] {
            r.public_comment = r.comment.as_deref().map(|c| public_text(c, name));
        }
        for mut e in tl.events {
            e.id = self.next.event;
            self.next.event += 1;
            e.case_id = id;
            chunk.events.push(e);
        }
        if self.produced.is_multiple_of(self.stride) {
            let horizon = submitted_at - TimeDelta::days(91);
            while self
                .recent
                .front()
                .is_some_and(|r| r.submitted_at < horizon)
            {
                self.recent.pop_front();
            }
            self.recent.push_back(Recent {
                id,
                tracking,
                citizen_id,
                category,
                category_id,
                region,
                kind,
                title,
                submitted_at,
                handled: handled && repeat_of.is_none(),
                department_id: row.department_id,
            });
        }
        chunk.cases.push(row);
    }

    /// Accept → assign (→ transfer) → claim → respond → reply → rate → close → archive,
    /// with reminders, extensions, supervision and reopening where they apply.
    #[allow(clippy::too_many_arguments)]
    fn handle(
        &mut self,
        tl: &mut Timeline,
        ratings: &mut Vec<rating::Model>,
        replies: &mut Vec<String>,
        case_id: i64,
        kind: CaseKind,
        channel: Channel,
        region: usize,
        department: Option<i32>,
        repeat: bool,
    ) {
        let rng_delay = |g: &mut Self, median: i64, cap: i64| {
            lognormal(&mut g.rng, median as f64, 1.0, cap as f64)
        };
        let Some(submitted) = tl.last_at() else {
            return;
        };
        let days: u32 = if matches!(kind, CaseKind::Consultation | CaseKind::Praise) {
            3
        } else {
            7
        };

        let t = {
            let at0 = submitted + rng_delay(self, 40 * MINUTE, 2 * DAY);
            office(&mut self.rng, at0)
        };
        let due = self.calendar.add_working_days(t, days);
        let Some(accepted) = tl.push(
            t,
            CaseAction::Accept,
            Some(CaseStatus::Accepted),
            None,
            Some(due),
            None,
        ) else {
            return;
        };

        // Leader-board and mailbox messages go to the leader's office first, which passes
        // them on; a few cases reach the wrong bureau first.
        let leader_first =
            matches!(channel, Channel::LeaderBoard | Channel::Mailbox) && self.rng.random_bool(0.5);
        let misrouted = !leader_first && self.rng.random_bool(mix::MISROUTED);
        let first_unit = if leader_first {
            let chain = self.chain(region);
            let unit = if self.rng.random_bool(0.4) {
                Unit::SecretaryMailbox
            } else {
                Unit::MayorMailbox
            };
            chain
                .iter()
                .find_map(|&r| self.org.unit(&self.geo.regions[r].code, unit))
        } else if misrouted {
            let unit = [
                Unit::Housing,
                Unit::UrbanManagement,
                Unit::Market,
                Unit::CivilAffairs,
            ][self.rng.random_range(0..4)];
            self.handler(region, unit)
                .filter(|d| Some(*d) != department)
        } else {
            None
        };
        let t = {
            let at0 = accepted + between(&mut self.rng, 5 * MINUTE, 2 * HOUR);
            office(&mut self.rng, at0)
        };
        let Some(mut at) = tl.push(
            t,
            CaseAction::Assign,
            Some(CaseStatus::Assigned),
            first_unit.or(department),
            None,
            None,
        ) else {
            return;
        };
        if first_unit.is_some() && department.is_some() {
            let t = {
                let at0 = at + between(&mut self.rng, HOUR, 30 * HOUR);
                office(&mut self.rng, at0)
            };
            let note = if leader_first {
                "领导批示：请相关部门认真办理"
            } else {
                "不属于本单位职责，申请转办"
            };
            match tl.push(
                t,
                CaseAction::Transfer,
                Some(CaseStatus::Assigned),
                department,
                None,
                Some(note.to_string()),
            ) {
                Some(t) => at = t,
                None => return,
            }
        }
        let t = {
            let at0 = at + rng_delay(self, 90 * MINUTE, DAY);
            office(&mut self.rng, at0)
        };
        let Some(claimed) = tl.push(
            t,
            CaseAction::Claim,
            Some(CaseStatus::InProgress),
            None,
            None,
            None,
        ) else {
            return;
        };
        if self.rng.random_bool(0.9) {
            let t = {
                let at0 = claimed + rng_delay(self, 50 * MINUTE, DAY);
                office(&mut self.rng, at0)
            };
            if tl
                .push(
                    t,
                    CaseAction::Respond,
                    None,
                    None,
                    None,
                    Some("已电话联系诉求人，了解详细情况".into()),
                )
                .is_none()
            {
                return;
            }
        }
        if repeat && self.rng.random_bool(0.5) {
            let t = claimed + between(&mut self.rng, 10 * MINUTE, 4 * HOUR);
            tl.push(
                t,
                CaseAction::Supervise,
                None,
                None,
                None,
                Some("重复反映未解决，列入督办".into()),
            );
        }

        // The first reply: on time, late, extended, or not at all within the window.
        let u: f64 = self.rng.random();
        let mut due_now = due;
        let reply_at = if u < mix::STUCK {
            None
        } else if u < mix::STUCK + mix::LATE {
            if self.rng.random_bool(mix::EXTENDED) {
                let t = (due - between(&mut self.rng, 6 * HOUR, 2 * DAY))
                    .max(claimed + TimeDelta::hours(1));
                let extended = self.calendar.add_working_days(due, 5);
                tl.push(
                    t,
                    CaseAction::Extend,
                    None,
                    None,
                    Some(extended),
                    Some("情况复杂，申请延期5个工作日".into()),
                );
                due_now = extended;
                Some(
                    due + between(
                        &mut self.rng,
                        HOUR,
                        (extended - due).num_seconds().max(HOUR),
                    ),
                )
            } else {
                Some(due + lognormal(&mut self.rng, 5.0 * DAY as f64, 1.2, 150.0 * DAY as f64))
            }
        } else {
            let span = (due - claimed).num_seconds().max(HOUR);
            let f: f64 = self.rng.random::<f64>().powf(1.4).clamp(0.02, 0.995);
            Some(
                office(
                    &mut self.rng,
                    claimed + TimeDelta::seconds((span as f64 * f) as i64),
                )
                .min(due),
            )
        };
        let late = reply_at.is_none_or(|r| r > due_now);
        let slow = reply_at.is_none_or(|r| r > due_now - TimeDelta::days(2));
        if slow {
            let t = (due_now - TimeDelta::days(1)).max(claimed + TimeDelta::hours(1));
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Remind,
                    None,
                    None,
                    None,
                    Some("请于办理期限内答复".into()),
                );
            }
        }
        if late {
            let t = due_now + between(&mut self.rng, DAY, 3 * DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Remind,
                    None,
                    None,
                    None,
                    Some("已超期，请尽快答复".into()),
                );
            }
            let t = due_now + between(&mut self.rng, 5 * DAY, 7 * DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Supervise,
                    None,
                    None,
                    None,
                    Some("超期未答复，列入督办".into()),
                );
            }
        } else if !repeat && self.rng.random_bool(0.01) {
            let t = claimed + between(&mut self.rng, HOUR, DAY);
            if reply_at.is_none_or(|r| t < r) {
                tl.push(
                    t,
                    CaseAction::Supervise,
                    None,
                    None,
                    None,
                    Some("领导批示督办".into()),
                );
            }
        }
        let Some(reply_at) = reply_at else { return };
        let Some(replied) = tl.push(
            reply_at,
            CaseAction::Reply,
            Some(CaseStatus::Replied),
            None,
            None,
            None,
        ) else {
            return;
        };
        replies.push(text::reply(&mut self.rng, kind, 0));
        if self.rng.random_bool(mix::PUBLISHED) {
            let t = replied + between(&mut self.rng, 10 * MINUTE, DAY);
            tl.push(t, CaseAction::Publish, None, None, None, None);
        }

        let mut last = replied;
        let mut reopened = false;
        let mut round_late = late;
        loop {
            // The citizen's rating, then closing (or reopening after a dissatisfied one).
            let rated_share = if reopened { 0.55 } else { mix::RATED };
            let mut level = None;
            if self.rng.random_bool(rated_share) {
                let t = last + lognormal(&mut self.rng, DAY as f64, 1.0, 15.0 * DAY as f64);
                let shares: [u32; 3] = match (reopened, round_late) {
                    (true, _) => [52, 32, 16],
                    (false, false) => [66, 23, 11],
                    (false, true) => [42, 30, 28],
                };
                let l = weighted(
                    &mut self.rng,
                    &[
                        (RatingLevel::Satisfied, shares[0]),
                        (RatingLevel::BasicallySatisfied, shares[1]),
                        (RatingLevel::Dissatisfied, shares[2]),
                    ],
                );
                let Some(rated) = tl.push(
                    t,
                    CaseAction::Rate,
                    None,
                    None,
                    None,
                    Some(rating_label(l).into()),
                ) else {
                    return;
                };
                ratings.push(self.rating(case_id, l, rated));
                last = rated;
                level = Some(l);
            }
            let dissatisfied = level == Some(RatingLevel::Dissatisfied);
            let v: f64 = self.rng.random();
            let reopen_from_replied = dissatisfied && !reopened && v < 0.4;
            let reopen_after_close = dissatisfied && !reopened && (0.4..0.55).contains(&v);
            if !reopen_from_replied {
                let t = match level {
                    Some(_) => last + between(&mut self.rng, 30 * MINUTE, DAY),
                    None => last + between(&mut self.rng, 7 * DAY, 10 * DAY),
                };
                let note = if level.is_none() {
                    Some("回访期满，自动办结".to_string())
                } else {
                    None
                };
                let Some(closed) = tl.push(
                    t,
                    CaseAction::Close,
                    Some(CaseStatus::Closed),
                    None,
                    None,
                    note,
                ) else {
                    return;
                };
                last = closed;
                if !reopen_after_close {
                    if self.rng.random_bool(mix::ARCHIVED) {
                        let t = closed + between(&mut self.rng, 30 * DAY, 60 * DAY);
                        tl.push(
                            t,
                            CaseAction::Archive,
                            Some(CaseStatus::Archived),
                            None,
                            None,
                            None,
                        );
                    }
                    return;
                }
            }
            // Reopen with a fresh deadline; the second reply is mostly on time.
            let t = {
                let at0 = last + between(&mut self.rng, 2 * HOUR, 3 * DAY);
                office(&mut self.rng, at0)
            };
            let due2 = self.calendar.add_working_days(t, days);
            let Some(reopened_at) = tl.push(
                t,
                CaseAction::Reopen,
                Some(CaseStatus::InProgress),
                None,
                Some(due2),
                Some("诉求人不满意，重新办理".into()),
            ) else {
                return;
            };
            let t = if self.rng.random_bool(0.9) {
                let span = (due2 - reopened_at).num_seconds().max(HOUR);
                let f: f64 = self.rng.random::<f64>().clamp(0.05, 0.99);
                (reopened_at + TimeDelta::seconds((span as f64 * f) as i64)).min(due2)
            } else {
                due2 + lognormal(&mut self.rng, 3.0 * DAY as f64, 1.0, 60.0 * DAY as f64)
            };
            round_late = t > due2;
            let Some(replied) = tl.push(
                t,
                CaseAction::Reply,
                Some(CaseStatus::Replied),
                None,
                None,
                None,
            ) else {
                return;
            };
            replies.push(text::reply(&mut self.rng, kind, 1));
            last = replied;
            reopened = true;
        }
    }

    fn rating(&mut self, case_id: i64, level: RatingLevel, at: DateTime<Utc>) -> rating::Model {
        let id = self.next.rating;
        self.next.rating += 1;
        let base: i16 = match level {
            RatingLevel::Satisfied => 5,
            RatingLevel::BasicallySatisfied => 4,
            RatingLevel::Dissatisfied => 2,
        };
        let score = |rng: &mut ChaCha8Rng| (base - rng.random_range(0..2)).clamp(1, 5);
        let detailed = self.rng.random_bool(0.7);
        let comment = self.rng.random_bool(0.3).then(|| {
            let options = match level {
                RatingLevel::Satisfied => &text::RATING_COMMENTS[0..2],
                RatingLevel::BasicallySatisfied => &text::RATING_COMMENTS[2..3],
                RatingLevel::Dissatisfied => &text::RATING_COMMENTS[3..5],
            };
            options[self.rng.random_range(0..options.len())].to_string()
        });
        rating::Model {
            id,
            case_id,
            level,
            timeliness: detailed.then(|| score(&mut self.rng)),
            attitude: detailed.then(|| score(&mut self.rng)),
            result: detailed.then(|| score(&mut self.rng)),
            comment,
            rated_at: at,
            public_comment: None,
        }
    }
}

fn rating_label(level: RatingLevel) -> &'static str {
    match level {
        RatingLevel::Satisfied => "满意",
        RatingLevel::BasicallySatisfied => "基本满意",
        RatingLevel::Dissatisfied => "不满意",
    }
}

/// How many cases each day of the window gets: weekdays busier than weekends and
/// holidays, a seasonal swell, day-to-day noise; the counts add up to exactly `cases`.
fn plan_days(
    rng: &mut ChaCha8Rng,
    calendar: &WorkCalendar,
    params: &Params,
) -> Vec<(NaiveDate, u64)> {
    use chrono::Datelike;
    let mut days = Vec::new();
    let mut day = params.from;
    while day <= params.to {
        let weekday = match day.weekday() {
            chrono::Weekday::Mon => 1.15,
            chrono::Weekday::Tue | chrono::Weekday::Wed | chrono::Weekday::Thu => 1.1,
            chrono::Weekday::Fri => 1.0,
            chrono::Weekday::Sat => 0.75,
            chrono::Weekday::Sun => 0.7,
        };
        let holiday = if !calendar.is_working_day(day) && weekday > 0.9 {
            0.65
        } else {
            1.0
        };
        let season =
            1.0 + 0.15 * (std::f64::consts::TAU * f64::from(day.ordinal()) / 365.0 - 1.0).sin();
        let noise = rng.random_range(0.85..1.15);
        days.push((day, weekday * holiday * season * noise));
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    let total: f64 = days.iter().map(|(_, w)| w).sum();
    let mut cumulative = 0.0;
    let mut assigned = 0u64;
    let last = days.len().saturating_sub(1);
    days.into_iter()
        .enumerate()
        .map(|(i, (d, w))| {
            cumulative += w;
            let upto = if i == last {
                params.cases
            } else {
                (((cumulative / total) * params.cases as f64).round() as u64).min(params.cases)
            };
            let n = upto.saturating_sub(assigned);
            assigned = upto.max(assigned);
            (d, n)
        })
        .collect()
}
