//! The events enforcement state is derived from. Every change is one of
//! these, appended to the hash-chained log ([`crate::chain`]).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::{
    Decision, Listing, Region, ValidationError, Violation, ViolationType, validate_id,
};

use crate::config::{PenaltyKind, Severity};
use crate::queue_key::QueueKey;

/// A shop or a creator: whoever points and penalties apply to.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(tag = "party", content = "id", rename_all = "snake_case")]
pub enum Party {
    Shop(String),
    Creator(String),
}

impl Party {
    pub fn id(&self) -> &str {
        match self {
            Party::Shop(id) | Party::Creator(id) => id,
        }
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Shop(id) => write!(f, "shop:{id}"),
            Party::Creator(id) => write!(f, "creator:{id}"),
        }
    }
}

/// Who caused an event.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Actor {
    /// The engine itself: automatic records, expiries, derived penalties.
    System,
    /// The platform's ingest service.
    Service,
    Reviewer {
        id: String,
    },
    Admin {
        id: String,
    },
    Shop {
        id: String,
    },
    Creator {
        id: String,
    },
}

impl Actor {
    /// The party an appellant acts for.
    pub fn for_party(p: &Party) -> Actor {
        match p {
            Party::Shop(id) => Actor::Shop { id: id.clone() },
            Party::Creator(id) => Actor::Creator { id: id.clone() },
        }
    }
}

/// The listing version a decision is about, and who sells it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub listing_id: String,
    pub listing_version: u32,
    /// `{listing id}@v{version}`: the key of cases, violations and listing
    /// status.
    pub decision_id: String,
    pub shop_id: String,
    /// The creator who took part (video, livestream, affiliate listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    pub region: Region,
    /// For a short video or a livestream: what it is, and whether its shop
    /// answers for it too. Absent for listings (and in every entry written
    /// before videos existed, which read back unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentSubject>,
}

/// What a video or livestream subject is, and who answers for it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentSubject {
    /// `video` or `stream`.
    pub kind: String,
    /// The shop answers too: a product it showcased infringes. Otherwise
    /// only the creator (or host) does.
    #[serde(default)]
    pub shop_liable: bool,
}

impl Subject {
    /// The subject of `decision`, taken from the listing it is about.
    pub fn of(listing: &Listing, decision: &Decision) -> Result<Subject, ValidationError> {
        if listing.id != decision.id {
            return Err(ValidationError::new(
                "decision.id",
                format!(
                    "decision is about listing {:?}, not {:?}",
                    decision.id, listing.id
                ),
            ));
        }
        let s = Subject {
            listing_id: listing.id.clone(),
            listing_version: decision.listing_version,
            decision_id: decision.decision_id.clone(),
            shop_id: listing.shop_id.clone(),
            creator_id: listing.creator_id.clone(),
            region: listing.region,
            content: None,
        };
        s.validate()?;
        Ok(s)
    }

    /// The subject of a decision about a video or a livestream (`id` is its
    /// subject id, `video:{id}` or `stream:{id}`). Only the creator answers
    /// unless `liable_shop` names the shop whose showcased product infringes.
    pub fn of_content(
        kind: &str,
        id: &str,
        creator_id: &str,
        liable_shop: Option<&str>,
        region: Region,
        decision: &Decision,
    ) -> Result<Subject, ValidationError> {
        if decision.id != id {
            return Err(ValidationError::new(
                "decision.id",
                format!("decision is about {:?}, not {id:?}", decision.id),
            ));
        }
        let s = Subject {
            listing_id: id.to_string(),
            listing_version: decision.listing_version,
            decision_id: decision.decision_id.clone(),
            shop_id: liable_shop.unwrap_or_default().to_string(),
            creator_id: Some(creator_id.to_string()),
            region,
            content: Some(ContentSubject {
                kind: kind.to_string(),
                shop_liable: liable_shop.is_some(),
            }),
        };
        s.validate()?;
        Ok(s)
    }

    /// Whether the shop answers for this subject (always, for a listing).
    pub fn shop_liable(&self) -> bool {
        self.content.as_ref().is_none_or(|c| c.shop_liable)
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_id("listing_id", &self.listing_id)?;
        if self.shop_liable() {
            validate_id("shop_id", &self.shop_id)?;
        } else if self.creator_id.is_none() {
            return Err(ValidationError::new(
                "creator_id",
                "a video or livestream subject names its creator",
            ));
        }
        if let Some(c) = &self.creator_id {
            validate_id("creator_id", c)?;
        }
        let want = Decision::decision_id(&self.listing_id, self.listing_version);
        if self.decision_id != want {
            return Err(ValidationError::new(
                "decision_id",
                format!("must be {want:?}"),
            ));
        }
        if self.region.is_all() {
            return Err(ValidationError::new(
                "region",
                "a listing is sold in one region",
            ));
        }
        Ok(())
    }

    pub fn shop(&self) -> Party {
        Party::Shop(self.shop_id.clone())
    }

    pub fn creator(&self) -> Option<Party> {
        self.creator_id.clone().map(Party::Creator)
    }

    /// The shop (when it answers), then the creator if any.
    pub fn parties(&self) -> Vec<Party> {
        self.shop_liable()
            .then(|| self.shop())
            .into_iter()
            .chain(self.creator())
            .collect()
    }
}

/// How a violation came to be recorded.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Source {
    /// A `reject` decision at or above the configured confidence.
    Auto,
    /// A reviewer upheld a review case.
    Review { case_id: String, reviewer: String },
}

impl Source {
    /// The reviewer who made the original decision, if a human did.
    pub fn reviewer(&self) -> Option<&str> {
        match self {
            Source::Auto => None,
            Source::Review { reviewer, .. } => Some(reviewer),
        }
    }
}

