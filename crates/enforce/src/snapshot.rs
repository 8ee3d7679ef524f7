//! Snapshots of the folded state, so a process starts from one and replays
//! only the log entries after it instead of the whole log.
//!
//! A snapshot is `{"state":STATE,"v":1}` as JSON. It is a cache, not a
//! record: the log stays the truth, a snapshot is used only while the log
//! still holds the very entry it was taken at (same `seq`, same hash), and
//! one this version cannot read is ignored and the log replayed in full.

use crate::state::State;

/// The snapshot encoding written now.
pub const SNAPSHOT_ENCODING: u64 = 1;

/// A snapshot that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot is not JSON: {0}")]
    Syntax(String),
    #[error("snapshot encoding {0} is unknown to this version")]
    Encoding(u64),
    #[error("snapshot state does not decode: {0}")]
    State(String),
}

/// Encodes a state.
pub fn encode_state(state: &State) -> Vec<u8> {
    let value = serde_json::json!({ "state": state, "v": SNAPSHOT_ENCODING });
    // Plain data: serialising a JSON value cannot fail.
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Decodes a state written by [`encode_state`].
pub fn decode_state(bytes: &[u8]) -> Result<State, SnapshotError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Syntax(e.to_string()))?;
    match value.get("v").and_then(serde_json::Value::as_u64) {
        Some(SNAPSHOT_ENCODING) => {}
        Some(other) => return Err(SnapshotError::Encoding(other)),
        None => return Err(SnapshotError::Syntax("no encoding number".into())),
    }
    let state = value
        .get("state")
        .ok_or_else(|| SnapshotError::Syntax("no state".into()))?;
    serde::Deserialize::deserialize(state).map_err(|e| SnapshotError::State(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let s = State::new();
        assert_eq!(decode_state(&encode_state(&s)), Ok(s));
        assert!(matches!(decode_state(b"{"), Err(SnapshotError::Syntax(_))));
        assert_eq!(
            decode_state(br#"{"v":9,"state":{}}"#),
            Err(SnapshotError::Encoding(9))
        );
    }
}
