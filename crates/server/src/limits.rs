//! What any one client may take of the server: token buckets of requests
//! per key and per role, and pixel budgets of image decoding per request
//! and per key per minute. Settings: `[server.rate]` and `[server.pixels]`
//! (see [`shopshield_app::ServerConfig`]).
//!
//! A bucket holds at most `burst` tokens and gains `per_second` tokens a
//! second; a request takes one token from its key's bucket and one from
//! its role's. An empty bucket answers 429 with `Retry-After`: the seconds
//! until a token is there again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shopshield_app::{Bucket, ServerConfig};
use shopshield_model::Principal;

/// Buckets kept before idle (full) ones are dropped.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Instant,
}

impl Level {
    fn refilled(self, b: Bucket, now: Instant) -> f64 {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        (self.tokens + dt * b.per_second).min(b.burst)
    }
}

/// A set of token buckets, each named by a key.
#[derive(Debug, Default)]
struct Buckets {
    levels: Mutex<HashMap<String, Level>>,
}

impl Buckets {
    /// Takes `n` tokens from each named bucket, or none when one of them
    /// lacks them: then the time until all of them would have them.
    fn take(&self, wanted: &[(&str, Bucket)], n: f64, now: Instant) -> Result<(), Duration> {
        let mut levels = self.levels.lock().unwrap_or_else(|p| p.into_inner());
        if levels.len() > MAX_TRACKED {
            // A full bucket is the same as no bucket: forget those.
            levels.retain(|_, l| {
                l.tokens < 0.0 || now.saturating_duration_since(l.at).as_secs() < 60
            });
        }
        let mut wait = Duration::ZERO;
        let mut current = Vec::with_capacity(wanted.len());
        for (name, b) in wanted {
            let have = levels.get(*name).map_or(b.burst, |l| l.refilled(*b, now));
            if have < n {
                wait = wait.max(Duration::from_secs_f64((n - have) / b.per_second));
            }
            current.push(have);
        }
        if wait > Duration::ZERO {
            return Err(wait);
        }
        for ((name, _), have) in wanted.iter().zip(current) {
            levels.insert(
                (*name).to_string(),
                Level {
                    tokens: have - n,
                    at: now,
                },
            );
        }
        Ok(())
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests: try again after the duration.
    Rate { retry_after: Duration, what: String },
    /// More pixels than one request may have decoded.
    RequestPixels { pixels: u64, limit: u64 },
    /// The key's pixels for the minute are spent: try again after.
    KeyPixels { retry_after: Duration, limit: u64 },
}

/// The budgets of one server.
#[derive(Debug)]
pub struct Limiter {
    config: ServerConfig,
    requests: Buckets,
    pixels: Buckets,
}

impl Limiter {
    pub fn new(config: ServerConfig) -> Limiter {
        Limiter {
            config,
            requests: Buckets::default(),
            pixels: Buckets::default(),
        }
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Takes one request from the principal's bucket and its role's.
    pub fn request(&self, p: &Principal, now: Instant) -> Result<(), Refusal> {
        let rate = &self.config.rate;
        let key = format!("key:{}", p.id);
        let role = format!("role:{}", p.role);
        self.requests
            .take(
                &[
                    (&key, rate.key_bucket(p.role)),
                    (&role, rate.role_bucket(p.role)),
                ],
                1.0,
                now,
            )
            .map_err(|retry_after| Refusal::Rate {
                retry_after,
                what: format!("requests of this {} key", p.role),
            })
    }

    /// Takes one request from the bucket of callers without a valid key
    /// at `addr`.
    pub fn anonymous(&self, addr: IpAddr, now: Instant) -> Result<(), Refusal> {
        let name = format!("ip:{addr}");
        self.requests
            .take(&[(&name, self.config.rate.anonymous)], 1.0, now)
            .map_err(|retry_after| Refusal::Rate {
                retry_after,
                what: "requests without a valid key from this address".into(),
            })
    }

    /// Charges the pixels of one request's images to the request's budget
    /// and the principal's budget of the minute.
    pub fn pixels(&self, p: &Principal, pixels: u64, now: Instant) -> Result<(), Refusal> {
        let limits = &self.config.pixels;
        if pixels > limits.per_request {
            return Err(Refusal::RequestPixels {
                pixels,
                limit: limits.per_request,
            });
        }
        if pixels == 0 {
            return Ok(());
        }
        let per_minute = limits.per_key_per_minute as f64;
        let bucket = Bucket::new(per_minute / 60.0, per_minute);
        let name = format!("key:{}", p.id);
        self.pixels
            .take(&[(&name, bucket)], pixels as f64, now)
            .map_err(|retry_after| Refusal::KeyPixels {
                retry_after,
                limit: limits.per_key_per_minute,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopshield_app::{PixelConfig, RateConfig};
    use shopshield_model::Role;

    fn principal(id: &str, role: Role) -> Principal {
        Principal {
            id: id.into(),
            role,
            holder_id: None,
            shop_id: None,
            creator_id: None,
            label: String::new(),
        }
    }

    fn limiter(key: Bucket, role: Bucket) -> Limiter {
        Limiter::new(ServerConfig {
            rate: RateConfig {
                key: Default::default(),
                default_key: key,
                role: Default::default(),
                default_role: role,
                anonymous: Bucket::new(1.0, 2.0),
            },
            pixels: PixelConfig {
                per_request: 100,
                per_key_per_minute: 300,
            },
            ..ServerConfig::default()
        })
    }

    #[test]
    fn a_key_gets_its_burst_then_its_rate() {
        let l = limiter(Bucket::new(2.0, 3.0), Bucket::new(1000.0, 1000.0));
        let a = principal("p-a", Role::Service);
        let t0 = Instant::now();
        for _ in 0..3 {
            l.request(&a, t0).unwrap();
        }
        let Err(Refusal::Rate { retry_after, .. }) = l.request(&a, t0) else {
            panic!("a fourth request at once passed");
        };
        assert!(
            (retry_after.as_secs_f64() - 0.5).abs() < 1e-6,
            "{retry_after:?}"
        );
        // Another key has its own bucket.
        l.request(&principal("p-b", Role::Service), t0).unwrap();
        // Half a second later, one token is back, and only one.
        let t1 = t0 + Duration::from_millis(500);
        l.request(&a, t1).unwrap();
        assert!(l.request(&a, t1).is_err());
    }

    #[test]
    fn keys_of_a_role_share_its_bucket() {
        let l = limiter(Bucket::new(100.0, 100.0), Bucket::new(1.0, 2.0));
        let t0 = Instant::now();
        l.request(&principal("p-a", Role::Seller), t0).unwrap();
        l.request(&principal("p-b", Role::Seller), t0).unwrap();
        assert!(l.request(&principal("p-c", Role::Seller), t0).is_err());
        // Another role is not affected, and a refusal took no key token.
        l.request(&principal("p-d", Role::Reviewer), t0).unwrap();
        let later = t0 + Duration::from_secs(1);
        l.request(&principal("p-c", Role::Seller), later).unwrap();
    }

    #[test]
    fn pixel_budgets() {
        let l = limiter(Bucket::new(1.0, 1.0), Bucket::new(1.0, 1.0));
        let a = principal("p-a", Role::Service);
        let t0 = Instant::now();
        assert_eq!(
            l.pixels(&a, 101, t0),
            Err(Refusal::RequestPixels {
                pixels: 101,
                limit: 100
            })
        );
        for _ in 0..3 {
            l.pixels(&a, 100, t0).unwrap();
        }
        let Err(Refusal::KeyPixels { retry_after, .. }) = l.pixels(&a, 50, t0) else {
            panic!("the minute's budget was exceeded");
        };
        // 300 pixels a minute: 5 a second, so 50 pixels take 10 s.
        assert_eq!(retry_after.as_secs(), 10);
        l.pixels(&principal("p-b", Role::Service), 100, t0).unwrap();
        l.pixels(&a, 50, t0 + Duration::from_secs(10)).unwrap();
    }

    #[test]
    fn anonymous_callers_are_limited_by_address() {
        let l = limiter(Bucket::new(1.0, 1.0), Bucket::new(1.0, 1.0));
        let t0 = Instant::now();
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        l.anonymous(here, t0).unwrap();
        l.anonymous(here, t0).unwrap();
        assert!(l.anonymous(here, t0).is_err());
        l.anonymous("127.0.0.2".parse().unwrap(), t0).unwrap();
    }
}
