use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Money, NiceClass, Region, ValidationError, validate_id, validate_nice_class};

/// Longest accepted mark or alias, in bytes.
pub const MAX_MARK_LEN: usize = 200;
/// Most aliases one right may carry.
pub const MAX_ALIASES: usize = 64;
/// Most authorised sellers one right may list.
pub const MAX_AUTHORIZED_SELLERS: usize = 10_000;

/// A company or person that owns rights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RightsHolder {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What kind of right is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightKind {
    /// A word mark with aliases, registered in Nice classes and regions.
    Trademark,
    /// A figurative mark: an image of a logo.
    Logo,
    /// A copyrighted product photo.
    CopyrightImage,
    /// A copyrighted video clip, matched by vPDQ frame hashes.
    CopyrightVideo,
}

impl RightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RightKind::Trademark => "trademark",
            RightKind::Logo => "logo",
            RightKind::CopyrightImage => "copyright_image",
            RightKind::CopyrightVideo => "copyright_video",
        }
    }
}

/// A right as submitted by a rights holder (one line of a rights JSONL file,
/// or the body of `POST /v1/rights`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRight {
    pub id: String,
    /// The holder: its id, or its name (a new holder is created for an
    /// unknown name when importing).
    pub holder: String,
    pub kind: RightKind,
    /// The word mark (required for `trademark`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// Other spellings of the mark (`NIKE`, `ナイキ`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Nice classes the mark is registered in (required for `trademark`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nice_classes: Vec<NiceClass>,
    /// Regions the right is registered in; `*` is every region.
    pub regions: Vec<Region>,
    /// Shop ids allowed to use the mark.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_sellers: Vec<String>,
    /// Genuine goods are not sold below this price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_floor: Option<Money>,
    /// For `logo` and `copyright_image`: a path relative to the rights file,
    /// or a `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// For `copyright_video`: the clip (an MP4 or WebM file) or its vPDQ
    /// hash list (Meta's `frameNumber,quality,pdqHex,timestamp` lines), as a
    /// path relative to the rights file or a `data:` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<String>,
    /// For `copyright_video`: the vPDQ hash list itself, instead of `video`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpdq: Option<String>,
}

/// Longest accepted inline vPDQ hash list, in bytes (about 100,000 frames).
pub const MAX_VPDQ_LEN: usize = 10 * 1024 * 1024;

impl NewRight {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("id", &self.id)?;
        let holder = self.holder.trim();
        if holder.is_empty() || holder.len() > 200 {
            return Err(ValidationError::new("holder", "must be 1 to 200 bytes"));
        }
        match self.kind {
            RightKind::Trademark => {
                let mark = self.mark.as_deref().unwrap_or("");
                check_mark("mark", mark)?;
                if self.nice_classes.is_empty() {
                    return Err(ValidationError::new(
                        "nice_classes",
                        "a trademark must name at least one Nice class",
                    ));
                }
                if self.image.is_some() {
                    return Err(ValidationError::new(
                        "image",
                        "a trademark is a word mark; register a logo as kind \"logo\"",
                    ));
                }
                if self.video.is_some() || self.vpdq.is_some() {
                    return Err(ValidationError::new(
                        "video",
                        "a trademark is a word mark; register a clip as kind \"copyright_video\"",
                    ));
                }
            }
            RightKind::CopyrightVideo => {
                let video = self.video.as_deref().is_some_and(|v| !v.is_empty());
                let vpdq = self.vpdq.as_deref().is_some_and(|v| !v.trim().is_empty());
                if video == vpdq {
                    return Err(ValidationError::new(
                        "video",
                        "a copyright_video right needs exactly one of video (a file or a data: URL of an MP4, WebM or vPDQ hash list) and vpdq (the hash list)",
                    ));
                }
                if self.image.is_some() {
                    return Err(ValidationError::new(
                        "image",
                        "a copyright_video right is a video; register its frames with video or vpdq",
                    ));
                }
                if self.vpdq.as_ref().is_some_and(|v| v.len() > MAX_VPDQ_LEN) {
                    return Err(ValidationError::new(
                        "vpdq",
                        format!("is longer than {MAX_VPDQ_LEN} bytes"),
                    ));
                }
                if let Some(mark) = &self.mark {
                    check_mark("mark", mark)?;
                }
            }
            RightKind::Logo | RightKind::CopyrightImage => {
                if self.video.is_some() || self.vpdq.is_some() {
                    return Err(ValidationError::new(
                        "video",
                        format!(
                            "a {} right is an image; videos are registered as kind \"copyright_video\"",
                            self.kind.as_str()
                        ),
                    ));
                }
                if self.image.as_deref().unwrap_or("").is_empty() {
                    return Err(ValidationError::new(
                        "image",
                        format!("a {} right needs an image", self.kind.as_str()),
                    ));
                }
                if let Some(mark) = &self.mark {
                    check_mark("mark", mark)?;
                }
            }
        }
        if self.aliases.len() > MAX_ALIASES {
            return Err(ValidationError::new(
                "aliases",
                format!(
                    "has {} entries; the limit is {MAX_ALIASES}",
                    self.aliases.len()
                ),
            ));
        }
        for (i, a) in self.aliases.iter().enumerate() {
            check_mark(&format!("aliases[{i}]"), a)?;
        }
        for (i, c) in self.nice_classes.iter().enumerate() {
            validate_nice_class(&format!("nice_classes[{i}]"), i64::from(*c))?;
        }
        if self.regions.is_empty() {
            return Err(ValidationError::new(
                "regions",
                "must name at least one region, or \"*\" for all",
            ));
        }
        if self.authorized_sellers.len() > MAX_AUTHORIZED_SELLERS {
            return Err(ValidationError::new(
                "authorized_sellers",
                format!("the limit is {MAX_AUTHORIZED_SELLERS} entries"),
            ));
        }
        for (i, s) in self.authorized_sellers.iter().enumerate() {
            validate_id(&format!("authorized_sellers[{i}]"), s)?;
        }
        if let Some(p) = &self.price_floor {
            p.validate("price_floor")?;
        }
        if let Some(img) = &self.image
            && img.len() > 16 * 1024 * 1024
        {
            return Err(ValidationError::new("image", "is longer than 16 MiB"));
        }
        Ok(())
    }

    /// The mark followed by its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.mark
            .iter()
            .map(String::as_str)
            .chain(self.aliases.iter().map(String::as_str))
    }
}

