//! Hot topics (early warning): categories and child regions whose volume in the window
//! is well above their own baseline, the mean volume of the preceding windows of the
//! same length.

use crate::model::{Dimension, Scope, StatsFilter, Window};
use crate::queries::grouped;
use crate::sql::resolve;
use crate::Error;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::cmp::Ordering;

/// Thresholds of the hot-topic detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HotTopicOptions {
    /// How many preceding windows (of the window's length) form the baseline.
    pub baseline_windows: u32,
    /// Hot when `count ÷ baseline ≥ min_ratio`…
    pub min_ratio: f64,
    /// …and `count ≥ min_count` (a rise from 1 to 3 is noise, not a topic).
    pub min_count: i64,
}

impl Default for HotTopicOptions {
    fn default() -> Self {
        HotTopicOptions {
            baseline_windows: 4,
            min_ratio: 1.5,
            min_count: 5,
        }
    }
}

/// One rising topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotTopic {
    /// `Category` or `Region`.
    pub dimension: Dimension,
    pub key: String,
    pub label: String,
    /// Received in the window.
    pub count: i64,
    /// Mean received per preceding window.
    pub baseline: f64,
    /// count ÷ baseline; `None` when the baseline is 0 (a topic out of nowhere).
    pub ratio: Option<f64>,
}

/// Categories (top-level, or the sub-categories of the filter's category) and child
/// regions of the scope whose received count in the window rises well above their
/// baseline. Sorted by ratio (a zero baseline first), then count, then key.
pub async fn hot_topics<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    filter: &StatsFilter,
    window: &Window,
    options: &HotTopicOptions,
) -> Result<Vec<HotTopic>, Error> {
    window.validate()?;
    if options.baseline_windows == 0 || options.baseline_windows > 60 {
        return Err(Error::InvalidArgument(
            "baseline_windows must be between 1 and 60".into(),
        ));
    }
    let w = window.normalized();
    let len = w.to - w.from;
    let k = options.baseline_windows as i32;
    let extended = Window {
        from: w.from - len * k,
        ..w
    };
    // Buckets 0..k-1 are the baseline windows, bucket k the window itself.
    let boundaries: Vec<DateTime<Utc>> = (1..=k).map(|i| extended.from + len * i).collect();
    let r = resolve(db, scope, filter).await?;
    let mut out = Vec::new();
    for dim in [Dimension::Category, Dimension::Region] {
        let buckets = grouped(db, &r, &extended, &boundaries, dim).await?;
        let Some((current, baseline)) = buckets.split_last() else {
            continue;
        };
        for g in current {
            let base: i64 = baseline
                .iter()
                .map(|b| {
                    b.iter()
                        .find(|x| x.key == g.key)
                        .map_or(0, |x| x.stats.received)
                })
                .sum();
            let base = base as f64 / f64::from(options.baseline_windows);
            let count = g.stats.received;
            let ratio = (base > 0.0).then(|| count as f64 / base);
            if count >= options.min_count && ratio.is_none_or(|x| x >= options.min_ratio) {
                out.push(HotTopic {
                    dimension: dim,
                    key: g.key.clone(),
                    label: g.label.clone(),
                    count,
                    baseline: base,
                    ratio,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        let ra = a.ratio.unwrap_or(f64::INFINITY);
        let rb = b.ratio.unwrap_or(f64::INFINITY);
        rb.partial_cmp(&ra)
            .unwrap_or(Ordering::Equal)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(out)
}
