//! Transparency reports and statements of reasons on a real SQLite file:
//! decisions are stored, enforcement opens cases and records violations,
//! reviewers decide, sellers appeal; then every number of the report is
//! computed again here, independently, from the enforcement log (as the
//! admin reads it) and the stored decisions, and compared.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use shopshield_app::enforce::{Severity, Verdict};
use shopshield_app::report::sor::rules;
use shopshield_app::{App, AppConfig, AppError, FixedClock, Principal, ReportQuery};
use shopshield_model::{Action, Decision, Evidence, Listing, Role, Violation, ViolationType};
use shopshield_store::{CatalogStore, Page, Screened, SqliteStore};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).single().unwrap()
}

struct Item {
    id: &'static str,
    shop: &'static str,
    region: &'static str,
    category: &'static str,
    action: Action,
    kind: ViolationType,
    confidence: f64,
    citation: Option<&'static str>,
}

fn screened(it: &Item, at: DateTime<Utc>) -> Screened {
    let listing: Listing = serde_json::from_value(serde_json::json!({
        "id": it.id, "shop_id": it.shop, "region": it.region,
        "category": it.category, "title": format!("Item {}", it.id)
    }))
    .unwrap();
    Screened {
        terms: Vec::new(),
        content_hash: listing.content_hash(),
        decision: Decision {
            id: it.id.into(),
            decision_id: Decision::decision_id(it.id, 1),
            listing_version: 1,
            action: it.action,
            score: it.confidence,
            violations: if it.action == Action::Approve {
                vec![]
            } else {
                vec![Violation {
                    kind: it.kind,
                    right_id: None,
                    rule_id: it.citation.map(|_| "rule-1".to_string()),
                    detector: "test".into(),
                    confidence: it.confidence,
                    evidence: Evidence {
                        field: Some("title".into()),
                        span: Some([0, 4]),
                        text: Some("Item".into()),
                        citation: it.citation.map(str::to_string),
                        why: format!("{} finding in the title", it.kind.as_str()),
                        ..Evidence::default()
                    },
                }]
            },
            registry_version: 0,
            policy_versions: Default::default(),
            decided_at: at,
            source: Default::default(),
            cause: None,
        },
        listing,
        version: 1,
    }
}

fn item(
    id: &'static str,
    shop: &'static str,
    region: &'static str,
    category: &'static str,
    action: Action,
    kind: ViolationType,
    confidence: f64,
) -> Item {
    Item {
        id,
        shop,
        region,
        category,
        action,
        kind,
        confidence,
        citation: None,
    }
}

fn principal(id: &str, role: Role, shop: Option<&str>) -> Principal {
    Principal {
        role,
        shop_id: shop.map(str::to_string),
        ..Principal::operator(id)
    }
}

