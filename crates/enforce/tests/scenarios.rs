mod common;

use chrono::Duration;
use common::*;
use shopshield_enforce::{
    CaseError, Command, CommandError, EnforcementConfig, EventKind, Journal, LiftReason,
    ListingStatus, NotificationKind, PenaltyKind, Severity, Verdict,
};
use shopshield_model::{Action, ViolationType};

fn kinds(
    j: &Journal,
    p: &shopshield_enforce::Party,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<PenaltyKind> {
    let mut v: Vec<PenaltyKind> = j
        .state()
        .active_penalties(p, now)
        .into_iter()
        .map(|p| p.kind)
        .collect();
    v.sort();
    v
}

fn appeal(violation: &str, by: shopshield_enforce::Party) -> Command {
    Command::FileAppeal {
        violation_id: violation.to_string(),
        appellant: by,
        statement: "These are genuine goods bought from the brand's distributor.".into(),
    }
}

fn decide(appeal_id: &str, reviewer: &str, upheld: bool, cited: Vec<usize>) -> Command {
    Command::DecideAppeal {
        appeal_id: appeal_id.to_string(),
        reviewer: reviewer.to_string(),
        upheld,
        reason: if upheld {
            "Invoice from the authorised distributor checks out.".into()
        } else {
            "The title uses the mark and the price is a tenth of retail.".into()
        },
        cited_evidence: cited,
    }
}

#[test]
fn shop_to_permanent_deactivation_and_back_by_appeal() {
    let e = enforcer();
    let mut j = Journal::new();
    let s = shop("s1");
    // Four counterfeit rejects at moderate severity: 12 points each.
    let mut notes = Vec::new();
    for (i, d) in [0, 1, 2, 3].into_iter().enumerate() {
        let cmd = ingest_cmd(
            &format!("l{i}"),
            "s1",
            None,
            Action::Reject,
            ViolationType::Counterfeit,
            0.97,
            day(d),
        );
        notes.extend(run(&mut j, &e, cmd, day(d)).expect("ingest"));
    }
    let st = j.state();
    assert_eq!(st.points_at(&s, e.config(), day(3)), 48);
    assert_eq!(
        kinds(&j, &s, day(3)),
        [
            PenaltyKind::CampaignsRestricted,
            PenaltyKind::ListingsCapped,
            PenaltyKind::ShopDeactivated,
            PenaltyKind::ShopPermanentlyDeactivated
        ]
    );
    assert_eq!(
        st.listing("l3@v1").map(|l| l.status),
        Some(ListingStatus::Removed)
    );
    let kinds_sent: Vec<NotificationKind> = notes.iter().map(|n| n.kind).collect();
    assert!(kinds_sent.contains(&NotificationKind::ShopDeactivated));
    assert!(kinds_sent.contains(&NotificationKind::ListingRemoved));
    // 0 -> 12 -> 24... each jump lands on a milestone: no separate warning.
    assert!(!kinds_sent.contains(&NotificationKind::Warning));

    // The seller appeals the last violation; a reviewer upholds it.
    run(&mut j, &e, appeal("v:l3@v1", s.clone()), day(5)).expect("appeal");
    let notes = run(
        &mut j,
        &e,
        decide("v:l3@v1/appeal1", "r2", true, vec![]),
        day(6),
    )
    .expect("decide");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NotificationKind::ListingReinstated)
    );
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NotificationKind::PenaltyLifted
                && n.payload["reason"]["why"] == "appeal_upheld")
    );
    let st = j.state();
    assert_eq!(st.points_at(&s, e.config(), day(6)), 36);
    // The campaign restriction (days 0-7) and the deactivation (days 2-30)
    // came from the earlier violations and stay.
    assert_eq!(
        kinds(&j, &s, day(6)),
        [
            PenaltyKind::CampaignsRestricted,
            PenaltyKind::ListingsCapped,
            PenaltyKind::ShopDeactivated
        ]
    );
    assert_eq!(
        st.listing("l3@v1").map(|l| l.status),
        Some(ListingStatus::Live)
    );

    // Travel: the 28-day deactivation ends, then points expire one by one.
    let notes = run(&mut j, &e, Command::Tick, day(30)).expect("tick");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NotificationKind::PenaltyLifted)
    );
    assert_eq!(kinds(&j, &s, day(30)), [PenaltyKind::ListingsCapped]);
    run(&mut j, &e, Command::Tick, day(90)).expect("tick");
    assert_eq!(j.state().party(&s).map(|p| p.points), Some(24));
    assert_eq!(kinds(&j, &s, day(90)), [PenaltyKind::ListingsCapped]);
    run(&mut j, &e, Command::Tick, day(91)).expect("tick");
    assert_eq!(j.state().party(&s).map(|p| p.points), Some(12));
    assert!(kinds(&j, &s, day(91)).is_empty());
    run(&mut j, &e, Command::Tick, day(92)).expect("tick");
    assert_eq!(j.state().party(&s).map(|p| p.points), Some(0));
    // Nothing left to do.
    assert!(
        run(&mut j, &e, Command::Tick, day(93))
            .expect("tick")
            .is_empty()
    );
    assert_eq!(e.next_due(j.state(), day(93)), None);

    // The log verifies and replays to the same state.
    let again = Journal::load(j.records().to_vec(), Some(&j.head())).expect("verifies");
    assert_eq!(again.state(), j.state());
}

