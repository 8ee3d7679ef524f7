//! Every number enforcement uses, with defaults taken from public marketplace
//! policy (see `docs/enforcement.md`). Nothing here is hard-wired elsewhere.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shopshield_model::ViolationType;

use crate::queue_key::QueueKey;

/// How bad one violation is. The points table maps each violation type and
/// severity to points.
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
    Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A first or borderline case: the lowest points of the type's range.
    Minor,
    /// The usual case. Automatic records use this by default.
    #[default]
    Moderate,
    /// Deliberate or repeated, or a risk to shoppers.
    Severe,
    /// The gravest case: the top of the type's range (48 = permanent
    /// deactivation with the default ladder).
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Minor,
        Severity::Moderate,
        Severity::Severe,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Moderate => "moderate",
            Severity::Severe => "severe",
            Severity::Critical => "critical",
        }
    }
}

/// Points for each severity of one row of the points table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPoints {
    pub minor: u32,
    pub moderate: u32,
    pub severe: u32,
    pub critical: u32,
}

impl SeverityPoints {
    pub const fn new(minor: u32, moderate: u32, severe: u32, critical: u32) -> Self {
        Self {
            minor,
            moderate,
            severe,
            critical,
        }
    }

    pub fn get(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Minor => self.minor,
            Severity::Moderate => self.moderate,
            Severity::Severe => self.severe,
            Severity::Critical => self.critical,
        }
    }
}

/// Points per violation type and severity.
///
/// A *knock-off* (a product imitating a brand's design or trade dress without
/// using its mark) is not a separate [`ViolationType`]: it is an IP violation
/// (`trademark`, `counterfeit` or `copyright`) flagged `knock_off`, and takes
/// its points from the `knock_off` row instead of its type's row.
///
/// | row | default (minor / moderate / severe / critical) | public range |
/// |---|---|---|
/// | trademark | 1 / 4 / 12 / 48 | IP infringement 1–48 |
/// | copyright | 1 / 4 / 12 / 48 | IP infringement 1–48 |
/// | counterfeit | 4 / 12 / 24 / 48 | 4–48 |
/// | prohibited | 6 / 12 / 24 / 48 | 6–48 |
/// | restricted (without qualification) | 0 / 1 / 2 / 4 | 0–4 |
/// | knock_off | 0 / 1 / 2 / 4 | 0–4 |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointsTable {
    pub trademark: SeverityPoints,
    pub copyright: SeverityPoints,
    pub counterfeit: SeverityPoints,
    pub prohibited: SeverityPoints,
    pub restricted: SeverityPoints,
    pub knock_off: SeverityPoints,
}

impl Default for PointsTable {
    fn default() -> Self {
        Self {
            trademark: SeverityPoints::new(1, 4, 12, 48),
            copyright: SeverityPoints::new(1, 4, 12, 48),
            counterfeit: SeverityPoints::new(4, 12, 24, 48),
            prohibited: SeverityPoints::new(6, 12, 24, 48),
            restricted: SeverityPoints::new(0, 1, 2, 4),
            knock_off: SeverityPoints::new(0, 1, 2, 4),
        }
    }
}

impl PointsTable {
    /// Points for one violation.
    pub fn points(&self, kind: ViolationType, knock_off: bool, severity: Severity) -> u32 {
        let row = if knock_off {
            &self.knock_off
        } else {
            match kind {
                ViolationType::Trademark => &self.trademark,
                ViolationType::Copyright => &self.copyright,
                ViolationType::Counterfeit => &self.counterfeit,
                ViolationType::Prohibited => &self.prohibited,
                ViolationType::Restricted => &self.restricted,
            }
        };
        row.get(severity)
    }
}

/// True for the violation types that infringe someone's intellectual
/// property (the ones a knock-off flag and creator IP strikes apply to).
pub fn is_ip(kind: ViolationType) -> bool {
    matches!(
        kind,
        ViolationType::Trademark | ViolationType::Counterfeit | ViolationType::Copyright
    )
}

/// What a milestone does to a shop or a creator.
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
pub enum PenaltyKind {
    /// The shop may not join campaigns or promotions.
    CampaignsRestricted,
    /// The shop may not create new listings beyond a cap.
    ListingsCapped,
    /// The shop is deactivated for a time.
    ShopDeactivated,
    /// The shop is deactivated for good (an upheld appeal can still lift it).
    ShopPermanentlyDeactivated,
    /// The creator may not sell for a time.
    CreatorSuspended,
    /// The creator's permission to sell is revoked for good (an upheld
    /// appeal can still lift it).
    CreatorRevoked,
}

impl PenaltyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PenaltyKind::CampaignsRestricted => "campaigns_restricted",
            PenaltyKind::ListingsCapped => "listings_capped",
            PenaltyKind::ShopDeactivated => "shop_deactivated",
            PenaltyKind::ShopPermanentlyDeactivated => "shop_permanently_deactivated",
            PenaltyKind::CreatorSuspended => "creator_suspended",
            PenaltyKind::CreatorRevoked => "creator_revoked",
        }
    }

    pub fn is_shop_penalty(self) -> bool {
        !self.is_creator_penalty()
    }

    pub fn is_creator_penalty(self) -> bool {
        matches!(
            self,
            PenaltyKind::CreatorSuspended | PenaltyKind::CreatorRevoked
        )
    }
}

