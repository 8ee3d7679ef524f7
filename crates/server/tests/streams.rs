//! Livestreams over real HTTP and a real WebSocket: a session opened, its
//! events answered with actions, a stop that closes the socket and is
//! refused afterwards with a 409 JSON error (over HTTP and on reconnect),
//! and a client sending too fast answered 429, never a crash.

use std::sync::Arc;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, Principal, SystemClock};
use shopshield_model::{NewRight, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

mod common;

use common::Server;

async fn server(config: AppConfig) -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start_with(
        &dir.path().join("shopshield.db"),
        config,
        Arc::new(SystemClock),
    )
    .await;
    let right: NewRight = serde_json::from_value(json!({
        "id": "r-rolex", "holder": "Rolex", "kind": "trademark", "mark": "Rolex",
        "nice_classes": [14], "regions": ["*"],
        "price_floor": {"amount": 5000, "currency": "USD"}
    }))
    .unwrap();
    srv.app
        .registry()
        .import_rights(&Principal::operator("t"), vec![(right, None)])
        .unwrap();
    (dir, srv)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sends one event and reads its answer.
async fn ask(ws: &mut Ws, event: Value) -> Value {
    ws.send(Message::Text(event.to_string().into()))
        .await
        .unwrap();
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            _ => continue,
        }
    }
}

