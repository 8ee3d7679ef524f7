//! The shopshield domain model.
//!
//! Everything that crosses a crate boundary in shopshield is defined here:
//! rights holders and their [`Right`]s, [`Shop`]s and [`Creator`]s, the
//! [`Listing`]s they submit, the [`Decision`]s the gate takes about them, the
//! [`Region`]s rights and listings apply to, and the category [`Taxonomy`]
//! that maps listing categories to Nice classes.
//!
//! The types are plain data with serde support. Input types validate
//! themselves ([`Listing::validate`], [`NewRight::validate`]) and report the
//! first problem as a [`ValidationError`] that names the field and the reason.
//! Nothing here performs I/O.

mod access;
mod authorization;
mod decision;
mod error;
mod ids;
mod listing;
mod money;
mod notice;
mod qualification;
mod region;
mod right;
mod role;
mod stream;
mod taxonomy;
mod video;

pub use access::{Denied, Permission, Principal};
pub use authorization::{
    Authorization, AuthorizationDecision, AuthorizationState, MAX_AUTHORIZATION_DOCUMENT_LEN,
    MAX_AUTHORIZATION_TEXT_LEN, NewAuthorization, Relationship, validate_authorization_reason,
};
pub use decision::{
    Action, Cause, Decision, DecisionSource, Evidence, Violation, ViolationType, format_time,
    format_time_range,
};
pub use error::ValidationError;
pub use ids::{MAX_ID_LEN, validate_id};
pub use listing::{Creator, Listing, MAX_DESCRIPTION_LEN, MAX_IMAGES, MAX_TITLE_LEN, Shop};
pub use money::{ISO_4217, Money, is_currency};
pub use notice::{
    Complainant, CounterNotice, CounterStatements, CourtAction, MAX_NOTICE_FIELD_LEN,
    MAX_NOTICE_ITEMS, MAX_NOTICE_TEXT_LEN, NewNotice, NoticeItem, NoticeItemKind, NoticeItemState,
    NoticeStatements, add_business_days,
};
pub use qualification::Qualification;
pub use region::{Region, RegionSet};
pub use right::{
    ImageHash, KNOWN_OFFICES, MAX_ALIASES, MAX_AUTHORIZED_SELLERS, MAX_MARK_LEN,
    MAX_REGISTRATION_NUMBER_LEN, MAX_REVIEW_REASON_LEN, MAX_VPDQ_LEN, NewRight, Registration,
    Right, RightConflict, RightKind, RightReview, RightReviewInput, RightReviewOutcome,
    RightReviewState, RightsHolder,
};
pub use role::Role;
pub use stream::{
    MAX_STREAM_TEXT_LEN, MAX_STREAM_TITLE_LEN, NewStream, StreamAction, StreamActionKind,
    StreamEvent,
};
pub use taxonomy::{Category, Taxonomy, TaxonomyError};
pub use video::{
    MAX_CAPTION_LEN, MAX_HASHTAG_LEN, MAX_HASHTAGS, MAX_PRODUCTS, MAX_SEGMENT_LEN, MAX_SEGMENTS,
    Segment, Video,
};

/// A Nice Classification class number (1 to 45).
pub type NiceClass = u8;

/// Validates a Nice class number.
pub fn validate_nice_class(field: &str, class: i64) -> Result<NiceClass, ValidationError> {
    if (1..=45).contains(&class) {
        Ok(class as NiceClass)
    } else {
        Err(ValidationError::new(
            field,
            format!("Nice class {class} is outside 1..=45"),
        ))
    }
}
