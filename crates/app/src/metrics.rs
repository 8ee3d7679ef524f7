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
    /// The route's pattern (`/v1/listings/{id}`), `unmatched` when no
    /// route matched: a bounded set, whatever the paths requested.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    /// Violation type, or `unclassified`.
    pub queue_type: String,
    pub region: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabel {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// Violation type.
    pub kind: String,
    /// `standing` or `reversed` (on appeal).
    pub state: String,
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
    /// HTTP requests, by method, route and status.
    pub http_requests: Family<HttpLabel, Counter>,
    /// Open review cases per queue (set when metrics are read).
    pub queue_depth: Family<QueueLabel, Gauge>,
    /// Age of the oldest open case per queue, seconds.
    pub queue_oldest_age_seconds: Family<QueueLabel, Gauge>,
    /// Open cases past their SLA per queue.
    pub queue_sla_breaches: Family<QueueLabel, Gauge>,
    /// Appeals by state: `pending`, `upheld`, `rejected`.
    pub appeals: Family<StateLabel, Gauge>,
    /// Webhook deliveries by state: `pending` (the backlog), `delivered`, `dead`.
    pub outbox: Family<StateLabel, Gauge>,
    /// Seconds since the oldest pending delivery was first due (0: none).
    pub outbox_oldest_pending_seconds: Gauge,
    /// Violations recorded, by type and whether they still stand.
    pub violations: Family<KindLabel, Gauge>,
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
            "HTTP requests, by method, route and status",
            http_requests.clone(),
        );
        let queue_depth = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "review_queue_depth",
            "Open review cases per queue",
            queue_depth.clone(),
        );
        let queue_oldest_age_seconds = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "review_queue_oldest_age_seconds",
            "Age of the oldest open case per queue",
            queue_oldest_age_seconds.clone(),
        );
        let queue_sla_breaches = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "review_queue_sla_breaches",
            "Open cases past their SLA per queue",
            queue_sla_breaches.clone(),
        );
        let appeals = Family::<StateLabel, Gauge>::default();
        registry.register("appeals", "Appeals by state", appeals.clone());
        let outbox = Family::<StateLabel, Gauge>::default();
        registry.register(
            "outbox_deliveries",
            "Webhook deliveries by state (pending is the backlog)",
            outbox.clone(),
        );
        let outbox_oldest_pending_seconds = Gauge::default();
        registry.register(
            "outbox_oldest_pending_seconds",
            "Seconds since the oldest pending webhook delivery was due",
            outbox_oldest_pending_seconds.clone(),
        );
        let violations = Family::<KindLabel, Gauge>::default();
        registry.register(
            "violations",
            "Violations recorded, by type and state",
            violations.clone(),
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
            queue_depth,
            queue_oldest_age_seconds,
            queue_sla_breaches,
            appeals,
            outbox,
            outbox_oldest_pending_seconds,
            violations,
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
