//! The hash-chained, append-only event log.
//!
//! Entry `n` stores `hash = SHA-256("shopshield-enforce-log/v1\n" || n ||
//! "\n" || prev_hash || "\n" || body)`, where `body` is the event's canonical
//! JSON ([`canonical_json`]) and `prev_hash` is entry `n-1`'s hash (64 zeros
//! for entry 1). Editing, deleting, inserting or reordering any entry breaks
//! the chain at that entry, which [`verify_records`] reports.
//!
//! What a chain alone cannot show is the removal of the *last* entries: a
//! shortened chain is still a valid chain. Keep an [`Anchor`] (the head's
//! sequence number and hash) somewhere the log's writer cannot rewrite (a
//! separate table or file, a signed receipt, a periodic publication) and pass
//! it to [`verify_records`]. The same anchor also defeats someone who
//! rewrites the log *and* recomputes every later hash: the anchored hash
//! would no longer match.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::Event;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &str = "shopshield-enforce-log/v1\n";

/// One log entry, as the store persists it: the four columns of an
/// append-only table with `seq` as primary key. `body` is stored verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    /// 1, 2, 3... without gaps.
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    /// The event's canonical JSON.
    pub body: String,
}

/// A decoded entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub event: Event,
}

/// The head of a log at some point: enough to prove later that nothing up
/// to it was removed or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl Anchor {
    /// The anchor of an empty log.
    pub fn genesis() -> Anchor {
        Anchor {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// Where and how a log was tampered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log entry {seq}: {reason}")]
pub struct TamperError {
    /// The first entry that does not check out (for a truncated log, the
    /// first missing one).
    pub seq: u64,
    pub reason: TamperReason,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TamperReason {
    #[error("expected sequence number {expected}: an entry was deleted, inserted or moved")]
    Sequence { expected: u64 },
    #[error("prev_hash does not match the previous entry's hash")]
    Link,
    #[error("hash does not match the entry's contents: the entry was edited")]
    Hash,
    #[error("body is not a valid event: {0}")]
    Body(String),
    #[error("body is not in canonical form")]
    NotCanonical,
    #[error(
        "the log ends at {last} but the anchor is at {anchor}: entries were removed from the end"
    )]
    Truncated { last: u64, anchor: u64 },
    #[error("the entry differs from the anchor: the log was rewritten")]
    Anchor,
}

/// The canonical JSON of an event: compact, fields in declaration order,
/// maps sorted.
pub fn canonical_json(event: &Event) -> String {
    // Serialising plain data (strings, integers, finite floats, ordered maps)
    // cannot fail; an empty body would fail verification rather than panic.
    serde_json::to_string(event).unwrap_or_default()
}

/// The hash of an entry.
pub fn entry_hash(seq: u64, prev_hash: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN.as_bytes());
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// Chains `events` after `head` (use [`Anchor::genesis`] for an empty log).
/// Returns the entries to insert, in order, all in one transaction.
pub fn seal(head: &Anchor, events: &[Event]) -> Vec<StoredEntry> {
    let mut seq = head.seq;
    let mut prev = head.hash.clone();
    events
        .iter()
        .map(|e| {
            seq += 1;
            let body = canonical_json(e);
            let hash = entry_hash(seq, &prev, &body);
            StoredEntry {
                seq,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
                body,
            }
        })
        .collect()
}

impl StoredEntry {
    /// Parses the body (without checking the hash; see [`verify_records`]).
    pub fn decode(&self) -> Result<LogEntry, TamperError> {
        let event: Event = serde_json::from_str(&self.body).map_err(|e| TamperError {
            seq: self.seq,
            reason: TamperReason::Body(e.to_string()),
        })?;
        Ok(LogEntry {
            seq: self.seq,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            event,
        })
    }

    pub fn anchor(&self) -> Anchor {
        Anchor {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

impl LogEntry {
    /// The entry as stored.
    pub fn to_stored(&self) -> StoredEntry {
        StoredEntry {
            seq: self.seq,
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            body: canonical_json(&self.event),
        }
    }
}

/// Verifies a whole log, read in `seq` order from the beginning, and decodes
/// it. With `anchor`, also proves that the log still holds the anchored
/// entry unchanged, so nothing up to it was cut off the end or rewritten.
/// Returns the decoded entries; the last one's [`StoredEntry::anchor`] is the
/// new head.
pub fn verify_records(
    records: &[StoredEntry],
    anchor: Option<&Anchor>,
) -> Result<Vec<LogEntry>, TamperError> {
    verify_from(&Anchor::genesis(), records, anchor)
}

/// Like [`verify_records`], for the part of a log after `start` (an anchor
/// verified earlier), so a long log can be checked incrementally.
pub fn verify_from(
    start: &Anchor,
    records: &[StoredEntry],
    anchor: Option<&Anchor>,
) -> Result<Vec<LogEntry>, TamperError> {
    let mut prev = start.hash.clone();
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let expected = start.seq + 1 + i as u64;
        let fail = |reason| TamperError {
            seq: expected,
            reason,
        };
        if r.seq != expected {
            return Err(fail(TamperReason::Sequence { expected }));
        }
        if r.prev_hash != prev {
            return Err(fail(TamperReason::Link));
        }
        if entry_hash(r.seq, &r.prev_hash, &r.body) != r.hash {
            return Err(fail(TamperReason::Hash));
        }
        let entry = r.decode()?;
        if canonical_json(&entry.event) != r.body {
            return Err(fail(TamperReason::NotCanonical));
        }
        prev = r.hash.clone();
        out.push(entry);
    }
    if let Some(a) = anchor
        && a.seq > start.seq
    {
        let last = start.seq + records.len() as u64;
        if a.seq > last {
            return Err(TamperError {
                seq: last + 1,
                reason: TamperReason::Truncated {
                    last,
                    anchor: a.seq,
                },
            });
        }
        let idx = usize::try_from(a.seq - start.seq - 1).unwrap_or(usize::MAX);
        if records.get(idx).is_none_or(|r| r.hash != a.hash) {
            return Err(TamperError {
                seq: a.seq,
                reason: TamperReason::Anchor,
            });
        }
    }
    Ok(out)
}

/// Verifies decoded entries (re-serialising each event).
pub fn verify_chain(entries: &[LogEntry]) -> Result<(), TamperError> {
    let records: Vec<StoredEntry> = entries.iter().map(LogEntry::to_stored).collect();
    verify_records(&records, None).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Actor, EventKind, Party};
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;
    use shopshield_model::{Decision, Evidence, Violation, ViolationType};

    fn event(confidence: f64, ratio: f64, nanos: u32) -> Event {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .unwrap_or_default()
            + chrono::Duration::nanoseconds(i64::from(nanos));
        let finding = Violation {
            kind: ViolationType::Counterfeit,
            right_id: None,
            rule_id: None,
            detector: "d".into(),
            confidence,
            evidence: Evidence {
                price_ratio: Some(ratio),
                why: "ünïcode \"quoted\" \n".into(),
                ..Evidence::default()
            },
        };
        let subject = crate::event::Subject {
            listing_id: "l".into(),
            listing_version: 1,
            decision_id: "l@v1".into(),
            shop_id: "s".into(),
            creator_id: None,
            region: shopshield_model::Region::parse("r", "GB")
                .unwrap_or(shopshield_model::Region::ALL),
        };
        Event {
            at,
            actor: Actor::Reviewer { id: "r".into() },
            kind: EventKind::CaseOpened {
                case_id: "l@v1".into(),
                queue: crate::queue::QueueKey {
                    kind: Some(ViolationType::Counterfeit),
                    region: subject.region,
                },
                decision: Decision {
                    id: "l".into(),
                    decision_id: "l@v1".into(),
                    listing_version: 1,
                    action: shopshield_model::Action::Review,
                    score: confidence,
                    violations: vec![finding],
                    registry_version: 1,
                    policy_versions: [("b".to_string(), "2".to_string()), ("a".into(), "1".into())]
                        .into_iter()
                        .collect(),
                    decided_at: at,
                },
                subject,
            },
        }
    }

    #[test]
    fn seal_then_verify() {
        let evs = vec![
            event(0.5, 0.25, 0),
            Event {
                at: event(0.5, 0.25, 0).at,
                actor: Actor::System,
                kind: EventKind::WarningIssued {
                    party: Party::Shop("s".into()),
                    points: 7,
                    milestone: 12,
                    penalty: crate::config::PenaltyKind::CampaignsRestricted,
                },
            },
        ];
        let recs = seal(&Anchor::genesis(), &evs);
        assert_eq!(recs[0].prev_hash, GENESIS_HASH);
        assert_eq!(recs[1].prev_hash, recs[0].hash);
        let decoded = verify_records(&recs, Some(&recs[1].anchor())).unwrap_or_default();
        assert_eq!(
            decoded.iter().map(|e| &e.event).collect::<Vec<_>>(),
            evs.iter().collect::<Vec<_>>()
        );
        assert!(verify_chain(&decoded).is_ok());
        // Incremental verification from a trusted anchor.
        let more = seal(&recs[1].anchor(), &evs[..1]);
        assert!(verify_from(&recs[1].anchor(), &more, Some(&more[0].anchor())).is_ok());
        assert_eq!(more[0].seq, 3);
    }

    proptest! {
        /// Any finite float and any instant survive the JSON log byte for
        /// byte, so a stored entry's hash always re-verifies.
        #[test]
        fn events_round_trip_exactly(c in 0.0f64..=1.0, r in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO, nanos in 0u32..1_000_000_000) {
            let e = event(c, r, nanos);
            let body = canonical_json(&e);
            let back: Event = serde_json::from_str(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(canonical_json(&back), body);
        }
    }
}
