//! Rights holders' notices and sellers' counter-notices.
//!
//! A notice names the right it relies on and 1 to [`MAX_NOTICE_ITEMS`]
//! items, and carries what the law asks of it: 17 U.S.C. §512(c)(3) (the
//! work, each item's material and location, the complainant's contact
//! details, a good-faith statement, an accuracy statement under penalty of
//! perjury, a signature) and DSA Art. 16(2) (a substantiated explanation,
//! the exact location, name and email, a bona fide statement). Statements
//! are booleans that must be `true`; text fields must not be empty. A
//! counter-notice carries §512(g)(3)'s elements.
//!
//! Validation reports the first missing or invalid element by its field
//! path (`statements.good_faith`, `items[3].id`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::ids::{check_text, validate_id};

/// Most items one notice may name.
pub const MAX_NOTICE_ITEMS: usize = 300;
/// Longest explanation or description, in bytes.
pub const MAX_NOTICE_TEXT_LEN: usize = 8_192;
/// Longest name, address, signature or other short field, in bytes.
pub const MAX_NOTICE_FIELD_LEN: usize = 1_024;

/// What kind of content a notice item names: a listing, a short video or a
/// livestream (their creator answers them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeItemKind {
    Listing,
    Video,
    Stream,
}

impl NoticeItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeItemKind::Listing => "listing",
            NoticeItemKind::Video => "video",
            NoticeItemKind::Stream => "stream",
        }
    }
}

/// One piece of content a notice says infringes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeItem {
    /// `listing`, `video` or `stream`.
    #[serde(default)]
    pub kind: Option<NoticeItemKind>,
    /// The listing's or video's id: the exact location of the material on
    /// the platform (§512(c)(3)(A)(iii), DSA Art. 16(2)(b)).
    #[serde(default)]
    pub id: String,
    /// Identification of the material claimed to infringe
    /// (§512(c)(3)(A)(iii)): what in the listing infringes.
    #[serde(default)]
    pub material: String,
}

/// The person who files the notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Complainant {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// A postal address or a phone number is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// The statements a notice must make, each `true`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeStatements {
    /// §512(c)(3)(A)(v): a good-faith belief that the use is not
    /// authorised by the owner, its agent or the law.
    #[serde(default)]
    pub good_faith: bool,
    /// §512(c)(3)(A)(vi): the notice is accurate, and, under penalty of
    /// perjury, the complainant is authorised to act for the owner.
    #[serde(default)]
    pub accuracy_under_penalty_of_perjury: bool,
    /// DSA Art. 16(2)(d): a bona fide belief that the notice is accurate
    /// and complete.
    #[serde(default)]
    pub bona_fide: bool,
}

/// A rights holder's notice, as filed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    /// Chosen by the filer: filing again with the same id and content
    /// answers the stored receipt.
    #[serde(default)]
    pub id: String,
    /// The right relied on; it must belong to the filing holder.
    #[serde(default)]
    pub right_id: String,
    /// Identification of the work or mark infringed (§512(c)(3)(A)(ii)).
    #[serde(default)]
    pub work: String,
    /// 1 to 300 items.
    #[serde(default)]
    pub items: Vec<NoticeItem>,
    /// Why the items infringe: a substantiated explanation (DSA Art.
    /// 16(2)(a)).
    #[serde(default)]
    pub explanation: String,
    #[serde(default)]
    pub complainant: Complainant,
    #[serde(default)]
    pub statements: NoticeStatements,
    /// A physical or electronic signature (§512(c)(3)(A)(i)).
    #[serde(default)]
    pub signature: String,
}

fn required(field: &str, s: &str, max: usize) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::new(
            field,
            "is required and must not be empty",
        ));
    }
    check_text(field, s, max)
}

fn statement(field: &str, v: bool) -> Result<(), ValidationError> {
    if v {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "this statement is required by law and must be true",
        ))
    }
}

