use chrono::{DateTime, NaiveDate, Utc};
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
    /// Proof of the right: the office's registration (number, office,
    /// dates). Optional; recommended for trademarks. A right whose
    /// registration expired is kept but not enforced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

/// Longest accepted registration or application number, in bytes.
pub const MAX_REGISTRATION_NUMBER_LEN: usize = 64;

/// Offices commonly named; any other office code of 2 to 16 uppercase
/// letters or digits is accepted too (a national office's code).
pub const KNOWN_OFFICES: &[&str] = &["USPTO", "EUIPO", "WIPO", "JPO", "CNIPA", "UKIPO", "KIPO"];

/// A right's registration with an IP office: the proof a marketplace asks
/// for (Amazon Brand Registry: the number and office; TikTok Shop IPPC:
/// the certificate's validity period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The office's registration (or application) number, as it prints it.
    pub number: String,
    /// The office's code: `USPTO`, `EUIPO`, `WIPO`, `JPO`, `CNIPA`,
    /// `UKIPO`... (2 to 16 uppercase letters or digits).
    #[schema(pattern = "^[A-Z0-9]{2,16}$")]
    pub office: String,
    /// The registration date, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<NaiveDate>,
    /// The last day the registration is valid. The right is in force
    /// through this day (UTC) and not from 00:00 UTC the day after.
    pub expires_on: NaiveDate,
}

impl Registration {
    /// Checks every field; the error names it (`registration.number`...).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let number = self.number.trim();
        if number.is_empty() {
            return Err(ValidationError::new(
                "registration.number",
                "must not be empty: the office's registration or application number",
            ));
        }
        if number.len() > MAX_REGISTRATION_NUMBER_LEN {
            return Err(ValidationError::new(
                "registration.number",
                format!("the limit is {MAX_REGISTRATION_NUMBER_LEN} bytes"),
            ));
        }
        if !number
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.' | ',' | '(' | ')'))
        {
            return Err(ValidationError::new(
                "registration.number",
                "may hold only letters, digits, spaces and - / . , ( )",
            ));
        }
        let office = &self.office;
        if !(2..=16).contains(&office.len())
            || !office
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(ValidationError::new(
                "registration.office",
                format!(
                    "{office:?} is not an office code: 2 to 16 uppercase letters or digits ({}...)",
                    KNOWN_OFFICES.join(", ")
                ),
            ));
        }
        if let Some(on) = self.registered_on
            && self.expires_on <= on
        {
            return Err(ValidationError::new(
                "registration.expires_on",
                format!("{} is not after registered_on {on}", self.expires_on),
            ));
        }
        if self.expires_on.succ_opt().is_none() {
            return Err(ValidationError::new(
                "registration.expires_on",
                "is out of range",
            ));
        }
        Ok(())
    }

    /// The instant the registration stops being in force: 00:00 UTC the
    /// day after `expires_on`.
    pub fn lapses_at(&self) -> DateTime<Utc> {
        self.expires_on
            .succ_opt()
            .unwrap_or(NaiveDate::MAX)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }

    /// `USPTO 1234567, valid until 2030-01-31`.
    pub fn describe(&self) -> String {
        format!(
            "{} {}, valid until {}",
            self.office, self.number, self.expires_on
        )
    }
}

/// Where a right held for review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightReviewState {
    /// Held: not in force until a reviewer approves it.
    Pending,
    /// Approved by a reviewer: in force.
    Approved,
    /// Refused by a reviewer: kept, never in force.
    Refused,
}

impl RightReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            RightReviewState::Pending => "pending",
            RightReviewState::Approved => "approved",
            RightReviewState::Refused => "refused",
        }
    }
}

/// Another holder's right with the same mark, classes and regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RightConflict {
    pub right_id: String,
    pub holder_id: String,
    /// The name both rights carry, normalised as the gate normalises text.
    pub name: String,
}

/// Why a right is held for review, and what a reviewer decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RightReview {
    pub state: RightReviewState,
    /// The enabled rights of other holders that carry the same mark or an
    /// alias in overlapping Nice classes and regions.
    pub conflicts: Vec<RightConflict>,
    pub held_at: DateTime<Utc>,
    /// The reviewer's reason (approved or refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// Longest accepted reviewer's reason, in bytes.
pub const MAX_REVIEW_REASON_LEN: usize = 2_000;