/// A violation recorded against a shop (and its creator, if one took part).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViolationRecord {
    /// `v:{decision id}`: one violation per listing version at most.
    pub violation_id: String,
    pub subject: Subject,
    #[serde(rename = "type")]
    pub kind: ViolationType,
    pub severity: Severity,
    /// An IP violation that is a knock-off takes the `knock_off` points row.
    #[serde(default)]
    pub knock_off: bool,
    pub points: u32,
    pub recorded_at: DateTime<Utc>,
    /// The points stop counting at this instant.
    pub expires_at: DateTime<Utc>,
    pub source: Source,
    /// What an appeal decision cites by index: the detector findings behind
    /// the decision, plus the reviewer's note for reviewed cases.
    pub evidence: Vec<Violation>,
    /// The gate's decision, as it was.
    pub decision: Decision,
}

impl ViolationRecord {
    pub fn id_for(decision_id: &str) -> String {
        format!("v:{decision_id}")
    }

    /// The shop, then the creator if any.
    pub fn parties(&self) -> Vec<Party> {
        self.subject.parties()
    }
}

/// What a reviewer decides about a case.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    /// The listing breaks the rules: it is removed and a violation recorded.
    Uphold {
        #[serde(rename = "type")]
        kind: ViolationType,
        severity: Severity,
        #[serde(default)]
        knock_off: bool,
    },
    /// The listing is fine: it goes live.
    Clear,
}

/// Which ladder a penalty comes from.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Active violation points.
    Points,
    /// A creator's IP strikes.
    IpStrikes,
}

/// One penalty: a milestone reached by one violation.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Penalty {
    /// `{party}/{measure}{milestone}/{violation id}`.
    pub id: String,
    pub party: Party,
    pub kind: PenaltyKind,
    pub measure: Measure,
    /// The milestone reached.
    pub milestone: u32,
    /// The violation whose points reached it.
    pub trigger: String,
    pub from: DateTime<Utc>,
    /// `None`: permanent, or for as long as the points stay at the milestone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl Penalty {
    pub fn id_for(party: &Party, measure: Measure, milestone: u32, trigger: &str) -> String {
        let m = match measure {
            Measure::Points => "points",
            Measure::IpStrikes => "ip_strikes",
        };
        format!("{party}/{m}{milestone}/{trigger}")
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.from <= now && self.until.is_none_or(|u| u > now)
    }
}

/// Why a penalty ended.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum LiftReason {
    /// Its time ran out.
    Ended,
    /// Points fell below the milestone (expiry).
    BelowMilestone,
    /// An upheld appeal removed a violation it depended on.
    AppealUpheld { appeal_id: String },
}

/// Where a listing version stands.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Waiting for a reviewer; not live.
    PendingReview,
    Live,
    Removed,
}

/// Why a listing's status changed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum ListingCause {
    CaseOpened { case_id: String },
    CaseCleared { case_id: String },
    ViolationRecorded { violation_id: String },
    AppealUpheld { appeal_id: String },
}

/// One thing that happened.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A `review` decision became a case.
    CaseOpened {
        case_id: String,
        queue: QueueKey,
        subject: Subject,
        decision: Decision,
    },
    /// A reviewer took (or renewed) the exclusive lease on a case.
    CaseClaimed {
        case_id: String,
        reviewer: String,
        lease_until: DateTime<Utc>,
    },
    /// The lease holder gave the case back.
    CaseReleased {
        case_id: String,
        reviewer: String,
    },
    CaseDecided {
        case_id: String,
        reviewer: String,
        verdict: Verdict,
        note: String,
    },
    ViolationRecorded(Box<ViolationRecord>),
    /// An open case was closed without a verdict: what it rested on went
    /// away (a right was disabled) or a newer decision superseded it.
    CaseClosed {
        case_id: String,
        reason: String,
    },
    AppealFiled {
        appeal_id: String,
        violation_id: String,
        /// 1 for the first appeal, 2 for the second...
        round: u32,
        appellant: Party,
        statement: String,
    },
    AppealDecided {
        appeal_id: String,
        violation_id: String,
        reviewer: String,
        upheld: bool,
        reason: String,
        /// Indices into the violation's `evidence`.
        cited_evidence: Vec<usize>,
    },
    /// A violation's points stopped counting.
    PointsExpired {
        violation_id: String,
        points: u32,
    },
    PenaltyApplied {
        penalty: Penalty,
    },
    PenaltyLifted {
        penalty_id: String,
        party: Party,
        kind: PenaltyKind,
        reason: LiftReason,
    },
    /// Points came within the warning margin of a milestone.
    WarningIssued {
        party: Party,
        points: u32,
        milestone: u32,
        penalty: PenaltyKind,
    },
    ListingStatusChanged {
        decision_id: String,
        listing_id: String,
        shop_id: String,
        status: ListingStatus,
        cause: ListingCause,
    },
}

impl EventKind {
    /// The event type, as serialised in `event`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CaseOpened { .. } => "case_opened",
            EventKind::CaseClaimed { .. } => "case_claimed",
            EventKind::CaseReleased { .. } => "case_released",
            EventKind::CaseDecided { .. } => "case_decided",
            EventKind::ViolationRecorded(_) => "violation_recorded",
            EventKind::CaseClosed { .. } => "case_closed",
            EventKind::AppealFiled { .. } => "appeal_filed",
            EventKind::AppealDecided { .. } => "appeal_decided",
            EventKind::PointsExpired { .. } => "points_expired",
            EventKind::PenaltyApplied { .. } => "penalty_applied",
            EventKind::PenaltyLifted { .. } => "penalty_lifted",
            EventKind::WarningIssued { .. } => "warning_issued",
            EventKind::ListingStatusChanged { .. } => "listing_status_changed",
        }
    }
}

/// An event: what happened, when, and who did it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}
