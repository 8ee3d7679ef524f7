//! Sweeps over real HTTP with time injected: a server takes live fakes down
//! by itself when a mark is registered; a sweep cut off mid-way (its server
//! gone) is resumed by another server after the lease.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use common::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, FixedClock};
use shopshield_model::Role;

fn fake(i: usize) -> Value {
    json!({"id": format!("fake-{i}"), "shop_id": format!("shop-{i}"), "region": "US",
           "category": "apparel/shoes", "title": format!("Zorbex replica sneakers 1:1 copy {i}"),
           "price": {"amount": 12.0, "currency": "USD"}})
}

fn plain(i: usize) -> Value {
    json!({"id": format!("plain-{i}"), "shop_id": format!("shop-p{i}"), "region": "US",
           "category": "apparel/shoes", "title": format!("Canvas walking shoe {i}"),
           "price": {"amount": 45.0, "currency": "USD"}})
}

async fn register_mark(s: &Server, admin: &str) {
    let (st, _) = s
        .post(
            admin,
            "/v1/holders",
            &json!({"id": "zorbex", "name": "Zorbex Inc"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, body) = s
        .post(
            admin,
            "/v1/rights",
            &json!({"id": "r-zorbex", "holder": "zorbex", "kind": "trademark", "mark": "Zorbex",
                    "nice_classes": [25], "regions": ["*"],
                    "price_floor": {"amount": 80.0, "currency": "USD"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
}

async fn listing_status(s: &Server, key: &str, id: &str) -> String {
    let (st, body) = s.get(key, &format!("/v1/listings/{id}/status")).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_takes_live_fakes_down_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig::parse("[sweep]\npoll_interval_ms = 50\n").unwrap();
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let s = Server::start_with(&dir.path().join("s.db"), config, clock).await;
    let admin = s.key(Role::Admin, None);
    for i in 0..3 {
        let (st, body) = s.post(&admin, "/v1/listings", &fake(i)).await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(body["action"], "approve", "{body}");
    }
    let (st, _) = s.post(&admin, "/v1/listings", &plain(0)).await;
    assert_eq!(st, StatusCode::CREATED);
    register_mark(&s, &admin).await;
    let mut waited = 0;
    while listing_status(&s, &admin, "fake-2").await != "removed" {
        assert!(waited < 200, "the server did not sweep by itself");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    for i in 0..3 {
        assert_eq!(
            listing_status(&s, &admin, &format!("fake-{i}")).await,
            "removed"
        );
    }
    assert_eq!(listing_status(&s, &admin, "plain-0").await, "live");
    let (st, d) = s.get(&admin, "/v1/decisions/fake-0@v2").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["source"], "sweep");
    assert_eq!(d["cause"]["right_id"], "r-zorbex");
    // The listings are down before the sweep records itself done.
    let mut waited = 0;
    let created = loop {
        let (st, sweeps) = s.get(&admin, "/v1/sweeps").await;
        assert_eq!(st, StatusCode::OK);
        let created = sweeps
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["cause"]["change"] == "right_created")
            .cloned()
            .unwrap();
        if created["state"] == "done" {
            break created;
        }
        assert!(waited < 200, "the sweep never finished: {created}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    };
    assert_eq!(created["counts"]["taken_down"], 3);
    assert_eq!(created["counts"]["looked_at"], 3);
    // The rights holder's view: the decisions that named its right, and a
    // search of the live catalogue for its mark.
    let (st, body) = s
        .post(
            &admin,
            "/v1/listings",
            &json!({"id": "mention", "shop_id": "shop-m", "region": "US",
                    "category": "apparel/shoes", "title": "Zorbex sneakers",
                    "price": {"amount": 120.0, "currency": "USD"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(body["action"], "review", "{body}");
    let holder = s.key(Role::RightsHolder, Some("zorbex"));
    let (st, mine) = s.get(&holder, "/v1/decisions").await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    let ids: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fake-0@v2", "fake-1@v2", "fake-2@v2", "mention@v1"]);
    let (st, found) = s.get(&holder, "/v1/rights/r-zorbex/catalogue").await;
    assert_eq!(st, StatusCode::OK, "{found}");
    let hits = found.as_array().unwrap();
    assert_eq!(hits.len(), 1, "removed fakes are not live: {found}");
    assert_eq!(hits[0]["listing_id"], "mention");
    assert_eq!(hits[0]["matched"], "exact");
    assert_eq!(hits[0]["status"], "pending_review");
    // Another holder sees none of it.
    let (st, _) = s
        .post(
            &admin,
            "/v1/holders",
            &json!({"id": "other", "name": "Other Co"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let other = s.key(Role::RightsHolder, Some("other"));
    let (st, none) = s.get(&other, "/v1/decisions").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(none.as_array().unwrap().len(), 0);
    let (st, _) = s.get(&other, "/v1/rights/r-zorbex/catalogue").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Sellers may not run or read sweeps.
    let seller = s.key(Role::Seller, Some("shop-0"));
    let (st, _) = s.post(&seller, "/v1/sweeps", &json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = s.get(&seller, "/v1/sweeps").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_cut_off_is_resumed_by_another_server_after_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // Sweeps only when asked (the background round waits an hour), two
    // listings a page, a 30 s lease.
    let config =
        AppConfig::parse("[sweep]\npage = 2\nlease_secs = 30\npoll_interval_ms = 3600000\n")
            .unwrap();
    let clock = Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 5, 4, 10, 0, 0)
            .single()
            .unwrap(),
    ));
    let a = Server::start_with(&db, config.clone(), clock.clone()).await;
    let admin = a.key(Role::Admin, None);
    for i in 0..5 {
        let (st, _) = a.post(&admin, "/v1/listings", &fake(i)).await;
        assert_eq!(st, StatusCode::CREATED);
    }
    register_mark(&a, &admin).await;
    let (st, part) = a.post(&admin, "/v1/sweeps", &json!({"max_pages": 1})).await;
    assert_eq!(st, StatusCode::OK, "{part}");
    assert_eq!(part["counts"]["looked_at"], 2);
    assert_eq!(part["counts"]["taken_down"], 2);
    let id = part["sweeps"][0]["id"].as_str().unwrap().to_string();
    // The server goes away holding the sweep.
    a.stop().await;

    let b = Server::start_with(&db, config, clock.clone()).await;
    let (st, early) = b.post(&admin, "/v1/sweeps", &json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(early["sweeps"].as_array().unwrap().len(), 0, "{early}");
    let (_, held) = b.get(&admin, &format!("/v1/sweeps/{id}")).await;
    assert_eq!(held["state"], "open");
    assert_eq!(held["cursor"], "fake-1");
    clock.advance(chrono::Duration::seconds(31));
    let (st, rest) = b.post(&admin, "/v1/sweeps", &json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rest["counts"]["looked_at"], 3, "{rest}");
    assert_eq!(rest["counts"]["taken_down"], 3);
    assert_eq!(rest["decisions"].as_array().unwrap().len(), 3);
    let (_, done) = b.get(&admin, &format!("/v1/sweeps/{id}")).await;
    assert_eq!(done["state"], "done");
    assert_eq!(done["counts"]["taken_down"], 5);
    for i in 0..5 {
        let (_, ds) = b
            .get(&admin, &format!("/v1/listings/fake-{i}/decisions"))
            .await;
        let swept = ds
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["source"] == "sweep")
            .count();
        assert_eq!(swept, 1, "fake-{i}: {ds}");
        assert_eq!(
            listing_status(&b, &admin, &format!("fake-{i}")).await,
            "removed"
        );
    }
    b.stop().await;
}
