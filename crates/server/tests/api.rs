//! The HTTP API over real HTTP on a random port, with the SQLite store on a
//! real file. Covers every role boundary, bad input and durability.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use shopshield_model::Role;

mod common;

use common::Server;

fn nike_right() -> Value {
    json!({"id":"r-nike","holder":"nike","kind":"trademark","mark":"Nike","aliases":["NIKE"],
           "nice_classes":[25,28],"regions":["*"],"authorized_sellers":["shop-nike"],
           "price_floor":{"amount":60,"currency":"USD"}})
}

fn listing(id: &str, shop: &str, title: &str, brand: Option<&str>) -> Value {
    let mut l =
        json!({"id":id,"shop_id":shop,"region":"US","category":"apparel/shoes","title":title});
    if let Some(b) = brand {
        l["brand"] = json!(b);
    }
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_scopes_bad_input_and_durability() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let srv = Server::start(&db).await;
    let c = Client::new();
    let api = &srv;

    // Open endpoints.
    let r = c.get(format!("{}/healthz", srv.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = c
        .get(format!("{}/openapi.json", srv.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/v1/listings"]["post"].is_object());
    assert!(doc["components"]["schemas"]["Decision"].is_object());

    // No key, a wrong key.
    let r = c
        .get(format!("{}/v1/rights", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let (s, _) = api.get("ssk_nope", "/v1/rights").await;
    assert_eq!(s, 401);

    let admin = srv.key(Role::Admin, None);
    // Holders and rights.
    let (s, h) = api
        .post(
            &admin,
            "/v1/holders",
            &json!({"id":"nike","name":"Nike, Inc."}),
        )
        .await;
    assert_eq!(s, 201, "{h}");
    let (s, _) = api
        .post(&admin, "/v1/holders", &json!({"name":"Adidas AG"}))
        .await;
    assert_eq!(s, 201);
    let (s, e) = api
        .post(&admin, "/v1/holders", &json!({"id":"nike","name":"Other"}))
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, r) = api.post(&admin, "/v1/rights", &nike_right()).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["holder_id"], "nike");

    let nike_holder = srv.key(Role::RightsHolder, Some("nike"));
    let adidas_holder = srv.key(Role::RightsHolder, Some("adidas-ag"));
    let seller = srv.key(Role::Seller, Some("shop-9"));
    let other_seller = srv.key(Role::Seller, Some("shop-7"));
    let reviewer = srv.key(Role::Reviewer, None);
    let service = srv.key(Role::Service, None);

    // A rights holder registers for itself, sees only its own.
    let adidas = json!({"id":"r-adidas","holder":"adidas-ag","kind":"trademark","mark":"Adidas",
                        "nice_classes":[25],"regions":["*"]});
    let (s, _) = api.post(&adidas_holder, "/v1/rights", &adidas).await;
    assert_eq!(s, 201);
    let (s, body) = api.get(&nike_holder, "/v1/rights").await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r-nike"]);
    let (s, body) = api.get(&nike_holder, "/v1/rights/r-adidas").await;
    assert_eq!(s, 404, "another holder's right does not exist for you");
    assert_eq!(body["error"]["code"], "not_found");
    let (s, _) = api.get(&nike_holder, "/v1/holders/adidas-ag").await;
    assert_eq!(s, 404);
    let (s, _) = api
        .post(&nike_holder, "/v1/rights/r-adidas/disable", &json!({}))
        .await;
    assert_eq!(s, 404);
    let mut theirs = adidas.clone();
    theirs["id"] = json!("r-adidas-2");
    let (s, e) = api.post(&nike_holder, "/v1/rights", &theirs).await;
    assert_eq!(s, 422, "cannot register for another holder: {e}");
    assert_eq!(e["error"]["field"], "holder");
    let (s, _) = api
        .post(&nike_holder, "/v1/holders", &json!({"name":"X"}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = api
        .post(&nike_holder, "/v1/keys", &json!({"role":"admin"}))
        .await;
    assert_eq!(s, 403);
    // Sellers and services do not read the registry.
    let (s, _) = api.get(&seller, "/v1/rights").await;
    assert_eq!(s, 403);
    let (s, _) = api.get(&seller, "/v1/rights/r-nike").await;
    assert_eq!(s, 404);

    // Sellers submit for their own shop only.
    let l1 = listing(
        "l-1",
        "shop-9",
        "NIKE Air Max 90 sneakers 1:1 replica",
        Some("Nike"),
    );
    let (s, d) = api.post(&seller, "/v1/listings", &l1).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["action"], "reject", "{d}");
    let v = &d["violations"][0];
    assert_eq!(v["right_id"], "r-nike");
    assert_eq!(v["type"], "counterfeit");
    let field = v["evidence"]["field"].as_str().unwrap();
    let [a, b] = [0, 1].map(|i| v["evidence"]["span"][i].as_u64().unwrap() as usize);
    let original = l1[field].as_str().unwrap();
    assert_eq!(
        &original[a..b],
        v["evidence"]["text"].as_str().unwrap(),
        "the span points at what the seller wrote"
    );
    assert!(v["evidence"]["why"].as_str().unwrap().len() > 30, "{v}");
    let (s, e) = api
        .post(
            &seller,
            "/v1/listings",
            &listing("l-2", "shop-7", "Shoes", None),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["error"]["field"], "shop_id");
    // Another seller cannot take over the listing id either.
    let (s, _) = api
        .post(
            &other_seller,
            "/v1/listings",
            &listing("l-1", "shop-7", "Shoes", None),
        )
        .await;
    assert_eq!(s, 409);
    // ... and sees nothing of shop-9.
    for path in [
        "/v1/listings/l-1",
        "/v1/listings/l-1/decisions",
        "/v1/listings/l-1/history",
        "/v1/decisions/l-1@v1",
        "/v1/shops/shop-9/listings",
    ] {
        let (s, body) = api.get(&other_seller, path).await;
        assert_eq!(s, 404, "{path}: {body}");
        let (s, _) = api.get(&nike_holder, path).await;
        assert_eq!(s, 404, "{path} for a rights holder");
        let (s, _) = api.get(&seller, path).await;
        assert_eq!(s, 200, "{path} for the owner");
        let (s, _) = api.get(&reviewer, path).await;
        assert_eq!(s, 200, "{path} for a reviewer");
    }
    let (s, _) = api.get(&seller, "/v1/decisions").await;
    assert_eq!(s, 403);
    let (s, all) = api.get(&service, "/v1/decisions").await;
    assert_eq!(s, 200);
    assert_eq!(all.as_array().unwrap().len(), 1);
    // Reviewers read but do not submit; services submit for any shop.
    let (s, _) = api
        .post(
            &reviewer,
            "/v1/listings",
            &listing("l-3", "shop-5", "Shoes", None),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = api
        .post(
            &service,
            "/v1/listings",
            &listing("l-3", "shop-5", "Plain canvas shoes", None),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = api
        .post(
            &nike_holder,
            "/v1/listings",
            &listing("l-4", "shop-5", "Shoes", None),
        )
        .await;
    assert_eq!(s, 403);

    // Idempotency and edits.
    let (s, again) = api.post(&seller, "/v1/listings", &l1).await;
    assert_eq!(s, 200);
    assert_eq!(again["decision_id"], "l-1@v1");
    let mut edited = l1.clone();
    edited["brand"] = json!(null);
    edited["title"] = json!("Canvas sneakers");
    let (s, d2) = api.post(&seller, "/v1/listings", &edited).await;
    assert_eq!(s, 201);
    assert_eq!(d2["decision_id"], "l-1@v2");
    assert_eq!(d2["action"], "approve");
    let (_, hist) = api.get(&seller, "/v1/listings/l-1/history").await;
    assert_eq!(hist.as_array().unwrap().len(), 2);

    // Bad input: malformed, missing field, bad value, unknown category, too large.
    let (s, e) = api
        .post_raw(&seller, "/v1/listings", b"{\"id\": ".to_vec())
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["code"], "malformed_json");
    let (s, e) = api
        .post(
            &seller,
            "/v1/listings",
            &json!({"id":"x","shop_id":"shop-9","region":"US","category":"apparel/shoes"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("title"))
    );
    let mut bad = listing("x", "shop-9", "t", None);
    bad["price"] = json!({"amount": -3, "currency": "USD"});
    let (s, e) = api.post(&seller, "/v1/listings", &bad).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("price.amount"))
    );
    let mut bad = listing("x", "shop-9", "t", None);
    bad["category"] = json!("cars/boats");
    let (s, e) = api.post(&seller, "/v1/listings", &bad).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("category"))
    );
    let mut bad = listing("x", "shop-9", "t", None);
    bad["images"] = json!(["/etc/passwd"]);
    let (s, e) = api.post(&seller, "/v1/listings", &bad).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("images[0]"))
    );
    // A body declared over the limit is refused from its headers, before
    // any of it is read (a client still writing it may see the connection
    // reset, so the request is written by hand and only its headers sent).
    let (status, body) = declared_over_limit(&api.base, &seller).await;
    assert!(status.contains(" 413 "), "{status}");
    let e: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(e["error"]["code"], "too_large");
    let (s, e) = api.get(&admin, "/v1/nothing-here").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = c
        .delete(format!("{}/v1/listings", srv.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert!(
        api.get(&admin, "/v1/listings/x").await.0 == 404,
        "bad submissions wrote nothing"
    );

    // A new right is in force for the very next listing; a disabled one is not.
    let puma = json!({"id":"r-puma","holder":"adidas-ag","kind":"trademark","mark":"Puma","nice_classes":[25],"regions":["US"]});
    api.post(&admin, "/v1/rights", &puma).await;
    let (_, d) = api
        .post(
            &service,
            "/v1/listings",
            &listing(
                "l-5",
                "shop-5",
                "Puma suede shoes, mirror quality replica",
                Some("Puma"),
            ),
        )
        .await;
    assert_eq!(d["action"], "reject");
    let (s, _) = api
        .post(&adidas_holder, "/v1/rights/r-puma/disable", &json!({}))
        .await;
    assert_eq!(s, 200);
    let (_, d) = api
        .post(
            &service,
            "/v1/listings",
            &listing(
                "l-6",
                "shop-5",
                "Puma suede shoes, mirror quality replica",
                Some("Puma"),
            ),
        )
        .await;
    assert_eq!(d["action"], "approve");

    // Metrics count what happened.
    let m = c
        .get(format!("{}/metrics", srv.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("shopshield_decisions_total{action=\"reject\"}"),
        "{m}"
    );
    // HTTP requests by route pattern (not by raw path) and status; the
    // enforcement gauges and the webhook backlog are read at scrape time.
    assert!(
        m.contains(
            "shopshield_http_requests_total{method=\"POST\",route=\"/v1/listings\",status=\"201\"}"
        ),
        "{m}"
    );
    for family in [
        "shopshield_appeals{state=\"pending\"} 0",
        "shopshield_outbox_deliveries{state=\"pending\"}",
        "shopshield_outbox_oldest_pending_seconds",
        "shopshield_violations{",
    ] {
        assert!(m.contains(family), "{family} in\n{m}");
    }

    // Restart: everything is still there.
    srv.stop().await;
    let srv = Server::start(&db).await;
    let api = &srv;
    let (s, d) = api.get(&admin, "/v1/decisions/l-1@v1").await;
    assert_eq!(s, 200);
    assert_eq!(d["action"], "reject");
    let (_, rights) = api.get(&admin, "/v1/rights").await;
    assert_eq!(rights.as_array().unwrap().len(), 3);
    // Keys survive too, and the snapshot is rebuilt from the store.
    let (_, d) = api
        .post(
            &seller,
            "/v1/listings",
            &listing("l-7", "shop-9", "N1KE trainers super copy", None),
        )
        .await;
    assert_eq!(d["action"], "reject");
    srv.stop().await;
}

fn data_url(path: &str) -> String {
    use base64::Engine as _;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mime = if path.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

const PDQ_IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../pdq/tests/data/images");
const DEMO_IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

/// `/v1/hash`, `/v1/match` (hash and image, whole-image and logo-inside-a-photo),
/// HMA's `/m/lookup`, and listing screening with a logo inside a photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_hashing_matching_and_logo_search_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("shopshield.db")).await;
    let api = &srv;
    let admin = srv.key(Role::Admin, None);
    let seller = srv.key(Role::Seller, Some("shop-9"));
    let (s, _) = api
        .post(
            &admin,
            "/v1/holders",
            &json!({"id":"puma","name":"Puma SE"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let photo = data_url(&format!("{PDQ_IMAGES}/bridge-mods__aaa-orig.jpg"));
    for right in [
        json!({"id":"r-logo","holder":"puma","kind":"logo","image":data_url(&format!("{DEMO_IMAGES}/puma-logo.png")),
               "nice_classes":[25],"regions":["*"],"authorized_sellers":["shop-puma"]}),
        json!({"id":"r-photo","holder":"puma","kind":"copyright_image","image":photo,"regions":["*"]}),
    ] {
        let (s, b) = api.post(&admin, "/v1/rights", &right).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }

    // /v1/hash gives Meta's reference hash for its reference image.
    let (s, h) = api
        .post(&admin, "/v1/hash", &json!({ "image": photo }))
        .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let hex = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    assert_eq!(h["pdq"], hex);
    assert_eq!(h["quality"], 100);
    let (s, e) = api
        .post(
            &admin,
            "/v1/hash",
            &json!({"image":"data:image/png;base64,AAAA"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // /v1/match by hash: the photo, at distance 0.
    let (s, m) = api.post(&admin, "/v1/match", &json!({ "hash": hex })).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["matches"][0]["right_id"], "r-photo");
    assert_eq!(m["matches"][0]["distance"], 0);
    assert_eq!(m["located"], json!([]));
    // /v1/match by image: the printed coaster shows the logo, found by keypoints.
    let printed = data_url(&format!("{DEMO_IMAGES}/coaster-with-puma-print.jpg"));
    let (s, m) = api
        .post(&admin, "/v1/match", &json!({ "image": printed }))
        .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["matches"], json!([]), "no whole-image match: {m}");
    let hit = &m["located"][0];
    assert_eq!(hit["right_id"], "r-logo");
    assert_eq!(hit["violation"], "counterfeit");
    assert!(hit["inliers"].as_u64().unwrap() >= 20, "{hit}");
    assert!(hit["correlation"].as_f64().unwrap() > 0.8, "{hit}");
    // Sellers cannot probe the registry.
    let (s, _) = api
        .post(&seller, "/v1/match", &json!({ "hash": hex }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = api
        .post(
            &admin,
            "/v1/match",
            &json!({ "hash": hex, "image": printed }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // HMA's lookup shape.
    let (s, l) = api
        .get(&admin, &format!("/m/lookup?signal_type=pdq&signal={hex}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    let banks = l.as_object().unwrap();
    assert!(
        banks
            .values()
            .flat_map(|v| v.as_array().unwrap())
            .any(|h| h["bank_content_id"] == "r-photo" && h["distance"] == "0"),
        "{l}"
    );
    let (s, _) = api.get(&admin, "/m/lookup?signal_type=md5&signal=00").await;
    assert!(s.is_client_error());

    // Screening: the printed photo goes to review with where the logo is.
    let mut l = listing("coaster-1", "shop-9", "Cork coaster", None);
    l["images"] = json!([printed]);
    let (s, d) = api.post(&seller, "/v1/listings", &l).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["action"], "review", "{d}");
    let v = &d["violations"][0];
    assert_eq!(v["right_id"], "r-logo");
    assert_eq!(v["evidence"]["method"], "keypoints");
    assert!(
        v["evidence"]["why"]
            .as_str()
            .unwrap()
            .contains("inside the photo, in the box"),
        "{v}"
    );
    // The box is also given as the artwork's four corners in the photo's
    // pixels (924 × 735), which the console draws; the sentence's box is
    // their extent.
    assert_eq!(v["evidence"]["image_size"], json!([924, 735]), "{v}");
    let quad: Vec<[f64; 2]> = serde_json::from_value(v["evidence"]["quad"].clone()).unwrap();
    assert_eq!(quad.len(), 4);
    for [x, y] in &quad {
        assert!(
            (-50.0..=974.0).contains(x) && (-50.0..=785.0).contains(y),
            "{quad:?}"
        );
    }
    let (lo, hi) = quad.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p[0]), hi.max(p[0]))
    });
    let lo = lo.max(0.0);
    let why = v["evidence"]["why"].as_str().unwrap();
    assert!(
        why.contains(&format!("in the box x {}-{},", lo.round(), hi.round())),
        "{why} vs {quad:?}"
    );
    // Disabling the logo takes it out of the search at once.
    let (s, _) = api
        .post(&admin, "/v1/rights/r-logo/disable", &json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, m) = api
        .post(&admin, "/v1/match", &json!({ "image": printed }))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["located"], json!([]), "{m}");
    srv.stop().await;
}

/// Sends only the headers of a POST whose `Content-Length` is over the body
/// limit; answers the status line and the body of the reply.
async fn declared_over_limit(base: &str, key: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/listings HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        shopshield_server::MAX_BODY_BYTES + 10
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        sock.read_to_end(&mut reply),
    )
    .await
    .expect("the refusal comes before the body is sent")
    .unwrap();
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((reply.as_str(), ""));
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, body.to_string())
}
