//! The shopshield application core.
//!
//! [`App`] wires the stages of the flow together: intake (validated model
//! values) → the gate's detectors → a decision stored durably → metrics. It
//! owns the rights registry's in-memory snapshot and rebuilds it whenever a
//! right changes. Access control lives here too, so the HTTP API and the CLI
//! enforce exactly the same scopes.

mod app;
mod auth;
mod clock;
mod config;
mod enforcement;
mod engine;
mod error;
mod images;
mod metrics;

pub use app::{App, PolicyReload, Submitted};
pub use auth::{Principal, generate_key, hash_key};
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{AppConfig, ConfigError, PolicyConfig, WebhookConfig};
pub use enforcement::{
    AuditError, AuditReport, CommandOutcome, ListingStatusView, LogEntryView, audit_log,
    parse_queue,
};
pub use error::AppError;
pub use images::{ImagesConfig, listing_image_signal, reference_image_hashes};
pub use metrics::Metrics;
/// The enforcement crate, for callers of the enforcement API.
pub use shopshield_enforce as enforce;

/// Label sets of the metrics, for code that records into them.
pub mod metrics_labels {
    pub use crate::metrics::{ActionLabel, HttpLabel};
}
