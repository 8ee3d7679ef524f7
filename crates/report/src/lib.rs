//! Transparency reports and DSA statements of reasons.
//!
//! Everything here is a fold: the enforcement event log (cases, their
//! verdicts, violations, appeals, penalties) and the stored `review` and
//! `reject` decisions (with the listing facts a report breaks down by) go
//! in; numbers, or statements of reasons, come out. No I/O, no clock: the
//! period is a parameter.
//!
//! * [`restrictions`]: every restriction of content decided in a period —
//!   a `reject` decision (before listing, or after listing for decisions
//!   whose `source` is not `screening`) and every case a reviewer upheld.
//! * [`TransparencyReport::build`]: the numbers of a transparency report
//!   and their breakdowns by region, category, content type and kind of
//!   right or rule; rendered as JSON, Markdown or HTML ([`render`]).
//! * [`sor`]: one DSA statement of reasons per restriction decided in the
//!   EU/EEA, and a validator holding the Transparency Database's published
//!   rules.

pub mod render;
pub mod sor;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shopshield_enforce::{Event, EventKind, PenaltyKind, Verdict};
use shopshield_model::{Action, Decision, Region, ValidationError, Violation, ViolationType};

/// Where a decision came from. Screening at submission is `screen` (`DecisionSource::Screen`);
/// later detection (a sweep after a rights or policy change) and notices
/// from rights holders name themselves. Anything but `screen` is a
/// decision about a listing that was already live.
pub const SOURCE_SCREENING: &str = "screen";
/// A decision taken on a rights holder's notice.
pub const SOURCE_NOTICE: &str = "notice";
/// A livestream stopped while it was live.
pub const SOURCE_LIVE: &str = "live";

/// Content types a report counts apart.
pub const CONTENT_LISTING: &str = "listing";
pub const CONTENT_VIDEO: &str = "video";
pub const CONTENT_LIVESTREAM: &str = "livestream";

/// A stored `review` or `reject` decision with the facts about the item it
/// is about that a report breaks down by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionFact {
    pub decision: Decision,
    pub listing_id: String,
    pub shop_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<String>,
    pub region: Region,
    /// Taxonomy category id, e.g. `apparel/shoes`.
    pub category: String,
    /// [`CONTENT_LISTING`], [`CONTENT_VIDEO`], [`CONTENT_LIVESTREAM`]...
    pub content_type: String,
    /// [`SOURCE_SCREENING`], `sweep`, [`SOURCE_NOTICE`]...
    pub source: String,
    /// The listing's title, as the seller wrote it (for statements of
    /// reasons).
    pub title: String,
}

/// A notice from a rights holder, as far as a report needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeFact {
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// `None` while undecided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// When a counter-notice was filed against it, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter_notice_at: Option<DateTime<Utc>>,
}

/// Everything a report is folded from.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The whole enforcement log, in order.
    pub events: &'a [Event],
    /// Every stored `review` and `reject` decision.
    pub decisions: &'a [DecisionFact],
    pub notices: &'a [NoticeFact],
    /// When each restriction of a rights holder for unfounded notices
    /// began (DSA Art. 23(2)).
    pub reporter_restrictions: &'a [DateTime<Utc>],
}

/// A report's period: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// From the start of day `from` to the end of day `to` (UTC), both
    /// `YYYY-MM-DD`.
    pub fn days(from: &str, to: &str) -> Result<Period, ValidationError> {
        let day = |field: &str, s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ValidationError::new(field, format!("{s:?} is not a date YYYY-MM-DD")))
        };
        let f = day("from", from)?;
        let t = day("to", to)?;
        if t < f {
            return Err(ValidationError::new("to", "is before from"));
        }
        let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
        match (start(f), start(t).map(|t| t + Duration::days(1))) {
            (Some(from), Some(to)) => Ok(Period { from, to }),
            _ => Err(ValidationError::new("to", "is out of range")),
        }
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// When, relative to going live, a restriction was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The item never went live: rejected by the gate, or held for review
    /// and upheld.
    BeforeListing,
    /// The item was live: a later decision (sweep, notice) took it down.
    AfterListing,
}

