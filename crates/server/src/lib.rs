//! The shopshield HTTP API.
//!
//! JSON under `/v1`, authenticated by API key (`Authorization: Bearer KEY`)
//! and scoped by role; `/healthz`, `/metrics` (Prometheus text) and
//! `/openapi.json` (generated from the handlers) are open. Every error is a
//! JSON [`ErrorBody`](error::ErrorBody) with a 4xx or 5xx status.

pub mod auth;
mod conn;
pub mod enforcement;
pub mod error;
pub mod extract;
mod guard;
pub mod images;
pub mod limits;
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

/// The whole API, with its guards: the whole-request deadline, the
/// rate limits, the body-read deadline and JSON for every error answer
/// (see [`guard`]).
pub fn router(app: Arc<App>) -> Router {
    let limiter = Arc::new(limits::Limiter::new(app.config().server.clone()));
    let guarded = guard::Guard {
        app: app.clone(),
        limiter,
    };
    api(app.clone())
        .layer(middleware::from_fn_with_state(
            guarded.clone(),
            guard::admit,
        ))
        .layer(axum::Extension(guarded.limiter.clone()))
        .layer(middleware::from_fn(guard::json_errors))
        .layer(middleware::from_fn_with_state(guarded, guard::deadline))
        .layer(middleware::from_fn_with_state(app, count_requests))
}

/// What connections beyond the cap are answered: `/healthz` as usual and
/// 503 with `Retry-After` for anything else.
fn overflow_router(app: Arc<App>) -> Router {
    let retry = app.config().server.retry_after_secs;
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(move || async move {
            error::ApiError::unavailable(
                "overloaded",
                "the server is at its connection limit; try again shortly",
                retry,
            )
        })
        .layer(middleware::from_fn_with_state(app.clone(), count_requests))
        .with_state(app)
}

fn api(app: Arc<App>) -> Router {
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
        .merge(enforcement_routes());
    Router::new()
        .nest("/v1", v1)
        .route("/m/lookup", get(images::hma_lookup))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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

/// Serves the API on `listener` until `shutdown` completes, within the
/// limits of `[server]` (timeouts, connections: see [`conn`]). Alongside, on
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
    let config = app.config().server.clone();
    let served = conn::serve(
        listener,
        router(app.clone()),
        overflow_router(app),
        config,
        shutdown,
    )
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