fn check_mark(field: &str, mark: &str) -> Result<(), ValidationError> {
    if mark.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if mark.len() > MAX_MARK_LEN {
        return Err(ValidationError::new(
            field,
            format!("is {} bytes; the limit is {MAX_MARK_LEN}", mark.len()),
        ));
    }
    if mark.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "contains a control character"));
    }
    Ok(())
}

/// One PDQ hash of a registered image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImageHash {
    /// Which view of the image: `full`, `trim`, `crop10`...
    pub view: String,
    /// The 256-bit PDQ hash, 64 hex digits.
    pub pdq: String,
    /// PDQ quality, 0 to 100.
    pub quality: u8,
    /// True for a hash that must never match (a flat or degenerate image).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degenerate: bool,
}

/// A registered right, as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Right {
    pub id: String,
    /// The holder's id.
    pub holder_id: String,
    pub kind: RightKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub nice_classes: Vec<NiceClass>,
    pub regions: Vec<Region>,
    #[serde(default)]
    pub authorized_sellers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_floor: Option<Money>,
    /// For image rights: the PDQ hashes of the registered image, one per
    /// view (the whole image, its border-trimmed version, crops...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_hashes: Vec<ImageHash>,
    /// For `copyright_video`: the registered clip's vPDQ frame hashes, in
    /// Meta's line format (`frameNumber,quality,pdqHex,timestamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpdq: Option<String>,
    /// A disabled right is kept but no longer enforced.
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Right {
    /// Builds the registry's record from a validated submission.
    pub fn from_new(new: NewRight, holder_id: String, now: DateTime<Utc>) -> Right {
        Right {
            id: new.id,
            holder_id,
            kind: new.kind,
            mark: new.mark.map(|m| m.trim().to_string()),
            aliases: new
                .aliases
                .into_iter()
                .map(|a| a.trim().to_string())
                .collect(),
            nice_classes: new.nice_classes,
            regions: new.regions,
            authorized_sellers: new.authorized_sellers,
            price_floor: new.price_floor,
            image_hashes: Vec::new(),
            vpdq: new.vpdq,
            enabled: true,
            created_at: now,
            updated_at: now,
        }
    }

    /// The mark followed by its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.mark
            .iter()
            .map(String::as_str)
            .chain(self.aliases.iter().map(String::as_str))
    }

    /// True if `shop_id` may use this right.
    pub fn authorizes(&self, shop_id: &str) -> bool {
        self.authorized_sellers.iter().any(|s| s == shop_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nike() -> NewRight {
        serde_json::from_str(
            r#"{"id":"r-nike","holder":"Nike, Inc.","kind":"trademark","mark":"Nike","aliases":["NIKE"],"nice_classes":[25,28],"regions":["*"],"authorized_sellers":["shop-nike"],"price_floor":{"amount":60,"currency":"USD"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn documented_example_is_valid() {
        let r = nike();
        r.validate().unwrap();
        assert_eq!(r.names().collect::<Vec<_>>(), ["Nike", "NIKE"]);
    }

    #[test]
    fn names_the_bad_field() {
        let mut r = nike();
        r.nice_classes = vec![25, 50];
        assert_eq!(r.validate().unwrap_err().field, "nice_classes[1]");
        let mut r = nike();
        r.mark = None;
        assert_eq!(r.validate().unwrap_err().field, "mark");
        let mut r = nike();
        r.regions.clear();
        assert_eq!(r.validate().unwrap_err().field, "regions");
        let mut r = nike();
        r.kind = RightKind::Logo;
        assert_eq!(r.validate().unwrap_err().field, "image");
        let mut r = nike();
        r.price_floor = Some(Money::new(-1.0, "USD"));
        assert_eq!(r.validate().unwrap_err().field, "price_floor.amount");
        let mut r = nike();
        r.aliases.push(" ".into());
        assert_eq!(r.validate().unwrap_err().field, "aliases[1]");
    }

    #[test]
    fn unknown_region_is_a_parse_error() {
        let e = serde_json::from_str::<NewRight>(
            r#"{"id":"r","holder":"h","kind":"trademark","mark":"M","nice_classes":[25],"regions":["XX"]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("XX"), "{e}");
    }
}
