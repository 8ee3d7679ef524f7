//! `shopshield scan --nats`: publishes a run's listings as batches and
//! hands back every listing's outcome in input order as workers commit
//! them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use shopshield_model::{Decision, Listing};
use tokio::sync::mpsc;

use crate::message::{decode_result, encode_item, encode_work};
use crate::{QueueError, QueueName, ensure_streams};

/// Listings per work message (fewer when they are large).
const BATCH_LISTINGS: usize = 256;
/// Work messages published and not yet written out at once.
const WINDOW: usize = 64;
/// How long a publish is retried (NATS restarting) before the run fails.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(300);

/// What became of one input line.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its decision is committed. `created` is false when the store
    /// already held a decision on identical content.
    Decided { decision: Decision, created: bool },
    /// It could not be screened: why (bad input names the field).
    Failed(String),
}

/// Counts of a finished run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    pub published: u64,
    pub batches: u64,
}

/// One scan run on the queue.
pub struct ScanRun {
    js: jetstream::Context,
    queue: QueueName,
    run: String,
    base: Option<String>,
    max_bytes: usize,
    work: stream::Stream,
    results: stream::Stream,
}

/// A batch waiting for its answers.
struct Pending {
    lines: Vec<u64>,
    answers: HashMap<u64, Outcome>,
}

impl Pending {
    fn complete(&self) -> bool {
        self.answers.len() == self.lines.len()
    }
}

