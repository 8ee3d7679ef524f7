//! The queue's message format, version 1 (see `docs/queue.md`).
//!
//! A work message carries a batch of listings of one scan run; a result
//! message answers one work message with a decision or an error per
//! listing. Both are JSON objects whose field `v` is the format version;
//! a reader refuses a version it does not know instead of guessing.

use serde::{Deserialize, Serialize};
use shopshield_model::{Decision, Listing};

use crate::QueueError;

/// The version of the message format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// A batch of listings to screen, published to `NAME.work`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkMessage {
    /// Format version ([`FORMAT_VERSION`]).
    pub v: u32,
    /// The scan run: answers go to `NAME.results.RUN`.
    pub run: String,
    /// The batch's number within the run, from 0.
    pub batch: u64,
    /// The absolute directory relative image paths in the listings resolve
    /// against (the listings file's directory); absent: `data:` URLs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    pub items: Vec<WorkItem>,
}

/// One listing of a batch and the input line it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkItem {
    pub line: u64,
    pub listing: Listing,
}

/// The answer to one work message, published to `NAME.results.RUN` once
/// every decision of the batch is committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMessage {
    pub v: u32,
    pub run: String,
    pub batch: u64,
    /// In the order of the work message's items.
    pub items: Vec<ItemResult>,
}

/// What became of one listing: its committed decision, or why it could
/// not be screened (bad input: the field and the reason).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// False when an identical earlier submission's decision was answered
    /// (a duplicate or a redelivery).
    #[serde(default)]
    pub created: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ItemResult {
    /// The decision, or the error message.
    pub fn outcome(self) -> Result<(Decision, bool), String> {
        match (self.decision, self.error) {
            (Some(d), None) => Ok((d, self.created)),
            (_, Some(e)) => Err(e),
            (None, None) => Err("the worker answered neither a decision nor an error".into()),
        }
    }
}

fn check_version(v: u32, what: &str) -> Result<(), QueueError> {
    if v == FORMAT_VERSION {
        Ok(())
    } else {
        Err(QueueError::Format(format!(
            "{what} has format version {v}; this build reads version {FORMAT_VERSION}"
        )))
    }
}

/// Reads a work message.
pub fn decode_work(payload: &[u8]) -> Result<WorkMessage, QueueError> {
    let m: WorkMessage = serde_json::from_slice(payload)
        .map_err(|e| QueueError::Format(format!("work message: {e}")))?;
    check_version(m.v, "work message")?;
    crate::names::check_token("run", &m.run)?;
    Ok(m)
}

/// Reads a result message.
pub fn decode_result(payload: &[u8]) -> Result<ResultMessage, QueueError> {
    let m: ResultMessage = serde_json::from_slice(payload)
        .map_err(|e| QueueError::Format(format!("result message: {e}")))?;
    check_version(m.v, "result message")?;
    Ok(m)
}

/// Writes a work message from items already encoded as JSON (so that a
/// publisher can size batches without encoding twice).
pub fn encode_work(run: &str, batch: u64, base: Option<&str>, items: &[Vec<u8>]) -> Vec<u8> {
    let head = serde_json::json!({
        "v": FORMAT_VERSION,
        "run": run,
        "batch": batch,
        "base": base,
    });
    let mut out = serde_json::to_vec(&head).unwrap_or_default();
    // Replace the closing brace with the items array.
    out.pop();
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Encodes one work item.
pub fn encode_item(line: u64, listing: &Listing) -> Result<Vec<u8>, QueueError> {
    #[derive(Serialize)]
    struct Ref<'a> {
        line: u64,
        listing: &'a Listing,
    }
    serde_json::to_vec(&Ref { line, listing })
        .map_err(|e| QueueError::Format(format!("line {line}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(id: &str) -> Listing {
        serde_json::from_value(serde_json::json!({
            "id": id, "shop_id": "s-1", "region": "US", "category": "apparel",
            "title": "Plain cotton tee", "price": {"amount": 9.99, "currency": "USD"}
        }))
        .expect("test listing")
    }

    #[test]
    fn work_messages_round_trip() {
        let items = vec![
            encode_item(3, &listing("a")).unwrap(),
            encode_item(7, &listing("b")).unwrap(),
        ];
        let bytes = encode_work("r1", 4, Some("/data"), &items);
        let m = decode_work(&bytes).unwrap();
        assert_eq!(m.v, FORMAT_VERSION);
        assert_eq!(
            (m.run.as_str(), m.batch, m.base.as_deref()),
            ("r1", 4, Some("/data"))
        );
        assert_eq!(m.items.len(), 2);
        assert_eq!(m.items[1].line, 7);
        assert_eq!(m.items[1].listing, listing("b"));
        let bare = decode_work(&encode_work("r1", 0, None, &[])).unwrap();
        assert_eq!(bare.base, None);
        assert!(bare.items.is_empty());
    }

    #[test]
    fn unknown_versions_and_bad_runs_are_refused() {
        let mut v: serde_json::Value =
            serde_json::from_slice(&encode_work("r1", 0, None, &[])).unwrap();
        v["v"] = 2.into();
        let err = decode_work(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().contains("format version 2"), "{err}");
        v["v"] = 1.into();
        v["run"] = "a.b".into();
        let err = decode_work(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(err.to_string().contains("run"), "{err}");
        let err = decode_result(br#"{"v":9,"run":"r","batch":0,"items":[]}"#).unwrap_err();
        assert!(err.to_string().contains("format version 9"), "{err}");
    }

    #[test]
    fn an_item_is_a_decision_or_an_error() {
        let e = ItemResult {
            line: 1,
            decision: None,
            created: false,
            error: Some("title: empty".into()),
        };
        assert_eq!(e.outcome(), Err("title: empty".to_string()));
        let none = ItemResult {
            line: 1,
            decision: None,
            created: false,
            error: None,
        };
        assert!(none.outcome().is_err());
    }
}