#[test]
fn creator_revoked_at_ip_strike_threshold_and_restored_by_appeal() {
    let e = enforcer();
    let mut j = Journal::new();
    let c = creator("c1");
    for i in 0..2 {
        let cmd = ingest_cmd(
            &format!("l{i}"),
            &format!("shop{i}"),
            Some("c1"),
            Action::Reject,
            ViolationType::Trademark,
            0.95,
            day(i),
        );
        run(&mut j, &e, cmd, day(i)).expect("ingest");
    }
    assert!(!j.state().creator_revoked("c1", day(2)));
    let cmd = ingest_cmd(
        "l2",
        "shop2",
        Some("c1"),
        Action::Reject,
        ViolationType::Copyright,
        0.95,
        day(2),
    );
    let notes = run(&mut j, &e, cmd, day(2)).expect("ingest");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NotificationKind::CreatorRevoked)
    );
    assert!(j.state().creator_revoked("c1", day(2)));
    // Each shop got its own points (4 each); the creator got all three.
    assert_eq!(j.state().points_at(&shop("shop0"), e.config(), day(2)), 4);
    assert_eq!(j.state().points_at(&c, e.config(), day(2)), 12);
    // Revocation is permanent: points expiring changes nothing.
    run(&mut j, &e, Command::Tick, day(400)).expect("tick");
    assert!(j.state().creator_revoked("c1", day(400)));

    // ...unless an appeal removes a strike. (Appeal within the window: use a
    // fresh journal to stay inside 30 days.)
    let mut j2 = Journal::new();
    for i in 0..3 {
        let cmd = ingest_cmd(
            &format!("l{i}"),
            "s",
            Some("c1"),
            Action::Reject,
            ViolationType::Trademark,
            0.95,
            day(i),
        );
        run(&mut j2, &e, cmd, day(i)).expect("ingest");
    }
    assert!(j2.state().creator_revoked("c1", day(3)));
    run(&mut j2, &e, appeal("v:l1@v1", c.clone()), day(4)).expect("creator appeals");
    run(
        &mut j2,
        &e,
        decide("v:l1@v1/appeal1", "r9", true, vec![]),
        day(5),
    )
    .expect("decide");
    assert!(!j2.state().creator_revoked("c1", day(5)));
}