fn email(field: &str, s: &str) -> Result<(), ValidationError> {
    required(field, s, MAX_NOTICE_FIELD_LEN)?;
    let ok = s.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
    }) && !s.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, "is not an email address"))
    }
}

impl NewNotice {
    /// Checks every element; the first problem names its field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("id", &self.id)?;
        validate_id("right_id", &self.right_id)?;
        required("work", &self.work, MAX_NOTICE_TEXT_LEN)?;
        if self.items.is_empty() {
            return Err(ValidationError::new("items", "must name at least one item"));
        }
        if self.items.len() > MAX_NOTICE_ITEMS {
            return Err(ValidationError::new(
                "items",
                format!(
                    "names {} items; the limit is {MAX_NOTICE_ITEMS}",
                    self.items.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, item) in self.items.iter().enumerate() {
            if item.kind.is_none() {
                return Err(ValidationError::new(
                    format!("items[{i}].kind"),
                    "is required (`listing`)",
                ));
            }
            validate_id(&format!("items[{i}].id"), &item.id)?;
            if !seen.insert(item.id.as_str()) {
                return Err(ValidationError::new(
                    format!("items[{i}].id"),
                    format!("{:?} is named twice in this notice", item.id),
                ));
            }
            required(
                &format!("items[{i}].material"),
                &item.material,
                MAX_NOTICE_TEXT_LEN,
            )?;
        }
        required("explanation", &self.explanation, MAX_NOTICE_TEXT_LEN)?;
        let c = &self.complainant;
        required("complainant.name", &c.name, MAX_NOTICE_FIELD_LEN)?;
        email("complainant.email", &c.email)?;
        let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !has(&c.address) && !has(&c.phone) {
            return Err(ValidationError::new(
                "complainant.address",
                "a postal address or a phone number is required",
            ));
        }
        if let Some(a) = &c.address {
            check_text("complainant.address", a, MAX_NOTICE_FIELD_LEN)?;
        }
        if let Some(p) = &c.phone {
            check_text("complainant.phone", p, MAX_NOTICE_FIELD_LEN)?;
        }
        let s = &self.statements;
        statement("statements.good_faith", s.good_faith)?;
        statement(
            "statements.accuracy_under_penalty_of_perjury",
            s.accuracy_under_penalty_of_perjury,
        )?;
        statement("statements.bona_fide", s.bona_fide)?;
        required("signature", &self.signature, MAX_NOTICE_FIELD_LEN)?;
        Ok(())
    }
}

/// The statements a counter-notice must make, each `true`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterStatements {
    /// §512(g)(3)(C): under penalty of perjury, a good-faith belief that
    /// the material was removed by mistake or misidentification.
    #[serde(default)]
    pub mistake_under_penalty_of_perjury: bool,
    /// §512(g)(3)(D): consent to the jurisdiction of the court for the
    /// seller's address (or any judicial district, outside the US).
    #[serde(default)]
    pub consent_to_jurisdiction: bool,
    /// §512(g)(3)(D): the seller will accept service of process from the
    /// complainant.
    #[serde(default)]
    pub accept_service: bool,
}

/// A seller's counter-notice to a taken-down item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterNotice {
    /// Identification of the material removed (§512(g)(3)(B)).
    #[serde(default)]
    pub material: String,
    /// Where it appeared before it was removed (§512(g)(3)(B)).
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub statements: CounterStatements,
    /// A physical or electronic signature (§512(g)(3)(A)).
    #[serde(default)]
    pub signature: String,
}