/// One restriction of content: the item is not (or no longer) available.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restriction {
    pub decision_id: String,
    pub listing_id: String,
    pub shop_id: String,
    pub region: Region,
    pub category: String,
    pub content_type: String,
    pub source: String,
    pub stage: Stage,
    /// The kind of right or rule broken.
    pub kind: ViolationType,
    /// A reviewer decided (the case id), or the gate did alone (`None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// When the content was submitted (the decision's time).
    pub content_at: DateTime<Utc>,
    /// When the restriction was decided.
    pub actioned_at: DateTime<Utc>,
    /// The findings behind it.
    pub violations: Vec<Violation>,
    /// The reviewer's note, for upheld cases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub title: String,
}

impl Restriction {
    /// Seconds from submission to the restriction.
    pub fn time_to_action_secs(&self) -> i64 {
        (self.actioned_at - self.content_at).num_seconds().max(0)
    }
}

/// The kind a reject decision is recorded as: the kind of its most
/// confident finding (ties: the first). `None` for a reject without
/// findings, which the gate never makes.
fn decision_kind(d: &Decision) -> Option<ViolationType> {
    d.violations
        .iter()
        .fold(None::<&Violation>, |best, v| match best {
            Some(b) if b.confidence >= v.confidence => Some(b),
            _ => Some(v),
        })
        .map(|v| v.kind)
}

/// Every restriction decided in `period` (in `region`, if given), in the
/// order they were decided.
pub fn restrictions(
    input: &Input<'_>,
    period: &Period,
    region: Option<Region>,
) -> Vec<Restriction> {
    let facts: HashMap<&str, &DecisionFact> = input
        .decisions
        .iter()
        .map(|f| (f.decision.decision_id.as_str(), f))
        .collect();
    // The kind enforcement recorded for an automatic violation.
    let mut recorded: HashMap<&str, ViolationType> = HashMap::new();
    for e in input.events {
        if let EventKind::ViolationRecorded(r) = &e.kind {
            recorded.insert(r.subject.decision_id.as_str(), r.kind);
        }
    }
    let stage = |source: &str| {
        if source == SOURCE_SCREENING {
            Stage::BeforeListing
        } else {
            Stage::AfterListing
        }
    };
    let mut out = Vec::new();
    for f in input.decisions {
        let d = &f.decision;
        if d.action != Action::Reject || !period.contains(d.decided_at) {
            continue;
        }
        let Some(kind) = recorded
            .get(d.decision_id.as_str())
            .copied()
            .or_else(|| decision_kind(d))
        else {
            continue;
        };
        out.push(Restriction {
            decision_id: d.decision_id.clone(),
            listing_id: f.listing_id.clone(),
            shop_id: f.shop_id.clone(),
            region: f.region,
            category: f.category.clone(),
            content_type: f.content_type.clone(),
            source: f.source.clone(),
            stage: stage(&f.source),
            kind,
            reviewer: None,
            content_at: d.decided_at,
            actioned_at: d.decided_at,
            violations: d.violations.clone(),
            note: None,
            title: f.title.clone(),
        });
    }
    let mut opened: HashMap<&str, (&shopshield_enforce::Subject, &Decision)> = HashMap::new();
    for e in input.events {
        match &e.kind {
            EventKind::CaseOpened {
                case_id,
                subject,
                decision,
                ..
            } => {
                opened.insert(case_id.as_str(), (subject, decision));
            }
            EventKind::CaseDecided {
                case_id,
                reviewer,
                verdict: Verdict::Uphold { kind, .. },
                note,
            } if period.contains(e.at) => {
                let Some((subject, decision)) = opened.get(case_id.as_str()) else {
                    continue;
                };
                let fact = facts.get(decision.decision_id.as_str());
                let source = fact.map_or(SOURCE_SCREENING, |f| f.source.as_str());
                out.push(Restriction {
                    decision_id: decision.decision_id.clone(),
                    listing_id: subject.listing_id.clone(),
                    shop_id: subject.shop_id.clone(),
                    region: subject.region,
                    category: fact.map_or_else(|| "unknown".to_string(), |f| f.category.clone()),
                    content_type: fact
                        .map_or_else(|| CONTENT_LISTING.to_string(), |f| f.content_type.clone()),
                    source: source.to_string(),
                    stage: stage(source),
                    kind: *kind,
                    reviewer: Some(reviewer.clone()),
                    content_at: decision.decided_at,
                    actioned_at: e.at,
                    violations: decision.violations.clone(),
                    note: Some(note.clone()),
                    title: fact.map_or_else(String::new, |f| f.title.clone()),
                });
            }
            _ => {}
        }
    }
    out.retain(|r| region.is_none_or(|g| r.region == g));
    out.sort_by(|a, b| {
        a.actioned_at
            .cmp(&b.actioned_at)
            .then(a.decision_id.cmp(&b.decision_id))
    });
    out
}

