//! The shopshield HTTP API.
//!
//! JSON under `/v1`, authenticated by API key (`Authorization: Bearer KEY`)
//! and scoped by role; `/healthz`, `/metrics` (Prometheus text) and
//! `/openapi.json` (generated from the handlers) are open. Every error is a
//! JSON [`ErrorBody`](error::ErrorBody) with a 4xx or 5xx status.

pub mod auth;
pub mod content;
pub mod enforcement;
pub mod error;
pub mod images;
mod openapi;
pub mod policy;
pub mod routes;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use shopshield_app::App;
use shopshield_app::metrics_labels::HttpLabel;

pub use openapi::ApiDoc;

/// Largest accepted request body: enough for a listing with several
/// embedded images, small enough that no request can exhaust memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The whole API.
pub fn router(app: Arc<App>) -> Router {
    use routes::*;
    let v1 = Router::new()
        .route("/holders", post(create_holder).get(list_holders))
        .route("/holders/{id}", get(get_holder))
        .route("/rights", post(create_right).get(list_rights))
        .route("/rights/{id}", get(get_right))
        .route("/rights/{id}/disable", post(disable_right))
        .route("/rights/{id}/enable", post(enable_right))
        .route("/listings", post(submit_listing))
        .route("/listings/{id}", get(get_listing))
        .route("/listings/{id}/history", get(listing_history))
        .route("/listings/{id}/decisions", get(listing_decisions))
        .route("/shops/{shop_id}/listings", get(shop_listings))
        .route("/decisions", get(list_decisions))
        .route("/decisions/{decision_id}", get(get_decision))
        .route("/categories", get(categories))
        .route("/keys", post(create_key))
        .route("/hash", post(images::hash))
        .route("/match", post(images::match_image))
        .route("/policy/reload", post(policy::reload))
        .route("/policy/packs", get(policy::packs))
        .route("/qualifications", post(policy::put_qualification))
        .route(
            "/shops/{shop_id}/qualifications",
            get(policy::shop_qualifications),
        )
        .merge(enforcement_routes())
        .merge(content::routes());
    Router::new()
        .nest("/v1", v1)
        .route("/m/lookup", get(images::hma_lookup))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(app.clone(), count_requests))
        .with_state(app)
}

/// The enforcement routes (see [`enforcement`]).
fn enforcement_routes() -> Router<Arc<App>> {
    use enforcement::*;
    Router::new()
        .route("/queues", get(list_queues))
        .route("/queues/{type}/{region}", get(get_queue))
        .route("/cases/{id}", get(get_case))
        .route("/cases/{id}/claim", post(claim_case))
        .route("/cases/{id}/release", post(release_case))
        .route("/cases/{id}/decide", post(decide_case))
        .route("/shops/{id}/enforcement", get(shop_record))
        .route("/creators/{id}/enforcement", get(creator_record))
        .route("/listings/{id}/status", get(listing_status))
        .route("/violations/{id}/appeals", post(file_appeal))
        .route("/appeals/{id}", get(get_appeal))
        .route("/appeals/{id}/decide", post(decide_appeal))
        .route("/enforcement/log", get(event_log))
        .route("/enforcement/outbox", get(outbox))
        .route("/enforcement/tick", post(tick))
}

/// Serves the API on `listener` until `shutdown` completes. Alongside, on
/// threads of their own, the application's duties run: other processes'
/// registry changes are followed, enforcement ticks run when due, the
/// webhook outbox is delivered (its state is in the store, so a restart
/// loses nothing), and decisions another process left unenforced are
/// handed over.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let duties = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::task::spawn_blocking(move || app.run_duties(&stop))
    };
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await;
    stop.store(true, Ordering::Relaxed);
    let _ = duties.await;
    served
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let engine = app.registry().engine();
    Json(serde_json::json!({
        "status": "ok",
        "registry_version": engine.registry_version(),
        "detectors": engine.detector_names(),
    }))
    .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics().render(),
    )
        .into_response()
}

async fn openapi_json() -> Response {
    Json(openapi::document()).into_response()
}

async fn not_found() -> error::ApiError {
    error::ApiError::not_found("no such route; see /openapi.json")
}

async fn method_not_allowed() -> error::ApiError {
    error::ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; see /openapi.json",
    )
}

async fn count_requests(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let resp = next.run(req).await;
    app.metrics()
        .http_requests
        .get_or_create(&HttpLabel {
            method,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