/// A reviewer's outcome on a right held for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightReviewOutcome {
    Approve,
    Refuse,
}

/// The body of `POST /v1/rights/{id}/review`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RightReviewInput {
    /// `approve` or `refuse`.
    #[serde(default)]
    pub outcome: Option<RightReviewOutcome>,
    /// Why; shown to the holder.
    #[serde(default)]
    pub reason: String,
}

impl RightReviewInput {
    /// The outcome, once the reason is checked.
    pub fn validate(&self) -> Result<RightReviewOutcome, ValidationError> {
        let Some(outcome) = self.outcome else {
            return Err(ValidationError::new(
                "outcome",
                "is required: approve or refuse",
            ));
        };
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(ValidationError::new(
                "reason",
                "is required and must not be empty",
            ));
        }
        if reason.len() > MAX_REVIEW_REASON_LEN || reason.chars().any(|c| c == '\0') {
            return Err(ValidationError::new(
                "reason",
                format!("must be at most {MAX_REVIEW_REASON_LEN} bytes without NUL characters"),
            ));
        }
        Ok(outcome)
    }
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
        if let Some(reg) = &self.registration {
            reg.validate()?;
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
    /// The office's registration; a right is not enforced after its
    /// `expires_on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// Set when another holder's right carries the same mark in
    /// overlapping classes and regions: the right is not in force while
    /// pending or once refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<RightReview>,
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
            registration: new.registration.map(|mut r| {
                r.number = r.number.trim().to_string();
                r
            }),
            review: None,
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

    /// The instant the registration lapses (00:00 UTC the day after
    /// `expires_on`), for a right with a registration.
    pub fn lapses_at(&self) -> Option<DateTime<Utc>> {
        self.registration.as_ref().map(Registration::lapses_at)
    }

    /// True once the registration has lapsed: a right expiring on day D is
    /// in force through D (UTC) and expired from D+1 00:00 UTC.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.lapses_at().is_some_and(|t| now >= t)
    }

    /// True while held for review or refused on review.
    pub fn is_held(&self) -> bool {
        self.review
            .as_ref()
            .is_some_and(|r| r.state != RightReviewState::Approved)
    }

    /// True if the right is enforced at `now`: enabled, not expired, and
    /// not held for (or refused on) review.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.enabled && !self.is_expired(now) && !self.is_held()
    }

    /// Why the right is not enforced at `now`, in words a seller or holder
    /// can read; `None` while it is in force.
    pub fn not_in_force(&self, now: DateTime<Utc>) -> Option<String> {
        if !self.enabled {
            return Some(format!("right {} is disabled", self.id));
        }
        if self.is_expired(now)
            && let Some(reg) = &self.registration
        {
            return Some(format!(
                "right {} expired: its registration {} {} was valid until {}",
                self.id, reg.office, reg.number, reg.expires_on
            ));
        }
        match &self.review {
            Some(r) if r.state == RightReviewState::Pending => Some(format!(
                "right {} is held for review: another holder's right ({}) carries the same mark",
                self.id,
                r.conflicts
                    .iter()
                    .map(|c| c.right_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Some(r) if r.state == RightReviewState::Refused => Some(format!(
                "right {} was refused on review: {}",
                self.id,
                r.reason.as_deref().unwrap_or("")
            )),
            _ => None,
        }
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

    fn registered() -> NewRight {
        let mut r = nike();
        r.registration = Some(Registration {
            number: "3,456,789".into(),
            office: "USPTO".into(),
            registered_on: Some("2016-02-01".parse().unwrap()),
            expires_on: "2026-01-31".parse().unwrap(),
        });
        r
    }

    #[test]
    fn registration_is_optional_and_round_trips() {
        // Rights files written before registrations existed still load.
        let r = nike();
        assert!(r.registration.is_none());
        let r = registered();
        r.validate().unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""registration":{"number":"3,456,789","office":"USPTO","registered_on":"2016-02-01","expires_on":"2026-01-31"}"#), "{json}");
        assert_eq!(serde_json::from_str::<NewRight>(&json).unwrap(), r);
        let stored = Right::from_new(r, "nike".into(), Utc::now());
        let back: Right = serde_json::from_str(&serde_json::to_string(&stored).unwrap()).unwrap();
        assert_eq!(back, stored);
    }

    #[test]
    fn registration_names_the_bad_field() {
        let bad = |f: &dyn Fn(&mut Registration)| {
            let mut r = registered();
            if let Some(g) = r.registration.as_mut() {
                f(g);
            }
            r.validate().unwrap_err().field
        };
        assert_eq!(bad(&|g| g.number = " ".into()), "registration.number");
        assert_eq!(bad(&|g| g.number = "x".repeat(65)), "registration.number");
        assert_eq!(bad(&|g| g.number = "12\n34".into()), "registration.number");
        assert_eq!(bad(&|g| g.office = "usPTO".into()), "registration.office");
        assert_eq!(bad(&|g| g.office = "U".into()), "registration.office");
        assert_eq!(
            bad(&|g| g.office = "OFFICE-OF-X".into()),
            "registration.office"
        );
        assert_eq!(
            bad(&|g| g.expires_on = "2016-02-01".parse().unwrap()),
            "registration.expires_on"
        );
        assert_eq!(
            bad(&|g| g.expires_on = "2015-12-31".parse().unwrap()),
            "registration.expires_on"
        );
        // Any office code of the right shape.
        let mut r = registered();
        if let Some(g) = r.registration.as_mut() {
            g.office = "INPI".into();
            g.registered_on = None;
        }
        r.validate().unwrap();
        // Unknown fields and bad dates are parse errors naming them.
        for bad in [
            r#"{"number":"1","office":"JPO","expires_on":"2026-02-30"}"#,
            r#"{"number":"1","office":"JPO"}"#,
            r#"{"number":"1","office":"JPO","expires_on":"2030-01-01","certificate":"x"}"#,
        ] {
            let json = format!(
                r#"{{"id":"r","holder":"h","kind":"trademark","mark":"M","nice_classes":[25],"regions":["*"],"registration":{bad}}}"#
            );
            assert!(serde_json::from_str::<NewRight>(&json).is_err(), "{bad}");
        }
    }

    #[test]
    fn in_force_through_the_expiry_day_utc() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut r = Right::from_new(registered(), "nike".into(), t("2020-01-01T00:00:00Z"));
        assert_eq!(r.lapses_at(), Some(t("2026-02-01T00:00:00Z")));
        assert!(r.in_force(t("2026-01-31T23:59:59.999Z")));
        assert!(r.not_in_force(t("2026-01-31T23:59:59Z")).is_none());
        assert!(!r.in_force(t("2026-02-01T00:00:00Z")));
        let why = r.not_in_force(t("2026-02-01T00:00:00Z")).unwrap();
        assert!(
            why.contains("USPTO 3,456,789") && why.contains("2026-01-31"),
            "{why}"
        );
        // Held for review: out of force until approved.
        r.review = Some(RightReview {
            state: RightReviewState::Pending,
            conflicts: vec![RightConflict {
                right_id: "r-other".into(),
                holder_id: "other".into(),
                name: "nike".into(),
            }],
            held_at: t("2020-01-01T00:00:00Z"),
            reason: None,
            reviewed_by: None,
            reviewed_at: None,
        });
        let now = t("2024-01-01T00:00:00Z");
        assert!(!r.in_force(now));
        assert!(r.not_in_force(now).unwrap().contains("r-other"));
        if let Some(v) = r.review.as_mut() {
            v.state = RightReviewState::Approved;
        }
        assert!(r.in_force(now));
        if let Some(v) = r.review.as_mut() {
            v.state = RightReviewState::Refused;
        }
        assert!(!r.in_force(now));
        // A right without a registration never expires.
        let plain = Right::from_new(nike(), "nike".into(), now);
        assert!(plain.in_force(t("2999-01-01T00:00:00Z")));
    }

    #[test]
    fn review_input_names_the_bad_field() {
        let input: RightReviewInput =
            serde_json::from_str(r#"{"outcome":"approve","reason":"coexistence agreement"}"#)
                .unwrap();
        assert_eq!(input.validate().unwrap(), RightReviewOutcome::Approve);
        assert_eq!(
            RightReviewInput::default().validate().unwrap_err().field,
            "outcome"
        );
        let blank = RightReviewInput {
            outcome: Some(RightReviewOutcome::Refuse),
            reason: "  ".into(),
        };
        assert_eq!(blank.validate().unwrap_err().field, "reason");
        assert!(serde_json::from_str::<RightReviewInput>(r#"{"outcome":"maybe"}"#).is_err());
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