/// How long a milestone's penalty lasts.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyDuration {
    /// A fixed number of days from the moment the milestone is reached.
    Days(u32),
    /// As long as the points stay at or above the milestone.
    WhileAtLeast,
    /// Until an upheld appeal lifts it.
    Permanent,
}

/// One rung of a ladder: reaching `points` applies `penalty`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub points: u32,
    pub penalty: PenaltyKind,
    pub duration: PenaltyDuration,
}

/// The creators' own ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreatorLadder {
    /// Points milestones for creators (creators earn the same points as the
    /// shop for a violation they took part in).
    pub milestones: Vec<Milestone>,
    /// This many IP violations (trademark, counterfeit, copyright; knock-offs
    /// excluded) revoke the creator's permission to sell permanently.
    pub ip_strikes_to_revoke: u32,
    /// Days an IP strike counts for; `None` (the default) counts it forever.
    pub ip_strike_window_days: Option<u32>,
}

impl Default for CreatorLadder {
    fn default() -> Self {
        Self {
            milestones: vec![
                Milestone {
                    points: 24,
                    penalty: PenaltyKind::CreatorSuspended,
                    duration: PenaltyDuration::Days(7),
                },
                Milestone {
                    points: 36,
                    penalty: PenaltyKind::CreatorSuspended,
                    duration: PenaltyDuration::Days(28),
                },
                Milestone {
                    points: 48,
                    penalty: PenaltyKind::CreatorRevoked,
                    duration: PenaltyDuration::Permanent,
                },
            ],
            ip_strikes_to_revoke: 3,
            ip_strike_window_days: None,
        }
    }
}

/// Review-queue service levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewConfig {
    /// How long a claim on a case lasts before another reviewer may take it.
    pub lease_minutes: u32,
    /// Hours a case may wait before it is overdue, unless overridden.
    pub default_sla_hours: u32,
    /// Per-queue overrides, keyed `type/region`, `type/*` or `*/region`
    /// (type `unclassified` for cases without a violation). The most specific
    /// key wins.
    pub sla_hours: BTreeMap<String, u32>,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        Self {
            lease_minutes: 30,
            default_sla_hours: 24,
            sla_hours: BTreeMap::from([
                ("counterfeit/*".to_string(), 12),
                ("prohibited/*".to_string(), 12),
            ]),
        }
    }
}

impl ReviewConfig {
    /// The SLA of a queue.
    pub fn sla(&self, queue: &QueueKey) -> Duration {
        let kind = queue.kind_str();
        let region = queue.region.as_str();
        let hours = [
            format!("{kind}/{region}"),
            format!("{kind}/*"),
            format!("*/{region}"),
        ]
        .iter()
        .find_map(|k| self.sla_hours.get(k).copied())
        .unwrap_or(self.default_sla_hours);
        Duration::hours(i64::from(hours))
    }

    pub fn lease(&self) -> Duration {
        Duration::minutes(i64::from(self.lease_minutes))
    }
}

/// Webhook retry schedule: exponential backoff with a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt.
    pub initial_backoff_secs: u32,
    /// Each further failure multiplies the wait by this.
    pub multiplier: u32,
    /// The wait never exceeds this.
    pub max_backoff_secs: u32,
    /// After this many failed attempts the delivery is dead-lettered.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_backoff_secs: 10,
            multiplier: 2,
            max_backoff_secs: 3600,
            max_attempts: 20,
        }
    }
}

/// All of enforcement's numbers. Every field has a default; a TOML or JSON
/// file only needs the fields it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforcementConfig {
    pub points: PointsTable,
    /// A `reject` decision records a violation automatically only if one of
    /// its violations has at least this confidence.
    pub auto_record_min_confidence: f64,
    /// Severity given to automatically recorded violations (reviewers choose
    /// the severity of the ones they uphold).
    pub auto_severity: Severity,
    /// Days a violation's points count for.
    pub points_expiry_days: u32,
    /// Days after a violation within which it may be appealed.
    pub appeal_window_days: u32,
    /// Days after a rejected appeal within which a second appeal may be filed.
    pub second_appeal_window_days: u32,
    /// Most appeals per violation (first appeal plus second appeal).
    pub max_appeals: u32,
    /// Shortest reason (in characters, trimmed) an appeal decision may give.
    pub min_reason_chars: usize,
    /// A warning is sent when points come within this many of a milestone.
    pub warning_margin: u32,
    /// The shops' ladder.
    pub shop_milestones: Vec<Milestone>,
    pub creator: CreatorLadder,
    pub review: ReviewConfig,
    pub webhooks: RetryPolicy,
}

