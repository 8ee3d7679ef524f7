//! The shopshield application: small services with one job each, over the
//! store seam, sharing one permission table (`shopshield_model::Permission`)
//! and one [`Principal`].
//!
//! * [`Registry`]: rights holders, rights, image banks, policy packs, and
//!   the engine built from them, kept current with every process's changes.
//! * [`Screening`]: intake → engine → store; listings, decisions,
//!   qualifications.
//! * [`Review`]: enforcement: cases and their leases, violations, points,
//!   penalties, appeals, ticks, the event log.
//! * [`Videos`]: short videos screened with the same engine (caption,
//!   hashtags, transcript with times, frames, vPDQ), stored with their
//!   decisions, enforced against creator and shop.
//! * [`Streams`]: livestream sessions scored over a sliding window, each
//!   event answered with an action (continue, warn, unpin, stop).
//! * [`Notices`]: rights holders' notices, their review queue, takedowns
//!   with source `notice`, sellers' counter-notices and restoration after
//!   the configured business days.
//! * [`Authorizations`]: sellers' requests for brand authorisation (letters
//!   of authorisation); an approval adds the shop to the right's
//!   authorised sellers and rescreens that shop's affected listings.
//! * [`Delivery`]: webhooks from the outbox.
//! * [`Keys`]: API keys and the principals they authenticate as.
//! * [`Reports`]: transparency reports and DSA statements of reasons.
//!
//! [`App`] opens them on one store; the HTTP server, the CLI and the
//! workers are doors onto them and reach the store only through them.

mod authorizations;
mod clock;
mod config;
mod content;
mod delivery;
mod error;
mod images;
mod keys;
mod metrics;
mod notices;
mod registry;
mod reports;
mod review;
mod screening;
mod streams;
mod sweep;
pub mod video;
mod videos;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use authorizations::{AuthorizationOutcome, Authorizations, Decided, DecisionInput};
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{
    AppConfig, Bucket, ConfigError, NoticesConfig, PixelConfig, PolicyConfig, RateConfig,
    ServerConfig, SweepConfig, WebhookConfig,
};
pub use delivery::{Delivery, Sender};
pub use error::AppError;
pub use images::{
    ImagesConfig, LogoSearch, listing_image_signal, prepare_image_right, reference_image_hashes,
};
pub use keys::{KeyView, Keys, NewKey, generate_key, hash_key};
pub use metrics::Metrics;
pub use notices::{
    DetectorView, DueReport, ItemDecisionInput, ItemOutcome, NoticeReceipt, Notices, QueueEntry,
    ReceiptItem, ReporterStanding, RightSummary, ShopNoticeCount,
};
pub use registry::{ImageHashes, ImageMatches, ImportOutcome, PolicyReload, Registry};
pub use reports::{ReportData, ReportQuery, Reports, decision_source};
pub use review::{
    AuditError, AuditReport, CommandOutcome, ListingStatusView, LogEntryView, Review, audit_log,
    parse_queue,
};
pub use screening::{ScreenedBatch, Screening, Submitted};
/// The enforcement crate, for callers of the enforcement API.
pub use shopshield_enforce as enforce;
pub use shopshield_enforce::reporter::{ReporterPolicy, ReporterRecord, Standing};
pub use shopshield_model::Principal;
use shopshield_model::Taxonomy;
/// The report crate, for callers of the reports API.
pub use shopshield_report as report;
use shopshield_store::Store;
pub use streams::{ReplayError, Session, StreamSettings, StreamStatus, StreamView, Streams};
pub use sweep::{CatalogueHit, SweepReport, Sweeps};
pub use videos::{SubmittedVideo, Videos};

/// Label sets of the metrics, for code that records into them.
pub mod metrics_labels {
    pub use crate::metrics::{ActionLabel, HttpLabel, KindLabel, QueueLabel, StateLabel};
}

/// How often the background duties look for enforcement work that another
/// process left (decisions stored but not handed over) and for a snapshot
/// to write.
const CATCH_UP_EVERY: Duration = Duration::from_secs(5);
const SNAPSHOT_CHECK_EVERY: Duration = Duration::from_secs(60);

/// Every service, opened on one store.
pub struct App {
    config: AppConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    taxonomy: Arc<Taxonomy>,
    registry: Arc<Registry>,
    review: Arc<Review>,
    screening: Arc<Screening>,
    sweeps: Arc<Sweeps>,
    authorizations: Authorizations,
    notices: Arc<Notices>,
    videos: Videos,
    streams: Arc<Streams>,
    delivery: Delivery,
    keys: Keys,
    reports: Reports,
    backend: &'static str,
}

