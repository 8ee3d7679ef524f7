//! Enforcement through the real HTTP API, on a real SQLite file, with a
//! clock the test moves, and webhooks received by a real local HTTP server.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::TimeZone;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shopshield_app::enforce::verify_signature;
use shopshield_app::{App, AppConfig, FixedClock, NewKey};

mod common;

use common::Server;
use shopshield_model::Role;
use shopshield_store::SqliteStore;

const SECRET: &str = "webhook-secret-for-tests";

// ------------------------------------------------------------ receiver

/// One webhook request as received.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    signature: String,
    body: String,
    /// What the receiver answered.
    accepted: bool,
}

/// A platform endpoint on 127.0.0.1:0 that fails its first `fail_first`
/// requests with 503 and accepts the rest.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::new(AtomicUsize::new(0));
        let (g, s) = (got.clone(), seen.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let n = s.fetch_add(1, Ordering::SeqCst);
                    let accepted = n >= fail_first;
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    g.lock().unwrap().push(Received {
                        key: h("idempotency-key"),
                        signature: h("x-shopshield-signature"),
                        body,
                        accepted,
                    });
                    if accepted {
                        axum::http::StatusCode::NO_CONTENT
                    } else {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, got, task }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// -------------------------------------------------------------- server

fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap()
}

/// The scores the detectors in force give a brand claim and a mention of
/// the mark. The tests set the gate's thresholds from them (a claim is
/// rejected and recorded, a mention goes to review), so they keep testing
/// enforcement whatever the detectors' exact confidences are.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    review: f64,
    reject: f64,
    /// The violation type of a mention (its review queue).
    mention_kind: &'static str,
    /// Which listing shapes to use (see `claim_with`, `mention_with`).
    claim_variant: usize,
    mention_variant: usize,
}

fn thresholds() -> Thresholds {
    static T: std::sync::OnceLock<Thresholds> = std::sync::OnceLock::new();
    *T.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("probe.db")).unwrap();
        let mut cfg = AppConfig::default();
        cfg.gate.review = 0.001;
        cfg.gate.reject = 1.0;
        let app = App::new(Arc::new(store), cfg, Arc::new(FixedClock::new(t0()))).unwrap();
        let admin = shopshield_app::Principal::operator("probe");
        app.registry()
            .create_holder(&admin, Some("nike".into()), "Nike, Inc.")
            .unwrap();
        let right =
            serde_json::from_value(json!({"id":"r-nike","holder":"nike","kind":"trademark",
            "mark":"Nike","nice_classes":[25,28],"regions":["*"],
            "price_floor":{"amount":60,"currency":"USD"}}))
            .unwrap();
        app.registry().create_right(&admin, right, None).unwrap();
        let score = |l: Value| {
            let d = app
                .screening()
                .submit(
                    &admin,
                    serde_json::from_value(l).unwrap(),
                    shopshield_intake::ImageBase::DataOnly,
                )
                .unwrap()
                .decision;
            (d.score, d.violations.first().map(|v| v.kind.as_str()))
        };
        let claims: Vec<f64> = (0..CLAIM_VARIANTS)
            .map(|v| score(claim_with(v, &format!("p-c{v}"), "shop-p", None)).0)
            .collect();
        let mentions: Vec<(f64, Option<&'static str>)> = (0..MENTION_VARIANTS)
            .map(|v| score(mention_with(v, &format!("p-m{v}"), "shop-p")))
            .collect();
        let (claim_variant, claim_score) = claims
            .iter()
            .copied()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let (mention_variant, (mention_score, kind)) = mentions
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, (s, _))| *s > 0.0)
            .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
            .expect("some mention of the mark is found");
        assert!(
            mention_score < claim_score,
            "a mention ({mentions:?}) must score below a brand claim ({claims:?})"
        );
        Thresholds {
            review: mention_score,
            reject: claim_score,
            mention_kind: kind.unwrap_or("unclassified"),
            claim_variant,
            mention_variant,
        }
    })
}

