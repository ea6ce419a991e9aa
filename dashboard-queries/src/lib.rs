//! The metrics engine of minyi: scope + filter + window + as-of → the dashboard numbers
//! (stats, breakdowns, time series, rankings, hot topics). It knows sea-orm and SQL and
//! nothing of GraphQL or HTTP. Every definition is in `docs/METRICS.md`.
//!
//! Everything is computed *as of* an instant from the append-only `case_events` and
//! `ratings`, so an answer for a past instant never changes when later events arrive.

pub mod calendar;
pub mod deadline_rollup;
pub mod department_rollup;
pub mod percentile;
pub mod rollup;

mod ahead;
mod buckets;
mod durations;
mod engine;
mod error;
mod hot;
mod model;
mod past;
mod past_rollup;
mod queries;
mod ranking;
mod ranking_ends;
mod rollup_read;
mod sql;
pub mod stored_time;

pub use buckets::intervals;
pub use error::Error;
pub use hot::{hot_topics, HotTopic, HotTopicOptions};
pub use model::{Dimension, Interval, Scope, Stats, StatsFilter, StatsGroup, StatsPoint, Window};
pub use percentile::Summary;
pub use queries::{breakdown, breakdown_series, channel_label, kind_label, stats, time_series};
pub use ranking::{
    bottom_alerts, rank, rank_history, ranking, score, BottomAlert, MonthlyRanking, RankUnit,
    RankWeights, RankingRow,
};
pub use ranking_ends::{ranking_ends, RankingEnds};
