//! Proof of rights over real HTTP with time injected: a right's
//! registration is validated and shown; once it expires the server stops
//! enforcing it and refuses notices relying on it; a duplicate mark of
//! another holder is held until an admin approves it.

mod common;

use std::sync::Arc;

use chrono::TimeZone;
use common::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, FixedClock};
use shopshield_model::Role;

fn err_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or_default()
}

fn right(id: &str, holder: &str, mark: &str, expires_on: &str) -> Value {
    json!({"id": id, "holder": holder, "kind": "trademark", "mark": mark,
           "nice_classes": [25], "regions": ["*"],
           "registration": {"number": "UK00003123456", "office": "UKIPO",
                            "registered_on": "2016-03-02", "expires_on": expires_on}})
}

fn fake(id: &str) -> Value {
    json!({"id": id, "shop_id": format!("shop-{id}"), "region": "US",
           "category": "apparel/shoes", "title": "Zorbex replica sneakers 1:1 copy",
           "price": {"amount": 12.0, "currency": "USD"}})
}

fn notice(id: &str, right: &str, item: &str) -> Value {
    json!({
        "id": id, "right_id": right,
        "work": "Our registered word mark",
        "items": [{"kind": "listing", "id": item, "material": "the listing uses our mark"}],
        "explanation": "The listing sells counterfeits bearing our registered mark.",
        "complainant": {"name": "Ann Agent", "email": "ann@zorbex.example",
                        "address": "1 Main St, Springfield"},
        "statements": {"good_faith": true, "accuracy_under_penalty_of_perjury": true,
                       "bona_fide": true},
        "signature": "/Ann Agent/"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_expire_and_duplicate_marks_wait_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap(),
    ));
    let s = Server::start_with(
        &dir.path().join("s.db"),
        AppConfig::default(),
        clock.clone(),
    )
    .await;
    let admin = s.key(Role::Admin, None);
    for (id, name) in [("zorbex", "Zorbex Inc"), ("copycat", "Copycat Ltd")] {
        let (st, _) = s
            .post(&admin, "/v1/holders", &json!({"id": id, "name": name}))
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let holder = s.key(Role::RightsHolder, Some("zorbex"));
    let copycat = s.key(Role::RightsHolder, Some("copycat"));

    // Bad registrations: a 422 naming the field.
    for (edit, field) in [
        (
            json!({"number": "", "office": "USPTO", "expires_on": "2030-01-01"}),
            "registration.number",
        ),
        (
            json!({"number": "1", "office": "us pto", "expires_on": "2030-01-01"}),
            "registration.office",
        ),
        (
            json!({"number": "1", "office": "USPTO", "registered_on": "2030-01-01", "expires_on": "2029-01-01"}),
            "registration.expires_on",
        ),
    ] {
        let mut r = right("r-bad", "zorbex", "Zorbex", "2030-01-01");
        r["registration"] = edit;
        let (st, body) = s.post(&holder, "/v1/rights", &r).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert_eq!(err_field(&body), field, "{body}");
    }
    let mut r = right("r-bad", "zorbex", "Zorbex", "2030-01-01");
    r["registration"]["expires_on"] = json!("not a date");
    let (st, body) = s.post(&holder, "/v1/rights", &r).await;
    assert!(st.is_client_error(), "{st} {body}");
    assert!(body["error"].is_object(), "{body}");

    let (st, body) = s
        .post(
            &holder,
            "/v1/rights",
            &right("r-zorbex", "zorbex", "Zorbex", "2026-03-02"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["registration"]["office"], "UKIPO");
    assert_eq!(body["registration"]["expires_on"], "2026-03-02");
    assert!(body.get("review").is_none(), "{body}");

    // Another holder, the same mark: stored, held.
    let (st, body) = s
        .post(
            &copycat,
            "/v1/rights",
            &right("r-copy", "copycat", "ZORBEX", "2036-01-01"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(body["review"]["state"], "pending", "{body}");
    assert_eq!(body["review"]["conflicts"][0]["right_id"], "r-zorbex");
    assert_eq!(body["review"]["conflicts"][0]["holder_id"], "zorbex");
    let (st, body) = s.get(&admin, "/v1/rights?review=pending").await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, ["r-copy"]);
    let (st, body) = s.get(&admin, "/v1/rights?review=maybe").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    // The holder sees its own right's state; not another holder's right.
    let (st, body) = s.get(&copycat, "/v1/rights/r-copy").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["review"]["state"], "pending");
    let (st, _) = s.get(&copycat, "/v1/rights/r-zorbex").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Only admins review; bad input names the field.
    let (st, _) = s
        .post(
            &copycat,
            "/v1/rights/r-copy/review",
            &json!({"outcome": "approve", "reason": "mine"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, body) = s
        .post(&admin, "/v1/rights/r-copy/review", &json!({"reason": "ok"}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(err_field(&body), "outcome");
    let (st, body) = s
        .post(
            &admin,
            "/v1/rights/r-copy/review",
            &json!({"outcome": "refuse", "reason": " "}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(err_field(&body), "reason");
    let (st, _) = s
        .post(
            &admin,
            "/v1/rights/nope/review",
            &json!({"outcome": "refuse", "reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .post(
            &admin,
            "/v1/rights/r-zorbex/review",
            &json!({"outcome": "refuse", "reason": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    // While the holder's registration is valid, fakes are rejected by it
    // alone.
    let (st, body) = s.post(&admin, "/v1/listings", &fake("l-1")).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(body["action"], "reject", "{body}");
    let named: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["right_id"].as_str())
        .collect();
    assert!(
        named.contains(&"r-zorbex") && !named.contains(&"r-copy"),
        "{body}"
    );

    // After the expiry day (UTC): not enforced, no notice relies on it.
    clock.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 3, 3, 0, 0, 0)
            .single()
            .unwrap(),
    );
    let (st, body) = s.post(&admin, "/v1/listings", &fake("l-2")).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(body["action"], "approve", "{body}");
    let (st, body) = s
        .post(&holder, "/v1/notices", &notice("n-1", "r-zorbex", "l-2"))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(err_field(&body), "right_id");
    assert!(body.to_string().contains("2026-03-02"), "{body}");

    // Approval puts the held right in force.
    let (st, body) = s
        .post(
            &admin,
            "/v1/rights/r-copy/review",
            &json!({"outcome": "approve", "reason": "the earlier registration lapsed"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["review"]["state"], "approved");
    assert_eq!(body["review"]["reason"], "the earlier registration lapsed");
    let (st, body) = s.post(&admin, "/v1/listings", &fake("l-3")).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(body["action"], "reject", "{body}");
    assert!(body.to_string().contains("r-copy"), "{body}");
    s.stop().await;
}
