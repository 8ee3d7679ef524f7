//! `shopshield worker`: takes batches from the work stream through the
//! durable pull consumer, screens and commits them with the Screening
//! service, answers on the run's results subject, and only then
//! acknowledges the batch.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures_util::StreamExt;
use shopshield_app::{App, AppError, Principal};
use shopshield_intake::ImageBase;
use shopshield_model::Listing;
use tokio::sync::{Semaphore, watch};

use crate::message::{FORMAT_VERSION, ItemResult, ResultMessage, WorkMessage, decode_work};
use crate::{QueueError, QueueName, ensure_streams};

/// How a worker takes work.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub queue: QueueName,
    /// Batches screened at once (each on every core); two let one batch
    /// commit while the next is screened.
    pub concurrency: usize,
    /// How long a delivered batch may go unacknowledged before JetStream
    /// delivers it again (set when the consumer is created; a worker
    /// reports progress on long batches). The durable consumer keeps the
    /// value of whichever worker created it.
    pub ack_wait: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            queue: QueueName::default(),
            concurrency: 2,
            ack_wait: Duration::from_secs(30),
        }
    }
}

/// Why a batch was not answered: it goes back to the queue.
struct Retry(String);

/// Takes work until `stop` turns true, then finishes the batches in hand.
/// Survives NATS restarts: the client reconnects and the consumer's
/// message stream is opened again.
pub async fn run_worker(
    app: Arc<App>,
    client: async_nats::Client,
    config: WorkerConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<(), QueueError> {
    if config.concurrency == 0 {
        return Err(QueueError::Invalid(
            "concurrency: must be at least 1".into(),
        ));
    }
    let js = jetstream::new(client.clone());
    let slots = Arc::new(Semaphore::new(config.concurrency));
    'outer: while !*stop.borrow() {
        let mut messages = match open(&js, &config).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the work consumer; retrying");
                if pause(&mut stop, Duration::from_secs(1)).await {
                    break;
                }
                continue;
            }
        };
        tracing::info!(queue = config.queue.as_str(), "taking work");
        loop {
            let slot = tokio::select! {
                _ = stop.changed() => break 'outer,
                s = slots.clone().acquire_owned() => match s {
                    Ok(s) => s,
                    Err(_) => break 'outer,
                },
            };
            let next = tokio::select! {
                _ = stop.changed() => break 'outer,
                m = messages.next() => m,
            };
            match next {
                Some(Ok(msg)) => {
                    let (app, js, queue) = (app.clone(), js.clone(), config.queue.clone());
                    let ack_wait = config.ack_wait;
                    let max = max_payload(&client);
                    tokio::spawn(async move {
                        handle(app, js, queue, ack_wait, max, msg).await;
                        drop(slot);
                    });
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "the work consumer failed; opening it again");
                    break;
                }
                None => break,
            }
        }
        if pause(&mut stop, Duration::from_millis(500)).await {
            break;
        }
    }
    // Finish the batches in hand before returning.
    let _ = slots.acquire_many(config.concurrency as u32).await;
    Ok(())
}

/// Sleeps, waking early on stop; true when stopping.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(d) => *stop.borrow(),
    }
}

async fn open(js: &jetstream::Context, config: &WorkerConfig) -> Result<pull::Stream, QueueError> {
    let (work, _) = ensure_streams(js, &config.queue).await?;
    let name = config.queue.consumer();
    let consumer: jetstream::consumer::PullConsumer = work
        .get_or_create_consumer(
            name,
            pull::Config {
                durable_name: Some(name.to_string()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                // Redeliver until committed: a batch is never dropped.
                max_deliver: -1,
                ..Default::default()
            },
        )
        .await
        .map_err(crate::nats)?;
    consumer
        .stream()
        .max_messages_per_batch(config.concurrency)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(crate::nats)
}

/// Screens one delivered batch, answers it and acknowledges it; on a
/// failure that may pass (the store, NATS) gives it back to the queue.
async fn handle(
    app: Arc<App>,
    js: jetstream::Context,
    queue: QueueName,
    ack_wait: Duration,
    max_payload: usize,
    msg: jetstream::Message,
) {
    let work = match decode_work(&msg.payload) {
        Ok(w) => w,
        Err(e) => {
            // No retry can make it readable: stop its redelivery.
            tracing::error!(error = %e, subject = %msg.subject, "unreadable work message dropped");
            let _ = msg.ack_with(AckKind::Term).await;
            return;
        }
    };
    let (run, batch) = (work.run.clone(), work.batch);
    let delivered = msg.info().map(|i| i.delivered).unwrap_or(1);
    if delivered > 1 {
        tracing::info!(run = %run, batch, delivered, "batch delivered again");
    }
    let mut task = tokio::task::spawn_blocking(move || screen(&app, work));
    let mut progress = tokio::time::interval(ack_wait / 3);
    progress.tick().await;
    let outcome = loop {
        tokio::select! {
            r = &mut task => break r,
            _ = progress.tick() => { let _ = msg.ack_with(AckKind::Progress).await; }
        }
    };
    let items = match outcome {
        Ok(Ok(items)) => items,
        Ok(Err(Retry(e))) => {
            tracing::warn!(run = %run, batch, error = %e, "batch not committed; it goes back to the queue");
            let _ = msg
                .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                .await;
            return;
        }
        Err(e) => {
            tracing::error!(run = %run, batch, error = %e, "screening a batch panicked");
            let _ = msg
                .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                .await;
            return;
        }
    };
    // The decisions are committed: answer, then acknowledge. If either is
    // lost the batch comes again and is answered from the store.
    let subject = queue.results_subject(&run);
    for part in split_results(&run, batch, items, max_payload) {
        let mut sent = false;
        for attempt in 0..20u32 {
            match publish(&js, &subject, &part).await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(run = %run, batch, attempt, error = %e, "cannot publish results; retrying");
                    let _ = msg.ack_with(AckKind::Progress).await;
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt.min(8) + 1)))
                        .await;
                }
            }
        }
        if !sent {
            // Not acknowledged: delivered again after the ack wait.
            return;
        }
    }
    if let Err(e) = msg.double_ack().await {
        tracing::warn!(run = %run, batch, error = %e, "acknowledgement lost; the batch will be answered again from the store");
    }
}

