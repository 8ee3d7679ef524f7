//! The hash-chained, append-only event log.
//!
//! Entry `n` stores `hash = SHA-256(domain || n || "\n" || prev_hash || "\n"
//! || body)`, where `prev_hash` is entry `n-1`'s hash (64 zeros for entry 1)
//! and `body` is the event's encoding, stored verbatim. Editing, deleting,
//! inserting or reordering any entry breaks the chain at that entry, which
//! [`verify_records`] reports.
//!
//! ## Encodings
//!
//! The hash covers the stored bytes, never a re-serialisation, so a change
//! to the Rust types (a new optional field, a reordered struct) cannot make
//! an intact old entry look edited. Two encodings exist:
//!
//! * **v1** (domain `shopshield-enforce-log/v1\n`): the event's serde JSON
//!   in struct-declaration order. Written by the first releases; still read.
//! * **v2** (domain `shopshield-enforce-log/v2\n`, written now):
//!   `{"event":EVENT,"v":2}` in canonical JSON: no whitespace, every
//!   object's keys sorted by their UTF-8 bytes, numbers as serde_json
//!   prints them (shortest round-trip form). The encoding is independent of
//!   field order in the code, and the `v` key says how to read the body.
//!
//! Decoding is separate from verification: [`verify_records`] first proves
//! the bytes are the ones written, then reads them with [`decode_body`].
//! Old entries must keep decoding as the model grows; the test fixture
//! `tests/fixtures/log-v1/*.jsonl` (logs written by the v1 code) guards that.
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

const DOMAIN_V1: &str = "shopshield-enforce-log/v1\n";
const DOMAIN_V2: &str = "shopshield-enforce-log/v2\n";

/// The encoding written by [`seal`].
pub const CURRENT_ENCODING: u32 = 2;

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
    #[error("body is intact but written in encoding {0}, which this version cannot read")]
    UnknownEncoding(u64),
    #[error(
        "the log ends at {last} but the anchor is at {anchor}: entries were removed from the end"
    )]
    Truncated { last: u64, anchor: u64 },
    #[error("the entry differs from the anchor: the log was rewritten")]
    Anchor,
}

/// Canonical JSON of any serde value: compact, object keys sorted by
/// their bytes at every depth.
pub fn canonical_value(v: &serde_json::Value) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    // Strings cannot fail to serialise.
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push(':');
                    if let Some(child) = map.get(k) {
                        write(child, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            leaf => out.push_str(&leaf.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The v2 body of an event: `{"event":...,"v":2}`, canonical.
pub fn encode_event(event: &Event) -> String {
    // Events are plain data (strings, integers, finite floats, maps with
    // string keys): turning them into a JSON value cannot fail; an empty
    // body would fail verification rather than panic.
    let value = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
    let mut envelope = serde_json::Map::new();
    envelope.insert("event".into(), value);
    envelope.insert("v".into(), serde_json::Value::from(CURRENT_ENCODING));
    canonical_value(&serde_json::Value::Object(envelope))
}

/// The encoding a stored body is written in: 2 for an envelope with
/// `"v":2`, 1 for a bare v1 event, or the unknown number of a newer one.
fn body_encoding(body: &str) -> Result<(u64, serde_json::Value), String> {
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(v) if value.get("event").is_some() => Ok((v, value)),
        _ => Ok((1, value)),
    }
}

/// Reads a stored body of any known encoding into an event.
pub fn decode_body(body: &str) -> Result<Event, TamperReason> {
    let (encoding, value) = body_encoding(body).map_err(TamperReason::Body)?;
    let event = match encoding {
        1 => serde_json::from_str::<Event>(body),
        2 => match value.get("event") {
            Some(e) => Event::deserialize(e),
            None => return Err(TamperReason::Body("no event in the envelope".into())),
        },
        other => return Err(TamperReason::UnknownEncoding(other)),
    };
    event.map_err(|e| TamperReason::Body(e.to_string()))
}

/// The hash of an entry whose body is in `encoding`.
pub fn entry_hash_in(encoding: u64, seq: u64, prev_hash: &str, body: &str) -> String {
    let domain = if encoding == 1 { DOMAIN_V1 } else { DOMAIN_V2 };
    let mut h = Sha256::new();
    h.update(domain.as_bytes());
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// The hash of an entry written now (encoding v2).
pub fn entry_hash(seq: u64, prev_hash: &str, body: &str) -> String {
    entry_hash_in(u64::from(CURRENT_ENCODING), seq, prev_hash, body)
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
            let body = encode_event(e);
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
        let event = decode_body(&self.body).map_err(|reason| TamperError {
            seq: self.seq,
            reason,
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
        // The hash is checked over the stored bytes, in the encoding the
        // body declares; a body that is not JSON cannot match any hash.
        let encoding = body_encoding(&r.body).map_or(1, |(v, _)| v);
        if entry_hash_in(encoding, r.seq, &r.prev_hash, &r.body) != r.hash {
            return Err(fail(TamperReason::Hash));
        }
        let entry = r.decode()?;
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
            content: None,
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
                    source: Default::default(),
                    cause: None,
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
            let body = encode_event(&e);
            let back = decode_body(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(encode_event(&back), body);
        }
    }
}
