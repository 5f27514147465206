//! In-memory token buckets per (client network, site); the client address is truncated to its
//! /24 (IPv4) or /64 (IPv6) before use and is never stored or logged.

use crate::config::RateLimitConfig;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A client's network: the address with its host part zeroed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientNet {
    V4([u8; 3]),
    V6([u8; 8]),
    /// No address known (tests without a socket): one shared bucket.
    Unknown,
}

impl ClientNet {
    /// IPv4 /24, IPv6 /64 (IPv4-mapped IPv6 counts as IPv4). A /64 is one subscriber's network:
    /// mobile carriers hand each device its own /64 out of shared prefixes, so a shorter prefix
    /// would put many visitors in one bucket.
    pub fn of(ip: IpAddr) -> ClientNet {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                let o = a.octets();
                ClientNet::V4([o[0], o[1], o[2]])
            }
            IpAddr::V6(a) => {
                let o = a.octets();
                ClientNet::V6([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]])
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets: `burst` at once, refilled at `per_second`.
pub struct RateLimiter {
    enabled: bool,
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<(ClientNet, String), Bucket>>,
}

/// Buckets kept before idle (full) ones are dropped.
const PRUNE_AT: usize = 50_000;

impl RateLimiter {
    pub fn new(cfg: &RateLimitConfig) -> RateLimiter {
        RateLimiter {
            enabled: cfg.enabled,
            burst: f64::from(cfg.burst),
            per_second: cfg.per_second,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether requests are limited at all (when not, callers skip working out the client).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Takes one token for `(net, site)`; `Err(wait)` says how long until one is available.
    pub fn check(&self, net: ClientNet, site: &str, now: Instant) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PRUNE_AT {
            let full_after = Duration::from_secs_f64(self.burst / self.per_second);
            map.retain(|_, b| now.saturating_duration_since(b.at) < full_after);
        }
        let b = map.entry((net, site.to_string())).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: u32, per_second: f64) -> RateLimiter {
        RateLimiter::new(&RateLimitConfig {
            enabled: true,
            burst,
            per_second,
            client_ip_header: None,
        })
    }

    #[test]
    fn truncates_addresses() {
        let a = ClientNet::of("203.0.113.7".parse().unwrap());
        assert_eq!(a, ClientNet::of("203.0.113.250".parse().unwrap()));
        assert_eq!(a, ClientNet::of("::ffff:203.0.113.9".parse().unwrap()));
        assert_ne!(a, ClientNet::of("203.0.114.7".parse().unwrap()));
        let b = ClientNet::of("2001:db8:1:2::1".parse().unwrap());
        assert_eq!(b, ClientNet::of("2001:db8:1:2:ffff::9".parse().unwrap()));
        // Two devices of one carrier: their own /64 each.
        assert_ne!(b, ClientNet::of("2001:db8:1:3::1".parse().unwrap()));
    }

    #[test]
    fn bursts_then_refills() {
        let l = limiter(3, 2.0);
        let t = Instant::now();
        let net = ClientNet::Unknown;
        for _ in 0..3 {
            assert!(l.check(net, "s", t).is_ok());
        }
        let wait = l.check(net, "s", t).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert!(l.check(net, "other-site", t).is_ok());
        assert!(l.check(ClientNet::V4([1, 2, 3]), "s", t).is_ok());
        assert!(l.check(net, "s", t + Duration::from_millis(500)).is_ok());
        assert!(l.check(net, "s", t + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn can_be_disabled() {
        let l = RateLimiter::new(&RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        });
        let t = Instant::now();
        assert!((0..1000).all(|_| l.check(ClientNet::Unknown, "s", t).is_ok()));
    }
}