impl CounterNotice {
    pub fn validate(&self) -> Result<(), ValidationError> {
        required("material", &self.material, MAX_NOTICE_TEXT_LEN)?;
        required("location", &self.location, MAX_NOTICE_FIELD_LEN)?;
        required("name", &self.name, MAX_NOTICE_FIELD_LEN)?;
        required("address", &self.address, MAX_NOTICE_FIELD_LEN)?;
        required("phone", &self.phone, MAX_NOTICE_FIELD_LEN)?;
        let s = &self.statements;
        statement(
            "statements.mistake_under_penalty_of_perjury",
            s.mistake_under_penalty_of_perjury,
        )?;
        statement(
            "statements.consent_to_jurisdiction",
            s.consent_to_jurisdiction,
        )?;
        statement("statements.accept_service", s.accept_service)?;
        required("signature", &self.signature, MAX_NOTICE_FIELD_LEN)?;
        Ok(())
    }
}

/// The holder's record that it filed a court action against the seller
/// (§512(g)(2)(C)): the item is not restored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CourtAction {
    /// The court.
    #[serde(default)]
    pub court: String,
    /// The case number or another reference to the filing.
    #[serde(default)]
    pub reference: String,
}

impl CourtAction {
    pub fn validate(&self) -> Result<(), ValidationError> {
        required("court", &self.court, MAX_NOTICE_FIELD_LEN)?;
        required("reference", &self.reference, MAX_NOTICE_FIELD_LEN)?;
        Ok(())
    }
}

/// Where one item of a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeItemState {
    /// Waiting for a reviewer.
    Pending,
    /// A reviewer accepted it: the listing was taken down.
    Accepted,
    /// A reviewer rejected it: nothing was taken down.
    Rejected,
    /// The seller filed a counter-notice: the listing is restored when the
    /// waiting time ends, unless the holder records a court action.
    Countered,
    /// Restored after a counter-notice.
    Restored,
    /// The holder recorded a court action: the takedown stands.
    Upheld,
}

impl NoticeItemState {
    pub const ALL: [NoticeItemState; 6] = [
        NoticeItemState::Pending,
        NoticeItemState::Accepted,
        NoticeItemState::Rejected,
        NoticeItemState::Countered,
        NoticeItemState::Restored,
        NoticeItemState::Upheld,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeItemState::Pending => "pending",
            NoticeItemState::Accepted => "accepted",
            NoticeItemState::Rejected => "rejected",
            NoticeItemState::Countered => "countered",
            NoticeItemState::Restored => "restored",
            NoticeItemState::Upheld => "upheld",
        }
    }

    pub fn parse(s: &str) -> Option<NoticeItemState> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A reviewer accepted the item (whatever happened after).
    pub fn was_accepted(self) -> bool {
        matches!(
            self,
            NoticeItemState::Accepted
                | NoticeItemState::Countered
                | NoticeItemState::Restored
                | NoticeItemState::Upheld
        )
    }
}

