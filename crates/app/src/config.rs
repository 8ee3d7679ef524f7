use std::path::Path;

use serde::{Deserialize, Serialize};
use shopshield_gate::GateConfig;

/// Settings read from `shopshield.toml` (in the data directory, or the file
/// named by `--config`). Every field has a default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Score thresholds for review and reject.
    pub gate: GateConfig,
    /// Points, penalties, appeal windows, review SLAs and webhook retries
    /// (see `docs/enforcement.md`).
    pub enforcement: shopshield_enforce::EnforcementConfig,
    /// Where enforcement notifications are delivered.
    pub webhooks: WebhookConfig,
    /// Image matching: bank thresholds, tiles, confidences.
    pub images: crate::images::ImagesConfig,
    /// Region policy packs.
    pub policy: PolicyConfig,
    /// Trademark text matching: weights, fuzzy budgets, price rules and
    /// currency rates (see `docs/text.md`).
    pub text: shopshield_text::TextConfig,
    /// The HTTP server's limits: timeouts, connections, rate limits and
    /// image pixel budgets (see the README's configuration section).
    pub server: ServerConfig,
    /// Sweeps of live listings after rights or rules change.
    pub sweep: SweepConfig,
    /// Videos and livestreams: decoding limits, vPDQ matching (`[video]`).
    pub video: crate::video::VideoSettings,
    /// Livestreams: the sliding window, thresholds, warnings before a
    /// stop, events in flight (`[stream]`).
    pub stream: crate::streams::StreamSettings,
    /// Rights holders' notices and sellers' counter-notices (`[notices]`).
    pub notices: NoticesConfig,
}

/// `[notices]`: notice and counter-notice handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoticesConfig {
    /// Business days (Monday to Friday; no holiday calendar) after a
    /// counter-notice at which the listing is restored unless the holder
    /// recorded a court action: 10 to 14, as 17 U.S.C. §512(g)(2)(C) asks.
    pub restore_after_business_days: u32,
    /// How often a server looks for restorations and takedowns due, in
    /// milliseconds.
    pub poll_interval_ms: u64,
    /// Reporter accuracy (`[notices.reporters]`): when a holder's notices
    /// take listings down at filing (self-service), and when a holder that
    /// files mostly unfounded notices is warned and then restricted.
    pub reporters: shopshield_enforce::reporter::ReporterPolicy,
}

impl Default for NoticesConfig {
    fn default() -> Self {
        NoticesConfig {
            restore_after_business_days: 10,
            poll_interval_ms: 1_000,
            reporters: Default::default(),
        }
    }
}

impl NoticesConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=14).contains(&self.restore_after_business_days) {
            return Err(format!(
                "notices.restore_after_business_days: {} is outside 10..=14 (17 U.S.C. 512(g)(2)(C) restores material not less than 10 nor more than 14 business days after a counter-notice)",
                self.restore_after_business_days
            ));
        }
        if !(10..=3_600_000).contains(&self.poll_interval_ms) {
            return Err("notices.poll_interval_ms: must be 10..=3600000".into());
        }
        self.reporters.validate()
    }
}

/// `[sweep]`: how sweeps run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepConfig {
    /// Listings handled between two saves of a sweep's progress.
    pub page: usize,
    /// How long a process's claim on a sweep holds without progress
    /// (another process takes a sweep over after it, e.g. after a crash).
    pub lease_secs: u64,
    /// How often a server looks for changes to sweep, in milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            page: 2_000,
            lease_secs: 60,
            poll_interval_ms: 1_000,
        }
    }
}

impl SweepConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100_000).contains(&self.page) {
            return Err("sweep.page: must be 1..=100000".into());
        }
        if !(1..=86_400).contains(&self.lease_secs) {
            return Err("sweep.lease_secs: must be 1..=86400".into());
        }
        if !(10..=3_600_000).contains(&self.poll_interval_ms) {
            return Err("sweep.poll_interval_ms: must be 10..=3600000".into());
        }
        Ok(())
    }
}