/// The largest message the server takes.
fn max_payload(client: &async_nats::Client) -> usize {
    let m = client.server_info().max_payload;
    if m == 0 { 1 << 20 } else { m }
}

async fn publish(
    js: &jetstream::Context,
    subject: &str,
    part: &(String, Vec<u8>),
) -> Result<(), QueueError> {
    let (id, body) = part;
    js.send_publish(
        subject.to_string(),
        jetstream::context::Publish::build()
            .payload(body.clone().into())
            .message_id(id),
    )
    .await
    .map_err(crate::nats)?
    .await
    .map_err(crate::nats)?;
    Ok(())
}

/// Result messages no larger than the server takes, each with a message id
/// (so a batch answered twice within the duplicate window is stored once).
fn split_results(
    run: &str,
    batch: u64,
    items: Vec<ItemResult>,
    max: usize,
) -> Vec<(String, Vec<u8>)> {
    let limit = max.saturating_sub(4096).max(1024);
    let encode = |items: &[ItemResult]| {
        serde_json::to_vec(&ResultMessage {
            v: FORMAT_VERSION,
            run: run.to_string(),
            batch,
            items: items.to_vec(),
        })
        .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut stack = vec![items];
    while let Some(items) = stack.pop() {
        let body = encode(&items);
        if body.len() > limit && items.len() > 1 {
            let mut first = items;
            let second = first.split_off(first.len() / 2);
            stack.push(second);
            stack.push(first);
            continue;
        }
        let first_line = items.first().map(|i| i.line).unwrap_or(0);
        out.push((format!("{run}.{batch}.{first_line}"), body));
    }
    out
}

/// Screens and commits a batch (on a blocking thread): a decision or a
/// bad-input error per listing; a store failure retries the whole batch
/// (what was committed is answered from the store next time).
fn screen(app: &App, work: WorkMessage) -> Result<Vec<ItemResult>, Retry> {
    let principal = Principal::operator("queue worker");
    let dir = work.base.as_ref().map(PathBuf::from);
    let base = match &dir {
        Some(d) => ImageBase::Dir(d),
        None => ImageBase::DataOnly,
    };
    let (lines, listings): (Vec<u64>, Vec<Listing>) =
        work.items.into_iter().map(|i| (i.line, i.listing)).unzip();
    let results = app
        .screening()
        .submit_batch(&principal, listings, base)
        .map_err(|e| Retry(e.to_string()))?;
    let mut out = Vec::with_capacity(results.len());
    for (line, r) in lines.into_iter().zip(results) {
        out.push(match r {
            Ok(s) => ItemResult {
                line,
                decision: Some(s.decision),
                created: s.created,
                error: None,
            },
            Err(e @ (AppError::Store(_) | AppError::Integrity(_))) => {
                return Err(Retry(format!("line {line}: {e}")));
            }
            Err(e) => ItemResult {
                line,
                decision: None,
                created: false,
                error: Some(e.to_string()),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(line: u64) -> ItemResult {
        ItemResult {
            line,
            decision: None,
            created: false,
            error: Some("x".repeat(300)),
        }
    }

    #[test]
    fn results_are_split_under_the_payload_limit_in_order() {
        let items: Vec<ItemResult> = (0..64).map(item).collect();
        let parts = split_results("r", 3, items, 4096 + 4000);
        assert!(parts.len() > 1);
        let mut lines = Vec::new();
        for (id, body) in &parts {
            assert!(body.len() <= 4000, "{}", body.len());
            let m = crate::message::decode_result(body).unwrap();
            assert_eq!(id, &format!("r.3.{}", m.items[0].line));
            lines.extend(m.items.iter().map(|i| i.line));
        }
        assert_eq!(lines, (0..64).collect::<Vec<_>>());
        assert_eq!(
            split_results("r", 0, (0..4).map(item).collect(), 1 << 20).len(),
            1
        );
    }
}
