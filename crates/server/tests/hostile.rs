//! The server under hostile clients, over real sockets: idle sockets by the
//! hundred, requests that declare a body and never send it, heads that are
//! not HTTP, a key that floods, images that claim too many pixels. Every
//! answer is JSON, none is a 5xx, and `/healthz` answers within 100 ms
//! throughout. Each test is bounded to a few seconds.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shopshield_app::{AppConfig, Bucket, ServerConfig, SystemClock};
use shopshield_model::Role;

fn config(server: ServerConfig) -> AppConfig {
    AppConfig {
        server,
        ..AppConfig::default()
    }
}

async fn start(dir: &tempfile::TempDir, server: ServerConfig) -> Server {
    Server::start_with(
        &dir.path().join("shopshield.db"),
        config(server),
        Arc::new(SystemClock),
    )
    .await
}

fn addr(srv: &Server) -> String {
    srv.base.trim_start_matches("http://").to_string()
}

/// Sends raw bytes on a new connection and reads the answer until the
/// server closes it or `wait` passes: (status, headers, body).
fn raw(addr: &str, request: &[u8], wait: Duration) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if complete(&buf) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    parse(&buf)
}

fn complete(buf: &[u8]) -> bool {
    let text = String::from_utf8_lossy(buf);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    body.len() >= len
}