/// Builds the marketplace: 11 decisions in 4 regions, cases decided both
/// ways, an appeal upheld and one rejected. Returns the app and its clock.
fn marketplace(db: &std::path::Path) -> (App, Arc<FixedClock>) {
    use Action::*;
    use ViolationType::*;
    let items = vec![
        item(
            "a1",
            "shop-de",
            "DE",
            "apparel/shoes",
            Reject,
            Counterfeit,
            0.97,
        ),
        item(
            "a2",
            "shop-de",
            "DE",
            "apparel/shoes",
            Reject,
            Trademark,
            0.95,
        ),
        item(
            "a3",
            "shop-fr",
            "FR",
            "beauty/skincare",
            Reject,
            Copyright,
            0.93,
        ),
        Item {
            citation: Some("Regulation (EC) No 1223/2009, Article 14"),
            ..item(
                "a4",
                "shop-fr",
                "FR",
                "beauty/skincare",
                Reject,
                Prohibited,
                0.96,
            )
        },
        // Below the recording threshold: rejected, but no violation.
        item(
            "a5",
            "shop-us",
            "US",
            "electronics/phones",
            Reject,
            Trademark,
            0.6,
        ),
        item(
            "r1",
            "shop-de",
            "DE",
            "apparel/bags",
            Review,
            Counterfeit,
            0.7,
        ),
        item(
            "r2",
            "shop-fr",
            "FR",
            "health/supplements",
            Review,
            Restricted,
            0.6,
        ),
        item(
            "r3",
            "shop-us",
            "US",
            "apparel/bags",
            Review,
            Trademark,
            0.6,
        ),
        item("r4", "shop-gb", "GB", "toys/dolls", Review, Copyright, 0.6),
        item(
            "p1",
            "shop-us",
            "US",
            "apparel/shoes",
            Approve,
            Trademark,
            0.0,
        ),
        item(
            "p2",
            "shop-de",
            "DE",
            "apparel/shoes",
            Approve,
            Trademark,
            0.0,
        ),
    ];
    let clock = Arc::new(FixedClock::new(t0()));
    let batch: Vec<Screened> = items.iter().map(|it| screened(it, t0())).collect();
    SqliteStore::open(db)
        .unwrap()
        .record_screenings(&batch)
        .unwrap();
    let store = SqliteStore::open(db).unwrap();
    let app = App::new(Arc::new(store), AppConfig::default(), clock.clone()).unwrap();
    let rev = principal("rev-1", Role::Reviewer, None);
    let rev2 = principal("rev-2", Role::Reviewer, None);
    let decide = |case: &str, verdict: Verdict, after: i64| {
        clock.advance(Duration::minutes(after));
        app.review().claim(&rev, case).unwrap();
        app.review()
            .decide(&rev, case, verdict, "checked by hand")
            .unwrap();
    };
    let uphold = |kind| Verdict::Uphold {
        kind,
        severity: Severity::Moderate,
        knock_off: false,
    };
    decide("r1@v1", uphold(Counterfeit), 30);
    decide("r2@v1", uphold(Restricted), 90);
    decide("r3@v1", Verdict::Clear, 10);
    decide("r4@v1", uphold(Copyright), 240);
    // The German shop appeals both automatic violations; one is overturned.
    clock.advance(Duration::hours(2));
    let seller = principal("seller-de", Role::Seller, Some("shop-de"));
    let a = app
        .review()
        .file_appeal(&seller, "v:a1@v1", "genuine, invoice attached")
        .unwrap();
    let b = app
        .review()
        .file_appeal(&seller, "v:a2@v1", "my own brand")
        .unwrap();
    clock.advance(Duration::hours(1));
    app.review()
        .decide_appeal(
            &rev2,
            &a.appeal_id,
            true,
            "the invoice shows the goods are genuine",
            vec![],
        )
        .unwrap();
    app.review()
        .decide_appeal(
            &rev2,
            &b.appeal_id,
            false,
            "the mark is registered to another holder",
            vec![0],
        )
        .unwrap();
    (app, clock)
}

fn admin() -> Principal {
    Principal::operator("report-test")
}

fn query(from: &str, to: &str, region: Option<&str>) -> ReportQuery {
    ReportQuery {
        from: from.into(),
        to: to.into(),
        region: region.map(str::to_string),
    }
}

/// The numbers, computed here from the admin's view of the log and the
/// decisions, by walking their JSON.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    rejected_before_listing: u64,
    restricted: u64,
    prohibited: u64,
    cases_opened: u64,
    cases_cleared: u64,
    appeals_filed: u64,
    appeals_decided: u64,
    overturned: u64,
    shops_deactivated: u64,
    creators_revoked: u64,
    median: Option<f64>,
    by_region: BTreeMap<String, u64>,
    by_category: BTreeMap<String, u64>,
    by_kind: BTreeMap<String, u64>,
}

