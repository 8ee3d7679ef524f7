//! Livestreams: a session opened by a host, the events it sends while
//! live, and the action the engine answers each event with.

use serde::{Deserialize, Serialize};

use crate::ids::{check_content_parties, check_text};
use crate::{Decision, Region, ValidationError, Violation, validate_id};

/// Longest transcript segment of a stream event, in bytes.
pub const MAX_STREAM_TEXT_LEN: usize = 2_000;
/// Longest stream title, in bytes.
pub const MAX_STREAM_TITLE_LEN: usize = 500;

/// `POST /v1/streams`: a livestream about to go live (or the metadata line
/// of a recorded stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStream {
    pub id: String,
    /// The host: the creator who streams. Warnings, stops and points are
    /// theirs.
    pub creator_id: String,
    /// The shop whose products are pinned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    /// The region it is shown in (never `*`).
    pub region: Region,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl NewStream {
    /// The id decisions and enforcement use: `stream:{id}`.
    pub fn subject_id(&self) -> String {
        format!("stream:{}", self.id)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        check_content_parties(
            "a stream",
            &self.id,
            &self.creator_id,
            self.shop_id.as_deref(),
            self.region,
        )?;
        if let Some(t) = &self.title {
            check_text("title", t, MAX_STREAM_TITLE_LEN)?;
        }
        Ok(())
    }
}

/// What happened in a live stream, `t` seconds after it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum StreamEvent {
    /// Something said (speech to text), from `t` to `end` (default `t`).
    Transcript {
        t: f64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end: Option<f64>,
    },
    /// A frame: an image (a `data:` URL, or a path relative to a replayed
    /// file) or its PDQ hash (64 hex digits).
    Frame {
        t: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pdq: Option<String>,
    },
    /// A product pinned to the stream: a listing id.
    Product { t: f64, listing_id: String },
}

impl StreamEvent {
    /// Seconds since the stream started.
    pub fn t(&self) -> f64 {
        match self {
            StreamEvent::Transcript { t, .. }
            | StreamEvent::Frame { t, .. }
            | StreamEvent::Product { t, .. } => *t,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let t = self.t();
        if !(t.is_finite() && t >= 0.0) {
            return Err(ValidationError::new(
                "t",
                "must be a number of seconds >= 0",
            ));
        }
        match self {
            StreamEvent::Transcript { text, end, .. } => {
                check_text("text", text, MAX_STREAM_TEXT_LEN)?;
                if let Some(e) = end
                    && !(e.is_finite() && *e >= t)
                {
                    return Err(ValidationError::new(
                        "end",
                        "must be a number of seconds >= t",
                    ));
                }
            }
            StreamEvent::Frame { image, pdq, .. } => match (image, pdq) {
                (Some(_), Some(_)) => {
                    return Err(ValidationError::new(
                        "pdq",
                        "send the frame as image or as pdq, not both",
                    ));
                }
                (None, None) => {
                    return Err(ValidationError::new(
                        "image",
                        "a frame needs image (the picture) or pdq (its hash)",
                    ));
                }
                (Some(i), None) if i.is_empty() => {
                    return Err(ValidationError::new("image", "must not be empty"));
                }
                (None, Some(h)) if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    return Err(ValidationError::new(
                        "pdq",
                        "must be a PDQ hash: 64 hexadecimal digits",
                    ));
                }
                _ => {}
            },
            StreamEvent::Product { listing_id, .. } => validate_id("listing_id", listing_id)?,
        }
        Ok(())
    }
}

/// What the host's app does after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamActionKind {
    /// Nothing wrong in the window.
    Continue,
    /// Tell the host what is wrong (`reason`); the stream goes on.
    Warn,
    /// Take the pinned product (`listing_id`) off the stream.
    Unpin,
    /// End the stream now; it cannot resume (`decision` says why).
    Stop,
}

/// The engine's answer to one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamAction {
    /// The event's time, seconds since the stream started.
    pub t: f64,
    pub action: StreamActionKind,
    /// A sentence the host can read (warn, unpin, stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The product to unpin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    /// Warnings given to the host so far, this one included.
    pub warnings: u32,
    /// The window's score: the strongest violation in it (0 when clean).
    pub score: f64,
    /// What this event added to the window, with evidence and times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// The stop decision (stop only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_and_name_bad_fields() {
        let e: StreamEvent =
            serde_json::from_str(r#"{"type":"transcript","t":3.5,"text":"hello"}"#).unwrap();
        e.validate().unwrap();
        assert_eq!(e.t(), 3.5);
        let e: StreamEvent = serde_json::from_str(r#"{"type":"frame","t":1}"#).unwrap();
        assert_eq!(e.validate().unwrap_err().field, "image");
        let e: StreamEvent = serde_json::from_str(r#"{"type":"frame","t":1,"pdq":"abc"}"#).unwrap();
        assert_eq!(e.validate().unwrap_err().field, "pdq");
        let e: StreamEvent =
            serde_json::from_str(r#"{"type":"product","t":-1,"listing_id":"l-1"}"#).unwrap();
        assert_eq!(e.validate().unwrap_err().field, "t");
        let e: StreamEvent =
            serde_json::from_str(r#"{"type":"transcript","t":5,"end":4,"text":"x"}"#).unwrap();
        assert_eq!(e.validate().unwrap_err().field, "end");
        assert!(serde_json::from_str::<StreamEvent>(r#"{"type":"chat","t":1}"#).is_err());
    }

    #[test]
    fn a_stream_names_one_region() {
        let s: NewStream =
            serde_json::from_str(r#"{"id":"s-1","creator_id":"c-1","region":"*"}"#).unwrap();
        assert_eq!(s.validate().unwrap_err().field, "region");
        assert_eq!(s.subject_id(), "stream:s-1");
    }
}
