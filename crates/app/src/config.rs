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
        let c: AppConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.gate.validate().map_err(|e| format!("gate: {e}"))?;
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
}
