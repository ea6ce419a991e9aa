//! Cost-weighted token buckets (Shopify-style): one per API key, one per client IP for
//! the public role. A request draws its static cost; a bucket refills at a steady rate.
//! Buckets live in this process only: several instances each keep their own.

use crate::config::RateLimits;
use lru::LruCache;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

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
    fn a_zero_capacity_turns_limiting_off() {
        let limiter = limiter(0, 0);
        for _ in 0..100 {
            assert!(limiter.draw(&BucketKey::ApiKey(1), 5_000).is_ok());
        }
    }
}