/// Adds `days` business days (Monday to Friday; no holiday calendar) to
/// `from`, keeping the time of day: a counter-notice filed on a Friday
/// with 10 days is due on the Friday two weeks later.
pub fn add_business_days(from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    use chrono::Datelike;
    let mut t = from;
    let mut left = days;
    while left > 0 {
        t += chrono::Duration::days(1);
        if !matches!(t.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            left -= 1;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> NewNotice {
        NewNotice {
            id: "n-1".into(),
            right_id: "r-1".into(),
            work: "The Zorbex word mark, US reg. 1234567".into(),
            items: vec![NoticeItem {
                kind: Some(NoticeItemKind::Listing),
                id: "l-1".into(),
                material: "the title uses Zorbex on fake shoes".into(),
            }],
            explanation: "We do not make these shoes; the price is a tenth of ours.".into(),
            complainant: Complainant {
                name: "Ann Agent".into(),
                email: "ann@zorbex.example".into(),
                address: Some("1 Main St, Springfield".into()),
                phone: None,
            },
            statements: NoticeStatements {
                good_faith: true,
                accuracy_under_penalty_of_perjury: true,
                bona_fide: true,
            },
            signature: "/Ann Agent/".into(),
        }
    }

    #[test]
    fn a_complete_notice_passes() {
        notice().validate().unwrap();
    }

    #[test]
    fn each_missing_element_is_named() {
        type Edit = Box<dyn Fn(&mut NewNotice)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("id", Box::new(|n| n.id.clear())),
            ("right_id", Box::new(|n| n.right_id = "a b".into())),
            ("work", Box::new(|n| n.work = "  ".into())),
            ("items", Box::new(|n| n.items.clear())),
            ("items[0].kind", Box::new(|n| n.items[0].kind = None)),
            ("items[0].id", Box::new(|n| n.items[0].id.clear())),
            (
                "items[0].material",
                Box::new(|n| n.items[0].material.clear()),
            ),
            ("explanation", Box::new(|n| n.explanation.clear())),
            ("complainant.name", Box::new(|n| n.complainant.name.clear())),
            (
                "complainant.email",
                Box::new(|n| n.complainant.email = "ann".into()),
            ),
            (
                "complainant.address",
                Box::new(|n| n.complainant.address = None),
            ),
            (
                "statements.good_faith",
                Box::new(|n| n.statements.good_faith = false),
            ),
            (
                "statements.accuracy_under_penalty_of_perjury",
                Box::new(|n| n.statements.accuracy_under_penalty_of_perjury = false),
            ),
            (
                "statements.bona_fide",
                Box::new(|n| n.statements.bona_fide = false),
            ),
            ("signature", Box::new(|n| n.signature.clear())),
        ];
        for (field, edit) in cases {
            let mut n = notice();
            edit(&mut n);
            assert_eq!(n.validate().unwrap_err().field, field);
        }
        let mut n = notice();
        n.complainant.address = None;
        n.complainant.phone = Some("+1 555 0100".into());
        n.validate().unwrap();
    }

    #[test]
    fn items_are_bounded_and_unique() {
        let mut n = notice();
        let item = n.items[0].clone();
        for i in 1..4 {
            let mut it = item.clone();
            it.id = format!("l-{}", i + 1);
            n.items.push(it);
        }
        n.items[3].id = "bad id".into();
        assert_eq!(n.validate().unwrap_err().field, "items[3].id");
        n.items[3].id = "l-1".into();
        assert_eq!(n.validate().unwrap_err().field, "items[3].id");
        n.items = (0..301)
            .map(|i| NoticeItem {
                id: format!("l-{i}"),
                ..item.clone()
            })
            .collect();
        assert_eq!(n.validate().unwrap_err().field, "items");
        n.items.truncate(300);
        n.validate().unwrap();
    }

    #[test]
    fn counter_notices_need_every_element() {
        let full = CounterNotice {
            material: "my listing l-1".into(),
            location: "listing l-1".into(),
            name: "Sam Seller".into(),
            address: "2 High St".into(),
            phone: "+1 555 0101".into(),
            statements: CounterStatements {
                mistake_under_penalty_of_perjury: true,
                consent_to_jurisdiction: true,
                accept_service: true,
            },
            signature: "Sam Seller".into(),
        };
        full.validate().unwrap();
        let mut c = full.clone();
        c.statements.accept_service = false;
        assert_eq!(c.validate().unwrap_err().field, "statements.accept_service");
        let mut c = full;
        c.phone.clear();
        assert_eq!(c.validate().unwrap_err().field, "phone");
    }

    #[test]
    fn business_days_skip_weekends() {
        use chrono::TimeZone;
        // Friday 2026-11-27 10:00.
        let fri = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        assert_eq!(
            add_business_days(fri, 10),
            Utc.with_ymd_and_hms(2026, 12, 11, 10, 0, 0).unwrap()
        );
        assert_eq!(
            add_business_days(fri, 1),
            Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
        );
        // Saturday: counting starts on Monday.
        let sat = Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap();
        assert_eq!(
            add_business_days(sat, 10),
            Utc.with_ymd_and_hms(2026, 12, 11, 9, 0, 0).unwrap()
        );
        assert_eq!(add_business_days(fri, 0), fri);
    }
}