#[test]
fn knock_offs_do_not_count_as_ip_strikes() {
    let e = enforcer();
    let mut j = Journal::new();
    for i in 0..4 {
        let listing = format!("k{i}");
        let cmd = ingest_cmd(
            &listing,
            "s",
            Some("c1"),
            Action::Review,
            ViolationType::Trademark,
            0.6,
            day(0),
        );
        run(&mut j, &e, cmd, day(0)).expect("ingest");
        let case = format!("{listing}@v1");
        run(
            &mut j,
            &e,
            Command::ClaimCase {
                case_id: case.clone(),
                reviewer: "r1".into(),
            },
            day(0),
        )
        .expect("claim");
        run(
            &mut j,
            &e,
            Command::DecideCase {
                case_id: case,
                reviewer: "r1".into(),
                verdict: Verdict::Uphold {
                    kind: ViolationType::Trademark,
                    severity: Severity::Severe,
                    knock_off: true,
                },
                note: "Copies the shoe's trade dress without the mark.".into(),
            },
            day(0),
        )
        .expect("decide");
    }
    assert!(!j.state().creator_revoked("c1", day(0)));
    // knock_off severe = 2 points each.
    assert_eq!(j.state().points_at(&shop("s"), e.config(), day(0)), 8);
}

#[test]
fn low_confidence_reject_records_nothing_and_approve_does_nothing() {
    let e = enforcer();
    let mut j = Journal::new();
    let cmd = ingest_cmd(
        "l0",
        "s",
        None,
        Action::Reject,
        ViolationType::Counterfeit,
        0.5,
        day(0),
    );
    assert!(run(&mut j, &e, cmd, day(0)).expect("ok").is_empty());
    let cmd = ingest_cmd(
        "l1",
        "s",
        None,
        Action::Approve,
        ViolationType::Counterfeit,
        0.1,
        day(0),
    );
    assert!(run(&mut j, &e, cmd, day(0)).expect("ok").is_empty());
    assert_eq!(j.records().len(), 0);
    // A duplicate decision is refused.
    let cmd = ingest_cmd(
        "l2",
        "s",
        None,
        Action::Reject,
        ViolationType::Counterfeit,
        0.99,
        day(0),
    );
    run(&mut j, &e, cmd.clone(), day(0)).expect("ok");
    assert!(matches!(
        run(&mut j, &e, cmd, day(0)),
        Err(CommandError::DuplicateDecision(_))
    ));
}