fn parse(buf: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// The JSON error body's code; fails unless the answer is a JSON error.
fn error_code(head: &str, body: &str) -> String {
    assert!(
        head.contains("content-type: application/json"),
        "not JSON: {head}\n{body}"
    );
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {body}"))
        .to_string()
}

/// GET /healthz on a new connection: the time it took, failing unless 200.
fn healthz(addr: &str) -> Duration {
    let t = Instant::now();
    let (status, _, body) = raw(
        addr,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(status, 200, "healthz: {body}");
    t.elapsed()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_and_missing_bodies_never_silence_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(
        &dir,
        ServerConfig {
            max_connections: 64,
            overflow_connections: 16,
            header_read_timeout_ms: 1_500,
            body_read_timeout_ms: 1_000,
            ..ServerConfig::default()
        },
    )
    .await;
    let key = srv.key(Role::Service, None);
    let a = addr(&srv);
    let result = tokio::task::spawn_blocking(move || {
        let before = open_fds();
        // 20 requests that declare a body and never send it.
        let mut silent = Vec::new();
        for _ in 0..20 {
            let mut s = TcpStream::connect(&a).unwrap();
            write!(
                s,
                "POST /v1/listings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
            )
            .unwrap();
            silent.push(s);
        }
        // 800 idle sockets, far beyond the cap of 64 connections.
        let mut worst = Duration::ZERO;
        let mut idle = Vec::new();
        for i in 0..800 {
            idle.push(TcpStream::connect(&a).unwrap());
            if i % 100 == 0 {
                worst = worst.max(healthz(&a));
            }
        }
        // The server holds at most its cap (plus overflow) of them: the
        // process's descriptors grew by the client's 820 sockets and at
        // most 80 server-side ones, never by 820 more.
        std::thread::sleep(Duration::from_millis(200));
        let grown = open_fds() - before;
        for _ in 0..10 {
            worst = worst.max(healthz(&a));
        }
        // The silent requests are answered 408, as JSON, once the body
        // deadline has passed.
        let mut timeouts = 0;
        for mut s in silent {
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = s.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if complete(&buf) {
                    break;
                }
            }
            let (status, head, body) = parse(&buf);
            assert_eq!(status, 408, "{head}\n{body}");
            assert_eq!(error_code(&head, &body), "request_timeout");
            timeouts += 1;
        }
        drop(idle);
        (worst, grown, timeouts)
    })
    .await
    .unwrap();
    let (worst, grown, timeouts) = result;
    assert_eq!(timeouts, 20);
    assert!(
        grown < 820 + 100,
        "descriptors grew by {grown}: the server kept idle sockets beyond its cap"
    );
    assert!(
        worst < Duration::from_millis(100),
        "/healthz took {worst:?} under idle sockets"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_connection_is_busy_new_ones_get_503_and_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(
        &dir,
        ServerConfig {
            max_connections: 4,
            overflow_connections: 4,
            body_read_timeout_ms: 2_000,
            ..ServerConfig::default()
        },
    )
    .await;
    let key = srv.key(Role::Service, None);
    let a = addr(&srv);
    tokio::task::spawn_blocking(move || {
        // Four requests in flight (waiting for bodies that never come).
        let mut busy = Vec::new();
        for _ in 0..4 {
            let mut s = TcpStream::connect(&a).unwrap();
            write!(
                s,
                "POST /v1/listings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Length: 10\r\n\r\n"
            )
            .unwrap();
            busy.push(s);
        }
        std::thread::sleep(Duration::from_millis(200));
        let (status, head, body) = raw(
            &a,
            format!("GET /v1/categories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n")
                .as_bytes(),
            Duration::from_secs(3),
        );
        assert_eq!(status, 503, "{head}\n{body}");
        assert_eq!(error_code(&head, &body), "overloaded");
        assert!(head.contains("retry-after: 1"), "{head}");
        assert!(healthz(&a) < Duration::from_millis(100));
        drop(busy);
    })
    .await
    .unwrap();
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_answer_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(&dir, ServerConfig::default()).await;
    let key = srv.key(Role::Admin, None);
    let a = addr(&srv);
    tokio::task::spawn_blocking(move || {
        let wait = Duration::from_secs(5);
        let auth = format!("Authorization: Bearer {key}\r\n");
        let long = "a".repeat(20_000);
        let huge = "a".repeat(70_000);
        let cases: Vec<(String, u16, &str)> = vec![
            ("NOT HTTP AT ALL\r\n\r\n".into(), 400, "malformed_request"),
            (format!("GET /{huge} HTTP/1.1\r\nHost: x\r\n\r\n"), 414, "uri_too_long"),
            (format!("GET /v1/{long} HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 414, "uri_too_long"),
            (format!("GET /v1/listings/%FF%FE HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 400, "malformed_path"),
            (format!("GET /v1/decisions?limit=many HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 400, "malformed_query"),
            (format!("GET /v1/decisions?limit=%ZZ HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 400, "malformed_query"),
            (format!("GET /v1/nothing-here HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 404, "not_found"),
            (format!("DELETE /v1/decisions HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 405, "method_not_allowed"),
            (format!("POST /v1/listings HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 40000000\r\n\r\n"), 413, "too_large"),
            (format!("POST /v1/listings HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 5\r\n\r\n{{\"a\":"), 400, "malformed_json"),
            (format!("POST /v1/listings HTTP/1.1\r\nHost: x\r\n{auth}\r\n"), 400, "malformed_json"),
            ("GET /v1/decisions HTTP/1.1\r\nHost: x\r\n\r\n".into(), 401, "unauthorized"),
            ("GET /v1/decisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n".into(), 401, "unauthorized"),
        ];
        for (request, want, code) in cases {
            let (status, head, body) = raw(&a, request.as_bytes(), wait);
            let shown: String = request.chars().take(80).collect();
            assert_eq!(status, want, "{shown}: {head}\n{body}");
            assert_eq!(error_code(&head, &body), code, "{shown}");
        }
    })
    .await
    .unwrap();
    // Bad input names its field; decoder internals do not leak.
    let (s, e) = srv
        .post(
            &srv.key(Role::Service, None),
            "/v1/hash",
            &json!({"image": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlE"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "image");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("PNG"), "{message}");
    assert!(!message.to_lowercase().contains("chunk"), "{message}");
    srv.stop().await;
}

fn png(width: u32, height: u32) -> String {
    use base64::Engine;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_per_key_role_and_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerConfig::default();
    server.rate.key.insert(Role::Seller, Bucket::new(0.5, 3.0));
    server.pixels.per_request = 50_000;
    server.pixels.per_key_per_minute = 100_000;
    let srv = start(&dir, server).await;

    // A seller key: three requests at once, then 429 with Retry-After.
    let seller = srv.key(Role::Seller, Some("shop-1"));
    for _ in 0..3 {
        let (s, b) = srv.get(&seller, "/v1/categories").await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let r = reqwest::Client::new()
        .get(format!("{}/v1/categories", srv.base))
        .bearer_auth(&seller)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"]["code"], "rate_limited");
    // Another seller key has its own bucket; /healthz is never limited.
    let other = srv.key(Role::Seller, Some("shop-2"));
    assert_eq!(srv.get(&other, "/v1/categories").await.0, StatusCode::OK);
    assert_eq!(srv.get_open("/healthz").await.status(), StatusCode::OK);

    // Sellers may not hash images: refused before anything is decoded.
    let (s, _) = srv
        .post(&other, "/v1/hash", &json!({"image": png(8, 8)}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Pixels: 300×200 is over one request's 50,000; 200×200 twice fits
    // the key's minute of 100,000, a third time does not.
    let svc = srv.key(Role::Service, None);
    let (s, e) = srv
        .post(&svc, "/v1/hash", &json!({"image": png(300, 200)}))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    let small = png(200, 200);
    for _ in 0..2 {
        let (s, e) = srv.post(&svc, "/v1/hash", &json!({"image": small})).await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
    let (s, e) = srv.post(&svc, "/v1/hash", &json!({"image": small})).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("pixels"));
    // A listing's images count together, checked before screening.
    let listing = json!({"id":"l-1","shop_id":"shop-9","region":"US","category":"apparel/shoes",
        "title":"Plain tee","images":[png(160, 160), png(160, 160)]});
    let (s, e) = srv
        .post(&srv.key(Role::Service, None), "/v1/listings", &listing)
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn currencies_and_extra_fields_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(&dir, ServerConfig::default()).await;
    let svc = srv.key(Role::Service, None);
    let mut listing = json!({"id":"l-1","shop_id":"shop-9","region":"US","category":"apparel/shoes",
        "title":"Nike Air Max 90","brand":"Nike","price":{"amount":9.0,"currency":"ZZZ"}});
    let (s, e) = srv.post(&svc, "/v1/listings", &listing).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "price.currency");
    listing["price"]["currency"] = json!("USD");
    listing["notes"] = json!("x".repeat(20_000));
    let (s, e) = srv.post(&svc, "/v1/listings", &listing).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "notes");
    listing["notes"] = json!("kept");
    let (s, e) = srv.post(&svc, "/v1/listings", &listing).await;
    assert!(s.is_success(), "{e}");
    srv.stop().await;
}

/// The console's pages answer errors as HTML pages (for browsers) with the
/// same limits; API paths keep answering JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_errors_are_pages_and_api_errors_stay_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerConfig::default();
    server.rate.anonymous = Bucket::new(0.2, 3.0);
    let srv = start(&dir, server).await;
    let a = addr(&srv);
    tokio::task::spawn_blocking(move || {
        let wait = Duration::from_secs(5);
        let long = "a".repeat(20_000);
        let cases: Vec<(String, u16)> = vec![
            ("GET /console/no-such-page HTTP/1.1\r\nHost: x\r\n\r\n".into(), 404),
            (format!("GET /console/{long} HTTP/1.1\r\nHost: x\r\n\r\n"), 414),
            // A sign-in form that is not a form: the extractor's refusal.
            ("POST /console/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".into(), 415),
        ];
        for (request, want) in cases {
            let (status, head, body) = raw(&a, request.as_bytes(), wait);
            let shown: String = request.chars().take(60).collect();
            assert_eq!(status, want, "{shown}: {head}\n{body}");
            assert!(head.contains("content-type: text/html"), "{shown}: {head}");
            assert!(body.contains("<main") && body.contains("/console"), "{body}");
        }
        // Failed sign-ins spend the address's anonymous budget: 429 page.
        let mut limited = None;
        for _ in 0..6 {
            let form = "csrf=x&key=wrong";
            let req = format!(
                "POST /console/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
                form.len()
            );
            let (status, head, body) = raw(&a, req.as_bytes(), wait);
            assert!(status < 500, "{head}\n{body}");
            if status == 429 {
                limited = Some((head, body));
                break;
            }
        }
        let (head, body) = limited.expect("sign-in attempts were never limited");
        assert!(head.contains("retry-after:"), "{head}");
        assert!(head.contains("content-type: text/html"), "{head}");
        assert!(body.contains("try again"), "{body}");
        // The same address on an API path: JSON.
        let (status, head, body) = raw(
            &a,
            b"GET /v1/categories HTTP/1.1\r\nHost: x\r\n\r\n",
            wait,
        );
        assert_eq!(status, 429, "{head}\n{body}");
        assert_eq!(error_code(&head, &body), "rate_limited");
        assert!(healthz(&a) < Duration::from_millis(100));
    })
    .await
    .unwrap();
    srv.stop().await;
}
