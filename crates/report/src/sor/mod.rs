//! DSA statements of reasons (Article 17, Article 24(5)): one per
//! restriction decided in the EU/EEA, in the Transparency Database's
//! schema, in batches the multiple-statements endpoint takes.

pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use shopshield_enforce::{Event, EventKind, PenaltyKind, ViolationRecord};
use shopshield_model::ViolationType;

use crate::{
    CONTENT_LIVESTREAM, CONTENT_VIDEO, Input, Period, Restriction, SOURCE_NOTICE, in_eu_eea,
    restrictions,
};

/// Longest `decision_facts` the database accepts, in characters.
pub const MAX_FACTS: usize = 5000;

/// One statement of reasons. Absent optional fields are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_visibility: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_monetary: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_provision: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_account: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date_account_restriction: Option<String>,
    pub decision_ground: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub illegal_content_legal_ground: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub illegal_content_explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_ground: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_explanation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incompatible_content_illegal: Option<&'static str>,
    pub category: &'static str,
    pub category_specification: Vec<&'static str>,
    pub content_type: Vec<&'static str>,
    pub source_type: &'static str,
    pub automated_detection: &'static str,
    pub automated_decision: &'static str,
    pub content_date: String,
    pub application_date: String,
    pub territorial_scope: Vec<String>,
    pub decision_facts: String,
    pub puid: String,
}

/// A platform-unique id for a decision, matching `^[a-zA-Z0-9-_]+$`:
/// `shopshield-` and the decision id with `_` written `__`, `.` `_d`, `:`
/// `_c` and `@` `_a`, so distinct decision ids give distinct puids.
pub fn puid(decision_id: &str) -> String {
    let mut out = String::from("shopshield-");
    for c in decision_id.chars() {
        match c {
            '_' => out.push_str("__"),
            '.' => out.push_str("_d"),
            ':' => out.push_str("_c"),
            '@' => out.push_str("_a"),
            c if c.is_ascii_alphanumeric() || c == '-' => out.push(c),
            c => {
                out.push_str(&format!("_u{:x}_", u32::from(c)));
            }
        }
    }
    out
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn is_ip(k: ViolationType) -> bool {
    matches!(
        k,
        ViolationType::Trademark | ViolationType::Counterfeit | ViolationType::Copyright
    )
}

/// The law an IP restriction rests on.
fn ip_ground(k: ViolationType) -> &'static str {
    match k {
        ViolationType::Copyright => {
            "Directive 2001/29/EC (copyright in the information society), Articles 2 and 3; national copyright law"
        }
        _ => {
            "Regulation (EU) 2017/1001 on the European Union trade mark, Article 9; Directive (EU) 2015/2436, Article 10; national trade mark law"
        }
    }
}

/// What happened, in words the seller and the public can read: the item,
/// the findings with their fields and spans, the reviewer's part.
fn facts(r: &Restriction) -> String {
    let listing = r.content_type == crate::CONTENT_LISTING;
    let item = match (listing, r.shop_id.is_empty()) {
        (true, _) => format!("listing {}, shop {}", r.listing_id, r.shop_id),
        (false, true) => r.listing_id.clone(),
        (false, false) => format!("{}, shop {}", r.listing_id, r.shop_id),
    };
    let mut s = format!(
        "The {} \"{}\" ({item}) {} in {} was {} on {}.",
        r.content_type,
        r.title,
        if listing { "offered" } else { "shown" },
        r.region.as_str(),
        match (r.content_type.as_str(), r.stage) {
            (crate::CONTENT_LIVESTREAM, _) => "stopped while it was live",
            (_, crate::Stage::BeforeListing) => "refused before it went live",
            (_, crate::Stage::AfterListing) => "taken down after it went live",
        },
        r.actioned_at.format("%Y-%m-%d"),
    );
    for v in r.violations.iter().filter(|v| v.kind == r.kind) {
        s.push_str(&format!(
            " Finding ({}): {}",
            v.kind.as_str(),
            v.evidence.why
        ));
        if let (Some(f), Some(t)) = (&v.evidence.field, &v.evidence.text) {
            s.push_str(&format!(" [{f}: \"{t}\"]"));
        }
        if let Some(c) = &v.evidence.citation {
            s.push_str(&format!(" [rule cites: {c}]"));
        }
        if !s.ends_with('.') {
            s.push('.');
        }
    }
    match (&r.reviewer, &r.note) {
        (Some(_), Some(n)) if !n.is_empty() => {
            s.push_str(&format!(" A human reviewer upheld the finding: {n}"))
        }
        (Some(_), _) => s.push_str(" A human reviewer upheld the finding."),
        (None, _) => s.push_str(" The decision was taken automatically."),
    }
    truncate(&s, MAX_FACTS)
}