impl App {
    /// Opens every service on a store: loads the registry and builds the
    /// engine, loads enforcement state (snapshot plus the log after it)
    /// and hands over decisions stored but not yet enforced.
    pub fn new(
        store: Arc<dyn Store>,
        config: AppConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<App, AppError> {
        let metrics = Arc::new(Metrics::new());
        let taxonomy = Arc::new(Taxonomy::builtin());
        let registry = Arc::new(Registry::open(
            store.clone(),
            store.clone(),
            store.clone(),
            config.clone(),
            clock.clone(),
            metrics.clone(),
        )?);
        let review = Arc::new(Review::open(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            &config.enforcement,
            clock.clone(),
        )?);
        let screening = Arc::new(Screening::new(
            store.clone(),
            store.clone(),
            store.clone(),
            registry.clone(),
            review.clone(),
            taxonomy.clone(),
            config.clone(),
            clock.clone(),
            metrics.clone(),
        ));
        let sweeps = Arc::new(Sweeps::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            registry.clone(),
            screening.clone(),
            review.clone(),
            clock.clone(),
            config.sweep.clone(),
            config
                .images
                .photo_max_distance
                .max(config.images.logo_max_distance),
        ));
        let content = content::ContentDeps {
            content: store.clone(),
            catalog: store.clone(),
            qualifications: store.clone(),
            registry: registry.clone(),
            review: review.clone(),
            config: config.clone(),
            clock: clock.clone(),
        };
        let videos = Videos::new(content.clone());
        let streams = Arc::new(Streams::new(content));
        let notices = Arc::new(Notices::new(
            store.clone(),
            screening.clone(),
            review.clone(),
            streams.clone(),
            clock.clone(),
            config.notices.clone(),
        ));
        let authorizations = Authorizations::new(
            store.clone(),
            registry.clone(),
            sweeps.clone(),
            clock.clone(),
        );
        let delivery = Delivery::new(
            store.clone(),
            config.webhooks.clone(),
            config.enforcement.webhooks,
            clock.clone(),
        );
        let keys = Keys::new(store.clone(), store.clone(), clock.clone());
        let reports = Reports::new(
            store.clone(),
            store.clone(),
            review.clone(),
            notices.clone(),
        );
        Ok(App {
            backend: store.backend(),
            config,
            clock,
            metrics,
            taxonomy,
            registry,
            review,
            screening,
            sweeps,
            authorizations,
            notices,
            videos,
            streams,
            delivery,
            keys,
            reports,
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn screening(&self) -> &Screening {
        &self.screening
    }

    pub fn sweeps(&self) -> &Sweeps {
        &self.sweeps
    }

    /// Rights holders' notices and sellers' counter-notices (issue #11).
    pub fn authorizations(&self) -> &Authorizations {
        &self.authorizations
    }

    pub fn notices(&self) -> &Notices {
        &self.notices
    }

    /// Short videos (issue #12).
    pub fn videos(&self) -> &Videos {
        &self.videos
    }

    /// Livestreams (issue #12).
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    pub fn review(&self) -> &Review {
        &self.review
    }

    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn reports(&self) -> &Reports {
        &self.reports
    }

    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The Prometheus text exposition, with the enforcement and outbox
    /// gauges read now (queue depth and age, SLA breaches, appeals,
    /// violations, the webhook backlog).
    pub fn metrics_text(&self) -> Result<String, AppError> {
        use metrics_labels::{KindLabel, QueueLabel, StateLabel};
        let m = &self.metrics;
        let g = self.review.gauges()?;
        m.queue_depth.clear();
        m.queue_oldest_age_seconds.clear();
        m.queue_sla_breaches.clear();
        for q in &g.queues {
            let l = QueueLabel {
                queue_type: q.queue.kind_str().to_string(),
                region: q.queue.region.as_str().to_string(),
            };
            m.queue_depth.get_or_create(&l).set(q.open as i64);
            m.queue_oldest_age_seconds
                .get_or_create(&l)
                .set(q.oldest_age_secs);
            m.queue_sla_breaches.get_or_create(&l).set(q.overdue as i64);
        }
        for state in ["pending", "upheld", "rejected"] {
            let n = g.appeals.get(state).copied().unwrap_or(0);
            m.appeals
                .get_or_create(&StateLabel {
                    state: state.into(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        m.violations.clear();
        for ((kind, state), n) in &g.violations {
            m.violations
                .get_or_create(&KindLabel {
                    kind: (*kind).into(),
                    state: (*state).into(),
                })
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        let o = self.delivery.counts()?;
        for (state, n) in [
            ("pending", o.pending),
            ("delivered", o.delivered),
            ("dead", o.dead),
        ] {
            m.outbox
                .get_or_create(&StateLabel {
                    state: state.into(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        m.outbox_oldest_pending_seconds.set(
            o.oldest_pending_due
                .map_or(0, |d| (self.now() - d).num_seconds().max(0)),
        );
        Ok(m.render())
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// What a long-running process (a server, a worker) does beside its
    /// main job, until `stop` is set: follows other processes' registry
    /// changes, runs enforcement ticks when due, delivers webhooks, hands
    /// over decisions another process stored but did not enforce (it
    /// crashed), and snapshots the enforcement state now and then. Blocks:
    /// run it on threads of its own.
    pub fn run_duties(&self, stop: &AtomicBool) {
        std::thread::scope(|s| {
            s.spawn(|| self.registry.watch(stop));
            s.spawn(|| self.sweeps.watch(stop));
            s.spawn(|| self.notices.watch(stop));
            let every = Duration::from_millis(self.config.webhooks.poll_interval_ms);
            let sender = self.delivery.sender();
            let mut last_catch_up = Instant::now();
            let mut last_snapshot = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = self.review.tick_if_due() {
                    tracing::error!(error = %e, "scheduled tick failed");
                }
                if let Some(sender) = &sender
                    && let Err(e) = self.delivery.deliver_due(sender)
                {
                    tracing::error!(error = %e, "webhook delivery round failed");
                }
                if last_catch_up.elapsed() >= CATCH_UP_EVERY {
                    last_catch_up = Instant::now();
                    if let Err(e) = self.review.catch_up() {
                        tracing::error!(error = %e, "enforcement catch-up failed");
                    }
                }
                if last_snapshot.elapsed() >= SNAPSHOT_CHECK_EVERY {
                    last_snapshot = Instant::now();
                    if let Err(e) = self.review.snapshot_if_due() {
                        tracing::error!(error = %e, "enforcement snapshot failed");
                    }
                }
                sleep_unless(stop, every);
            }
        });
    }
}

/// Sleeps for `d`, waking early when `stop` is set.
pub(crate) fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}