/// `[server]`: how much any one client may take of the HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Time a client has to send a request's headers, in milliseconds.
    pub header_read_timeout_ms: u64,
    /// Time a client has to send a request's whole body, in milliseconds;
    /// then the answer is 408.
    pub body_read_timeout_ms: u64,
    /// A connection with no request in flight (an upgraded WebSocket: no
    /// message either way) is closed after this many seconds.
    pub idle_timeout_secs: u64,
    /// Time the server has to answer one request, in seconds; then the
    /// answer is 503 with `Retry-After`.
    pub request_timeout_secs: u64,
    /// Connections served at once. When full, the connection idle the
    /// longest is closed to make room; when none is idle, the new one is
    /// answered 503 (`/healthz` still answers on it).
    pub max_connections: usize,
    /// Connections answered 503 at once beyond `max_connections`; beyond
    /// both, new connections are closed unanswered.
    pub overflow_connections: usize,
    /// The `Retry-After` of a 503, in seconds.
    pub retry_after_secs: u64,
    /// Token buckets: requests per second a key of each role may make
    /// (its own bucket), and all keys of a role together.
    pub rate: RateConfig,
    /// Pixel budgets of image decoding (width × height, from the image
    /// header, checked before decoding).
    pub pixels: PixelConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_ms: 5_000,
            body_read_timeout_ms: 15_000,
            idle_timeout_secs: 30,
            request_timeout_secs: 60,
            max_connections: 2_048,
            overflow_connections: 128,
            retry_after_secs: 1,
            rate: RateConfig::default(),
            pixels: PixelConfig::default(),
        }
    }
}

/// One token bucket: `per_second` tokens flow in, at most `burst` held.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    pub per_second: f64,
    pub burst: f64,
}

impl Bucket {
    pub const fn new(per_second: f64, burst: f64) -> Bucket {
        Bucket { per_second, burst }
    }

    fn validate(&self, name: &str) -> Result<(), String> {
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(format!("{name}.per_second: must be > 0"));
        }
        if !(self.burst.is_finite() && self.burst >= 1.0) {
            return Err(format!("{name}.burst: must be ≥ 1"));
        }
        Ok(())
    }
}

/// `[server.rate]`: requests per key and per role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateConfig {
    /// Each key's own bucket, by role (`admin`, `reviewer`, `service`,
    /// `seller`, `rights_holder`, `creator`); a role not named uses
    /// `default_key`.
    pub key: std::collections::BTreeMap<shopshield_model::Role, Bucket>,
    /// A key's bucket when its role is not in `key`.
    pub default_key: Bucket,
    /// The bucket all keys of a role share, by role; a role not named
    /// uses `default_role`.
    pub role: std::collections::BTreeMap<shopshield_model::Role, Bucket>,
    /// A role's shared bucket when it is not in `role`.
    pub default_role: Bucket,
    /// Requests without a valid key, per client address.
    pub anonymous: Bucket,
}

impl Default for RateConfig {
    fn default() -> Self {
        use shopshield_model::Role;
        RateConfig {
            key: [
                (Role::Service, Bucket::new(500.0, 1000.0)),
                (Role::Seller, Bucket::new(20.0, 40.0)),
                (Role::Creator, Bucket::new(5.0, 10.0)),
            ]
            .into_iter()
            .collect(),
            default_key: Bucket::new(50.0, 100.0),
            role: [
                (Role::Seller, Bucket::new(1000.0, 2000.0)),
                (Role::Creator, Bucket::new(200.0, 400.0)),
            ]
            .into_iter()
            .collect(),
            default_role: Bucket::new(2000.0, 4000.0),
            anonymous: Bucket::new(20.0, 40.0),
        }
    }
}

impl RateConfig {
    /// A key's own bucket.
    pub fn key_bucket(&self, role: shopshield_model::Role) -> Bucket {
        self.key.get(&role).copied().unwrap_or(self.default_key)
    }

