//! Region policy over real HTTP: the same listing decided differently by
//! region, qualifications that unlock restricted goods, and reloading packs
//! from disk without a restart, where a broken pack changes nothing.

use std::path::Path;
use std::sync::Arc;

use reqwest::Client;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, SystemClock};
use shopshield_model::Role;

mod common;

use common::Server;

const PACKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy/packs");

fn copy_packs(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(PACKS).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

async fn post(c: &Client, base: &str, key: &str, path: &str, body: &Value) -> (u16, Value) {
    let r = c
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get(c: &Client, base: &str, key: &str, path: &str) -> (u16, Value) {
    let r = c
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn vape(id: &str, shop: &str, region: &str) -> Value {
    json!({"id": id, "shop_id": shop, "region": region, "category": "tobacco/vaping",
           "title": "Refillable vape pod kit with 2 ml cartridge"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_qualifications_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let packs = dir.path().join("packs");
    copy_packs(&packs);
    let mut config = AppConfig::default();
    config.policy.dir = Some(packs.clone());
    let srv = Server::start_with(
        &dir.path().join("shopshield.db"),
        config,
        Arc::new(SystemClock),
    )
    .await;
    let admin = srv.key(Role::Admin, None);
    let service = srv.key(Role::Service, None);
    let base = srv.base.clone();
    let c = Client::new();

    // The same listing: prohibited in SG and TH, restricted in US and GB.
    for region in ["SG", "TH"] {
        let (s, d) = post(
            &c,
            &base,
            &service,
            "/v1/listings",
            &vape(&format!("v-{region}"), &format!("shop-p-{region}"), region),
        )
        .await;
        assert_eq!(s, 201, "{d}");
        assert_eq!(d["action"], "reject", "{region}: {d}");
        let v = &d["violations"][0];
        assert_eq!(v["type"], "prohibited", "{region}: {d}");
        assert!(v["evidence"]["citation"].as_str().unwrap().len() > 5);
        assert!(v["evidence"]["pack"].is_string() && v["evidence"]["pack_version"].is_string());
        assert!(
            d["policy_versions"][region.to_lowercase()].is_string(),
            "{d}"
        );
    }
    for region in ["US", "GB"] {
        let shop = format!("shop-{region}");
        let (_, d) = post(
            &c,
            &base,
            &service,
            "/v1/listings",
            &vape(&format!("v-{region}-1"), &shop, region),
        )
        .await;
        assert_eq!(d["action"], "reject", "{region}: {d}");
        let missing: Vec<String> = d["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["type"] == "restricted")
            .map(|v| v["evidence"]["qualification"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !missing.is_empty(),
            "{region}: the decision names the missing qualification: {d}"
        );
        // The platform verifies the seller's documents and records them.
        for q in &missing {
            let (s, e) = post(
                &c,
                &base,
                &service,
                "/v1/qualifications",
                &json!({
                    "shop_id": shop, "qualification": q, "region": region,
                    "expires_at": "2099-01-01T00:00:00Z", "evidence_ref": "doc-1"
                }),
            )
            .await;
            assert_eq!(s, 201, "{e}");
        }
        let (_, d) = post(
            &c,
            &base,
            &service,
            "/v1/listings",
            &vape(&format!("v-{region}-2"), &shop, region),
        )
        .await;
        assert_eq!(d["action"], "approve", "{region} with {missing:?}: {d}");
    }
    // An expired qualification counts as missing.
    post(
        &c,
        &base,
        &service,
        "/v1/qualifications",
        &json!({
            "shop_id": "shop-old", "qualification": "pact-act-registration", "region": "US",
            "expires_at": "2020-01-01T00:00:00Z", "evidence_ref": "doc-2"
        }),
    )
    .await;
    let (_, d) = post(
        &c,
        &base,
        &service,
        "/v1/listings",
        &vape("v-old", "shop-old", "US"),
    )
    .await;
    assert_eq!(d["action"], "reject", "{d}");
    let (s, q) = get(&c, &base, &admin, "/v1/shops/shop-US/qualifications").await;
    assert_eq!(s, 200);
    assert!(!q.as_array().unwrap().is_empty());
    let (s, e) = post(
        &c,
        &base,
        &service,
        "/v1/qualifications",
        &json!({"shop_id": "x", "qualification": "q", "region": "ZZ", "evidence_ref": "d"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");

    // A broken pack is refused with file and line, and changes nothing.
    let (_, before) = get(&c, &base, &admin, "/v1/policy/packs").await;
    let sg = std::fs::read_to_string(packs.join("sg.toml")).unwrap();
    std::fs::write(
        packs.join("sg.toml"),
        sg.replace("tobacco/vaping", "tobacco/vapour"),
    )
    .unwrap();
    let (s, e) = post(&c, &base, &admin, "/v1/policy/reload", &json!({})).await;
    assert_eq!(s, 422, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("sg.toml:") && msg.contains("tobacco/vapour"),
        "{msg}"
    );
    let (_, after) = get(&c, &base, &admin, "/v1/policy/packs").await;
    assert_eq!(before, after);
    let (_, d) = post(
        &c,
        &base,
        &service,
        "/v1/listings",
        &vape("v-SG-2", "shop-2", "SG"),
    )
    .await;
    assert_eq!(d["action"], "reject", "the old packs stay in force: {d}");
    let (s, _) = post(&c, &base, &service, "/v1/policy/reload", &json!({})).await;
    assert_eq!(s, 403, "only admins reload");

    // A fixed pack goes into force without a restart.
    std::fs::write(
        packs.join("sg.toml"),
        sg.replace("version = \"2026.11.30\"", "version = \"2026.12.01\""),
    )
    .unwrap();
    let (s, r) = post(&c, &base, &admin, "/v1/policy/reload", &json!({})).await;
    assert_eq!(s, 200, "{r}");
    assert!(
        r["versions"]["sg"]
            .as_str()
            .unwrap()
            .starts_with("2026.12.01+"),
        "{r}"
    );
    let (_, d) = post(
        &c,
        &base,
        &service,
        "/v1/listings",
        &vape("v-SG-3", "shop-3", "SG"),
    )
    .await;
    assert!(
        d["policy_versions"]["sg"]
            .as_str()
            .unwrap()
            .starts_with("2026.12.01+"),
        "{d}"
    );

    srv.stop().await;
}
