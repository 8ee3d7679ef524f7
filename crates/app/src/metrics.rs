use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabel {
    pub method: String,
    pub status: u16,
}

/// The counters shopshield exports at `/metrics`.
pub struct Metrics {
    registry: Registry,
    /// Listings screened, by action.
    pub decisions: Family<ActionLabel, Counter>,
    /// Submissions answered from an earlier identical submission.
    pub idempotent_hits: Counter,
    /// Seconds spent screening one listing (detectors only).
    pub screen_seconds: Histogram,
    /// Rights registry rebuilds.
    pub registry_rebuilds: Counter,
    /// Rights currently enabled.
    pub rights_enabled: Gauge,
    /// HTTP requests, by method and status.
    pub http_requests: Family<HttpLabel, Counter>,
    /// Live listings taken down after listing, by decision source (`sweep`,
    /// `notice`); pre-listing rejections are in `decisions`.
    pub takedowns_after_listing: Family<SourceLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("shopshield");
        let decisions = Family::<ActionLabel, Counter>::default();
        registry.register(
            "decisions",
            "Listings screened, by action",
            decisions.clone(),
        );
        let idempotent_hits = Counter::default();
        registry.register(
            "idempotent_submissions",
            "Submissions answered from an identical earlier submission",
            idempotent_hits.clone(),
        );
        let screen_seconds = Histogram::new(exponential_buckets(1e-6, 4.0, 12));
        registry.register(
            "screen_seconds",
            "Time spent in detectors per listing",
            screen_seconds.clone(),
        );
        let registry_rebuilds = Counter::default();
        registry.register(
            "registry_rebuilds",
            "Rebuilds of the in-memory rights snapshot",
            registry_rebuilds.clone(),
        );
        let rights_enabled = Gauge::default();
        registry.register("rights_enabled", "Rights in force", rights_enabled.clone());
        let http_requests = Family::<HttpLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests, by method and status",
            http_requests.clone(),
        );
        let takedowns_after_listing = Family::<SourceLabel, Counter>::default();
        registry.register(
            "takedowns_after_listing",
            "Live listings taken down after listing, by source (sweep, notice)",
            takedowns_after_listing.clone(),
        );
        Metrics {
            takedowns_after_listing,
            registry,
            decisions,
            idempotent_hits,
            screen_seconds,
            registry_rebuilds,
            rights_enabled,
            http_requests,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