    /// The bucket all keys of `role` share.
    pub fn role_bucket(&self, role: shopshield_model::Role) -> Bucket {
        self.role.get(&role).copied().unwrap_or(self.default_role)
    }
}

/// `[server.pixels]`: how many image pixels a request and a key may have
/// decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PixelConfig {
    /// All images of one request together, in pixels.
    pub per_request: u64,
    /// All images of one key in a minute, in pixels.
    pub per_key_per_minute: u64,
}

impl Default for PixelConfig {
    fn default() -> Self {
        PixelConfig {
            per_request: 60_000_000,
            per_key_per_minute: 600_000_000,
        }
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), String> {
        let ranges: [(&str, u64, u64, u64); 6] = [
            (
                "header_read_timeout_ms",
                self.header_read_timeout_ms,
                100,
                600_000,
            ),
            (
                "body_read_timeout_ms",
                self.body_read_timeout_ms,
                100,
                3_600_000,
            ),
            ("idle_timeout_secs", self.idle_timeout_secs, 1, 3_600),
            ("request_timeout_secs", self.request_timeout_secs, 1, 3_600),
            ("retry_after_secs", self.retry_after_secs, 1, 3_600),
            ("max_connections", self.max_connections as u64, 1, 1_000_000),
        ];
        for (name, v, lo, hi) in ranges {
            if !(lo..=hi).contains(&v) {
                return Err(format!("server.{name}: must be {lo}..={hi}"));
            }
        }
        if self.overflow_connections > 1_000_000 {
            return Err("server.overflow_connections: must be ≤ 1000000".into());
        }
        for (role, b) in &self.rate.key {
            b.validate(&format!("server.rate.key.{role}"))?;
        }
        for (role, b) in &self.rate.role {
            b.validate(&format!("server.rate.role.{role}"))?;
        }
        self.rate.default_key.validate("server.rate.default_key")?;
        self.rate
            .default_role
            .validate("server.rate.default_role")?;
        self.rate.anonymous.validate("server.rate.anonymous")?;
        if self.pixels.per_request == 0 {
            return Err("server.pixels.per_request: must be > 0".into());
        }
        if self.pixels.per_key_per_minute < self.pixels.per_request {
            return Err(
                "server.pixels.per_key_per_minute: must be at least server.pixels.per_request"
                    .into(),
            );
        }
        Ok(())
    }
}

/// `[policy]`: where the region policy packs come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A directory of pack files (`*.toml`). Without it, the packs shipped
    /// in the binary are used. `shopshield policy reload` and
    /// `POST /v1/policy/reload` re-read it without a restart.
    pub dir: Option<std::path::PathBuf>,
}

/// The platform endpoint that receives enforcement notifications. With no
/// `url`, notifications are still recorded in the outbox but not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` URL every notification is POSTed to. (The delivery client
    /// is built without TLS: put a TLS-terminating proxy in front of an
    /// `https` endpoint.)
    pub url: Option<String>,
    /// HMAC-SHA256 key; each body is signed in `X-Shopshield-Signature`.
    /// Required when `url` is set.
    pub secret: Option<String>,
    /// How often the outbox is polled for due deliveries, in milliseconds.
    pub poll_interval_ms: u64,
    /// Timeout of one delivery attempt, in seconds.
    pub timeout_secs: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: None,
            secret: None,
            poll_interval_ms: 1000,
            timeout_secs: 10,
        }
    }
}