fn config(webhook: Option<&str>) -> AppConfig {
    let t = thresholds();
    let mut c = AppConfig::default();
    c.gate.review = t.review;
    c.gate.reject = t.reject;
    c.enforcement.auto_record_min_confidence = t.reject;
    // Small steps (4 points per automatic record, whatever IP type the
    // detectors name) so a shop passes through every warning on its way up.
    c.enforcement.points.trademark.moderate = 4;
    c.enforcement.points.counterfeit.moderate = 4;
    c.enforcement.points.copyright.moderate = 4;
    c.webhooks.url = webhook.map(String::from);
    c.webhooks.secret = webhook.map(|_| SECRET.to_string());
    c.webhooks.poll_interval_ms = 20;
    c
}

/// Registers the Nike word mark (a `brand: Nike` claim is rejected at
/// confidence 0.9; a mention in the title goes to review).
async fn register_nike(srv: &Server, admin: &str) {
    let (s, b) = srv
        .post(
            admin,
            "/v1/holders",
            &json!({"id":"nike","name":"Nike, Inc."}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let right = json!({"id":"r-nike","holder":"nike","kind":"trademark","mark":"Nike",
        "nice_classes":[25,28],"regions":["*"],"price_floor":{"amount":60,"currency":"USD"}});
    let (s, b) = srv.post(admin, "/v1/rights", &right).await;
    assert_eq!(s, 201, "{b}");
}

/// A key whose principal (its identity in enforcement records) is `id`.
fn key(srv: &Server, role: Role, shop: Option<&str>, creator: Option<&str>, id: &str) -> String {
    srv.key_for(NewKey {
        role: Some(role),
        shop: shop.map(str::to_string),
        creator: creator.map(str::to_string),
        label: id.to_string(),
        principal: Some(id.to_string()),
        ..NewKey::default()
    })
}

const CLAIM_VARIANTS: usize = 3;
const MENTION_VARIANTS: usize = 2;

/// A listing claiming the brand; variants add counterfeit cues.
fn claim_with(variant: usize, id: &str, shop: &str, creator: Option<&str>) -> Value {
    let mut l = json!({"id":id,"shop_id":shop,"region":"US","category":"apparel/shoes",
        "title":"Air runner sneakers","brand":"Nike"});
    if variant >= 1 {
        l["price"] = json!({"amount":9.99,"currency":"USD"});
    }
    if variant == 2 {
        l["title"] = json!("Nike replica AAA 1:1 copy sneakers");
    }
    if let Some(c) = creator {
        l["creator_id"] = json!(c);
    }
    l
}

/// A listing that only mentions the mark.
fn mention_with(variant: usize, id: &str, shop: &str) -> Value {
    let title = if variant == 0 {
        "Laces that fit Nike trainers"
    } else {
        "Compatible with Nike trainers: spare laces"
    };
    json!({"id":id,"shop_id":shop,"region":"US","category":"apparel/shoes","title":title})
}

fn claim(id: &str, shop: &str, creator: Option<&str>) -> Value {
    claim_with(thresholds().claim_variant, id, shop, creator)
}

fn mention(id: &str, shop: &str) -> Value {
    mention_with(thresholds().mention_variant, id, shop)
}

fn penalties(record: &Value) -> BTreeSet<String> {
    record["penalties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect()
}

fn enc(id: &str) -> String {
    id.replace('/', "%2F")
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// --------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_is_driven_to_permanent_deactivation_and_back_by_appeal() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Receiver::start(1).await;
    let clock = Arc::new(FixedClock::new(t0()));
    let srv = Server::start_with(
        &dir.path().join("shopshield.db"),
        config(Some(&hook.url)),
        clock.clone(),
    )
    .await;
    let admin = key(&srv, Role::Admin, None, None, "admin");
    let seller = key(&srv, Role::Seller, Some("shop-bad"), None, "seller");
    let other = key(&srv, Role::Seller, Some("shop-good"), None, "other");
    let rev_a = key(&srv, Role::Reviewer, None, None, "rev-a");
    let rev_b = key(&srv, Role::Reviewer, None, None, "rev-b");
    register_nike(&srv, &admin).await;
    let doc: Value = Client::new()
        .get(format!("{}/openapi.json", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/queues/{type}/{region}",
        "/v1/cases/{id}/claim",
        "/v1/appeals/{id}/decide",
        "/v1/shops/{id}/enforcement",
        "/v1/enforcement/tick",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }

    // A mention goes to human review: a case in the trademark/US queue.
    let (s, d) = srv
        .post(&seller, "/v1/listings", &mention("rv-1", "shop-bad"))
        .await;
    assert_eq!(
        (s, d["action"].as_str()),
        (StatusCode::CREATED, Some("review")),
        "{d}"
    );
    let (s, st) = srv.get(&seller, "/v1/listings/rv-1/status").await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["status"], "pending_review");
    let (s, qs) = srv.get(&rev_a, "/v1/queues").await;
    assert_eq!(s, 200, "{qs}");
    let kind = thresholds().mention_kind;
    assert_eq!(qs[0]["queue"], json!({"type":kind,"region":"US"}));
    assert_eq!(qs[0]["open"], 1);
    let sla = if matches!(kind, "counterfeit" | "prohibited") {
        12
    } else {
        24
    };
    assert_eq!(qs[0]["sla_secs"], sla * 3600);
    // Ten hours later the case shows its age against the SLA.
    clock.advance(chrono::Duration::hours(10));
    let (s, q) = srv.get(&rev_a, &format!("/v1/queues/{kind}/US")).await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q[0]["case_id"], "rv-1@v1");
    assert_eq!(q[0]["age_secs"], 10 * 3600);
    assert_eq!(q[0]["overdue"], false);
    let (s, e) = srv.get(&rev_a, "/v1/queues/knockoff/US").await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type"))
    );
    // Sellers do not see the queues, the log, or other shops.
    assert_eq!(srv.get(&seller, "/v1/queues").await.0, 403);
    assert_eq!(srv.get(&seller, "/v1/cases/rv-1@v1").await.0, 404);
    assert_eq!(srv.get(&seller, "/v1/enforcement/log").await.0, 403);
    assert_eq!(
        srv.get(&other, "/v1/shops/shop-bad/enforcement").await.0,
        404
    );
    assert_eq!(
        srv.post(&rev_a, "/v1/enforcement/tick", &json!({})).await.0,
        403
    );

    // Brand claims are rejected and recorded automatically. From 24 points
    // new listings are capped (edits of existing ones still go through);
    // from 36 the shop is deactivated and may not submit anything.
    let mut refused = None;
    let mut capped = false;
    for i in 0..40 {
        let mut l = claim(&format!("bad-{i}"), "shop-bad", None);
        if capped {
            l["id"] = json!("bad-0");
            l["description"] = json!(format!("Edition {i}"));
        }
        let (s, d) = srv.post(&seller, "/v1/listings", &l).await;
        if s == StatusCode::FORBIDDEN {
            let msg = d["error"]["message"].as_str().unwrap().to_string();
            if msg.contains("listings_capped") && !capped {
                capped = true;
                continue;
            }
            refused = Some(d);
            break;
        }
        assert_eq!(
            (s, d["action"].as_str()),
            (StatusCode::CREATED, Some("reject")),
            "{d}"
        );
        if i == 0 {
            // The first webhook attempt fails (503) and is retried with
            // backoff: 10 s later by the default policy.
            let mut failed = Value::Null;
            wait_for("the first webhook attempt", async || {
                let (_, rows) = srv.get(&admin, "/v1/enforcement/outbox").await;
                match rows.as_array().unwrap().iter().find(|r| r["failures"] == 1) {
                    Some(r) => {
                        failed = r.clone();
                        true
                    }
                    None => false,
                }
            })
            .await;
            assert_eq!(failed["status"], "pending");
            assert_eq!(failed["last_error"], "HTTP 503 Service Unavailable");
            let next: chrono::DateTime<chrono::Utc> =
                failed["next_attempt_at"].as_str().unwrap().parse().unwrap();
            assert_eq!(next, srv.app.now() + chrono::Duration::seconds(10));
            clock.advance(chrono::Duration::seconds(11));
        }
    }
    assert!(capped, "new listings were capped on the way");
    let refused = refused.expect("a deactivated shop's submission is refused");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shop_deactivated"),
        "{refused}"
    );
    let (s, rec) = srv.get(&seller, "/v1/shops/shop-bad/enforcement").await;
    assert_eq!(s, 200);
    let points_before = rec["points"].as_u64().unwrap();
    assert!((36..48).contains(&points_before), "{rec}");
    assert!(penalties(&rec).contains("shop_deactivated"), "{rec}");
    assert!(penalties(&rec).contains("listings_capped"), "{rec}");
    let v0 = &rec["violations"][0];
    assert_eq!(
        v0["violation"]["record"]["evidence"][0]["right_id"],
        "r-nike"
    );
    assert!(v0["appeal_deadline"].is_string());
    let (_, st) = srv.get(&seller, "/v1/listings/bad-0/status").await;
    assert_eq!(st["status"], "removed");

    // A reviewer upholds the open case as a severe counterfeit: the shop
    // reaches 48 points and is deactivated for good.
    let (s, c) = srv
        .post(&rev_a, "/v1/cases/rv-1@v1/claim", &json!({}))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["claim"]["reviewer"], "rev-a");
    let (s, e) = srv
        .post(
            &rev_a,
            "/v1/cases/rv-1@v1/decide",
            &json!({"outcome":"uphold","note":"x"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("type"))
    );
    let (s, out) = srv
        .post(
            &rev_a,
            "/v1/cases/rv-1@v1/decide",
            &json!({"outcome":"uphold","type":"counterfeit","severity":"severe",
                    "note":"Seller photos show fake swoosh tags"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-bad/enforcement").await;
    assert!(rec["points"].as_u64().unwrap() >= 48, "{rec}");
    assert!(
        penalties(&rec).contains("shop_permanently_deactivated"),
        "{rec}"
    );
    let (_, st) = srv.get(&seller, "/v1/listings/rv-1/status").await;
    assert_eq!(st["status"], "removed");
    assert!(
        st["shop_penalties"]
            .as_array()
            .unwrap()
            .contains(&json!("shop_permanently_deactivated"))
    );

    // Appeals. The reviewer who upheld the case may not decide its appeal.
    let (s, a) = srv
        .post(
            &seller,
            "/v1/violations/v:rv-1@v1/appeals",
            &json!({"statement":"These are genuine laces; the listing only says they fit."}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let appeal = a["appeal_id"].as_str().unwrap().to_string();
    assert_eq!(
        srv.post(
            &other,
            "/v1/violations/v:rv-1@v1/appeals",
            &json!({"statement":"mine"})
        )
        .await
        .0,
        404,
        "another shop cannot appeal, or see, this violation"
    );
    let uphold =
        json!({"upheld":true,"reason":"The title states compatibility only; no claim of origin."});
    let (s, e) = srv
        .post(
            &rev_a,
            &format!("/v1/appeals/{}/decide", enc(&appeal)),
            &uphold,
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, a) = srv
        .post(
            &rev_b,
            &format!("/v1/appeals/{}/decide", enc(&appeal)),
            &uphold,
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["decision"]["reviewer"], "rev-b");
    // The shop sees the role of who decided, never who it was.
    let (s, seen) = srv
        .get(&seller, &format!("/v1/appeals/{}", enc(&appeal)))
        .await;
    assert_eq!(s, 200, "{seen}");
    assert_eq!(seen["decision"]["reviewer"], "reviewer", "{seen}");
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-bad/enforcement").await;
    let text = rec.to_string();
    assert!(
        !text.contains("rev-a") && !text.contains("rev-b"),
        "a reviewer's id reached the shop: {text}"
    );
    let reviewed = rec["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["violation"]["record"]["violation_id"] == "v:rv-1@v1")
        .unwrap();
    assert_eq!(
        reviewed["violation"]["record"]["source"]["reviewer"],
        "reviewer"
    );
    let (_, seen) = srv.get(&rev_b, "/v1/shops/shop-bad/enforcement").await;
    assert!(seen.to_string().contains("rev-a"), "reviewers see ids");
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-bad/enforcement").await;
    assert_eq!(rec["points"].as_u64().unwrap(), points_before, "{rec}");
    assert!(
        !penalties(&rec).contains("shop_permanently_deactivated"),
        "{rec}"
    );
    let (_, st) = srv.get(&seller, "/v1/listings/rv-1/status").await;
    assert_eq!(st["status"], "live");

    // Every other violation: the first one's appeal is rejected (the
    // rejection must cite evidence), then a second appeal is upheld by a
    // reviewer who has not decided on it yet.
    let ids: Vec<String> = rec["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["violation"]["reversed_by"].is_null())
        .map(|v| {
            v["violation"]["record"]["violation_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(ids.len() >= 2, "{ids:?}");
    for (n, id) in ids.iter().enumerate() {
        let (s, a) = srv
            .post(
                &seller,
                &format!("/v1/violations/{id}/appeals"),
                &json!({"statement":"Authorised reseller; invoices attached."}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
        let appeal = enc(a["appeal_id"].as_str().unwrap());
        if n == 0 {
            let reject =
                json!({"upheld":false,"reason":"The invoices name another brand entirely."});
            let (s, e) = srv
                .post(&rev_b, &format!("/v1/appeals/{appeal}/decide"), &reject)
                .await;
            assert_eq!(
                (s, e["error"]["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some("cited_evidence"))
            );
            let mut cited = reject.clone();
            cited["cited_evidence"] = json!([0]);
            let (s, a) = srv
                .post(&rev_b, &format!("/v1/appeals/{appeal}/decide"), &cited)
                .await;
            assert_eq!(
                (s, a["decision"]["upheld"].as_bool()),
                (StatusCode::OK, Some(false)),
                "{a}"
            );
            let (s, a2) = srv
                .post(
                    &seller,
                    &format!("/v1/violations/{id}/appeals"),
                    &json!({"statement":"Second appeal: the brand owner's authorisation letter."}),
                )
                .await;
            assert_eq!(
                (s, a2["round"].as_u64()),
                (StatusCode::CREATED, Some(2)),
                "{a2}"
            );
            let second = enc(a2["appeal_id"].as_str().unwrap());
            assert_eq!(
                srv.post(&rev_b, &format!("/v1/appeals/{second}/decide"), &uphold)
                    .await
                    .0,
                403
            );
            let (s, a) = srv
                .post(&rev_a, &format!("/v1/appeals/{second}/decide"), &uphold)
                .await;
            assert_eq!(s, 200, "{a}");
        } else {
            let (s, a) = srv
                .post(&rev_b, &format!("/v1/appeals/{appeal}/decide"), &uphold)
                .await;
            assert_eq!(s, 200, "{a}");
        }
    }
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-bad/enforcement").await;
    assert_eq!(rec["points"], 0, "{rec}");
    assert!(penalties(&rec).is_empty(), "{rec}");
    let (_, st) = srv.get(&seller, "/v1/listings/bad-0/status").await;
    assert_eq!(st["status"], "live");
    // Back in business.
    let (s, d) = srv
        .post(
            &seller,
            "/v1/listings",
            &json!({"id":"ok-1","shop_id":"shop-bad","region":"US",
            "category":"apparel/shoes","title":"Plain canvas shoes"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");

    // The log is complete and hash-chained.
    let (s, log) = srv.get(&admin, "/v1/enforcement/log?limit=1000").await;
    assert_eq!(s, 200);
    let log = log.as_array().unwrap();
    for w in log.windows(2) {
        assert_eq!(w[1]["prev_hash"], w[0]["hash"]);
        assert_eq!(
            w[1]["seq"].as_u64().unwrap(),
            w[0]["seq"].as_u64().unwrap() + 1
        );
    }
    let kinds: BTreeSet<&str> = log
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap())
        .collect();
    for k in [
        "case_opened",
        "case_claimed",
        "case_decided",
        "violation_recorded",
        "penalty_applied",
        "penalty_lifted",
        "warning_issued",
        "appeal_filed",
        "appeal_decided",
        "listing_status_changed",
    ] {
        assert!(kinds.contains(k), "{k} in {kinds:?}");
    }

    // Every notification arrives, signed, with its idempotency key; the
    // failed first attempt was retried.
    wait_for("every webhook delivered", async || {
        let (_, rows) = srv.get(&admin, "/v1/enforcement/outbox?limit=1000").await;
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "delivered")
    })
    .await;
    let (_, rows) = srv.get(&admin, "/v1/enforcement/outbox?limit=1000").await;
    let got = hook.received();
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    for r in &got {
        let sig = r
            .signature
            .strip_prefix("sha256=")
            .expect("sha256= signature");
        assert!(
            verify_signature(SECRET.as_bytes(), r.body.as_bytes(), sig),
            "bad signature"
        );
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["idempotency_key"], r.key.as_str());
        if r.accepted {
            *delivered.entry(r.key.clone()).or_default() += 1;
            kinds.insert(body["kind"].as_str().unwrap().to_string());
        }
    }
    assert!(!got[0].accepted);
    assert!(
        got.iter()
            .skip(1)
            .any(|r| r.key == got[0].key && r.accepted),
        "retried"
    );
    assert_eq!(delivered.len(), rows.as_array().unwrap().len());
    assert!(delivered.values().all(|n| *n == 1), "each delivered once");
    for k in [
        "listing_removed",
        "listing_reinstated",
        "warning",
        "shop_restricted",
        "shop_deactivated",
        "penalty_lifted",
        "appeal_decided",
        "violation_recorded",
    ] {
        assert!(kinds.contains(k), "{k} in {kinds:?}");
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creator_is_revoked_at_the_ip_strike_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    // Only the IP-strike rule, not the creator points ladder, is under test.
    let mut cfg = config(None);
    cfg.enforcement.creator.milestones.clear();
    let srv = Server::start_with(&dir.path().join("shopshield.db"), cfg, clock).await;
    let admin = key(&srv, Role::Admin, None, None, "admin");
    let service = key(&srv, Role::Service, None, None, "ingest");
    let creator = key(&srv, Role::Creator, None, Some("cr-1"), "cr-1");
    let other_creator = key(&srv, Role::Creator, None, Some("cr-2"), "cr-2");
    let seller = key(&srv, Role::Seller, Some("shop-1"), None, "seller");
    register_nike(&srv, &admin).await;
    // A creator key needs its creator.
    assert!(
        srv.app
            .keys()
            .create(
                &shopshield_app::Principal::operator("test"),
                NewKey {
                    role: Some(Role::Creator),
                    ..NewKey::default()
                }
            )
            .is_err()
    );

    // Three IP violations from three shops' livestreams.
    for i in 0..3 {
        let (s, d) = srv
            .post(
                &service,
                "/v1/listings",
                &claim(&format!("live-{i}"), &format!("shop-{i}"), Some("cr-1")),
            )
            .await;
        assert_eq!(
            (s, d["action"].as_str()),
            (StatusCode::CREATED, Some("reject")),
            "{d}"
        );
        let (s, rec) = srv.get(&creator, "/v1/creators/cr-1/enforcement").await;
        assert_eq!(s, 200, "{rec}");
        assert_eq!(
            penalties(&rec).contains("creator_revoked"),
            i == 2,
            "revoked exactly at the third strike: {rec}"
        );
    }
    // Each shop got its violation too.
    let (_, shop) = srv.get(&seller, "/v1/shops/shop-1/enforcement").await;
    assert_eq!(shop["violations"].as_array().unwrap().len(), 1);
    // Scopes: only the creator itself (and staff) see its record.
    assert_eq!(
        srv.get(&other_creator, "/v1/creators/cr-1/enforcement")
            .await
            .0,
        404
    );
    assert_eq!(
        srv.get(&seller, "/v1/creators/cr-1/enforcement").await.0,
        404
    );
    assert_eq!(
        srv.get(&creator, "/v1/shops/shop-1/enforcement").await.0,
        404
    );
    // The revoked creator may not sell any more.
    let (s, e) = srv
        .post(
            &service,
            "/v1/listings",
            &json!({"id":"live-9","shop_id":"shop-9","creator_id":"cr-1",
            "region":"US","category":"apparel/shoes","title":"Plain canvas shoes"}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("creator_revoked")
    );
    // The creator can appeal its own violation (the shop's appeal rounds
    // are shared with it).
    let (s, a) = srv
        .post(
            &creator,
            "/v1/violations/v:live-0@v1/appeals",
            &json!({"statement":"I only hosted the stream."}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["appellant"], json!({"party":"creator","id":"cr-1"}));
    assert_eq!(
        srv.post(
            &other_creator,
            "/v1/violations/v:live-1@v1/appeals",
            &json!({"statement":"not mine"})
        )
        .await
        .0,
        404
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_racing_for_one_case_never_both_decide_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let srv = Server::start_with(
        &dir.path().join("shopshield.db"),
        config(None),
        clock.clone(),
    )
    .await;
    let admin = key(&srv, Role::Admin, None, None, "admin");
    let seller = key(&srv, Role::Seller, Some("shop-1"), None, "seller");
    register_nike(&srv, &admin).await;
    let (s, d) = srv
        .post(&seller, "/v1/listings", &mention("race-1", "shop-1"))
        .await;
    assert_eq!(
        (s, d["action"].as_str()),
        (StatusCode::CREATED, Some("review")),
        "{d}"
    );
    let reviewers: Vec<String> = (0..8)
        .map(|i| key(&srv, Role::Reviewer, None, None, &format!("rev-{i}")))
        .collect();

    let base = srv.base.clone();
    let keys = reviewers.clone();
    let results: Vec<(usize, u16)> = tokio::task::spawn_blocking(move || {
        let barrier = std::sync::Barrier::new(keys.len());
        std::thread::scope(|s| {
            let handles: Vec<_> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let (barrier, base) = (&barrier, &base);
                    s.spawn(move || {
                        let c = reqwest::blocking::Client::new();
                        barrier.wait();
                        let r = c
                            .post(format!("{base}/v1/cases/race-1@v1/claim"))
                            .bearer_auth(k)
                            .send()
                            .unwrap();
                        (i, r.status().as_u16())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    })
    .await
    .unwrap();
    let winners: Vec<usize> = results
        .iter()
        .filter(|(_, s)| *s == 200)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(_, s)| *s == 200 || *s == 409),
        "{results:?}"
    );
    let winner = winners[0];

    let verdict = json!({"outcome":"clear","note":"Compatibility accessory; lawful mention."});
    for (i, k) in reviewers.iter().enumerate() {
        if i != winner {
            let (s, e) = srv.post(k, "/v1/cases/race-1@v1/decide", &verdict).await;
            assert_eq!(s, 409, "a loser cannot decide: {e}");
        }
    }
    let (s, out) = srv
        .post(&reviewers[winner], "/v1/cases/race-1@v1/decide", &verdict)
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, _) = srv
        .post(&reviewers[winner], "/v1/cases/race-1@v1/decide", &verdict)
        .await;
    assert_eq!(s, 409, "decided once only");
    let (_, st) = srv.get(&seller, "/v1/listings/race-1/status").await;
    assert_eq!(st["status"], "live");

    // A lease runs out: after 30 minutes another reviewer may take a case.
    let (_, d) = srv
        .post(&seller, "/v1/listings", &mention("race-2", "shop-1"))
        .await;
    assert_eq!(d["action"], "review");
    assert_eq!(
        srv.post(&reviewers[0], "/v1/cases/race-2@v1/claim", &json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        srv.post(&reviewers[1], "/v1/cases/race-2@v1/claim", &json!({}))
            .await
            .0,
        409
    );
    clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        srv.post(&reviewers[1], "/v1/cases/race-2@v1/claim", &json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        srv.post(&reviewers[0], "/v1/cases/race-2@v1/decide", &verdict)
            .await
            .0,
        409
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn points_expire_after_90_days_and_state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let clock = Arc::new(FixedClock::new(t0()));
    let srv = Server::start_with(&db, config(None), clock.clone()).await;
    let admin = key(&srv, Role::Admin, None, None, "admin");
    let seller = key(&srv, Role::Seller, Some("shop-1"), None, "seller");
    register_nike(&srv, &admin).await;
    let (s, _) = srv
        .post(&seller, "/v1/listings", &claim("x-1", "shop-1", None))
        .await;
    assert_eq!(s, 201);
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-1/enforcement").await;
    let points = rec["points"].as_u64().unwrap();
    assert!(points > 0, "{rec}");

    clock.advance(chrono::Duration::days(89));
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-1/enforcement").await;
    assert_eq!(rec["points"].as_u64().unwrap(), points);
    // Past the 30-day window, an appeal is refused.
    let (s, e) = srv
        .post(
            &seller,
            "/v1/violations/v:x-1@v1/appeals",
            &json!({"statement":"late"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    clock.advance(chrono::Duration::days(2));
    let (s, out) = srv.post(&admin, "/v1/enforcement/tick", &json!({})).await;
    assert_eq!(s, 200, "{out}");
    let (_, rec) = srv.get(&seller, "/v1/shops/shop-1/enforcement").await;
    assert_eq!(rec["points"], 0, "{rec}");
    assert_eq!(rec["violations"][0]["counts"], false);
    let (_, log) = srv.get(&admin, "/v1/enforcement/log?limit=1000").await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["event"] == "points_expired"),
        "the expiry is in the log (applied by the tick or the server's scheduler)"
    );
    srv.stop().await;

    // Replaying the log on restart gives the same state.
    let srv = Server::start_with(&db, config(None), clock.clone()).await;
    let (_, again) = srv.get(&seller, "/v1/shops/shop-1/enforcement").await;
    assert_eq!(again, rec);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let clock = Arc::new(FixedClock::new(t0()));
    // No webhook URL: notifications are recorded, nothing is sent.
    let srv = Server::start_with(&db, config(None), clock.clone()).await;
    let admin = key(&srv, Role::Admin, None, None, "admin");
    let seller = key(&srv, Role::Seller, Some("shop-1"), None, "seller");
    register_nike(&srv, &admin).await;
    let (s, _) = srv
        .post(&seller, "/v1/listings", &claim("y-1", "shop-1", None))
        .await;
    assert_eq!(s, 201);
    let (_, rows) = srv.get(&admin, "/v1/enforcement/outbox").await;
    let pending = rows.as_array().unwrap().len();
    assert!(pending >= 2, "{rows}");
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "pending")
    );
    srv.stop().await;

    let hook = Receiver::start(0).await;
    let srv = Server::start_with(&db, config(Some(&hook.url)), clock).await;
    wait_for("deliveries after restart", async || {
        hook.received().len() >= pending
    })
    .await;
    let keys: BTreeSet<String> = hook.received().into_iter().map(|r| r.key).collect();
    let want: BTreeSet<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["idempotency_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys, want);
    srv.stop().await;
}