/// Counts for one value of a breakdown (one region, one category...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Row {
    /// Restrictions of content, before or after listing.
    pub restrictions: u64,
    pub rejected_before_listing: u64,
    pub taken_down_after_listing: u64,
    /// Restrictions decided by the gate alone.
    pub automated: u64,
    /// Appeals filed against violations of this kind, region...
    pub appeals: u64,
    /// Appeals that reversed the violation.
    pub overturned: u64,
}

/// Takedowns of live items, by who found them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AfterListing {
    pub total: u64,
    /// Found by our own detection (any source but a notice).
    pub found_by_us: u64,
    /// Reported by a rights holder's notice.
    pub by_notice: u64,
}

/// The headline numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Totals {
    /// Listings rejected before they went live (by the gate, or held for
    /// review and upheld).
    pub rejected_before_listing: u64,
    pub taken_down_after_listing: AfterListing,
    /// Restrictions for goods that need a qualification the seller lacks.
    pub restricted_removals: u64,
    /// Restrictions for goods that may not be sold in the region.
    pub prohibited_removals: u64,
    pub videos_removed: u64,
    pub livestreams_stopped: u64,
    /// Creators whose permission to sell was revoked.
    pub creators_revoked: u64,
    /// Shops deactivated, for a time or for good.
    pub shops_deactivated: u64,
    pub notices_received: u64,
    pub notices_accepted: u64,
    pub counter_notices: u64,
    /// Rights holders whose notices were suspended for a time because they
    /// kept filing unfounded ones after a warning (DSA Art. 23(2), counted
    /// as Art. 24(1)(b) asks). Holders have no region: a report for one
    /// region leaves this at 0.
    pub reporters_restricted: u64,
    pub appeals_filed: u64,
    pub appeals_decided: u64,
    /// Decided appeals that reversed the violation.
    pub appeals_overturned: u64,
    /// `appeals_overturned / appeals_decided`; absent when none was decided.
    pub overturned_share: Option<f64>,
    /// Review cases opened (decisions held for a human).
    pub cases_opened: u64,
    /// Cases a reviewer cleared: the listing went live.
    pub cases_cleared: u64,
    /// Median seconds from submission to restriction; absent without
    /// restrictions.
    pub median_time_to_action_secs: Option<f64>,
    /// Restrictions found by our own detection over all restrictions;
    /// absent without restrictions.
    pub proactive_share: Option<f64>,
}

/// What a report was folded from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sources {
    pub log_events: u64,
    /// Stored `review` and `reject` decisions read.
    pub decisions: u64,
    pub notices: u64,
}

