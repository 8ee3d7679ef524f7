use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{Decision, Listing, Right, Role, Video};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened, read or written.
    #[error("database error: {0}")]
    Database(String),
    /// A write clashed with existing data (a taken id, a stale version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be read back (a bug or a hand-edited file).
    #[error("corrupt record {what}: {reason}")]
    Corrupt { what: String, reason: String },
}

/// A right with the bytes of its registered image and the local features
/// computed from it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct RightRecord {
    pub right: Right,
    pub image: Option<Vec<u8>>,
    /// The logo's keypoint features in their stored encoding (see
    /// `shopshield-keypoints`), so no process decodes the image again.
    pub features: Option<Vec<u8>>,
}

impl RightRecord {
    /// A right without image or features (a word mark).
    pub fn plain(right: Right) -> RightRecord {
        RightRecord {
            right,
            image: None,
            features: None,
        }
    }
}

/// A right as it changed: what a process needs to bring its engine and
/// image banks up to date, without the image bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct RightChange {
    pub right: Right,
    pub features: Option<Vec<u8>>,
    /// Whether an image is stored (fetch it with `right_image`).
    pub has_image: bool,
    /// The registry version of the right's last change.
    pub version: u64,
}

/// One stored version of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredListing {
    pub listing: Listing,
    pub version: u32,
    pub content_hash: String,
    pub submitted_at: DateTime<Utc>,
}

/// A listing version and the decision taken on it, to be stored together.
#[derive(Debug, Clone, PartialEq)]
pub struct Screened {
    pub listing: Listing,
    pub version: u32,
    pub content_hash: String,
    pub decision: Decision,
    /// The listing's entries in the sweep index (see
    /// [`SweepStore`](crate::SweepStore)): they replace the listing's
    /// previous entries in the same transaction. Empty: the listing is
    /// taken out of the index (it is not live).
    pub terms: Vec<String>,
}

/// One stored version of a short video, with the decision taken on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVideo {
    pub video: Video,
    pub version: u32,
    pub content_hash: String,
    pub decision: Decision,
    pub submitted_at: DateTime<Utc>,
}

/// A livestream session as stored: its document (the session's state, in
/// the service's own encoding) beside the columns queried on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredStream {
    pub id: String,
    pub host_id: String,
    /// `live` or `stopped`: a stopped stream is never live again.
    pub status: String,
    pub doc: serde_json::Value,
    pub updated_at: DateTime<Utc>,
}

/// An API key's record. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// SHA-256 of the secret, hex.
    pub key_hash: String,
    pub role: Role,
    /// For `rights_holder` keys: the holder they act for.
    pub holder_id: Option<String>,
    /// For `seller` keys: the shop they act for.
    pub shop_id: Option<String>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// For `creator` keys: the creator they act for.
    #[serde(default)]
    pub creator_id: Option<String>,
    /// The principal the key belongs to: its identity in enforcement
    /// records. Several keys may share one (rotation); the label is only
    /// for display.
    pub principal_id: String,
}

/// Keyset pagination: items after `after`, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub after: Option<String>,
    pub limit: usize,
}

impl Page {
    pub fn first(limit: usize) -> Page {
        Page { after: None, limit }
    }
}