#[test]
fn review_queue_claim_lease_and_decisions() {
    let e = enforcer();
    let mut j = Journal::new();
    let cmd = ingest_cmd(
        "l0",
        "s",
        None,
        Action::Review,
        ViolationType::Counterfeit,
        0.7,
        day(0),
    );
    run(&mut j, &e, cmd, day(0)).expect("open");
    let cmd = ingest_cmd(
        "l1",
        "s",
        None,
        Action::Review,
        ViolationType::Trademark,
        0.7,
        day(0),
    );
    run(&mut j, &e, cmd, day(0)).expect("open");
    assert_eq!(
        j.state().listing("l0@v1").map(|l| l.status),
        Some(ListingStatus::PendingReview)
    );

    let queues = j.state().queues(e.config(), day(0) + Duration::hours(13));
    assert_eq!(queues.len(), 2);
    let counterfeit = queues
        .iter()
        .find(|q| q.queue.to_string() == "counterfeit/US")
        .expect("queue");
    // Counterfeit SLA is 12 h by default: overdue at 13 h; trademark (24 h) not.
    assert_eq!(
        (counterfeit.open, counterfeit.overdue, counterfeit.sla_secs),
        (1, 1, 12 * 3600)
    );
    let tm = queues
        .iter()
        .find(|q| q.queue.to_string() == "trademark/US")
        .expect("queue");
    assert_eq!(tm.overdue, 0);

    let claim = |r: &str| Command::ClaimCase {
        case_id: "l0@v1".into(),
        reviewer: r.into(),
    };
    let t = day(1);
    run(&mut j, &e, claim("alice"), t).expect("alice claims");
    assert!(matches!(
        run(&mut j, &e, claim("bob"), t + Duration::minutes(5)),
        Err(CommandError::Case(CaseError::Held { .. }))
    ));
    let decide = |r: &str, v: Verdict| Command::DecideCase {
        case_id: "l0@v1".into(),
        reviewer: r.into(),
        verdict: v,
        note: "Logo and price match known fakes.".into(),
    };
    let uphold = Verdict::Uphold {
        kind: ViolationType::Counterfeit,
        severity: Severity::Severe,
        knock_off: false,
    };
    assert!(matches!(
        run(&mut j, &e, decide("bob", uphold), t + Duration::minutes(6)),
        Err(CommandError::Case(CaseError::NotHolder(_)))
    ));
    // The lease runs out: alice can no longer decide; bob takes over.
    assert!(matches!(
        run(
            &mut j,
            &e,
            decide("alice", uphold),
            t + Duration::minutes(31)
        ),
        Err(CommandError::Case(CaseError::LeaseExpired { .. }))
    ));
    run(&mut j, &e, claim("bob"), t + Duration::minutes(31)).expect("bob claims");
    let notes =
        run(&mut j, &e, decide("bob", uphold), t + Duration::minutes(40)).expect("bob decides");
    assert!(
        notes
            .iter()
            .any(|n| n.kind == NotificationKind::ListingRemoved)
    );
    assert!(matches!(
        run(&mut j, &e, claim("alice"), t + Duration::minutes(41)),
        Err(CommandError::Case(CaseError::Decided(_)))
    ));
    let v = j.state().violation("v:l0@v1").expect("recorded");
    assert_eq!(v.record.points, 24);
    // Evidence: the detector finding plus the reviewer's note.
    assert_eq!(v.record.evidence.len(), 2);
    assert_eq!(
        j.state()
            .queue(&v.record.subject_queue(), e.config(), t)
            .len(),
        0
    );

    // Clearing the other case makes the listing go live.
    run(
        &mut j,
        &e,
        Command::ClaimCase {
            case_id: "l1@v1".into(),
            reviewer: "carol".into(),
        },
        t + Duration::minutes(41),
    )
    .expect("claim");
    let notes = run(
        &mut j,
        &e,
        Command::DecideCase {
            case_id: "l1@v1".into(),
            reviewer: "carol".into(),
            verdict: Verdict::Clear,
            note: "Authorised reseller.".into(),
        },
        t + Duration::minutes(42),
    )
    .expect("clear");
    assert_eq!(
        notes.iter().map(|n| n.kind).collect::<Vec<_>>(),
        [NotificationKind::ListingApproved]
    );
    assert_eq!(
        j.state().listing("l1@v1").map(|l| l.status),
        Some(ListingStatus::Live)
    );

    // The appeal of bob's decision must go to someone else.
    run(
        &mut j,
        &e,
        appeal("v:l0@v1", shop("s")),
        t + Duration::days(1),
    )
    .expect("appeal");
    assert!(matches!(
        run(
            &mut j,
            &e,
            decide_appeal("v:l0@v1/appeal1", "bob", false, vec![0]),
            t + Duration::days(2)
        ),
        Err(CommandError::SameReviewer(_))
    ));
}

fn decide_appeal(a: &str, r: &str, upheld: bool, cited: Vec<usize>) -> Command {
    decide(a, r, upheld, cited)
}

trait SubjectQueue {
    fn subject_queue(&self) -> shopshield_enforce::QueueKey;
}

impl SubjectQueue for shopshield_enforce::ViolationRecord {
    fn subject_queue(&self) -> shopshield_enforce::QueueKey {
        shopshield_enforce::QueueKey {
            kind: Some(self.kind),
            region: self.subject.region,
        }
    }
}