impl WebhookConfig {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.url {
            if !url.starts_with("http://") || url.len() <= "http://".len() {
                return Err(
                    "webhooks.url: must be an http:// URL (no TLS in the delivery client; use a TLS-terminating proxy)"
                        .into(),
                );
            }
            if self.secret.as_deref().is_none_or(|s| s.len() < 16) {
                return Err(
                    "webhooks.secret: a secret of at least 16 bytes is required with webhooks.url"
                        .into(),
                );
            }
        }
        if !(10..=3_600_000).contains(&self.poll_interval_ms) {
            return Err("webhooks.poll_interval_ms: must be 10..=3600000".into());
        }
        if !(1..=600).contains(&self.timeout_secs) {
            return Err("webhooks.timeout_secs: must be 1..=600".into());
        }
        Ok(())
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

impl AppConfig {
    /// Reads a TOML file; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<AppConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AppConfig::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        Self::parse(&text).map_err(|reason| ConfigError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn parse(text: &str) -> Result<AppConfig, String> {
        let mut c: AppConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        // One pair of thresholds decides every action: the gate's.
        c.text.review = c.gate.review;
        c.text.reject = c.gate.reject;
        c.gate.validate().map_err(|e| format!("gate: {e}"))?;
        c.images.validate().map_err(|e| format!("images: {e}"))?;
        c.video.validate().map_err(|e| format!("video: {e}"))?;
        c.enforcement.validate().map_err(|e| e.to_string())?;
        c.webhooks.validate()?;
        c.server.validate()?;
        c.sweep.validate()?;
        c.stream.validate()?;
        c.notices.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_restore_within_ten_to_fourteen_business_days() {
        assert_eq!(
            AppConfig::parse("")
                .unwrap()
                .notices
                .restore_after_business_days,
            10
        );
        let c = AppConfig::parse("[notices]\nrestore_after_business_days = 14\n").unwrap();
        assert_eq!(c.notices.restore_after_business_days, 14);
        for bad in [0, 9, 15, 30] {
            let e = AppConfig::parse(&format!("[notices]\nrestore_after_business_days = {bad}\n"))
                .unwrap_err();
            assert!(e.contains("notices.restore_after_business_days"), "{e}");
        }
    }

    #[test]
    fn reporter_thresholds_are_read_and_checked() {
        let d = AppConfig::parse("").unwrap().notices.reporters;
        assert_eq!(
            (
                d.window_days,
                d.self_service_min_acceptance_pct,
                d.self_service_max_counter_success_pct
            ),
            (182, 90, 5)
        );
        let c = AppConfig::parse(
            "[notices.reporters]\nself_service_min_decided = 5\nrestriction_days = 7\n",
        )
        .unwrap();
        assert_eq!(c.notices.reporters.self_service_min_decided, 5);
        assert_eq!(c.notices.reporters.restriction_days, 7);
        let e = AppConfig::parse("[notices.reporters]\nabuse_below_acceptance_pct = 120\n")
            .unwrap_err();
        assert!(
            e.contains("notices.reporters.abuse_below_acceptance_pct"),
            "{e}"
        );
        assert!(AppConfig::parse("[notices.reporters]\nbogus = 1\n").is_err());
    }

    #[test]
    fn parses_and_checks() {
        let c = AppConfig::parse("[gate]\nreview = 0.4\nreject = 0.9\n").unwrap();
        assert_eq!(c.gate.review, 0.4);
        assert!(AppConfig::parse("[gate]\nreview = 0.9\nreject = 0.4\n").is_err());
        assert!(AppConfig::parse("[gate]\nbogus = 1\n").is_err());
        assert_eq!(AppConfig::parse("").unwrap(), AppConfig::default());
    }

