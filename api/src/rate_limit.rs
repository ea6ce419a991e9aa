//! Cost-weighted token buckets (Shopify-style): one per API key, one per client IP for
//! the public role. A request draws its static cost; a bucket refills at a steady rate.
//! Buckets live in this process only: several instances each keep their own, and
//! [`instance_share`] gives each its part of the cluster's budget (`--instances N`).

use crate::config::RateLimits;
use lru::LruCache;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

/// One instance's part of a budget shared by `instances` instances behind a balancer:
/// capacity and refill rate divided by N, rounded down so the cluster never exceeds the
/// budget, but at least 1 so every instance still serves. A capacity of 0 (limiting off)
/// stays 0. Sharing in memory costs nothing per request, where buckets in PostgreSQL would
/// cost a write per request (docs/OPERATIONS.md, "Running several instances").
pub fn instance_share(cluster: &RateLimits, instances: u32) -> RateLimits {
    let n = u64::from(instances.max(1));
    let part = |value: u64| if value == 0 { 0 } else { (value / n).max(1) };
    RateLimits {
        capacity: part(cluster.capacity),
        restore_per_second: part(cluster.restore_per_second),
        max_buckets: cluster.max_buckets,
    }
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BucketKey {
    /// A caller with an API key: the key's own bucket, wherever it calls from.
    ApiKey(i32),
    /// The public role: the bucket of the client's IP address.
    Ip(IpAddr),
}

/// A bucket's state after a draw (or a look), as reported in `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleStatus {
    pub maximum_available: u64,
    pub currently_available: u64,
    pub restore_rate: u64,
}

/// A draw the bucket could not afford.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    pub status: ThrottleStatus,
    /// Whole seconds until the bucket holds the cost again.
    pub retry_after_secs: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    points: f64,
    refilled_at: Instant,
}

/// The buckets of one server, bounded by `max_buckets` (least recently used forgotten).
pub struct RateLimiter {
    settings: RateLimits,
    buckets: Mutex<LruCache<BucketKey, Bucket>>,
}

impl RateLimiter {
    pub fn new(settings: &RateLimits) -> Self {
        let cap = NonZeroUsize::new(settings.max_buckets.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            settings: settings.clone(),
            buckets: Mutex::new(LruCache::new(cap)),
        }
    }

    /// False when the capacity is 0 (rate limiting off).
    pub fn is_enabled(&self) -> bool {
        self.settings.capacity > 0
    }

    /// Draws `cost` points (at most a full bucket: a request the limits admitted must be
    /// affordable some time). Nothing is drawn when the bucket holds too little.
    pub fn draw(&self, key: &BucketKey, cost: u64) -> Result<ThrottleStatus, Throttled> {
        self.draw_at(key, cost, Instant::now())
    }

    /// Whether the bucket holds at least one point, without drawing: a cheap refusal
    /// before any parsing when a caller has spent everything.
    pub fn check(&self, key: &BucketKey) -> Result<ThrottleStatus, Throttled> {
        self.with_bucket(key, Instant::now(), 1.0, false)
    }

    fn draw_at(
        &self,
        key: &BucketKey,
        cost: u64,
        now: Instant,
    ) -> Result<ThrottleStatus, Throttled> {
        let cost = cost.clamp(1, self.settings.capacity.max(1)) as f64;
        self.with_bucket(key, now, cost, true)
    }

