//! Brand authorisation over real HTTP: a seller's listing caught by a
//! holder's mark; the seller asks for authorisation; another holder cannot
//! decide it and another seller cannot see it; the holder approves, the
//! shop becomes an authorised seller and its listing is restored (a new
//! approve decision, the case closed) while another shop's similar
//! listing is untouched; a refusal changes nothing; two concurrent
//! decisions: one wins, one 409; bad input is a 422 naming the field.

mod common;

use common::Server;
use reqwest::StatusCode;
use serde_json::json;
use shopshield_model::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holders_authorise_sellers_and_their_listings_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(&dir.path().join("db.sqlite")).await;
    let admin = s.key(Role::Admin, None);
    for (id, name, mark) in [
        ("zorbex", "Zorbex Inc", "Zorbex"),
        ("acme", "Acme Ltd", "Quellax"),
    ] {
        let (st, body) = s
            .post(&admin, "/v1/holders", &json!({"id": id, "name": name}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        let (st, body) = s
            .post(
                &admin,
                "/v1/rights",
                &json!({"id": format!("r-{id}"), "holder": id, "kind": "trademark",
                        "mark": mark, "nice_classes": [25], "regions": ["*"]}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    let mut first = String::new();
    for (id, shop) in [("mine", "shop-1"), ("theirs", "shop-2")] {
        let (st, body) = s
            .post(
                &admin,
                "/v1/listings",
                &json!({"id": id, "shop_id": shop, "region": "US",
                        "category": "apparel/shoes", "title": "Zorbex sneakers",
                        "price": {"amount": 120.0, "currency": "USD"}}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        assert_ne!(body["action"], "approve", "{body}");
        first = body["action"].as_str().unwrap_or_default().to_string();
    }
    let seller1 = s.key(Role::Seller, Some("shop-1"));
    let seller2 = s.key(Role::Seller, Some("shop-2"));
    let zorbex = s.key(Role::RightsHolder, Some("zorbex"));
    let acme = s.key(Role::RightsHolder, Some("acme"));

    // Bad input: 422 naming the field; unknown fields too.
    let (st, body) = s
        .post(
            &seller1,
            "/v1/rights/r-zorbex/authorizations",
            &json!({"relationship": "retailer", "message": ""}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("message"), "{body}");
    let (st, body) = s
        .post(
            &seller1,
            "/v1/rights/r-zorbex/authorizations",
            &json!({"relationship": "cousin", "message": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (st, _) = s
        .post(
            &seller1,
            "/v1/rights/r-none/authorizations",
            &json!({"relationship": "retailer", "message": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A holder may not ask.
    let (st, _) = s
        .post(
            &zorbex,
            "/v1/rights/r-zorbex/authorizations",
            &json!({"relationship": "retailer", "message": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The seller asks; an identical re-post answers the same request.
    let ask = json!({"relationship": "distributor",
        "message": "We are the brand's distributor for the EU.",
        "document": "distribution agreement DA-2025-11"});
    let (st, req) = s
        .post(&seller1, "/v1/rights/r-zorbex/authorizations", &ask)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{req}");
    assert_eq!(req["state"], "pending");
    assert_eq!(req["shop_id"], "shop-1");
    let id = req["id"].as_str().unwrap().to_string();
    let (st, again) = s
        .post(&seller1, "/v1/rights/r-zorbex/authorizations", &ask)
        .await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["id"], id.as_str());

    // Scope: another seller sees nothing; another holder cannot decide.
    let (st, _) = s.get(&seller2, &format!("/v1/authorizations/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, list) = s.get(&seller2, "/v1/authorizations").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
    let (st, list) = s.get(&zorbex, "/v1/authorizations?state=pending").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let approve = json!({"outcome": "approve", "reason": "our distributor"});
    let (st, _) = s
        .post(
            &acme,
            &format!("/v1/authorizations/{id}/decision"),
            &approve,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .post(
            &seller1,
            &format!("/v1/authorizations/{id}/decision"),
            &approve,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, body) = s
        .post(
            &zorbex,
            &format!("/v1/authorizations/{id}/decision"),
            &json!({"reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("outcome"), "{body}");
    let (st, body) = s
        .post(
            &zorbex,
            &format!("/v1/authorizations/{id}/decision"),
            &json!({"outcome": "refuse", "reason": ""}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("reason"), "{body}");

    // The holder approves.
    let (st, done) = s
        .post(
            &zorbex,
            &format!("/v1/authorizations/{id}/decision"),
            &approve,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["authorization"]["state"], "approved");
    assert_eq!(done["decisions"], json!(["mine@v2"]), "{done}");
    let (_, right) = s.get(&admin, "/v1/rights/r-zorbex").await;
    assert_eq!(right["authorized_sellers"], json!(["shop-1"]), "{right}");
    let (_, d) = s.get(&admin, "/v1/listings/mine/decisions").await;
    let last = d
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["action"], "approve", "{d}");
    assert_eq!(last["source"], "sweep", "{d}");
    assert_eq!(last["cause"]["change"], "authorization_approved", "{d}");
    if first == "review" {
        let (st, case) = s.get(&admin, "/v1/cases/mine@v1").await;
        assert_eq!(st, StatusCode::OK, "{case}");
        assert!(!case["closed"].is_null(), "{case}");
    }
    // The other shop's listing is untouched.
    let (_, d) = s.get(&admin, "/v1/listings/theirs/decisions").await;
    assert_eq!(d.as_array().map(Vec::len), Some(1), "{d}");
    // Deciding again: 409.
    let (st, _) = s
        .post(
            &zorbex,
            &format!("/v1/authorizations/{id}/decision"),
            &approve,
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // A refusal changes nothing.
    let (st, req2) = s
        .post(&seller2, "/v1/rights/r-zorbex/authorizations", &ask)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{req2}");
    let id2 = req2["id"].as_str().unwrap().to_string();
    let (st, refused) = s
        .post(
            &zorbex,
            &format!("/v1/authorizations/{id2}/decision"),
            &json!({"outcome": "refuse", "reason": "not our distributor"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{refused}");
    assert_eq!(refused["authorization"]["state"], "refused");
    let (_, right) = s.get(&admin, "/v1/rights/r-zorbex").await;
    assert_eq!(right["authorized_sellers"], json!(["shop-1"]), "{right}");
    let (_, d) = s.get(&admin, "/v1/listings/theirs/decisions").await;
    assert_eq!(d.as_array().map(Vec::len), Some(1), "{d}");

    // Two decisions at once: one wins, one 409.
    let (st, req3) = s
        .post(&seller2, "/v1/rights/r-zorbex/authorizations", &ask)
        .await;
    assert_eq!(st, StatusCode::CREATED, "{req3}");
    let path = format!(
        "/v1/authorizations/{}/decision",
        req3["id"].as_str().unwrap()
    );
    let refuse = json!({"outcome": "refuse", "reason": "no"});
    let ((a, _), (b, _)) = tokio::join!(
        s.post(&zorbex, &path, &approve),
        s.post(&admin, &path, &refuse)
    );
    let mut codes = [a, b];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT]);
    s.stop().await;
}