fn recompute(app: &App, region: Option<&str>) -> Expected {
    let log: Vec<Value> = app
        .review()
        .log_entries(&admin(), 0, 100_000)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::to_value(&e.event).unwrap())
        .collect();
    let mut decisions = Vec::new();
    let mut page = Page {
        after: None,
        limit: 1000,
    };
    loop {
        let d = app.screening().decisions(&admin(), &page).unwrap();
        if d.is_empty() {
            break;
        }
        page.after = Some(d.last().unwrap().decision_id.clone());
        decisions.extend(d);
    }
    let listing = |id: &str| app.screening().listing(&admin(), id).unwrap().listing;
    let keep = |r: &str| region.is_none_or(|g| g == r);
    let mut e = Expected::default();
    let mut times = Vec::new();
    let mut deactivated = std::collections::BTreeSet::new();
    let mut revoked = std::collections::BTreeSet::new();
    let count = |e: &mut Expected, region: &str, category: &str, kind: &str| {
        e.rejected_before_listing += 1;
        *e.by_region.entry(region.into()).or_default() += 1;
        *e.by_category.entry(category.into()).or_default() += 1;
        *e.by_kind.entry(kind.into()).or_default() += 1;
        match kind {
            "restricted" => e.restricted += 1,
            "prohibited" => e.prohibited += 1,
            _ => {}
        }
    };
    // Automatic rejections: the stored reject decisions. Their kind is the
    // one enforcement recorded, or the finding's when none was recorded.
    for d in decisions.iter().filter(|d| d.action == Action::Reject) {
        let l = listing(&d.id);
        if !keep(l.region.as_str()) {
            continue;
        }
        let recorded = log.iter().find_map(|ev| {
            (ev["event"] == "violation_recorded" && ev["subject"]["decision_id"] == d.decision_id)
                .then(|| ev["type"].as_str().unwrap().to_string())
        });
        let kind = recorded.unwrap_or_else(|| d.violations[0].kind.as_str().to_string());
        count(&mut e, l.region.as_str(), &l.category, &kind);
        times.push(0i64);
    }
    // Reviewed: each upheld case.
    let opened = |case: &str| {
        log.iter()
            .find(|ev| ev["event"] == "case_opened" && ev["case_id"] == case)
            .unwrap()
            .clone()
    };
    for ev in &log {
        match ev["event"].as_str().unwrap() {
            "case_opened" if keep(ev["subject"]["region"].as_str().unwrap()) => e.cases_opened += 1,
            "case_decided" => {
                let o = opened(ev["case_id"].as_str().unwrap());
                let r = o["subject"]["region"].as_str().unwrap();
                if !keep(r) {
                    continue;
                }
                if ev["verdict"]["outcome"] == "clear" {
                    e.cases_cleared += 1;
                    continue;
                }
                let l = listing(o["subject"]["listing_id"].as_str().unwrap());
                count(
                    &mut e,
                    r,
                    &l.category,
                    ev["verdict"]["type"].as_str().unwrap(),
                );
                let at: DateTime<Utc> = ev["at"].as_str().unwrap().parse().unwrap();
                let from: DateTime<Utc> = o["decision"]["decided_at"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                times.push((at - from).num_seconds());
            }
            "appeal_filed" | "appeal_decided" => {
                let v = log
                    .iter()
                    .find(|x| {
                        x["event"] == "violation_recorded"
                            && x["violation_id"] == ev["violation_id"]
                    })
                    .unwrap();
                if !keep(v["subject"]["region"].as_str().unwrap()) {
                    continue;
                }
                if ev["event"] == "appeal_filed" {
                    e.appeals_filed += 1;
                } else {
                    e.appeals_decided += 1;
                    e.overturned += u64::from(ev["upheld"] == true);
                }
            }
            "penalty_applied" => {
                let trigger = log.iter().find(|x| {
                    x["event"] == "violation_recorded"
                        && x["violation_id"] == ev["penalty"]["trigger"]
                });
                if !trigger.is_some_and(|v| keep(v["subject"]["region"].as_str().unwrap())) {
                    continue;
                }
                let party = ev["penalty"]["party"]["id"].as_str().unwrap().to_string();
                match ev["penalty"]["kind"].as_str().unwrap() {
                    "shop_deactivated" | "shop_permanently_deactivated" => {
                        deactivated.insert(party);
                    }
                    "creator_revoked" => {
                        revoked.insert(party);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    e.shops_deactivated = deactivated.len() as u64;
    e.creators_revoked = revoked.len() as u64;
    times.sort_unstable();
    e.median = match times.len() {
        0 => None,
        n if n % 2 == 1 => Some(times[n / 2] as f64),
        n => Some((times[n / 2 - 1] + times[n / 2]) as f64 / 2.0),
    };
    e
}

fn observed(r: &shopshield_app::report::TransparencyReport) -> Expected {
    let t = &r.totals;
    let counts = |m: &BTreeMap<String, shopshield_app::report::Row>| {
        m.iter()
            .filter(|(_, row)| row.restrictions > 0)
            .map(|(k, row)| (k.clone(), row.restrictions))
            .collect()
    };
    Expected {
        rejected_before_listing: t.rejected_before_listing,
        restricted: t.restricted_removals,
        prohibited: t.prohibited_removals,
        cases_opened: t.cases_opened,
        cases_cleared: t.cases_cleared,
        appeals_filed: t.appeals_filed,
        appeals_decided: t.appeals_decided,
        overturned: t.appeals_overturned,
        shops_deactivated: t.shops_deactivated,
        creators_revoked: t.creators_revoked,
        median: t.median_time_to_action_secs,
        by_region: counts(&r.by_region),
        by_category: counts(&r.by_category),
        by_kind: counts(&r.by_kind),
    }
}

#[test]
fn every_number_is_reproduced_from_the_log_and_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _clock) = marketplace(&dir.path().join("shopshield.db"));
    let r = app
        .reports()
        .transparency(&admin(), &query("2026-05-01", "2026-05-01", None))
        .unwrap();
    let want = recompute(&app, None);
    assert_eq!(observed(&r), want);
    // And the scenario's own numbers: 5 rejects and 3 upheld cases.
    let t = &r.totals;
    assert_eq!(t.rejected_before_listing, 8);
    assert_eq!(
        t.taken_down_after_listing.total, 0,
        "no sweep or notice decisions"
    );
    assert_eq!((t.restricted_removals, t.prohibited_removals), (1, 1));
    assert_eq!((t.cases_opened, t.cases_cleared), (4, 1));
    assert_eq!(
        (t.appeals_filed, t.appeals_decided, t.appeals_overturned),
        (2, 2, 1)
    );
    assert_eq!(t.overturned_share, Some(0.5));
    assert_eq!(t.proactive_share, Some(1.0));
    assert_eq!(t.videos_removed + t.livestreams_stopped, 0);
    assert_eq!(r.by_region["DE"].restrictions, 3);
    assert_eq!(r.by_region["DE"].appeals, 2);
    assert_eq!(r.by_region["DE"].overturned, 1);
    assert_eq!(r.by_kind["counterfeit"].automated, 1);
    assert_eq!(r.by_content_type["listing"].restrictions, 8);
    // Reviewed cases took 30 min, 2 h, 6 h 10 min (cumulative clock); five
    // automatic ones took 0: the median of eight is 0.
    assert_eq!(t.median_time_to_action_secs, Some(0.0));

    // One region.
    let de = app
        .reports()
        .transparency(&admin(), &query("2026-05-01", "2026-05-01", Some("de")))
        .unwrap();
    assert_eq!(observed(&de), recompute(&app, Some("DE")));
    assert_eq!(de.totals.rejected_before_listing, 3);
    assert_eq!(de.by_region.keys().collect::<Vec<_>>(), vec!["DE"]);

    // Another period holds nothing.
    let april = app
        .reports()
        .transparency(&admin(), &query("2026-04-01", "2026-04-30", None))
        .unwrap();
    assert_eq!(april.totals.rejected_before_listing, 0);
    assert_eq!(april.totals.median_time_to_action_secs, None);

    // The HTML page has its charts inline and nothing from elsewhere.
    let html = shopshield_app::report::render::html(&r);
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
    let md = shopshield_app::report::render::markdown(&r);
    assert!(
        md.contains("| Listings rejected before listing | 8 |"),
        "{md}"
    );
}

#[test]
fn metrics_show_appeals_and_violations_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = marketplace(&dir.path().join("shopshield.db"));
    let m = app.metrics_text().unwrap();
    for line in [
        "shopshield_appeals{state=\"pending\"} 0",
        "shopshield_appeals{state=\"upheld\"} 1",
        "shopshield_appeals{state=\"rejected\"} 1",
        "shopshield_violations{kind=\"counterfeit\",state=\"reversed\"} 1",
        "shopshield_violations{kind=\"counterfeit\",state=\"standing\"} 1",
        "shopshield_violations{kind=\"copyright\",state=\"standing\"} 2",
        "shopshield_violations{kind=\"restricted\",state=\"standing\"} 1",
    ] {
        assert!(m.contains(line), "{line} in\n{m}");
    }
    // Every case was decided: no queue has depth.
    assert!(!m.contains("shopshield_review_queue_depth{"), "{m}");
}

#[test]
fn metrics_show_queue_depth_age_and_sla_breaches() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let it = item(
        "q1",
        "shop-de",
        "DE",
        "apparel/bags",
        Action::Review,
        ViolationType::Counterfeit,
        0.7,
    );
    SqliteStore::open(&db)
        .unwrap()
        .record_screenings(&[screened(&it, t0())])
        .unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::new(
        Arc::new(SqliteStore::open(&db).unwrap()),
        AppConfig::default(),
        clock.clone(),
    )
    .unwrap();
    let queue = "{queue_type=\"counterfeit\",region=\"DE\"}";
    clock.advance(Duration::hours(1));
    let m = app.metrics_text().unwrap();
    for line in [
        format!("shopshield_review_queue_depth{queue} 1"),
        format!("shopshield_review_queue_oldest_age_seconds{queue} 3600"),
        format!("shopshield_review_queue_sla_breaches{queue} 0"),
    ] {
        assert!(m.contains(&line), "{line} in\n{m}");
    }
    // Past the SLA, the case is a breach.
    clock.advance(Duration::days(30));
    let m = app.metrics_text().unwrap();
    let line = format!("shopshield_review_queue_sla_breaches{queue} 1");
    assert!(m.contains(&line), "{line} in\n{m}");
}

#[test]
fn bad_queries_name_the_field_and_only_admins_read_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = marketplace(&dir.path().join("shopshield.db"));
    let err = |q| match app.reports().transparency(&admin(), &q) {
        Err(AppError::Invalid(v)) => v.field,
        other => panic!("{other:?}"),
    };
    assert_eq!(err(query("2026-5-1x", "2026-05-01", None)), "from");
    assert_eq!(err(query("2026-05-02", "2026-05-01", None)), "to");
    assert_eq!(err(query("2026-05-01", "2026-05-01", Some("XX"))), "region");
    let reviewer = principal("rev-9", Role::Reviewer, None);
    assert!(matches!(
        app.reports()
            .transparency(&reviewer, &query("2026-05-01", "2026-05-01", None)),
        Err(AppError::Forbidden(_))
    ));
}

