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
    /// Sweeps of live listings after rights or rules change.
    pub sweep: SweepConfig,
    /// Videos and livestreams: decoding limits, vPDQ matching (`[video]`).
    pub video: crate::video::VideoSettings,
    /// Livestreams: the sliding window, thresholds, warnings before a
    /// stop, events in flight (`[stream]`).
    pub stream: crate::streams::StreamSettings,
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
        c.sweep.validate()?;
        c.stream.validate()?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "[images]\nlogo_tiles = false\nlogo_keypoints = true\n\
             [images.keypoints]\nmin_inliers = 4\nmin_correlation = 0.55\nmin_edge_correlation = 0.7\n\
             descriptor_radius = 32\nmax_neighbourhood = 0\n\
             [images.scoring]\nlogo_in_photo_confidence = 0.6\n",
        )
        .unwrap();
        assert!(c.images.logo_keypoints);
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
