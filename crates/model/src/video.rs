use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{check_content_parties, check_text};
use crate::{Region, ValidationError, validate_id};

/// Longest accepted caption, in bytes.
pub const MAX_CAPTION_LEN: usize = 5_000;
/// Most hashtags one video may carry.
pub const MAX_HASHTAGS: usize = 100;
/// Longest hashtag, in bytes.
pub const MAX_HASHTAG_LEN: usize = 200;
/// Most transcript segments one video may carry.
pub const MAX_SEGMENTS: usize = 10_000;
/// Longest transcript segment, in bytes.
pub const MAX_SEGMENT_LEN: usize = 2_000;
/// Most showcased products one video may carry.
pub const MAX_PRODUCTS: usize = 100;

/// One stretch of speech (or on-screen text) with its time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// Seconds from the start of the video.
    pub start: f64,
    /// Seconds from the start; at least `start`.
    pub end: f64,
    pub text: String,
}

/// A short video: one line of a videos JSONL file (`scan --kind video`), or
/// the body of `POST /v1/videos`. Fields other than these are kept in
/// `extra` and stored, but not screened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Video {
    pub id: String,
    /// The creator who posted it.
    pub creator_id: String,
    /// The shop whose products it showcases, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<String>,
    /// The region it is shown in (never `*`).
    pub region: Region,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Hashtags, with or without `#`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    /// What is said, with times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<Segment>,
    /// Ids of the listings the video showcases (shop window, product pins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// The video: an MP4 or WebM file, as a path relative to the JSONL file
    /// or a `data:` URL (over HTTP, `data:` URLs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    /// Or its vPDQ hash list (Meta's `frameNumber,quality,pdqHex,timestamp`
    /// lines), when the platform hashed it already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpdq: Option<String>,
    /// Any other fields the platform sends; kept, not screened.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Video {
    /// The id decisions and enforcement use: `video:{id}`, so a video and a
    /// listing with the same platform id never share a case.
    pub fn subject_id(&self) -> String {
        format!("video:{}", self.id)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_content_parties(
            "a video",
            &self.id,
            &self.creator_id,
            self.shop_id.as_deref(),
            self.region,
        )?;
        if let Some(c) = &self.caption {
            check_text("caption", c, MAX_CAPTION_LEN)?;
        }
        if self.hashtags.len() > MAX_HASHTAGS {
            return Err(ValidationError::new(
                "hashtags",
                format!(
                    "has {} entries; the limit is {MAX_HASHTAGS}",
                    self.hashtags.len()
                ),
            ));
        }
        for (i, h) in self.hashtags.iter().enumerate() {
            check_text(&format!("hashtags[{i}]"), h, MAX_HASHTAG_LEN)?;
        }
        if self.transcript.len() > MAX_SEGMENTS {
            return Err(ValidationError::new(
                "transcript",
                format!(
                    "has {} segments; the limit is {MAX_SEGMENTS}",
                    self.transcript.len()
                ),
            ));
        }
        for (i, s) in self.transcript.iter().enumerate() {
            let field = format!("transcript[{i}]");
            if !(s.start.is_finite() && s.start >= 0.0) {
                return Err(ValidationError::new(
                    format!("{field}.start"),
                    "must be a number of seconds >= 0",
                ));
            }
            if !(s.end.is_finite() && s.end >= s.start) {
                return Err(ValidationError::new(
                    format!("{field}.end"),
                    "must be a number of seconds >= start",
                ));
            }
            check_text(&format!("{field}.text"), &s.text, MAX_SEGMENT_LEN)?;
        }
        if self.products.len() > MAX_PRODUCTS {
            return Err(ValidationError::new(
                "products",
                format!(
                    "has {} entries; the limit is {MAX_PRODUCTS}",
                    self.products.len()
                ),
            ));
        }
        for (i, p) in self.products.iter().enumerate() {
            validate_id(&format!("products[{i}]"), p)?;
        }
        if self.media.is_some() && self.vpdq.is_some() {
            return Err(ValidationError::new(
                "vpdq",
                "send the video as media or as its vpdq hash list, not both",
            ));
        }
        if let Some(m) = &self.media
            && m.is_empty()
        {
            return Err(ValidationError::new("media", "must not be empty"));
        }
        if let Some(v) = &self.vpdq
            && v.len() > crate::MAX_VPDQ_LEN
        {
            return Err(ValidationError::new(
                "vpdq",
                format!("is longer than {} bytes", crate::MAX_VPDQ_LEN),
            ));
        }
        Ok(())
    }

    /// SHA-256 of the video's canonical JSON: equal content, equal hash.
    pub fn content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r##"{"id":"v-1","creator_id":"c-3","shop_id":"shop-9","region":"US","caption":"my new watch","hashtags":["#watch"],"transcript":[{"start":72,"end":79,"text":"look at this"}],"products":["l-1"],"vpdq":"0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000","views":10}"##;

    #[test]
    fn documented_example_parses_and_keeps_extra_fields() {
        let v: Video = serde_json::from_str(EXAMPLE).unwrap();
        v.validate().unwrap();
        assert_eq!(v.extra["views"], 10);
        assert_eq!(v.subject_id(), "video:v-1");
    }

    #[test]
    fn names_the_bad_field() {
        let base: Video = serde_json::from_str(EXAMPLE).unwrap();
        let mut v = base.clone();
        v.transcript[0].end = 10.0;
        assert_eq!(v.validate().unwrap_err().field, "transcript[0].end");
        let mut v = base.clone();
        v.transcript[0].start = f64::NAN;
        assert_eq!(v.validate().unwrap_err().field, "transcript[0].start");
        let mut v = base.clone();
        v.products.push("a b".into());
        assert_eq!(v.validate().unwrap_err().field, "products[1]");
        let mut v = base.clone();
        v.media = Some("clip.mp4".into());
        assert_eq!(v.validate().unwrap_err().field, "vpdq");
        let mut v = base;
        v.region = Region::ALL;
        assert_eq!(v.validate().unwrap_err().field, "region");
    }
}