#[test]
fn appeal_rules() {
    let e = enforcer();
    let mut j = Journal::new();
    let cmd = ingest_cmd(
        "l0",
        "s",
        Some("c"),
        Action::Reject,
        ViolationType::Trademark,
        0.99,
        day(0),
    );
    run(&mut j, &e, cmd, day(0)).expect("ingest");
    let v = "v:l0@v1";
    // Only a party may appeal.
    assert!(matches!(
        run(&mut j, &e, appeal(v, shop("other")), day(1)),
        Err(CommandError::NotAParty { .. })
    ));
    run(&mut j, &e, appeal(v, shop("s")), day(1)).expect("first appeal");
    assert!(matches!(
        run(&mut j, &e, appeal(v, creator("c")), day(1)),
        Err(CommandError::NoAppeal { .. })
    ));
    // A rejection must cite evidence, with a real reason.
    assert!(matches!(
        run(
            &mut j,
            &e,
            decide("v:l0@v1/appeal1", "r1", false, vec![]),
            day(2)
        ),
        Err(CommandError::EvidenceRequired)
    ));
    assert!(matches!(
        run(
            &mut j,
            &e,
            decide("v:l0@v1/appeal1", "r1", false, vec![7]),
            day(2)
        ),
        Err(CommandError::Invalid(_))
    ));
    let boiler = Command::DecideAppeal {
        appeal_id: "v:l0@v1/appeal1".into(),
        reviewer: "r1".into(),
        upheld: false,
        reason: "Rejected.".into(),
        cited_evidence: vec![0],
    };
    assert!(matches!(
        run(&mut j, &e, boiler, day(2)),
        Err(CommandError::Invalid(_))
    ));
    let notes = run(
        &mut j,
        &e,
        decide("v:l0@v1/appeal1", "r1", false, vec![0]),
        day(2),
    )
    .expect("reject");
    assert_eq!(notes[0].payload["cited_evidence"][0], 0);
    // Second appeal: within 15 days of the rejection, decided by someone else.
    assert!(matches!(
        run(&mut j, &e, appeal(v, creator("c")), day(18)),
        Err(CommandError::AppealWindowClosed { .. })
    ));
    let mut j2 = j.clone();
    run(&mut j, &e, appeal(v, creator("c")), day(17)).expect("second appeal");
    assert!(matches!(
        run(
            &mut j,
            &e,
            decide("v:l0@v1/appeal2", "r1", true, vec![]),
            day(18)
        ),
        Err(CommandError::SameReviewer(_))
    ));
    run(
        &mut j,
        &e,
        decide("v:l0@v1/appeal2", "r2", false, vec![0, 1]),
        day(18),
    )
    .expect_err("only one evidence item");
    run(
        &mut j,
        &e,
        decide("v:l0@v1/appeal2", "r2", false, vec![0]),
        day(18),
    )
    .expect("reject");
    // No third appeal.
    assert!(matches!(
        run(&mut j, &e, appeal(v, shop("s")), day(19)),
        Err(CommandError::NoAppeal { .. })
    ));
    // First appeal window: 30 days.
    let cmd = ingest_cmd(
        "l9",
        "s",
        None,
        Action::Reject,
        ViolationType::Trademark,
        0.99,
        day(20),
    );
    run(&mut j2, &e, cmd, day(20)).expect("ingest");
    assert!(matches!(
        run(&mut j2, &e, appeal("v:l9@v1", shop("s")), day(51)),
        Err(CommandError::AppealWindowClosed { .. })
    ));
    run(&mut j2, &e, appeal("v:l9@v1", shop("s")), day(50)).expect("in time");
    // Time never goes backwards.
    assert!(matches!(
        run(&mut j2, &e, Command::Tick, day(49)),
        Err(CommandError::ClockSkew { .. })
    ));
}

