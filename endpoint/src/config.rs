//! The endpoint's TOML configuration: listen address, database, admin token source, sites, limits.

use consent_banner::core::config::is_category_id;
use consent_banner::core::event::{is_site_id, MAX_CATEGORIES};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a configuration was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `host:port` to listen on; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// SQLite database file (created if missing).
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// Name of the environment variable holding the admin bearer token. Without that variable
    /// (or with it empty) the admin routes answer 503.
    #[serde(default = "default_admin_token_env")]
    pub admin_token_env: String,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub writer: WriterConfig,
    pub sites: Vec<SiteConfig>,
}

/// One site whose banner reports here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub id: String,
    /// Origins (`scheme://host[:port]`) whose pages may post events for this site.
    pub origins: Vec<String>,
    /// Every category the site's banner offers.
    pub categories: Vec<String>,
    /// Categories that must be present and granted in every event.
    #[serde(default)]
    pub required: Vec<String>,
}

/// Token bucket per (client network, site): `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default = "default_burst")]
    pub burst: u32,
    #[serde(default = "default_per_second")]
    pub per_second: f64,
    /// Header carrying the client address when behind a trusted reverse proxy (e.g.
    /// `x-real-ip`, `x-forwarded-for`); the right-most address in it is used, the one the proxy
    /// in front of this server added. Unset: the socket peer address.
    #[serde(default)]
    pub client_ip_header: Option<String>,
}

/// Group-commit settings of the single writer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterConfig {
    /// Most events committed in one transaction.
    #[serde(default = "default_max_batch")]
    pub max_batch: usize,
    /// Requests waiting for the writer before new ones wait to be queued.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_database() -> PathBuf {
    "consent.db".into()
}
fn default_admin_token_env() -> String {
    "CONSENT_ADMIN_TOKEN".into()
}
fn default_true() -> bool {
    true
}
fn default_burst() -> u32 {
    60
}
fn default_per_second() -> f64 {
    20.0
}
fn default_max_batch() -> usize {
    1024
}
fn default_queue() -> usize {
    8192
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            burst: default_burst(),
            per_second: default_per_second(),
            client_ip_header: None,
        }
    }
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            max_batch: default_max_batch(),
            queue: default_queue(),
        }
    }
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Config::parse(&text)
    }

    /// Parses and validates configuration text; origins come back normalised (lowercase, no
    /// trailing slash).
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c: Config = toml::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.sites.is_empty() {
            return bad("at least one [[sites]] entry is required".into());
        }
        let mut seen: Vec<&str> = Vec::new();
        for s in &mut self.sites {
            if !is_site_id(&s.id) {
                return bad(format!(
                    "site id {:?} must match [a-z0-9][a-z0-9._-]{{0,63}}",
                    s.id
                ));
            }
            if s.categories.is_empty() || s.categories.len() > MAX_CATEGORIES {
                return bad(format!(
                    "site {}: categories must list 1 to {MAX_CATEGORIES}",
                    s.id
                ));
            }
            for c in &s.categories {
                if !is_category_id(c) {
                    return bad(format!("site {}: {:?} is not a valid category id", s.id, c));
                }
            }
            for r in &s.required {
                if !s.categories.contains(r) {
                    return bad(format!(
                        "site {}: required category {:?} is not in categories",
                        s.id, r
                    ));
                }
            }
            if s.origins.is_empty() {
                return bad(format!("site {}: origins must not be empty", s.id));
            }
            for o in &mut s.origins {
                match normalize_origin(o) {
                    Some(n) => *o = n,
                    None => {
                        return bad(format!(
                            "site {}: {:?} is not an origin (scheme://host[:port])",
                            s.id, o
                        ))
                    }
                }
            }
        }
        for s in &self.sites {
            if seen.contains(&s.id.as_str()) {
                return bad(format!("site {} is configured twice", s.id));
            }
            seen.push(&s.id);
        }
        let r = &self.rate_limit;
        if let Some(h) = &r.client_ip_header {
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return bad(format!(
                    "rate_limit.client_ip_header {h:?} is not a header name"
                ));
            }
        }
        if r.enabled && (r.burst == 0 || !(r.per_second.is_finite() && r.per_second > 0.0)) {
            return bad("rate_limit: burst and per_second must be positive".into());
        }
        if self.writer.max_batch == 0 || self.writer.queue == 0 {
            return bad("writer: max_batch and queue must be positive".into());
        }
        Ok(())
    }

    /// The site with this id.
    pub fn site(&self, id: &str) -> Option<&SiteConfig> {
        self.sites.iter().find(|s| s.id == id)
    }
}

impl SiteConfig {
    /// Whether `origin` (as sent by a browser) may post for this site.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// `HTTP://Example.com:8080/` → `http://example.com:8080`; `None` unless http(s) with a host and
/// nothing after it.
pub fn normalize_origin(s: &str) -> Option<String> {
    let lower = s.trim().to_ascii_lowercase();
    let trimmed = lower.strip_suffix('/').unwrap_or(&lower);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))?;
    let ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        listen = "127.0.0.1:0"
        [[sites]]
        id = "rufio-marketing"
        origins = ["HTTP://127.0.0.1:8080/", "http://localhost:8080"]
        categories = ["essential", "analytics", "marketing"]
        required = ["essential"]
    "#;

    #[test]
    fn parses_and_normalises() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.sites[0].origins[0], "http://127.0.0.1:8080");
        assert!(c.sites[0].allows("http://localhost:8080"));
        assert!(!c.sites[0].allows("http://evil.example"));
        assert_eq!(c.rate_limit.burst, 60);
        assert_eq!(c.database, PathBuf::from("consent.db"));
        assert_eq!(c.admin_token_env, "CONSENT_ADMIN_TOKEN");
    }

    #[test]
    fn refuses_bad_configs() {
        for (from, to) in [
            ("\"essential\"]\n", "\"nope\"]\n"),
            ("rufio-marketing", "Rufio"),
            ("http://localhost:8080\"", "localhost:8080\""),
            ("listen", "unknown_key = 1\nlisten"),
        ] {
            let text = GOOD.replacen(from, to, 1);
            assert_ne!(text, GOOD, "{from}");
            assert!(Config::parse(&text).is_err(), "{text}");
        }
        let twice = format!("{GOOD}{}", &GOOD[GOOD.find("[[sites]]").unwrap()..]);
        assert!(Config::parse(&twice).is_err());
        let header = |name: &str| format!("{GOOD}\n[rate_limit]\nclient_ip_header = \"{name}\"\n");
        assert!(Config::parse(&header("x-forwarded-for")).is_ok());
        assert!(
            Config::parse(&header("x forwarded")).is_err(),
            "an invalid header name is refused"
        );
    }

    #[test]
    fn the_demo_config_is_valid() {
        let text = include_str!("../demo.toml");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert!(
            c.site("rufio-marketing").is_some()
                && c.site("rufio-app").is_some()
                && c.site("trapioka").is_some()
        );
    }
}
