//! Notices and counter-notices over real HTTP with time injected: every
//! legal element is required, a holder files only on its own rights, two
//! reviewers never both decide one item, an accepted item takes the
//! listing down (source `notice`, points, webhook), a counter-notice
//! restores it after 10 business days unless the holder records a court
//! action, and the transparency report counts it all.

mod common;

use std::sync::Arc;

use chrono::TimeZone;
use common::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, FixedClock};
use shopshield_model::Role;

/// Friday 2026-11-27, 10:00 UTC.
fn friday() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 11, 27, 10, 0, 0)
        .single()
        .unwrap()
}

struct World {
    s: Server,
    clock: Arc<FixedClock>,
    admin: String,
    zorbex: String,
    acme: String,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    world_with("", 4).await
}

/// The world with `[notices.reporters]` set to `reporters` and `listings`
/// live listings `l-0`, `l-1`... of shops `shop-0`, `shop-1`...
async fn world_with(reporters: &str, listings: usize) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(friday()));
    let config = AppConfig::parse(&format!(
        "[notices]\npoll_interval_ms = 50\n[notices.reporters]\n{reporters}"
    ))
    .unwrap();
    let s = Server::start_with(&dir.path().join("db.sqlite"), config, clock.clone()).await;
    let admin = s.key(Role::Admin, None);
    for (id, name) in [("zorbex", "Zorbex Inc"), ("acme", "Acme Ltd")] {
        let (st, body) = s
            .post(&admin, "/v1/holders", &json!({"id": id, "name": name}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        let (st, body) = s
            .post(
                &admin,
                "/v1/rights",
                &json!({"id": format!("r-{id}"), "holder": id, "kind": "trademark",
                        "mark": format!("Qq{id}mark"), "nice_classes": [25], "regions": ["*"]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    for i in 0..listings {
        let (st, body) = s
            .post(
                &admin,
                "/v1/listings",
                &json!({"id": format!("l-{i}"), "shop_id": format!("shop-{i}"), "region": "US",
                        "category": "apparel/shoes", "title": format!("Canvas walking shoe {i}"),
                        "price": {"amount": 45.0, "currency": "USD"}}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        assert_eq!(body["action"], "approve", "{body}");
    }
    let zorbex = s.key(Role::RightsHolder, Some("zorbex"));
    let acme = s.key(Role::RightsHolder, Some("acme"));
    World {
        s,
        clock,
        admin,
        zorbex,
        acme,
        _dir: dir,
    }
}

fn notice(id: &str, right: &str, items: &[&str]) -> Value {
    json!({
        "id": id,
        "right_id": right,
        "work": "Our registered word mark and the product photos of our shoe",
        "items": items.iter().map(|i| json!({"kind": "listing", "id": i,
            "material": "the product photo is ours, copied from our catalogue"})).collect::<Vec<_>>(),
        "explanation": "The listing shows our copyrighted catalogue photo; we never licensed it.",
        "complainant": {"name": "Ann Agent", "email": "ann@zorbex.example",
                        "address": "1 Main St, Springfield"},
        "statements": {"good_faith": true, "accuracy_under_penalty_of_perjury": true,
                       "bona_fide": true},
        "signature": "/Ann Agent/"
    })
}

fn counter() -> Value {
    json!({
        "material": "my listing's product photo",
        "location": "listing l-0",
        "name": "Sam Seller", "address": "2 High St, Shelbyville", "phone": "+1 555 0101",
        "statements": {"mistake_under_penalty_of_perjury": true,
                       "consent_to_jurisdiction": true, "accept_service": true},
        "signature": "Sam Seller"
    })
}

fn err_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or_default()
}

async fn status_of(s: &Server, key: &str, id: &str) -> String {
    let (st, body) = s.get(key, &format!("/v1/listings/{id}/status")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap_or_default().to_string()
}

async fn decide(
    s: &Server,
    key: &str,
    notice: &str,
    item: &str,
    outcome: &str,
) -> (StatusCode, Value) {
    s.post(
        key,
        &format!("/v1/notices/{notice}/items/{item}/decision"),
        &json!({"outcome": outcome, "reason": "the photo is the holder's catalogue photo"}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_legal_element_is_required_and_holders_file_only_on_their_rights() {
    let w = world().await;
    let s = &w.s;
    // Each missing or false element: 422 naming it; nothing stored.
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("work", Box::new(|n| n["work"] = json!(""))),
        ("items", Box::new(|n| n["items"] = json!([]))),
        (
            "items[0].kind",
            Box::new(|n| {
                n["items"][0]
                    .as_object_mut()
                    .unwrap()
                    .retain(|k, _| k != "kind")
            }),
        ),
        (
            "items[0].material",
            Box::new(|n| n["items"][0]["material"] = json!(" ")),
        ),
        (
            "explanation",
            Box::new(|n| {
                n.as_object_mut().unwrap().remove("explanation");
            }),
        ),
        (
            "complainant.name",
            Box::new(|n| n["complainant"]["name"] = json!("")),
        ),
        (
            "complainant.email",
            Box::new(|n| n["complainant"]["email"] = json!("not-an-email")),
        ),
        (
            "complainant.address",
            Box::new(|n| {
                n["complainant"].as_object_mut().unwrap().remove("address");
            }),
        ),
        (
            "statements.good_faith",
            Box::new(|n| n["statements"]["good_faith"] = json!(false)),
        ),
        (
            "statements.accuracy_under_penalty_of_perjury",
            Box::new(|n| {
                n["statements"]
                    .as_object_mut()
                    .unwrap()
                    .remove("accuracy_under_penalty_of_perjury");
            }),
        ),
        (
            "statements.bona_fide",
            Box::new(|n| n["statements"]["bona_fide"] = json!(false)),
        ),
        ("signature", Box::new(|n| n["signature"] = json!(""))),
        ("right_id", Box::new(|n| n["right_id"] = json!("r-nobody"))),
        (
            "items[1].id",
            Box::new(|n| n["items"][1]["id"] = json!("no-such-listing")),
        ),
    ];
    for (field, edit) in cases {
        let mut n = notice("n-bad", "r-zorbex", &["l-0", "l-1"]);
        edit(&mut n);
        let (st, body) = s.post(&w.zorbex, "/v1/notices", &n).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert_eq!(err_field(&body), field, "{body}");
    }
    let (st, _) = s.get(&w.admin, "/v1/notices/n-bad").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A holder filing on another holder's right: 403.
    let (st, body) = s
        .post(&w.acme, "/v1/notices", &notice("n-x", "r-zorbex", &["l-0"]))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    // Sellers and reviewers file nothing.
    let seller = s.key(Role::Seller, Some("shop-0"));
    let (st, _) = s
        .post(&seller, "/v1/notices", &notice("n-y", "r-zorbex", &["l-0"]))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Filed: 201 with the receipt; an identical re-filing: 200, the same
    // receipt; other content under the same id: 409.
    let full = notice("n-1", "r-zorbex", &["l-0", "l-1"]);
    let (st, first) = s.post(&w.zorbex, "/v1/notices", &full).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["notice_id"], "n-1");
    assert_eq!(first["item_count"], 2);
    assert_eq!(first["items"][1]["state"], "pending");
    let (st, again) = s.post(&w.zorbex, "/v1/notices", &full).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again, first);
    let mut changed = full.clone();
    changed["explanation"] = json!("something else");
    let (st, body) = s.post(&w.zorbex, "/v1/notices", &changed).await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    // Admins file on any right.
    let (st, body) = s
        .post(&w.admin, "/v1/notices", &notice("n-2", "r-acme", &["l-2"]))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    // Each holder sees its own notices; reviewers see all.
    let (_, mine) = s.get(&w.zorbex, "/v1/notices").await;
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notice"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["n-1"]);
    let (st, _) = s.get(&w.acme, "/v1/notices/n-1").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let reviewer = s.key(Role::Reviewer, None);
    let (_, all) = s.get(&reviewer, "/v1/notices?state=pending").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    // Bodies and paths that make no sense are 4xx, never 5xx.
    for raw in [
        &b"not json"[..],
        b"[]",
        b"{\"items\": \"x\"}",
        b"{\"statements\": {\"good_faith\": \"yes\"}}",
        b"",
    ] {
        let (st, body) = s.post_raw(&w.zorbex, "/v1/notices", raw.to_vec()).await;
        assert!(st.is_client_error(), "{st} {body}");
    }
    for path in [
        "/v1/notices/%FF/items/x/decision",
        "/v1/notices/n-1/items/%00/decision",
        "/v1/notices/n-1/items/zz/decision",
    ] {
        let (st, body) = s
            .post(
                &reviewer,
                path,
                &json!({"outcome": "accept", "reason": "x"}),
            )
            .await;
        assert!(st.is_client_error(), "{path}: {st} {body}");
    }
    let (st, body) = s.get(&reviewer, "/v1/notices?state=bogus").await;
    assert!(st.is_client_error(), "{body}");
    w.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_at_once_one_wins_and_two_holders_share_a_listing() {
    let w = world().await;
    let s = &w.s;
    // Two holders file on one listing at the same time: both are stored.
    let (nz, na) = (
        notice("n-z", "r-zorbex", &["l-3"]),
        notice("n-a", "r-acme", &["l-3"]),
    );
    let (a, b) = tokio::join!(
        s.post(&w.zorbex, "/v1/notices", &nz),
        s.post(&w.acme, "/v1/notices", &na),
    );
    assert_eq!(a.0, StatusCode::CREATED, "{}", a.1);
    assert_eq!(b.0, StatusCode::CREATED, "{}", b.1);
    let r1 = s.key_as(Role::Reviewer, "rev-1");
    let r2 = s.key_as(Role::Reviewer, "rev-2");
    let (st, queue) = s.get(&r1, "/v1/notices/queue").await;
    assert_eq!(st, StatusCode::OK, "{queue}");
    let q = queue.as_array().unwrap();
    assert_eq!(q.len(), 2);
    assert_eq!(q[0]["listing"]["id"], "l-3");
    assert!(q[0]["right"]["holder_id"].is_string(), "{queue}");
    assert!(
        q[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("catalogue photo")
    );
    assert_eq!(q[0]["detectors"]["action"], "approve");
    // Two reviewers decide one item at once: exactly one wins.
    let (x, y) = tokio::join!(
        decide(s, &r1, "n-z", "l-3", "accept"),
        decide(s, &r2, "n-z", "l-3", "reject"),
    );
    let codes = [x.0, y.0];
    assert!(
        codes.contains(&StatusCode::OK) && codes.contains(&StatusCode::CONFLICT),
        "{x:?} {y:?}"
    );
    let (_, n) = s.get(&r1, "/v1/notices/n-z").await;
    let winner = if x.0 == StatusCode::OK {
        "rev-1"
    } else {
        "rev-2"
    };
    assert_eq!(n["items"][0]["review"]["reviewer"], winner, "{n}");
    // The other holder's item is decided on its own.
    let (st, body) = decide(s, &r1, "n-a", "l-3", "reject").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "rejected");
    // Reviewers only; a holder cannot decide.
    let (st, _) = decide(s, &w.acme, "n-a", "l-3", "accept").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    w.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_takes_down_and_a_counter_notice_restores_after_ten_business_days() {
    let w = world().await;
    let s = &w.s;
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("n-1", "r-zorbex", &["l-0", "l-1"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let reviewer = s.key_as(Role::Reviewer, "rev-1");
    for item in ["l-0", "l-1"] {
        let (st, body) = decide(s, &reviewer, "n-1", item, "accept").await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "accepted");
        assert!(body["takedown_decision_id"].is_string(), "{body}");
    }
    // The listing is taken down by a decision with source notice, naming
    // the notice and the right; the shop gets points; both parties are
    // told by webhook.
    let (_, decisions) = s.get(&w.admin, "/v1/listings/l-0/decisions").await;
    let last = decisions.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["source"], "notice", "{last}");
    assert_eq!(last["action"], "reject");
    assert_eq!(last["violations"][0]["right_id"], "r-zorbex");
    assert!(
        last["violations"][0]["evidence"]["why"]
            .as_str()
            .unwrap()
            .contains("n-1")
    );
    assert_eq!(last["cause"]["change"], "notice");
    assert_eq!(status_of(s, &w.admin, "l-0").await, "removed");
    let seller = s.key(Role::Seller, Some("shop-0"));
    let (_, record) = s.get(&seller, "/v1/shops/shop-0/enforcement").await;
    assert!(record["points"].as_u64().unwrap_or(0) > 0, "{record}");
    let (_, count) = s.get(&seller, "/v1/shops/shop-0/notices").await;
    assert_eq!(count["accepted_items"], 1, "{count}");
    let (_, rows) = s.get(&w.admin, "/v1/enforcement/outbox?limit=1000").await;
    let kinds: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "notice_item_accepted")
            .count(),
        2,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"violation_recorded"), "{kinds:?}");
    // The seller sees the item and files a counter-notice (on Friday):
    // every element is required; another shop's seller cannot.
    let (_, mine) = s.get(&seller, "/v1/notices").await;
    assert_eq!(mine[0]["items"].as_array().unwrap().len(), 1, "{mine}");
    let other = s.key(Role::Seller, Some("shop-1"));
    let path = "/v1/notices/n-1/items/l-0/counter-notice";
    let (st, _) = s.post(&other, path, &counter()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let mut bad = counter();
    bad["statements"]["consent_to_jurisdiction"] = json!(false);
    let (st, body) = s.post(&seller, path, &bad).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err_field(&body), "statements.consent_to_jurisdiction");
    let (st, body) = s.post(&seller, path, &counter()).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "countered");
    assert_eq!(body["counter_notice"]["restore_at"], "2026-12-11T10:00:00Z");
    let (st, _) = s.post(&seller, path, &counter()).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // Shop 1 counters too; its holder goes to court.
    let seller1 = s.key(Role::Seller, Some("shop-1"));
    let (st, body) = s
        .post(
            &seller1,
            "/v1/notices/n-1/items/l-1/counter-notice",
            &counter(),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let court = json!({"court": "N.D. Cal.", "reference": "3:26-cv-01234"});
    let (st, _) = s
        .post(&w.acme, "/v1/notices/n-1/items/l-1/court-action", &court)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, body) = s
        .post(&w.zorbex, "/v1/notices/n-1/items/l-1/court-action", &court)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "upheld");
    // Day 13 (Thursday, 9 business days): not restored yet.
    w.clock.advance(chrono::Duration::days(13));
    let due = s.app.notices().run_due().unwrap();
    assert_eq!(due.restored, 0);
    assert_eq!(status_of(s, &w.admin, "l-0").await, "removed");
    // Day 14 (Friday, 10 business days): restored, once.
    w.clock.advance(chrono::Duration::days(1));
    s.app.notices().run_due().unwrap();
    s.app.notices().run_due().unwrap();
    assert_eq!(status_of(s, &w.admin, "l-0").await, "live");
    let (_, decisions) = s.get(&w.admin, "/v1/listings/l-0/decisions").await;
    let d = decisions.as_array().unwrap();
    let restores: Vec<&Value> = d
        .iter()
        .filter(|d| d["cause"]["change"] == "counter_notice")
        .collect();
    assert_eq!(restores.len(), 1, "{decisions}");
    assert_eq!(restores[0]["source"], "notice");
    assert_eq!(restores[0]["action"], "approve");
    let (_, n) = s.get(&w.zorbex, "/v1/notices/n-1").await;
    assert_eq!(n["items"][0]["state"], "restored", "{n}");
    assert_eq!(n["items"][1]["state"], "upheld", "{n}");
    // The court action kept l-1 down.
    assert_eq!(status_of(s, &w.admin, "l-1").await, "removed");
    // The report counts the notice, its acceptance, the counter-notices,
    // and the takedowns as reported by notices.
    let (st, report) = s
        .get(
            &w.admin,
            "/v1/reports/transparency?from=2026-11-01&to=2026-12-31",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    let t = &report["totals"];
    assert_eq!(t["notices_received"], 2, "{t}");
    assert_eq!(t["notices_accepted"], 2, "{t}");
    assert_eq!(t["counter_notices"], 2, "{t}");
    assert_eq!(t["taken_down_after_listing"]["by_notice"], 2, "{t}");
    assert_eq!(t["taken_down_after_listing"]["found_by_us"], 0, "{t}");
    w.s.stop().await;
}

async fn standing(s: &Server, key: &str, holder: &str) -> Value {
    let (st, body) = s.get(key, &format!("/v1/holders/{holder}/standing")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_service_removal_is_gained_on_accurate_notices_and_lost_on_a_rejection() {
    let w = world_with("self_service_min_decided = 4\n", 7).await;
    let s = &w.s;
    let reviewer = s.key_as(Role::Reviewer, "rev-1");
    // Only the holder itself, reviewers and admins see its standing.
    let (st, _) = s.get(&w.acme, "/v1/holders/zorbex/standing").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let seller = s.key(Role::Seller, Some("shop-0"));
    let (st, _) = s.get(&seller, "/v1/holders/zorbex/standing").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&reviewer, "/v1/holders/nobody/standing").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        standing(s, &w.zorbex, "zorbex").await["standing"],
        "standard"
    );
    // A first notice waits for review: nothing is taken down at filing.
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("n-1", "r-zorbex", &["l-0", "l-1", "l-2", "l-3"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["self_service"], false, "{body}");
    assert_eq!(status_of(s, &w.admin, "l-0").await, "live");
    for item in ["l-0", "l-1", "l-2", "l-3"] {
        let (st, body) = decide(s, &reviewer, "n-1", item, "accept").await;
        assert_eq!(st, StatusCode::OK, "{body}");
    }
    // Four of four accepted: self-service removal.
    let r = standing(s, &w.zorbex, "zorbex").await;
    assert_eq!(r["standing"], "self_service", "{r}");
    assert_eq!(
        (r["decided"].as_u64(), r["accepted"].as_u64()),
        (Some(4), Some(4))
    );
    // The next notice takes the listing down at filing; the item waits for
    // a reviewer, flagged.
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("n-2", "r-zorbex", &["l-4", "l-6"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["self_service"], true, "{body}");
    assert_eq!(body["items"][0]["state"], "pending", "{body}");
    assert_eq!(status_of(s, &w.admin, "l-4").await, "removed");
    assert_eq!(status_of(s, &w.admin, "l-6").await, "removed");
    // Nothing counts against the shops before a reviewer accepts.
    for shop in ["shop-4", "shop-6"] {
        let (_, record) = s
            .get(&w.admin, &format!("/v1/shops/{shop}/enforcement"))
            .await;
        assert_eq!(record["points"].as_u64().unwrap_or(0), 0, "{record}");
    }
    let (_, decisions) = s.get(&w.admin, "/v1/listings/l-4/decisions").await;
    let last = decisions.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["source"].as_str(), last["action"].as_str()),
        (Some("notice"), Some("reject"))
    );
    let why = last["violations"][0]["evidence"]["why"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("self-service removal"), "{why}");
    let (_, queue) = s.get(&reviewer, "/v1/notices/queue").await;
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["notice_id"] == "n-2")
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["item"]["self_service"], true, "{queue}");
    assert!(entry["item"]["takedown_decision_id"].is_string(), "{entry}");
    // The holder and the seller are told by webhook.
    let (_, rows) = s.get(&w.admin, "/v1/enforcement/outbox?limit=1000").await;
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "notice_item_removed"),
        "{rows}"
    );
    // The reviewer accepts l-6: the takedown now counts, by a decision of
    // its own.
    let (st, body) = decide(s, &reviewer, "n-2", "l-6", "accept").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(status_of(s, &w.admin, "l-6").await, "removed");
    let (_, record) = s.get(&w.admin, "/v1/shops/shop-6/enforcement").await;
    assert!(record["points"].as_u64().unwrap_or(0) > 0, "{record}");
    // The reviewer rejects l-4: the listing goes back up, once, with no
    // points, and the holder loses self-service (5 of 6 is under 90%).
    let (st, body) = decide(s, &reviewer, "n-2", "l-4", "reject").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "rejected");
    assert!(body["restore_decision_id"].is_string(), "{body}");
    s.app.notices().run_due().unwrap();
    assert_eq!(status_of(s, &w.admin, "l-4").await, "live");
    let (_, decisions) = s.get(&w.admin, "/v1/listings/l-4/decisions").await;
    let back: Vec<&Value> = decisions
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["cause"]["change"] == "notice_rejected")
        .collect();
    assert_eq!(back.len(), 1, "{decisions}");
    assert_eq!(back[0]["action"], "approve");
    let (_, record) = s.get(&w.admin, "/v1/shops/shop-4/enforcement").await;
    assert_eq!(record["points"].as_u64().unwrap_or(0), 0, "{record}");
    let r = standing(s, &w.zorbex, "zorbex").await;
    assert_eq!(r["standing"], "standard", "{r}");
    assert_eq!(
        (r["decided"].as_u64(), r["accepted"].as_u64()),
        (Some(6), Some(5)),
        "{r}"
    );
    // Without it, the next notice waits for review again.
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("n-3", "r-zorbex", &["l-5"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["self_service"], false, "{body}");
    assert_eq!(status_of(s, &w.admin, "l-5").await, "live");
    // Accepting it brings the holder to 6 of 7 (85.7%): still standard.
    let (st, _) = decide(s, &reviewer, "n-3", "l-5", "accept").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        standing(s, &w.zorbex, "zorbex").await["standing"],
        "standard"
    );
    // Half a year later the window has forgotten the rejection and
    // everything else: standard, nothing decided.
    w.clock.advance(chrono::Duration::days(183));
    let r = standing(s, &w.admin, "zorbex").await;
    assert_eq!(
        (r["standing"].as_str(), r["decided"].as_u64()),
        (Some("standard"), Some(0)),
        "{r}"
    );
    w.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abusive_reporter_is_warned_then_restricted_and_let_back_after_the_restriction() {
    let w = world_with("abuse_min_decided = 3\nrestriction_days = 30\n", 4).await;
    let s = &w.s;
    let reviewer = s.key_as(Role::Reviewer, "rev-1");
    let (st, body) = s
        .post(
            &w.acme,
            "/v1/notices",
            &notice("a-1", "r-acme", &["l-0", "l-1", "l-2"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    for item in ["l-0", "l-1", "l-2"] {
        let (st, _) = decide(s, &reviewer, "a-1", item, "reject").await;
        assert_eq!(st, StatusCode::OK);
    }
    // Three of three rejected: a warning, no restriction yet.
    let r = standing(s, &w.acme, "acme").await;
    assert_eq!(r["standing"], "warned", "{r}");
    assert!(
        r["why"].as_str().unwrap_or_default().contains("Warned"),
        "{r}"
    );
    // Filed after the warning, rejected again: restricted for 30 days.
    w.clock.advance(chrono::Duration::hours(1));
    let (st, body) = s
        .post(&w.acme, "/v1/notices", &notice("a-2", "r-acme", &["l-3"]))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let (st, _) = decide(s, &reviewer, "a-2", "l-3", "reject").await;
    assert_eq!(st, StatusCode::OK);
    let r = standing(s, &w.acme, "acme").await;
    assert_eq!(r["standing"], "restricted", "{r}");
    assert_eq!(r["restricted_until"], "2026-12-27T11:00:00Z", "{r}");
    // New notices are refused, with the reason; a re-filing of a stored
    // one still answers its receipt.
    let (st, body) = s
        .post(&w.acme, "/v1/notices", &notice("a-3", "r-acme", &["l-0"]))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(body.to_string().contains("refused until"), "{body}");
    let (st, _) = s
        .post(&w.acme, "/v1/notices", &notice("a-2", "r-acme", &["l-3"]))
        .await;
    assert_eq!(st, StatusCode::OK);
    // Another holder is not affected.
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("z-1", "r-zorbex", &["l-0"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    // The transparency report counts the suspension (DSA Art. 24(1)(b)).
    let (st, report) = s
        .get(
            &w.admin,
            "/v1/reports/transparency?from=2026-11-01&to=2026-11-30",
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    assert_eq!(report["totals"]["reporters_restricted"], 1, "{report}");
    // After the restriction: warned again, and allowed to file.
    w.clock.advance(chrono::Duration::days(30));
    let r = standing(s, &w.acme, "acme").await;
    assert_eq!(r["standing"], "warned", "{r}");
    let (st, body) = s
        .post(&w.acme, "/v1/notices", &notice("a-3", "r-acme", &["l-0"]))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    w.s.stop().await;
}

/// `n` frames, one a second, of pseudo-random scenes from `seed`, in
/// Meta's vPDQ line format.
fn hash_list(seed: u64, n: usize) -> String {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for i in 0..n {
        let mut hex = String::new();
        for _ in 0..4 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            hex.push_str(&format!("{s:016x}"));
        }
        out.push_str(&format!("{},100,{hex},{i}.000\n", i * 25));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_on_a_video_takes_it_down_and_its_creator_counters() {
    let w = world().await;
    let s = &w.s;
    let video = json!({"id": "v-1", "creator_id": "c-1", "region": "US",
                       "caption": "unboxing my new shoes", "vpdq": hash_list(7, 12)});
    let (st, body) = s.post(&w.admin, "/v1/videos", &video).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["action"], "approve", "{body}");
    // An unknown video refuses the notice, naming the item.
    let mut n = notice("nv-1", "r-zorbex", &["v-404"]);
    n["items"][0]["kind"] = json!("video");
    let (st, body) = s.post(&w.zorbex, "/v1/notices", &n).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(err_field(&body), "items[0].id");
    assert!(body.to_string().contains("no video"), "{body}");
    let mut n = notice("nv-1", "r-zorbex", &["v-1"]);
    n["items"][0]["kind"] = json!("video");
    let (st, body) = s.post(&w.zorbex, "/v1/notices", &n).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["items"][0]["kind"], "video");
    // The queue shows the video; the reviewer accepts.
    let reviewer = s.key_as(Role::Reviewer, "rev-1");
    let (_, queue) = s.get(&reviewer, "/v1/notices/queue").await;
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["notice_id"] == "nv-1")
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["video"]["creator_id"], "c-1", "{queue}");
    assert_eq!(entry["detectors"]["action"], "approve", "{entry}");
    let (st, body) = decide(s, &reviewer, "nv-1", "v-1", "accept").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["takedown_decision_id"], "video:v-1@v2", "{body}");
    let (st, v) = s.get(&w.admin, "/v1/videos/v-1").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["decision"]["action"], "reject", "{v}");
    assert_eq!(v["decision"]["source"], "notice", "{v}");
    assert_eq!(v["version"], 2, "{v}");
    // Enforcement records it against the creator.
    let (_, record) = s.get(&w.admin, "/v1/creators/c-1/enforcement").await;
    assert!(record["points"].as_u64().unwrap_or(0) > 0, "{record}");
    // The creator sees the item and counters; another creator and the
    // shops' sellers cannot.
    let creator = s.key(Role::Creator, Some("c-1"));
    let (st, mine) = s.get(&creator, "/v1/notices").await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    // A notice the creator is not named in sorts first: a page of one
    // still reaches the creator's.
    let (st, body) = s
        .post(
            &w.zorbex,
            "/v1/notices",
            &notice("a-0", "r-zorbex", &["l-0"]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let (_, page) = s.get(&creator, "/v1/notices?limit=1").await;
    assert_eq!(page[0]["notice"]["id"], "nv-1", "{page}");
    let other = s.key(Role::Creator, Some("c-2"));
    let (_, theirs) = s.get(&other, "/v1/notices").await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(0), "{theirs}");
    let path = "/v1/notices/nv-1/items/v-1/counter-notice";
    let (st, _) = s.post(&other, path, &counter()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let seller = s.key(Role::Seller, Some("shop-0"));
    let (st, _) = s.post(&seller, path, &counter()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, body) = s.post(&creator, path, &counter()).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "countered");
    // Ten business days later the video is back.
    w.clock.advance(chrono::Duration::days(14));
    s.app.notices().run_due().unwrap();
    let (_, v) = s.get(&w.admin, "/v1/videos/v-1").await;
    assert_eq!(v["decision"]["action"], "approve", "{v}");
    assert_eq!(v["decision"]["cause"]["change"], "counter_notice", "{v}");
    assert_eq!(v["version"], 3, "{v}");
    w.s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_on_a_livestream_stops_it_and_cannot_be_countered() {
    let w = world().await;
    let s = &w.s;
    let host = s.key(Role::Creator, Some("c-9"));
    // The platform's service opens the host's stream and sends its events.
    let (st, body) = s
        .post(
            &w.admin,
            "/v1/streams",
            &json!({"id": "st-1", "creator_id": "c-9", "region": "US"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "live", "{body}");
    let mut n = notice("ns-1", "r-zorbex", &["st-1"]);
    n["items"][0]["kind"] = json!("stream");
    let (st, body) = s.post(&w.zorbex, "/v1/notices", &n).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let reviewer = s.key_as(Role::Reviewer, "rev-1");
    let (_, queue) = s.get(&reviewer, "/v1/notices/queue").await;
    let entry = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["notice_id"] == "ns-1")
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["stream"]["status"], "live", "{queue}");
    // Accepting stops the stream at once, with the notice as its reason.
    let (st, body) = decide(s, &reviewer, "ns-1", "st-1", "accept").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["takedown_decision_id"], "stream:st-1@v1", "{body}");
    let (st, view) = s.get(&w.admin, "/v1/streams/st-1").await;
    assert_eq!(st, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "stopped", "{view}");
    assert_eq!(view["decision"]["source"], "notice", "{view}");
    assert_eq!(view["decision"]["cause"]["change"], "notice", "{view}");
    // The next event is refused: the stream is over.
    let (st, body) = s
        .post(
            &w.admin,
            "/v1/streams/st-1/events",
            &json!({"type": "transcript", "t": 1.0, "text": "hello"}),
        )
        .await;
    assert!(st.is_client_error(), "{st} {body}");
    // The violation counts against the host.
    let (_, record) = s.get(&w.admin, "/v1/creators/c-9/enforcement").await;
    assert!(record["points"].as_u64().unwrap_or(0) > 0, "{record}");
    // The host sees the item; a counter-notice cannot restart a stream.
    let (_, mine) = s.get(&host, "/v1/notices").await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    let (st, body) = s
        .post(
            &host,
            "/v1/notices/ns-1/items/st-1/counter-notice",
            &counter(),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("never live again"), "{body}");
    w.s.stop().await;
}
