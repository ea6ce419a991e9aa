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

mod handling;
mod one_case;

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