    fn with_bucket(
        &self,
        key: &BucketKey,
        now: Instant,
        cost: f64,
        take: bool,
    ) -> Result<ThrottleStatus, Throttled> {
        let capacity = self.settings.capacity as f64;
        let rate = self.settings.restore_per_second as f64;
        let status = |points: f64| ThrottleStatus {
            maximum_available: self.settings.capacity,
            currently_available: points.floor() as u64,
            restore_rate: self.settings.restore_per_second,
        };
        if !self.is_enabled() {
            return Ok(status(0.0));
        }
        // A poisoned lock only means another request panicked while holding it; the
        // buckets are plain numbers and still consistent.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.get_or_insert_mut(key.clone(), || Bucket {
            points: capacity,
            refilled_at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled_at);
        bucket.points = (bucket.points + elapsed.as_secs_f64() * rate).min(capacity);
        bucket.refilled_at = now;
        if bucket.points >= cost {
            if take {
                bucket.points -= cost;
            }
            return Ok(status(bucket.points));
        }
        let missing = cost - bucket.points;
        // A bucket that never refills (rate 0) is refused for a day at a time.
        let retry_after_secs = if rate > 0.0 {
            (missing / rate).ceil() as u64
        } else {
            86_400
        };
        Err(Throttled {
            status: status(bucket.points),
            retry_after_secs: retry_after_secs.max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(capacity: u64, restore_per_second: u64) -> RateLimiter {
        RateLimiter::new(&RateLimits {
            capacity,
            restore_per_second,
            max_buckets: 2,
        })
    }

    #[test]
    fn a_bucket_pays_until_empty_then_refills_at_its_rate() {
        let limiter = limiter(100, 10);
        let key = BucketKey::ApiKey(1);
        let t0 = Instant::now();
        assert_eq!(
            limiter.draw_at(&key, 60, t0).map(|s| s.currently_available),
            Ok(40)
        );
        let throttled = limiter.draw_at(&key, 60, t0).unwrap_err();
        assert_eq!(throttled.status.currently_available, 40);
        assert_eq!(throttled.retry_after_secs, 2);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(
            limiter
                .draw_at(&key, 60, later)
                .map(|s| s.currently_available),
            Ok(0)
        );
    }

    #[test]
    fn keys_have_separate_buckets_and_the_oldest_is_forgotten() {
        let limiter = limiter(10, 1);
        let t0 = Instant::now();
        let ip = BucketKey::Ip(IpAddr::from([127, 0, 0, 1]));
        assert!(limiter.draw_at(&ip, 10, t0).is_ok());
        assert!(limiter.draw_at(&ip, 1, t0).is_err());
        assert!(limiter.draw_at(&BucketKey::ApiKey(7), 10, t0).is_ok());
        assert!(limiter.draw_at(&BucketKey::ApiKey(8), 10, t0).is_ok());
        // Two buckets at most: the IP's was forgotten and comes back full.
        assert!(limiter.draw_at(&ip, 10, t0).is_ok());
    }

    #[test]
    fn a_cost_above_the_capacity_draws_a_full_bucket() {
        let limiter = limiter(10, 1);
        let key = BucketKey::ApiKey(1);
        assert_eq!(
            limiter.draw(&key, 1_000_000).map(|s| s.currently_available),
            Ok(0)
        );
    }

    #[test]
    fn each_instance_keeps_its_share_of_the_budget_and_at_least_one_point() {
        let budget = RateLimits {
            capacity: 50_001,
            restore_per_second: 3,
            max_buckets: 10,
        };
        let share = instance_share(&budget, 2);
        assert_eq!(
            (share.capacity, share.restore_per_second, share.max_buckets),
            (25_000, 1, 10)
        );
        let share = instance_share(&budget, 5);
        assert_eq!((share.capacity, share.restore_per_second), (10_000, 1));
        let one = instance_share(&budget, 1);
        assert_eq!((one.capacity, one.restore_per_second), (50_001, 3));
        let off = RateLimits {
            capacity: 0,
            restore_per_second: 0,
            max_buckets: 10,
        };
        assert_eq!(instance_share(&off, 4).capacity, 0);
    }

    #[test]
    fn a_zero_capacity_turns_limiting_off() {
        let limiter = limiter(0, 0);
        for _ in 0..100 {
            assert!(limiter.draw(&BucketKey::ApiKey(1), 5_000).is_ok());
        }
    }
}
