#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use shopshield_enforce::{
    Actor, Command, CommandError, EnforcementConfig, Enforcer, Journal, Notification, Party,
    Subject,
};
use shopshield_model::{Action, Decision, Evidence, Region, Violation, ViolationType};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

pub fn day(n: i64) -> DateTime<Utc> {
    t0() + Duration::days(n)
}

pub fn enforcer() -> Enforcer {
    Enforcer::new(EnforcementConfig::default()).expect("default config is valid")
}

pub fn region() -> Region {
    Region::parse("region", "US").expect("US")
}

pub fn subject(listing: &str, shop: &str, creator: Option<&str>) -> Subject {
    Subject {
        listing_id: listing.to_string(),
        listing_version: 1,
        decision_id: Decision::decision_id(listing, 1),
        shop_id: shop.to_string(),
        creator_id: creator.map(str::to_string),
        region: region(),
        content: None,
    }
}

pub fn finding(kind: ViolationType, confidence: f64) -> Violation {
    Violation {
        kind,
        right_id: Some("r-nike".into()),
        rule_id: None,
        detector: "test".into(),
        confidence,
        evidence: Evidence {
            field: Some("title".into()),
            text: Some("Nlke".into()),
            price_ratio: Some(0.1 + confidence / 3.0),
            why: format!("{} found in title", kind.as_str()),
            ..Evidence::default()
        },
    }
}

pub fn decision(
    listing: &str,
    action: Action,
    findings: Vec<Violation>,
    at: DateTime<Utc>,
) -> Decision {
    Decision {
        id: listing.to_string(),
        decision_id: Decision::decision_id(listing, 1),
        listing_version: 1,
        action,
        score: findings.iter().map(|f| f.confidence).fold(0.0, f64::max),
        violations: findings,
        registry_version: 7,
        policy_versions: BTreeMap::from([("us-restricted".into(), "3".into())]),
        decided_at: at,
        source: Default::default(),
        cause: None,
    }
}

pub fn ingest_cmd(
    listing: &str,
    shop: &str,
    creator: Option<&str>,
    action: Action,
    kind: ViolationType,
    confidence: f64,
    at: DateTime<Utc>,
) -> Command {
    Command::Ingest {
        subject: subject(listing, shop, creator),
        decision: decision(listing, action, vec![finding(kind, confidence)], at),
    }
}

/// Runs a command as the actor its identity implies.
pub fn run(
    j: &mut Journal,
    e: &Enforcer,
    cmd: Command,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, CommandError> {
    let actor = match &cmd {
        Command::Ingest { .. } | Command::Tick | Command::CloseCase { .. } => Actor::Service,
        Command::ClaimCase { reviewer, .. }
        | Command::ReleaseCase { reviewer, .. }
        | Command::DecideCase { reviewer, .. }
        | Command::DecideAppeal { reviewer, .. } => Actor::Reviewer {
            id: reviewer.clone(),
        },
        Command::FileAppeal { appellant, .. } => Actor::for_party(appellant),
    };
    j.execute(e, &cmd, &actor, now)
}

pub fn shop(id: &str) -> Party {
    Party::Shop(id.to_string())
}

pub fn creator(id: &str) -> Party {
    Party::Creator(id.to_string())
}