/// A transparency report for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TransparencyReport {
    pub period: Period,
    /// The one region reported on; every region when absent.
    #[schema(value_type = Option<String>)]
    pub region: Option<Region>,
    pub totals: Totals,
    pub by_region: BTreeMap<String, Row>,
    pub by_category: BTreeMap<String, Row>,
    pub by_content_type: BTreeMap<String, Row>,
    /// By kind of right or rule: `trademark`, `counterfeit`, `copyright`,
    /// `prohibited`, `restricted`.
    pub by_kind: BTreeMap<String, Row>,
    pub sources: Sources,
}

/// The median of `v` (sorted in place); `None` when empty.
pub fn median(v: &mut [i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    })
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl TransparencyReport {
    /// Folds the log and the decisions into the report of `period`.
    pub fn build(input: &Input<'_>, period: Period, region: Option<Region>) -> TransparencyReport {
        let rs = restrictions(input, &period, region);
        let mut t = Totals::default();
        let mut by_region: BTreeMap<String, Row> = BTreeMap::new();
        let mut by_category: BTreeMap<String, Row> = BTreeMap::new();
        let mut by_content_type: BTreeMap<String, Row> = BTreeMap::new();
        let mut by_kind: BTreeMap<String, Row> = BTreeMap::new();
        let mut times = Vec::with_capacity(rs.len());
        let mut proactive = 0u64;
        for r in &rs {
            match r.stage {
                Stage::BeforeListing => t.rejected_before_listing += 1,
                Stage::AfterListing => {
                    t.taken_down_after_listing.total += 1;
                    if r.source == SOURCE_NOTICE {
                        t.taken_down_after_listing.by_notice += 1;
                    } else {
                        t.taken_down_after_listing.found_by_us += 1;
                    }
                }
            }
            if r.source != SOURCE_NOTICE {
                proactive += 1;
            }
            match r.kind {
                ViolationType::Restricted => t.restricted_removals += 1,
                ViolationType::Prohibited => t.prohibited_removals += 1,
                _ => {}
            }
            match r.content_type.as_str() {
                CONTENT_VIDEO => t.videos_removed += 1,
                CONTENT_LIVESTREAM => t.livestreams_stopped += 1,
                _ => {}
            }
            times.push(r.time_to_action_secs());
            for row in [
                by_region.entry(r.region.as_str().to_string()).or_default(),
                by_category.entry(r.category.clone()).or_default(),
                by_content_type.entry(r.content_type.clone()).or_default(),
                by_kind.entry(r.kind.as_str().to_string()).or_default(),
            ] {
                row.restrictions += 1;
                match r.stage {
                    Stage::BeforeListing => row.rejected_before_listing += 1,
                    Stage::AfterListing => row.taken_down_after_listing += 1,
                }
                row.automated += u64::from(r.reviewer.is_none());
            }
        }
        t.median_time_to_action_secs = median(&mut times);
        t.proactive_share = share(proactive, rs.len() as u64);

        // Violations, cases and penalties from the log.
        let facts: HashMap<&str, &DecisionFact> = input
            .decisions
            .iter()
            .map(|f| (f.decision.decision_id.as_str(), f))
            .collect();
        let mut violations: HashMap<&str, &shopshield_enforce::ViolationRecord> = HashMap::new();
        let mut case_regions: HashMap<&str, Region> = HashMap::new();
        let in_region = |r: Region| region.is_none_or(|g| g == r);
        let mut revoked: BTreeSet<String> = BTreeSet::new();
        let mut deactivated: BTreeSet<String> = BTreeSet::new();
        for e in input.events {
            let here = period.contains(e.at);
            match &e.kind {
                EventKind::ViolationRecorded(v) => {
                    violations.insert(v.violation_id.as_str(), v);
                }
                EventKind::CaseOpened {
                    case_id, subject, ..
                } => {
                    case_regions.insert(case_id.as_str(), subject.region);
                    if here && in_region(subject.region) {
                        t.cases_opened += 1;
                    }
                }
                EventKind::CaseDecided {
                    case_id,
                    verdict: Verdict::Clear,
                    ..
                } if here
                    && case_regions
                        .get(case_id.as_str())
                        .is_some_and(|r| in_region(*r)) =>
                {
                    t.cases_cleared += 1;
                }
                EventKind::AppealFiled { violation_id, .. }
                | EventKind::AppealDecided { violation_id, .. }
                    if here =>
                {
                    let Some(v) = violations.get(violation_id.as_str()) else {
                        continue;
                    };
                    if !in_region(v.subject.region) {
                        continue;
                    }
                    let overturned = match &e.kind {
                        EventKind::AppealFiled { .. } => {
                            t.appeals_filed += 1;
                            None
                        }
                        EventKind::AppealDecided { upheld, .. } => {
                            t.appeals_decided += 1;
                            t.appeals_overturned += u64::from(*upheld);
                            Some(*upheld)
                        }
                        _ => None,
                    };
                    let fact = facts.get(v.subject.decision_id.as_str());
                    let category = fact.map_or("unknown", |f| f.category.as_str());
                    let content = fact.map_or(CONTENT_LISTING, |f| f.content_type.as_str());
                    for row in [
                        by_region
                            .entry(v.subject.region.as_str().to_string())
                            .or_default(),
                        by_category.entry(category.to_string()).or_default(),
                        by_content_type.entry(content.to_string()).or_default(),
                        by_kind.entry(v.kind.as_str().to_string()).or_default(),
                    ] {
                        match overturned {
                            None => row.appeals += 1,
                            Some(up) => row.overturned += u64::from(up),
                        }
                    }
                }
                EventKind::PenaltyApplied { penalty } if here => {
                    let trigger_region = violations
                        .get(penalty.trigger.as_str())
                        .map(|v| v.subject.region);
                    if region.is_some() && !trigger_region.is_some_and(in_region) {
                        continue;
                    }
                    match penalty.kind {
                        PenaltyKind::CreatorRevoked => {
                            revoked.insert(penalty.party.id().to_string());
                        }
                        PenaltyKind::ShopDeactivated | PenaltyKind::ShopPermanentlyDeactivated => {
                            deactivated.insert(penalty.party.id().to_string());
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        t.creators_revoked = revoked.len() as u64;
        t.shops_deactivated = deactivated.len() as u64;
        t.overturned_share = share(t.appeals_overturned, t.appeals_decided);

        for n in input.notices {
            if region.is_some() && n.region != region {
                continue;
            }
            if period.contains(n.received_at) {
                t.notices_received += 1;
                t.notices_accepted += u64::from(n.accepted == Some(true));
            }
            if n.counter_notice_at.is_some_and(|c| period.contains(c)) {
                t.counter_notices += 1;
            }
        }
        if region.is_none() {
            t.reporters_restricted = input
                .reporter_restrictions
                .iter()
                .filter(|at| period.contains(**at))
                .count() as u64;
        }

        TransparencyReport {
            period,
            region,
            totals: t,
            by_region,
            by_category,
            by_content_type,
            by_kind,
            sources: Sources {
                log_events: input.events.len() as u64,
                decisions: input.decisions.len() as u64,
                notices: input.notices.len() as u64,
            },
        }
    }
}

/// EU member states and the other EEA states (Iceland, Liechtenstein,
/// Norway), as ISO 3166-1 alpha-2 codes: the Transparency Database's
/// `EuropeanCountriesService::EUROPEAN_COUNTRY_CODES` (Greece is `GR`).
pub const EU_EEA: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Is the region in the EU or the EEA?
pub fn in_eu_eea(region: Region) -> bool {
    EU_EEA.contains(&region.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_covers_whole_days() {
        let p = Period::days("2026-01-01", "2026-01-31").unwrap();
        assert_eq!(p.from.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(p.to.to_rfc3339(), "2026-02-01T00:00:00+00:00");
        assert_eq!(
            Period::days("2026-13-01", "2026-01-31").unwrap_err().field,
            "from"
        );
        assert_eq!(
            Period::days("2026-01-02", "2026-01-01").unwrap_err().field,
            "to"
        );
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    }
}