impl ScanRun {
    /// Prepares a run: the streams exist, a fresh run id. `base` is the
    /// directory relative image paths resolve against (on the workers'
    /// file system); `None` allows `data:` URLs only.
    pub async fn start(
        client: async_nats::Client,
        queue: QueueName,
        base: Option<&Path>,
    ) -> Result<ScanRun, QueueError> {
        let base = match base {
            Some(p) => Some(
                std::path::absolute(p)
                    .map_err(|e| QueueError::Invalid(format!("{}: {e}", p.display())))?
                    .to_string_lossy()
                    .into_owned(),
            ),
            None => None,
        };
        let max = client.server_info().max_payload;
        let max_bytes = if max == 0 { 1 << 20 } else { max };
        let js = jetstream::new(client);
        let (work, results) = ensure_streams(&js, &queue).await?;
        let run = format!("{:016x}", rand::random::<u64>());
        Ok(ScanRun {
            js,
            queue,
            run,
            base,
            max_bytes: max_bytes.saturating_sub(4096).max(1024),
            work,
            results,
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run
    }

    /// Publishes every chunk of `(line, listing)` from `input` and calls
    /// `emit` for every line in input order once its outcome is known
    /// (committed, or refused). Returns when `input` is closed and every
    /// line was emitted.
    pub async fn run<F>(
        self,
        mut input: mpsc::Receiver<Vec<(u64, Listing)>>,
        mut emit: F,
    ) -> Result<ScanSummary, QueueError>
    where
        F: FnMut(u64, Outcome) -> Result<(), QueueError>,
    {
        let subject = self.queue.results_subject(&self.run);
        let mut last_seq = 0u64;
        let mut answers = self.answers(&subject, last_seq).await?;
        let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
        let mut next_batch = 0u64;
        let mut next_emit = 0u64;
        let mut input_open = true;
        let mut summary = ScanSummary::default();
        let mut last_answer = Instant::now();
        let mut quiet = tokio::time::interval(Duration::from_secs(15));
        loop {
            while pending.get(&next_emit).is_some_and(Pending::complete) {
                if let Some(mut p) = pending.remove(&next_emit) {
                    for line in p.lines {
                        if let Some(o) = p.answers.remove(&line) {
                            emit(line, o)?;
                        }
                    }
                }
                next_emit += 1;
            }
            if !input_open && pending.is_empty() {
                break;
            }
            tokio::select! {
                chunk = input.recv(), if input_open && pending.len() < WINDOW => match chunk {
                    None => input_open = false,
                    Some(chunk) => {
                        for p in self.pack(chunk, &mut next_batch)? {
                            if let Some(body) = &p.1 {
                                self.publish(p.0, body).await?;
                                summary.published += p.2.lines.len() as u64;
                                summary.batches += 1;
                            }
                            pending.insert(p.0, p.2);
                        }
                    }
                },
                m = answers.next() => match m {
                    Some(Ok(msg)) => {
                        if let Ok(info) = msg.info() {
                            last_seq = info.stream_sequence;
                        }
                        last_answer = Instant::now();
                        match decode_result(&msg.payload) {
                            Ok(r) if r.run == self.run => {
                                if let Some(p) = pending.get_mut(&r.batch) {
                                    for item in r.items {
                                        if p.lines.contains(&item.line) {
                                            let line = item.line;
                                            let o = match item.outcome() {
                                                Ok((decision, created)) => Outcome::Decided { decision, created },
                                                Err(e) => Outcome::Failed(e),
                                            };
                                            p.answers.entry(line).or_insert(o);
                                        }
                                    }
                                }
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "unreadable result message ignored"),
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "results consumer failed; opening it again");
                        answers = self.reopen(&subject, last_seq).await?;
                    }
                    None => answers = self.reopen(&subject, last_seq).await?,
                },
                _ = quiet.tick() => {
                    if !pending.is_empty() && last_answer.elapsed() > Duration::from_secs(15) {
                        tracing::warn!(queue = self.queue.as_str(), waiting = pending.len(),
                            "no answers for 15 s; is a worker running on this queue?");
                    }
                }
            }
        }
        if let Err(e) = self.results.purge().filter(subject).await {
            tracing::warn!(error = %e, "cannot purge this run's results; they expire in a day");
        }
        Ok(summary)
    }

    /// Splits a chunk into work messages (batch number, body, pending).
    /// A listing too large for one message is answered at once.
    #[allow(clippy::type_complexity)]
    fn pack(
        &self,
        chunk: Vec<(u64, Listing)>,
        next_batch: &mut u64,
    ) -> Result<Vec<(u64, Option<Vec<u8>>, Pending)>, QueueError> {
        let mut out = Vec::new();
        let mut items: Vec<Vec<u8>> = Vec::new();
        let mut lines: Vec<u64> = Vec::new();
        let mut bytes = 0usize;
        let flush = |items: &mut Vec<Vec<u8>>,
                     lines: &mut Vec<u64>,
                     bytes: &mut usize,
                     next_batch: &mut u64,
                     out: &mut Vec<(u64, Option<Vec<u8>>, Pending)>| {
            if items.is_empty() {
                return;
            }
            let b = *next_batch;
            *next_batch += 1;
            let body = encode_work(&self.run, b, self.base.as_deref(), items);
            items.clear();
            *bytes = 0;
            out.push((
                b,
                Some(body),
                Pending {
                    lines: std::mem::take(lines),
                    answers: HashMap::new(),
                },
            ));
        };
        for (line, listing) in chunk {
            let item = encode_item(line, &listing)?;
            if item.len() + 512 > self.max_bytes {
                flush(&mut items, &mut lines, &mut bytes, next_batch, &mut out);
                let b = *next_batch;
                *next_batch += 1;
                let mut answers = HashMap::new();
                answers.insert(
                    line,
                    Outcome::Failed(format!(
                        "the listing is {} bytes of JSON; the NATS server takes messages of at most {} bytes",
                        item.len(),
                        self.max_bytes + 4096
                    )),
                );
                out.push((
                    b,
                    None,
                    Pending {
                        lines: vec![line],
                        answers,
                    },
                ));
                continue;
            }
            if !items.is_empty()
                && (items.len() >= BATCH_LISTINGS || bytes + item.len() + 512 > self.max_bytes)
            {
                flush(&mut items, &mut lines, &mut bytes, next_batch, &mut out);
            }
            bytes += item.len() + 1;
            items.push(item);
            lines.push(line);
        }
        flush(&mut items, &mut lines, &mut bytes, next_batch, &mut out);
        Ok(out)
    }

    /// Publishes one work message, retrying while NATS is away. The
    /// message id makes a republished batch a duplicate JetStream drops.
    async fn publish(&self, batch: u64, body: &[u8]) -> Result<(), QueueError> {
        let started = Instant::now();
        let id = format!("{}.{batch}", self.run);
        let mut attempt = 0u64;
        loop {
            let sent = async {
                self.js
                    .send_publish(
                        self.queue.work_subject(),
                        jetstream::context::Publish::build()
                            .payload(body.to_vec().into())
                            .message_id(&id),
                    )
                    .await
                    .map_err(crate::nats)?
                    .await
                    .map_err(crate::nats)
            }
            .await;
            match sent {
                Ok(_) => return Ok(()),
                Err(e) if started.elapsed() < PUBLISH_PATIENCE => {
                    attempt += 1;
                    tracing::warn!(batch, attempt, error = %e, "publish failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250 * attempt.min(8))).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn answers(&self, subject: &str, after: u64) -> Result<pull::Ordered, QueueError> {
        let deliver_policy = if after == 0 {
            jetstream::consumer::DeliverPolicy::All
        } else {
            jetstream::consumer::DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            }
        };
        self.results
            .create_consumer(pull::OrderedConfig {
                filter_subject: subject.to_string(),
                deliver_policy,
                ..Default::default()
            })
            .await
            .map_err(crate::nats)?
            .messages()
            .await
            .map_err(crate::nats)
    }

    /// Opens the results consumer again after the last answer read,
    /// retrying while NATS is away.
    async fn reopen(&self, subject: &str, after: u64) -> Result<pull::Ordered, QueueError> {
        let started = Instant::now();
        loop {
            match self.answers(subject, after).await {
                Ok(a) => return Ok(a),
                Err(e) if started.elapsed() < PUBLISH_PATIENCE => {
                    tracing::warn!(error = %e, "cannot open the results consumer; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The work stream (for tests and tools that inspect it).
    pub fn work_stream(&self) -> &stream::Stream {
        &self.work
    }
}
