//! The screening work queue on NATS JetStream.
//!
//! Bulk screening leaves the process that reads the listings: `scan`
//! publishes batches of listings to a work-queue stream, any number of
//! `worker` processes take them through one durable pull consumer, screen
//! them with the [`shopshield_app::Screening`] service, and answer each
//! batch on the scan run's results subject once its decisions are
//! committed. A work message is acknowledged only after that, so a worker
//! that dies mid-batch leaves the batch to be delivered again; the store
//! answers an identical resubmission (same listing id, same content hash)
//! with the decision it already holds, so a redelivery adds no decision and
//! enforces nothing twice. The message format is versioned:
//! [`message`], documented in `docs/queue.md`.

pub mod message;
mod names;
mod publish;
mod worker;

use std::time::Duration;

use async_nats::jetstream::{self, stream};

pub use names::QueueName;
pub use publish::{Outcome, ScanRun, ScanSummary};
pub use worker::{WorkerConfig, run_worker};

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A name or option is wrong: the field and the reason.
    #[error("{0}")]
    Invalid(String),
    /// A message could not be read or written.
    #[error("{0}")]
    Format(String),
    /// NATS or JetStream failed.
    #[error("NATS: {0}")]
    Nats(String),
    /// The application failed in a way no retry fixes.
    #[error("{0}")]
    App(String),
}

fn nats<E: std::fmt::Display>(e: E) -> QueueError {
    QueueError::Nats(e.to_string())
}

/// Connects to NATS, retrying the first connection until `timeout` and
/// reconnecting for ever after a connection is lost.
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, QueueError> {
    let opts = async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => tracing::warn!("NATS connection lost"),
                async_nats::Event::Connected => tracing::info!("NATS connected"),
                other => tracing::debug!(event = %other, "NATS event"),
            }
        });
    opts.connect(url)
        .await
        .map_err(|e| QueueError::Nats(format!("cannot connect to {url}: {e}")))
}

/// Creates the queue's two streams if they do not exist yet.
pub async fn ensure_streams(
    js: &jetstream::Context,
    name: &QueueName,
) -> Result<(stream::Stream, stream::Stream), QueueError> {
    let work = js
        .get_or_create_stream(stream::Config {
            name: name.work_stream(),
            subjects: vec![name.work_subject()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            // Republished batches (a lost publish acknowledgement) are
            // dropped by their message id within this window.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| QueueError::Nats(format!("work stream {}: {e}", name.work_stream())))?;
    let results = js
        .get_or_create_stream(stream::Config {
            name: name.results_stream(),
            subjects: vec![name.results_wildcard()],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            // A scan purges its run's results when done; results of a scan
            // that died are dropped after a day.
            max_age: Duration::from_secs(24 * 3600),
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| QueueError::Nats(format!("results stream {}: {e}", name.results_stream())))?;
    Ok((work, results))
}