#[test]
fn warning_five_points_before_a_milestone() {
    let e = enforcer();
    let mut j = Journal::new();
    // prohibited moderate = 12 points; restricted moderate = 1 point.
    let mut sent = Vec::new();
    for i in 0..7 {
        let cmd = ingest_cmd(
            &format!("r{i}"),
            "s",
            None,
            Action::Reject,
            ViolationType::Restricted,
            0.99,
            day(0),
        );
        let notes = run(&mut j, &e, cmd, day(0)).expect("ok");
        sent.push(
            notes
                .iter()
                .filter(|n| n.kind == NotificationKind::Warning)
                .count(),
        );
    }
    // The 7th point crosses 12 - 5 = 7.
    assert_eq!(sent, [0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn listings_cap_lifts_when_points_fall_below_it() {
    let e = enforcer();
    let mut j = Journal::new();
    for i in 0..2 {
        let cmd = ingest_cmd(
            &format!("l{i}"),
            "s",
            None,
            Action::Reject,
            ViolationType::Prohibited,
            0.99,
            day(i * 10),
        );
        run(&mut j, &e, cmd, day(i * 10)).expect("ok");
    }
    assert_eq!(
        kinds(&j, &shop("s"), day(10)),
        [PenaltyKind::ListingsCapped]
    );
    let notes = run(&mut j, &e, Command::Tick, day(90)).expect("tick");
    let lifted: Vec<_> = j
        .entries()
        .into_iter()
        .filter_map(|en| match en.event.kind {
            EventKind::PenaltyLifted { kind, reason, .. } => Some((kind, reason)),
            _ => None,
        })
        .collect();
    assert!(
        lifted.contains(&(PenaltyKind::ListingsCapped, LiftReason::BelowMilestone)),
        "{lifted:?}"
    );
    assert!(
        notes
            .iter()
            .all(|n| n.kind == NotificationKind::PenaltyLifted)
    );
}

#[test]
fn config_defaults_validate_and_parse_from_toml() {
    let d = EnforcementConfig::default();
    d.validate().expect("defaults valid");
    let c = EnforcementConfig::from_toml(
        r#"
points_expiry_days = 180
auto_record_min_confidence = 0.95
[points.counterfeit]
minor = 6
moderate = 12
severe = 24
critical = 48
[review.sla_hours]
"trademark/GB" = 6
[[shop_milestones]]
points = 10
penalty = "campaigns_restricted"
duration = { days = 3 }
[[shop_milestones]]
points = 40
penalty = "shop_permanently_deactivated"
duration = "permanent"
"#,
    )
    .expect("parses");
    assert_eq!(c.points_expiry_days, 180);
    assert_eq!(c.points.counterfeit.minor, 6);
    assert_eq!(c.points.trademark, d.points.trademark);
    assert_eq!(c.shop_milestones.len(), 2);
    assert_eq!(c.appeal_window_days, 30);
    // Bad ladders and unknown fields are refused.
    assert!(EnforcementConfig::from_toml("[[shop_milestones]]\npoints = 5\npenalty = \"creator_revoked\"\nduration = \"permanent\"\n").is_err());
    assert!(EnforcementConfig::from_toml("points_expiry = 3").is_err());
    assert!(EnforcementConfig::from_toml("[review.sla_hours]\n\"bogus/US\" = 3\n").is_err());
    // Default table follows the public ranges.
    let p = &d.points;
    for s in Severity::ALL {
        assert!((1..=48).contains(&p.trademark.get(s)));
        assert!((4..=48).contains(&p.counterfeit.get(s)));
        assert!((6..=48).contains(&p.prohibited.get(s)));
        assert!(p.restricted.get(s) <= 4 && p.knock_off.get(s) <= 4);
    }
}

#[test]
fn seller_view_shows_points_evidence_penalties_and_deadlines() {
    let e = enforcer();
    let mut j = Journal::new();
    let cmd = ingest_cmd(
        "l0",
        "s",
        None,
        Action::Reject,
        ViolationType::Prohibited,
        0.99,
        day(0),
    );
    run(&mut j, &e, cmd, day(0)).expect("ingest");
    let view = j.state().party_view(&shop("s"), e.config(), day(3));
    assert_eq!(view.points, 12);
    assert_eq!(view.penalties.len(), 1);
    assert_eq!(view.next_milestone.map(|m| m.points), Some(24));
    let v = &view.violations[0];
    assert!(v.counts);
    assert_eq!(v.appeal_deadline, Some(day(30)));
    assert_eq!(
        v.violation.record.evidence[0].evidence.why,
        "prohibited found in title"
    );
    // After the window, no deadline is offered.
    let later = j.state().party_view(&shop("s"), e.config(), day(31));
    assert_eq!(later.violations[0].appeal_deadline, None);
    assert!(later.penalties.is_empty());
    // The view serialises for the API.
    let json = serde_json::to_value(&view).expect("json");
    assert_eq!(
        json["party"],
        serde_json::json!({"party": "shop", "id": "s"})
    );
}

#[test]
fn event_json_shape_is_stable() {
    let e = enforcer();
    let mut j = Journal::new();
    let cmd = ingest_cmd(
        "l0",
        "s",
        None,
        Action::Reject,
        ViolationType::Prohibited,
        0.99,
        day(0),
    );
    run(&mut j, &e, cmd, day(0)).expect("ingest");
    let stored: serde_json::Value = serde_json::from_str(&j.records()[0].body).expect("json");
    // Encoding v2: the event inside an envelope that names the encoding.
    assert_eq!(stored["v"], 2);
    let body = &stored["event"];
    assert_eq!(body["event"], "violation_recorded");
    assert_eq!(body["actor"], serde_json::json!({"role": "service"}));
    assert_eq!(body["at"], "2026-01-01T00:00:00Z");
    assert_eq!(body["type"], "prohibited");
    assert_eq!(body["points"], 12);
    assert_eq!(body["source"], serde_json::json!({"by": "auto"}));
    assert_eq!(body["expires_at"], "2026-04-01T00:00:00Z");
}

#[test]
fn a_provisional_removal_records_nothing_until_a_decision_of_its_own() {
    let e = enforcer();
    let mut j = Journal::new();
    let s = shop("s1");
    let mut provisional = decision(
        "l1",
        Action::Reject,
        vec![finding(ViolationType::Trademark, 1.0)],
        t0(),
    );
    provisional.source = shopshield_model::DecisionSource::Notice;
    provisional.cause = Some(Box::new(shopshield_model::Cause {
        change: shopshield_model::Cause::SELF_SERVICE_REMOVAL.into(),
        right_id: Some("r1".into()),
        shop_id: None,
        rule_ids: Vec::new(),
        version: "n-1".into(),
        by: "self-service removal, notice n-1 item l1".into(),
        why: "taken down at filing".into(),
    }));
    assert!(provisional.is_provisional());
    let cmd = Command::Ingest {
        subject: subject("l1", "s1", None),
        decision: provisional.clone(),
    };
    run(&mut j, &e, cmd, t0()).unwrap();
    assert_eq!(j.state().points_at(&s, e.config(), t0()), 0);
    assert!(j.entries().is_empty(), "no event for a provisional removal");
    // The reviewer's acceptance is a decision like any other: points.
    let mut accepted = provisional;
    accepted.cause = None;
    accepted.listing_version = 2;
    accepted.decision_id = shopshield_model::Decision::decision_id("l1", 2);
    assert!(!accepted.is_provisional());
    let mut sub = subject("l1", "s1", None);
    sub.decision_id = accepted.decision_id.clone();
    sub.listing_version = 2;
    let cmd = Command::Ingest {
        subject: sub,
        decision: accepted,
    };
    run(&mut j, &e, cmd, t0()).unwrap();
    assert!(j.state().points_at(&s, e.config(), t0()) > 0);
}
