//! `POST /v1/videos` over real HTTP: a registered clip given as a vPDQ hash
//! list, a video matching it, evidence with time ranges, identical
//! resubmission, scopes and errors naming the field.

use reqwest::StatusCode;
use serde_json::json;
use shopshield_model::Role;

mod common;

use common::Server;

/// `n` frames, one a second, of pseudo-random scenes from `seed`.
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
async fn videos_are_screened_stored_and_scoped() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(&dir.path().join("shopshield.db")).await;
    let admin = srv.key(Role::Admin, None);
    let (s, _) = srv
        .post(
            &admin,
            "/v1/holders",
            &json!({"id":"studio","name":"Studio"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let clip = hash_list(1, 20);
    let (s, r) = srv
        .post(
            &admin,
            "/v1/rights",
            &json!({"id":"r-clip","holder":"studio","kind":"copyright_video","vpdq":clip,"regions":["*"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["kind"], "copyright_video");

    // Seconds 5 to 14 of the clip, renumbered from 0.
    let excerpt: String = clip
        .lines()
        .skip(5)
        .take(10)
        .enumerate()
        .map(|(i, l)| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{},{},{},{i}.000\n", i * 25, f[1], f[2])
        })
        .collect();
    let video = json!({"id":"v-1","creator_id":"c-1","region":"US","caption":"my edit",
                       "vpdq": excerpt});
    let (s, d) = srv.post(&admin, "/v1/videos", &video).await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["decision_id"], "video:v-1@v1");
    assert_eq!(d["action"], "reject");
    let e = &d["violations"][0]["evidence"];
    assert_eq!(e["time"], json!([0.0, 9.0]), "{e}");
    assert_eq!(e["reference_time"], json!([5.0, 14.0]), "{e}");
    assert!(
        e["why"]
            .as_str()
            .unwrap()
            .contains("00:00:00–00:00:09 of the video matches 00:00:05–00:00:14 of the clip"),
        "{e}"
    );
    // Identical content: the stored decision, 200.
    let (s, again) = srv.post(&admin, "/v1/videos", &video).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, d);
    let (s, got) = srv.get(&admin, "/v1/videos/v-1").await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["decision"], d);
    assert_eq!(got["version"], 1);

    // Bad input names the field; media over HTTP is a data: URL.
    let (s, e) = srv
        .post(
            &admin,
            "/v1/videos",
            &json!({"id":"v-2","creator_id":"c-1","region":"US",
                    "transcript":[{"start":3,"end":1,"text":"x"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "transcript[0].end");
    let (s, e) = srv
        .post(
            &admin,
            "/v1/videos",
            &json!({"id":"v-2","creator_id":"c-1","region":"US","media":"clip.mp4"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "media");
    let (s, e) = srv
        .post(
            &admin,
            "/v1/videos",
            &json!({"id":"v-2","creator_id":"c-1","region":"US",
                    "media":"data:video/mp4;base64,AAAAHGZ0eXBpc29tAAACAGlzb21pc28ybXA0MQ=="}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "media");

    // A seller submits only videos showcasing its own shop, and sees only those.
    let seller = srv.key(Role::Seller, Some("shop-9"));
    let (s, e) = srv
        .post(
            &seller,
            "/v1/videos",
            &json!({"id":"v-3","creator_id":"c-2","shop_id":"shop-1","region":"US"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "shop_id");
    let (s, d) = srv
        .post(
            &seller,
            "/v1/videos",
            &json!({"id":"v-3","creator_id":"c-2","shop_id":"shop-9","region":"US",
                    "caption":"unboxing my new mug"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["action"], "approve");
    let (s, _) = srv.get(&seller, "/v1/videos/v-1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = srv.get(&seller, "/v1/videos/v-3").await;
    assert_eq!(s, StatusCode::OK);

    // The removal counts against the creator.
    let (s, rec) = srv.get(&admin, "/v1/creators/c-1/enforcement").await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    assert!(rec["points"].as_u64().unwrap() > 0, "{rec}");
    srv.stop().await;
}