    #[test]
    fn image_sections_as_the_readme_shows_them() {
        let c = AppConfig::parse(
            "[images]\nlogo_tiles = false\nlogo_keypoints = true\nlogo_search = \"inline\"\n\
             [images.keypoints]\nmin_inliers = 4\nmin_correlation = 0.55\nmin_edge_correlation = 0.7\n\
             descriptor_radius = 32\nmax_neighbourhood = 0\n\
             [images.scoring]\nlogo_in_photo_confidence = 0.6\n",
        )
        .unwrap();
        assert!(c.images.logo_keypoints);
        assert_eq!(c.images.logo_search, crate::images::LogoSearch::Inline);
        let later = AppConfig::parse("[images]\nlogo_search = \"after_listing\"\n").unwrap();
        assert_eq!(
            later.images.logo_search,
            crate::images::LogoSearch::AfterListing
        );
        assert!(AppConfig::parse("[images]\nlogo_search = \"later\"\n").is_err());
        assert_eq!(
            c.images.keypoints,
            shopshield_keypoints::LocalConfig::default()
        );
        assert_eq!(c.images.scoring.logo_in_photo_confidence, 0.6);
        for bad in [
            "[images.keypoints]\nmin_inliers = 2\n",
            "[images.keypoints]\nmin_correlation = 1.5\n",
            "[images.keypoints]\ndescriptor_radius = 90\n",
            "[images.keypoints]\nbogus = 1\n",
        ] {
            assert!(AppConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_limits() {
        let c = AppConfig::parse(
            "[server]\nmax_connections = 64\nheader_read_timeout_ms = 2000\n\
             [server.rate]\ndefault_key = { per_second = 5, burst = 10 }\n\
             [server.rate.key]\nseller = { per_second = 1, burst = 2 }\n\
             [server.pixels]\nper_request = 1000000\nper_key_per_minute = 5000000\n",
        )
        .unwrap();
        assert_eq!(c.server.max_connections, 64);
        assert_eq!(
            c.server.rate.key_bucket(shopshield_model::Role::Seller),
            Bucket::new(1.0, 2.0)
        );
        assert_eq!(
            c.server.rate.key_bucket(shopshield_model::Role::Admin),
            Bucket::new(5.0, 10.0)
        );
        assert_eq!(c.server.pixels.per_request, 1_000_000);
        for bad in [
            "[server]\nmax_connections = 0\n",
            "[server]\nbogus = 1\n",
            "[server.rate.key]\nseller = { per_second = 0, burst = 2 }\n",
            "[server.rate.key]\nnobody = { per_second = 1, burst = 2 }\n",
            "[server.pixels]\nper_request = 10\nper_key_per_minute = 5\n",
        ] {
            assert!(AppConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enforcement_and_webhooks() {
        let c = AppConfig::parse(
            "[enforcement]\npoints_expiry_days = 30\nauto_record_min_confidence = 0.95\n\
             [enforcement.creator]\nip_strikes_to_revoke = 2\n\
             [webhooks]\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"0123456789abcdef\"\n",
        )
        .unwrap();
        assert_eq!(c.enforcement.points_expiry_days, 30);
        assert_eq!(c.enforcement.creator.ip_strikes_to_revoke, 2);
        assert_eq!(c.webhooks.url.as_deref(), Some("http://127.0.0.1:9/hook"));
        assert!(AppConfig::parse("[enforcement]\npoints_expiry_days = 0\n").is_err());
        // The form docs/enforcement.md shows.
        let c = AppConfig::parse(concat!(
            "[enforcement]\n",
            "shop_milestones = [ { points = 12, penalty = \"campaigns_restricted\", duration = { days = 7 } },\n",
            "  { points = 24, penalty = \"listings_capped\", duration = \"while_at_least\" },\n",
            "  { points = 48, penalty = \"shop_permanently_deactivated\", duration = \"permanent\" } ]\n",
            "[enforcement.points.counterfeit]\nminor = 4\nmoderate = 12\nsevere = 24\ncritical = 48\n",
            "[enforcement.review]\nsla_hours = { \"counterfeit/*\" = 12, \"prohibited/*\" = 12 }\n",
            "[enforcement.webhooks]\ninitial_backoff_secs = 5\n",
        ))
        .unwrap();
        assert_eq!(c.enforcement.shop_milestones.len(), 3);
        assert_eq!(c.enforcement.webhooks.initial_backoff_secs, 5);
        assert!(AppConfig::parse("[enforcement]\nbogus = 1\n").is_err());
        assert!(
            AppConfig::parse("[webhooks]\nurl = \"ftp://x\"\nsecret = \"0123456789abcdef\"\n")
                .is_err()
        );
        assert!(AppConfig::parse("[webhooks]\nurl = \"http://x\"\n").is_err());
    }
}