#[test]
fn statements_of_reasons_cover_eu_restrictions_and_pass_the_database_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = marketplace(&dir.path().join("shopshield.db"));
    let st = app
        .reports()
        .statements(&admin(), &query("2026-05-01", "2026-05-01", None))
        .unwrap();
    // DE: a1, a2, r1; FR: a3, a4, r2. US and GB are outside the EU/EEA.
    let mut puids: Vec<&str> = st.iter().map(|s| s.puid.as_str()).collect();
    puids.sort();
    assert_eq!(
        puids,
        vec![
            "shopshield-a1_av1",
            "shopshield-a2_av1",
            "shopshield-a3_av1",
            "shopshield-a4_av1",
            "shopshield-r1_av1",
            "shopshield-r2_av1"
        ]
    );
    for s in &st {
        let v = serde_json::to_value(s).unwrap();
        assert_eq!(rules::validate(&v), Vec::<String>::new(), "{v}");
    }
    let by = |p: &str| st.iter().find(|s| s.puid == p).unwrap();
    let a1 = by("shopshield-a1_av1");
    assert_eq!(
        a1.category,
        "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    );
    assert_eq!(
        a1.category_specification,
        vec!["KEYWORD_TRADEMARK_INFRINGEMENT"]
    );
    assert_eq!(a1.decision_ground, "DECISION_GROUND_ILLEGAL_CONTENT");
    assert_eq!(
        (a1.automated_detection, a1.automated_decision),
        ("Yes", "AUTOMATED_DECISION_FULLY")
    );
    assert_eq!(a1.source_type, "SOURCE_VOLUNTARY");
    assert_eq!(a1.territorial_scope, vec!["DE"]);
    assert_eq!(a1.content_type, vec!["CONTENT_TYPE_PRODUCT"]);
    let a4 = by("shopshield-a4_av1");
    assert_eq!(
        a4.category,
        "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS"
    );
    assert_eq!(
        a4.illegal_content_legal_ground.as_deref(),
        Some("Regulation (EC) No 1223/2009, Article 14")
    );
    let r2 = by("shopshield-r2_av1");
    assert_eq!(r2.decision_ground, "DECISION_GROUND_INCOMPATIBLE_CONTENT");
    assert_eq!(r2.automated_decision, "AUTOMATED_DECISION_NOT_AUTOMATED");
    assert!(r2.decision_facts.contains("human reviewer"));
    // Batches: every one valid.
    let batches = shopshield_app::report::sor::batches(&st);
    assert_eq!(batches.len(), 1);
    for b in &batches {
        let v = serde_json::to_value(b).unwrap();
        assert_eq!(rules::validate_batch(&v), Vec::<String>::new());
    }
}
