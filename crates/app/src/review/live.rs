//! The enforcement state in memory, kept level with the log in the store.

use chrono::{DateTime, Utc};
use shopshield_enforce::chain::{self, Anchor, LogEntry, StoredEntry, TamperError};
use shopshield_enforce::{Event, EventKind, State, decode_state, encode_state, notification_for};
use shopshield_store::{EnforcementStore, LeaseChange, LogRecord, OutboxRow, Snapshot, StoreError};

use crate::AppError;

/// Log entries read per page when replaying.
const REPLAY_PAGE: usize = 10_000;

pub(super) fn stored(r: &LogRecord) -> StoredEntry {
    StoredEntry {
        seq: r.seq,
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
        body: r.body.clone(),
    }
}

pub(super) fn tampered(e: &TamperError) -> AppError {
    AppError::Integrity(format!(
        "the enforcement log failed verification: {e}; refusing to start (run `shopshield audit verify`)"
    ))
}

/// The replayed state and the log head it corresponds to.
pub(super) struct Live {
    pub(super) state: State,
    pub(super) head: Anchor,
    /// Entries applied since the last snapshot was written or read.
    pub(super) since_snapshot: u64,
}

impl Live {
    /// Loads the state: from the latest usable snapshot, then the entries
    /// after it, verified link by link and against the stored anchor.
    pub(super) fn load(store: &dyn EnforcementStore) -> Result<Live, AppError> {
        let anchor = store.log_anchor()?.map(|a| Anchor {
            seq: a.seq,
            hash: a.hash,
        });
        let mut live = match usable_snapshot(store)? {
            Some((state, head)) => Live {
                state,
                head,
                since_snapshot: 0,
            },
            None => Live {
                state: State::new(),
                head: Anchor::genesis(),
                since_snapshot: 0,
            },
        };
        // The anchored entry may lie inside the snapshot: then it must
        // still be in the log, unchanged.
        if let Some(a) = &anchor
            && a.seq <= live.head.seq
            && a.seq > 0
        {
            let entry = store.log_record(a.seq)?;
            if entry.as_ref().map(|e| &e.hash) != Some(&a.hash) {
                return Err(tampered(&TamperError {
                    seq: a.seq,
                    reason: chain::TamperReason::Anchor,
                }));
            }
        }
        live.catch_up(store, anchor.as_ref())?;
        Ok(live)
    }

    /// Applies entries appended since our head (by us or another writer),
    /// verifying them from our head.
    pub(super) fn refresh(&mut self, store: &dyn EnforcementStore) -> Result<(), AppError> {
        self.catch_up(store, None)
    }

    fn catch_up(
        &mut self,
        store: &dyn EnforcementStore,
        anchor: Option<&Anchor>,
    ) -> Result<(), AppError> {
        loop {
            let records: Vec<StoredEntry> = store
                .log_records(self.head.seq, Some(REPLAY_PAGE))?
                .iter()
                .map(stored)
                .collect();
            let last_page = records.len() < REPLAY_PAGE;
            // The anchor is checked on the page that holds it (or, past
            // the end, reports the log as truncated on the last page).
            let check = anchor.filter(|a| {
                a.seq > self.head.seq
                    && (last_page || a.seq <= self.head.seq + records.len() as u64)
            });
            let entries =
                chain::verify_from(&self.head, &records, check).map_err(|e| tampered(&e))?;
            self.apply(&entries)?;
            if last_page {
                return Ok(());
            }
        }
    }

    /// Applies verified entries and moves the head.
    pub(super) fn apply(&mut self, entries: &[LogEntry]) -> Result<(), AppError> {
        for e in entries {
            self.state.apply(&e.event).map_err(|error| {
                AppError::Integrity(format!("enforcement log entry {}: {error}", e.seq))
            })?;
            self.head = Anchor {
                seq: e.seq,
                hash: e.hash.clone(),
            };
            self.since_snapshot += 1;
        }
        Ok(())
    }

    /// Seals `events` after the head and appends them with their outbox
    /// rows and the case leases they take or end. Does not touch the state.
    pub(super) fn append(
        &self,
        store: &dyn EnforcementStore,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let sealed = chain::seal(&self.head, events);
        let mut rows = Vec::with_capacity(sealed.len());
        let mut outbox = Vec::new();
        let mut leases = Vec::new();
        let mut entries = Vec::with_capacity(sealed.len());
        for (r, e) in sealed.iter().zip(events) {
            let entry = LogEntry {
                seq: r.seq,
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
                event: e.clone(),
            };
            if let Some(n) = notification_for(&entry) {
                outbox.push(OutboxRow::pending(
                    n.idempotency_key.clone(),
                    n.seq,
                    n.kind.as_str(),
                    n.body(),
                    now,
                ));
            }
            leases.extend(lease_change(e, now));
            rows.push(LogRecord {
                seq: r.seq,
                prev_hash: r.prev_hash.clone(),
                hash: r.hash.clone(),
                body: r.body.clone(),
                at: e.at,
            });
            entries.push(entry);
        }
        store.append_log(self.head.seq, &rows, &outbox, &leases)?;
        Ok(entries)
    }

    /// Writes a snapshot of the state at the head.
    pub(super) fn snapshot(
        &mut self,
        store: &dyn EnforcementStore,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if self.head.seq == 0 {
            return Ok(());
        }
        store.put_snapshot(&Snapshot {
            seq: self.head.seq,
            hash: self.head.hash.clone(),
            body: encode_state(&self.state),
            created_at: now,
        })?;
        self.since_snapshot = 0;
        Ok(())
    }
}

/// The lease an event takes or ends.
fn lease_change(e: &Event, now: DateTime<Utc>) -> Option<LeaseChange> {
    match &e.kind {
        EventKind::CaseClaimed {
            case_id,
            reviewer,
            lease_until,
        } => Some(LeaseChange::Claim {
            case_id: case_id.clone(),
            reviewer: reviewer.clone(),
            until: *lease_until,
            now,
        }),
        EventKind::CaseReleased { case_id, .. }
        | EventKind::CaseDecided { case_id, .. }
        | EventKind::CaseClosed { case_id, .. } => Some(LeaseChange::End {
            case_id: case_id.clone(),
        }),
        _ => None,
    }
}

/// The latest snapshot whose entry is still in the log unchanged, decoded.
fn usable_snapshot(store: &dyn EnforcementStore) -> Result<Option<(State, Anchor)>, AppError> {
    let Some(snap) = store.latest_snapshot()? else {
        return Ok(None);
    };
    let entry = store.log_record(snap.seq)?;
    if entry.as_ref().map(|e| &e.hash) != Some(&snap.hash) {
        tracing::warn!(
            seq = snap.seq,
            "the latest snapshot does not match the log; replaying the whole log"
        );
        return Ok(None);
    }
    match decode_state(&snap.body) {
        Ok(state) => Ok(Some((
            state,
            Anchor {
                seq: snap.seq,
                hash: snap.hash,
            },
        ))),
        Err(e) => {
            tracing::warn!(seq = snap.seq, error = %e, "snapshot unreadable; replaying the whole log");
            Ok(None)
        }
    }
}