impl Default for EnforcementConfig {
    fn default() -> Self {
        Self {
            points: PointsTable::default(),
            auto_record_min_confidence: 0.9,
            auto_severity: Severity::Moderate,
            points_expiry_days: 90,
            appeal_window_days: 30,
            second_appeal_window_days: 15,
            max_appeals: 2,
            min_reason_chars: 20,
            warning_margin: 5,
            shop_milestones: vec![
                Milestone {
                    points: 12,
                    penalty: PenaltyKind::CampaignsRestricted,
                    duration: PenaltyDuration::Days(7),
                },
                Milestone {
                    points: 24,
                    penalty: PenaltyKind::ListingsCapped,
                    duration: PenaltyDuration::WhileAtLeast,
                },
                Milestone {
                    points: 36,
                    penalty: PenaltyKind::ShopDeactivated,
                    duration: PenaltyDuration::Days(28),
                },
                Milestone {
                    points: 48,
                    penalty: PenaltyKind::ShopPermanentlyDeactivated,
                    duration: PenaltyDuration::Permanent,
                },
            ],
            creator: CreatorLadder::default(),
            review: ReviewConfig::default(),
            webhooks: RetryPolicy::default(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enforcement config `{field}`: {reason}")]
pub struct ConfigError {
    pub field: String,
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Longest window accepted, in days (about 100 years).
const MAX_DAYS: u32 = 36_500;

impl EnforcementConfig {
    /// Parses a TOML file and validates it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml_from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every number: windows positive, ladders strictly ascending, a
    /// confidence in 0..=1, penalties matching their ladder.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = self.auto_record_min_confidence;
        if !(c.is_finite() && (0.0..=1.0).contains(&c)) {
            return Err(bad("auto_record_min_confidence", "must be within 0..=1"));
        }
        for (field, days) in [
            ("points_expiry_days", self.points_expiry_days),
            ("appeal_window_days", self.appeal_window_days),
            ("second_appeal_window_days", self.second_appeal_window_days),
        ] {
            if days == 0 || days > MAX_DAYS {
                return Err(bad(field, format!("must be 1..={MAX_DAYS} days")));
            }
        }
        if self.max_appeals == 0 || self.max_appeals > 10 {
            return Err(bad("max_appeals", "must be 1..=10"));
        }
        check_ladder("shop_milestones", &self.shop_milestones, false)?;
        check_ladder("creator.milestones", &self.creator.milestones, true)?;
        if self.creator.ip_strikes_to_revoke == 0 {
            return Err(bad("creator.ip_strikes_to_revoke", "must be at least 1"));
        }
        if let Some(d) = self.creator.ip_strike_window_days
            && (d == 0 || d > MAX_DAYS)
        {
            return Err(bad(
                "creator.ip_strike_window_days",
                format!("must be 1..={MAX_DAYS} days"),
            ));
        }
        if self.review.lease_minutes == 0 || self.review.lease_minutes > 24 * 60 {
            return Err(bad("review.lease_minutes", "must be 1..=1440"));
        }
        for (k, h) in std::iter::once(("default", &self.review.default_sla_hours))
            .chain(self.review.sla_hours.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if *h == 0 || *h > 24 * 365 {
                return Err(bad(format!("review.sla_hours.{k}"), "must be 1..=8760"));
            }
        }
        for key in self.review.sla_hours.keys() {
            QueueKey::check_pattern(key)
                .map_err(|reason| bad(format!("review.sla_hours.{key}"), reason))?;
        }
        let w = &self.webhooks;
        if w.initial_backoff_secs == 0
            || w.multiplier == 0
            || w.max_backoff_secs < w.initial_backoff_secs
            || w.max_attempts == 0
        {
            return Err(bad(
                "webhooks",
                "backoff and multiplier must be positive, max_backoff_secs >= initial_backoff_secs, max_attempts >= 1",
            ));
        }
        Ok(())
    }

    pub(crate) fn expiry(&self) -> Duration {
        Duration::days(i64::from(self.points_expiry_days))
    }

    /// When an IP strike recorded `at` stops counting, if ever.
    pub(crate) fn strike_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.creator
            .ip_strike_window_days
            .map(|d| at + Duration::days(i64::from(d)))
    }
}

fn check_ladder(field: &str, ladder: &[Milestone], creator: bool) -> Result<(), ConfigError> {
    let mut last = 0;
    for (i, m) in ladder.iter().enumerate() {
        let f = format!("{field}[{i}]");
        if m.points <= last {
            return Err(bad(f, "milestones must be positive and strictly ascending"));
        }
        last = m.points;
        if creator != m.penalty.is_creator_penalty() {
            return Err(bad(
                f,
                format!(
                    "penalty {} does not belong on this ladder",
                    m.penalty.as_str()
                ),
            ));
        }
        if let PenaltyDuration::Days(d) = m.duration
            && (d == 0 || d > MAX_DAYS)
        {
            return Err(bad(f, format!("duration must be 1..={MAX_DAYS} days")));
        }
    }
    Ok(())
}

fn toml_from_str(text: &str) -> Result<EnforcementConfig, ConfigError> {
    toml::from_str(text).map_err(|e| bad("(file)", e.to_string()))
}