/// Penalties on the account that a restriction's violation triggered.
fn account_restrictions(events: &[Event]) -> HashMap<String, (PenaltyKind, Option<DateTime<Utc>>)> {
    let mut out: HashMap<String, (PenaltyKind, Option<DateTime<Utc>>)> = HashMap::new();
    for e in events {
        if let EventKind::PenaltyApplied { penalty } = &e.kind {
            let rank = |k: PenaltyKind| match k {
                PenaltyKind::ShopPermanentlyDeactivated | PenaltyKind::CreatorRevoked => 2,
                PenaltyKind::ShopDeactivated | PenaltyKind::CreatorSuspended => 1,
                _ => 0,
            };
            if rank(penalty.kind) == 0 {
                continue;
            }
            let entry = out
                .entry(penalty.trigger.clone())
                .or_insert((penalty.kind, penalty.until));
            if rank(penalty.kind) > rank(entry.0) {
                *entry = (penalty.kind, penalty.until);
            }
        }
    }
    out
}

/// The statement of reasons for one restriction.
pub fn statement(
    r: &Restriction,
    account: Option<&(PenaltyKind, Option<DateTime<Utc>>)>,
) -> Statement {
    let ip = is_ip(r.kind);
    let citation = r
        .violations
        .iter()
        .filter(|v| v.kind == r.kind)
        .find_map(|v| v.evidence.citation.clone());
    let explanation = truncate(
        &r.violations
            .iter()
            .filter(|v| v.kind == r.kind)
            .map(|v| v.evidence.why.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        2000,
    );
    let explanation = if explanation.is_empty() {
        format!("The listing breaks the {} rules.", r.kind.as_str())
    } else {
        explanation
    };
    let (ground, legal, illegal_expl, incompatible, incompatible_expl, incompatible_illegal) =
        match (ip, citation) {
            (true, _) => (
                "DECISION_GROUND_ILLEGAL_CONTENT",
                Some(ip_ground(r.kind).to_string()),
                Some(explanation),
                None,
                None,
                None,
            ),
            (false, Some(c)) => (
                "DECISION_GROUND_ILLEGAL_CONTENT",
                Some(truncate(&c, 500)),
                Some(explanation),
                None,
                None,
                None,
            ),
            (false, None) => {
                let rule = r
                    .violations
                    .iter()
                    .filter(|v| v.kind == r.kind)
                    .find_map(|v| {
                        v.rule_id.as_ref().map(|id| {
                            format!(
                                "Marketplace terms: region policy {} rule {id}",
                                v.evidence.pack.as_deref().unwrap_or(r.region.as_str())
                            )
                        })
                    })
                    .unwrap_or_else(|| "Marketplace terms: prohibited and restricted goods".into());
                (
                    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
                    None,
                    None,
                    Some(truncate(&rule, 500)),
                    Some(explanation),
                    Some("No"),
                )
            }
        };
    let (decision_account, end_date_account_restriction) = match account {
        Some((PenaltyKind::ShopPermanentlyDeactivated | PenaltyKind::CreatorRevoked, _)) => {
            (Some("DECISION_ACCOUNT_TERMINATED"), None)
        }
        Some((_, until)) => (
            Some("DECISION_ACCOUNT_SUSPENDED"),
            until.map(|u| u.format("%Y-%m-%d").to_string()),
        ),
        None => (None, None),
    };
    let notice = r.source == SOURCE_NOTICE;
    Statement {
        decision_visibility: Some(vec!["DECISION_VISIBILITY_CONTENT_REMOVED"]),
        decision_monetary: None,
        decision_provision: None,
        decision_account,
        // Sellers on a marketplace act as traders.
        account_type: Some("ACCOUNT_TYPE_BUSINESS"),
        end_date_account_restriction,
        decision_ground: ground,
        illegal_content_legal_ground: legal,
        illegal_content_explanation: illegal_expl,
        incompatible_content_ground: incompatible,
        incompatible_content_explanation: incompatible_expl,
        incompatible_content_illegal: incompatible_illegal,
        category: if ip {
            "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
        } else {
            "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
        },
        category_specification: vec![match r.kind {
            ViolationType::Trademark | ViolationType::Counterfeit => {
                "KEYWORD_TRADEMARK_INFRINGEMENT"
            }
            ViolationType::Copyright => "KEYWORD_COPYRIGHT_INFRINGEMENT",
            ViolationType::Prohibited | ViolationType::Restricted => "KEYWORD_PROHIBITED_PRODUCTS",
        }],
        content_type: vec![match r.content_type.as_str() {
            CONTENT_VIDEO | CONTENT_LIVESTREAM => "CONTENT_TYPE_VIDEO",
            _ => "CONTENT_TYPE_PRODUCT",
        }],
        source_type: if notice {
            "SOURCE_ARTICLE_16"
        } else {
            "SOURCE_VOLUNTARY"
        },
        automated_detection: if notice { "No" } else { "Yes" },
        automated_decision: if r.reviewer.is_some() {
            "AUTOMATED_DECISION_NOT_AUTOMATED"
        } else {
            "AUTOMATED_DECISION_FULLY"
        },
        content_date: r.content_at.format("%Y-%m-%d").to_string(),
        application_date: r.actioned_at.format("%Y-%m-%d").to_string(),
        territorial_scope: vec![r.region.as_str().to_string()],
        decision_facts: facts(r),
        puid: puid(&r.decision_id),
    }
}

/// One statement per restriction decided in `period` in the EU/EEA, in the
/// order they were decided.
pub fn statements(input: &Input<'_>, period: &Period) -> Vec<Statement> {
    let accounts = account_restrictions(input.events);
    restrictions(input, period, None)
        .iter()
        .filter(|r| in_eu_eea(r.region))
        .map(|r| {
            let account = accounts.get(&ViolationRecord::id_for(&r.decision_id));
            statement(r, account)
        })
        .collect()
}

/// The body of one call of the multiple-statements endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct Batch<'a> {
    pub statements: &'a [Statement],
}

/// Statements in batches of at most [`rules::MAX_BATCH`].
pub fn batches(statements: &[Statement]) -> Vec<Batch<'_>> {
    statements
        .chunks(rules::MAX_BATCH)
        .map(|c| Batch { statements: c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puids_are_valid_and_distinct() {
        let ids = ["a@v1", "a_v1", "a.b@v1", "a:b@v1", "a_db@v1", "x-1@v12"];
        let puids: Vec<String> = ids.iter().map(|i| puid(i)).collect();
        let mut uniq = puids.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), ids.len(), "{puids:?}");
        for p in &puids {
            assert!(
                p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{p}"
            );
        }
    }

    #[test]
    fn truncation_counts_characters() {
        let s = "é".repeat(6000);
        let t = truncate(&s, MAX_FACTS);
        assert_eq!(t.chars().count(), MAX_FACTS);
    }
}