async fn ws_connect(
    srv: &Server,
    key: &str,
    id: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let url = format!(
        "{}/v1/streams/{id}/ws",
        srv.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {key}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

/// Opens a live stream hosted by `c-1` in the US, over HTTP.
async fn open_stream(srv: &Server, key: &str, id: &str) -> Value {
    let (s, v) = srv
        .post(
            key,
            "/v1/streams",
            &json!({"id": id, "creator_id": "c-1", "region": "US"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_over_http_and_websocket_until_the_stop() {
    let mut config = AppConfig::default();
    config.stream.warnings_before_stop = 1;
    let (_dir, srv) = server(config).await;
    let admin = srv.key(Role::Admin, None);
    let v = open_stream(&srv, &admin, "s-1").await;
    assert_eq!(v["status"], "live");
    let (s, v) = srv
        .post(
            &admin,
            "/v1/streams",
            &json!({"id": "s-1", "creator_id": "c-1", "region": "US"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = srv
        .post(&admin, "/v1/streams", &json!({"id": "s-2", "region": "US"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "creator_id");

    // Over HTTP: an honest segment, and a bad event naming its field.
    let (s, a) = srv
        .post(
            &admin,
            "/v1/streams/s-1/events",
            &json!({"type": "transcript", "t": 1.0, "text": "hello and welcome"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["action"], "continue");
    assert_eq!(a["t"], 1.0);
    let (s, e) = srv
        .post(
            &admin,
            "/v1/streams/s-1/events",
            &json!({"type": "frame", "t": 2.0, "pdq": "nothex"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "pdq");

    // Over a WebSocket: the pitch is warned, then stopped; the socket closes.
    let mut ws = ws_connect(&srv, &admin, "s-1").await.unwrap();
    let a = ask(
        &mut ws,
        json!({"type": "frame", "t": 5.0,
        "pdq": "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"}),
    )
    .await;
    assert_eq!(a["action"], "continue", "{a}");
    let a = ask(&mut ws, json!({"type": "chat", "t": 6.0})).await;
    assert!(
        a["error"]["code"].is_string() && a["action"].is_null(),
        "{a}"
    );
    let a = ask(&mut ws, json!({"type": "transcript", "t": 120.0, "text": "this replica Rolex is a perfect 1:1 copy"})).await;
    assert_eq!(a["action"], "warn", "{a}");
    assert!(a["reason"].as_str().unwrap().contains("00:02:00"), "{a}");
    let a = ask(
        &mut ws,
        json!({"type": "transcript", "t": 130.0, "text": "grab the replica Rolex now"}),
    )
    .await;
    assert_eq!(a["action"], "stop", "{a}");
    assert_eq!(a["decision"]["id"], "stream:s-1");
    assert!(
        a["decision"]["violations"][0]["evidence"]["time"].is_array(),
        "{a}"
    );
    let closed = loop {
        match ws.next().await {
            Some(Ok(Message::Close(_))) | None => break true,
            Some(Ok(_)) => continue,
            Some(Err(_)) => break true,
        }
    };
    assert!(closed);

    // A stopped stream is refused: over HTTP, and on reconnecting.
    let (s, e) = srv
        .post(
            &admin,
            "/v1/streams/s-1/events",
            &json!({"type": "transcript", "t": 140.0, "text": "I am back"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "conflict");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("stopped"),
        "{e}"
    );
    match ws_connect(&srv, &admin, "s-1").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 409)
        }
        other => panic!("reconnect to a stopped stream: {:?}", other.map(|_| ())),
    }
    let (s, v) = srv.get(&admin, "/v1/streams/s-1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["decision"]["decision_id"], "stream:s-1@v1");

    // Scopes: another shop's seller sees no stream.
    let seller = srv.key(Role::Seller, Some("shop-9"));
    let (s, _) = srv.get(&seller, "/v1/streams/s-1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_too_fast_gets_429_not_a_crash() {
    let mut config = AppConfig::default();
    config.stream.max_in_flight = 1;
    let (_dir, srv) = server(config).await;
    let admin = srv.key(Role::Admin, None);
    open_stream(&srv, &admin, "s-fast").await;
    let jpg = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pdq/tests/data/images/bridge-mods__aaa-orig.jpg"
    ))
    .unwrap();
    let url = format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&jpg)
    );
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (srv, admin, url) = (srv.clone(), admin.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            srv.post(
                &admin,
                "/v1/streams/s-fast/events",
                &json!({"type": "frame", "t": f64::from(i), "image": url}),
            )
            .await
        }));
    }
    let (mut ok, mut busy) = (0, 0);
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match s {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(v["error"]["code"], "too_many_requests", "{v}");
                busy += 1;
            }
            other => panic!("{other}: {v}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "{ok} answered, {busy} refused");
    // Still serving.
    let (s, a) = srv
        .post(
            &admin,
            "/v1/streams/s-fast/events",
            &json!({"type": "transcript", "t": 100.0, "text": "still here"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    if let Ok(srv) = Arc::try_unwrap(srv) {
        srv.stop().await;
    }
}

/// Reads from the socket until the server closes it; false when it stays
/// open past `wait`.
async fn closed_within(ws: &mut Ws, wait: std::time::Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_websocket_keeps_its_connection_slot_until_it_falls_idle() {
    let mut config = AppConfig::default();
    config.server.max_connections = 2;
    config.server.overflow_connections = 2;
    config.server.idle_timeout_secs = 2;
    let (_dir, srv) = server(config).await;
    let admin = srv.key(Role::Admin, None);
    for id in ["s-a", "s-b"] {
        open_stream(&srv, &admin, id).await;
    }
    let get = |path: &str| {
        let req = reqwest::Client::new()
            .get(format!("{}{path}", srv.base))
            .bearer_auth(&admin)
            .send();
        async move {
            let r = req.await.unwrap();
            let status = r.status();
            let retry = r.headers().contains_key("retry-after");
            let body: Value = r.json().await.unwrap();
            (status, retry, body)
        }
    };
    // Two live sockets fill the cap of two (the idle HTTP connection that
    // opened the streams is closed to make room for the second). A live
    // stream is never closed for a newcomer: the third connection gets the
    // overflow's 503 with Retry-After.
    let mut a = ws_connect(&srv, &admin, "s-a").await.unwrap();
    let mut b = ws_connect(&srv, &admin, "s-b").await.unwrap();
    let hello = json!({"type": "transcript", "t": 1.0, "text": "hello"});
    assert_eq!(ask(&mut a, hello.clone()).await["action"], "continue");
    assert_eq!(ask(&mut b, hello).await["action"], "continue");
    let (status, retry, body) = get("/v1/streams/s-a").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "overloaded");
    assert!(retry);
    // A socket with no message for the idle timeout (2 s) is closed, and
    // its slot is given back.
    assert!(
        closed_within(&mut a, std::time::Duration::from_secs(6)).await,
        "an idle upgraded socket stayed open"
    );
    assert!(closed_within(&mut b, std::time::Duration::from_secs(6)).await);
    let (status, _, body) = get("/v1/streams/s-a").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    srv.stop().await;
}
