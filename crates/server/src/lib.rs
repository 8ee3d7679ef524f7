//! The shopshield HTTP API.
//!
//! JSON under `/v1`, authenticated by API key (`Authorization: Bearer KEY`)
//! and scoped by role; `/healthz`, `/metrics` (Prometheus text) and
//! `/openapi.json` (generated from the handlers) are open. Every error is a
//! JSON [`ErrorBody`](error::ErrorBody) with a 4xx or 5xx status.

pub mod auth;
pub mod authorizations;
mod conn;
pub mod console;
pub mod content;
pub mod enforcement;
pub mod error;
pub mod extract;
mod guard;
pub mod images;
pub mod limits;
pub mod notices;
mod openapi;
pub mod policy;
pub mod reports;
pub mod routes;
pub mod streams;
pub mod sweeps;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use shopshield_app::App;
use shopshield_app::metrics_labels::HttpLabel;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use openapi::{ApiDoc, document};

/// Largest accepted request body: enough for a listing with several
/// embedded images, small enough that no request can exhaust memory.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Every API route with its OpenAPI operation, from one list: the router
/// and the document are both made from it, so they cannot drift.
pub fn api() -> OpenApiRouter<Arc<App>> {
    use enforcement as enf;
    use routes::*;
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(utoipa_axum::routes!(create_holder, list_holders))
        .routes(utoipa_axum::routes!(get_holder))
        .routes(utoipa_axum::routes!(create_right, list_rights))
        .routes(utoipa_axum::routes!(get_right))
        .routes(utoipa_axum::routes!(disable_right))
        .routes(utoipa_axum::routes!(enable_right))
        .routes(utoipa_axum::routes!(review_right))
        .routes(utoipa_axum::routes!(submit_listing))
        .routes(utoipa_axum::routes!(content::submit_video))
        .routes(utoipa_axum::routes!(content::get_video))
        .routes(utoipa_axum::routes!(content::video_history))
        .routes(utoipa_axum::routes!(streams::open_stream))
        .routes(utoipa_axum::routes!(streams::get_stream))
        .routes(utoipa_axum::routes!(streams::stream_event))
        .routes(utoipa_axum::routes!(streams::stream_ws))
        .routes(utoipa_axum::routes!(get_listing))
        .routes(utoipa_axum::routes!(listing_history))
        .routes(utoipa_axum::routes!(listing_decisions))
        .routes(utoipa_axum::routes!(shop_listings))
        .routes(utoipa_axum::routes!(list_decisions))
        .routes(utoipa_axum::routes!(get_decision))
        .routes(utoipa_axum::routes!(categories))
        .routes(utoipa_axum::routes!(create_key))
        .routes(utoipa_axum::routes!(images::hash))
        .routes(utoipa_axum::routes!(images::match_image))
        .routes(utoipa_axum::routes!(images::hma_lookup))
        .routes(utoipa_axum::routes!(policy::reload))
        .routes(utoipa_axum::routes!(policy::packs))
        .routes(utoipa_axum::routes!(policy::put_qualification))
        .routes(utoipa_axum::routes!(policy::shop_qualifications))
        .routes(utoipa_axum::routes!(enf::list_queues))
        .routes(utoipa_axum::routes!(enf::get_queue))
        .routes(utoipa_axum::routes!(enf::get_case))
        .routes(utoipa_axum::routes!(enf::claim_case))
        .routes(utoipa_axum::routes!(enf::release_case))
        .routes(utoipa_axum::routes!(enf::decide_case))
        .routes(utoipa_axum::routes!(enf::shop_record))
        .routes(utoipa_axum::routes!(enf::creator_record))
        .routes(utoipa_axum::routes!(enf::listing_status))
        .routes(utoipa_axum::routes!(enf::file_appeal))
        .routes(utoipa_axum::routes!(enf::list_appeals))
        .routes(utoipa_axum::routes!(enf::get_appeal))
        .routes(utoipa_axum::routes!(enf::decide_appeal))
        .routes(utoipa_axum::routes!(enf::event_log))
        .routes(utoipa_axum::routes!(enf::outbox))
        .routes(utoipa_axum::routes!(enf::tick))
        .routes(utoipa_axum::routes!(sweeps::run, sweeps::list))
        .routes(utoipa_axum::routes!(sweeps::get))
        .routes(utoipa_axum::routes!(sweeps::catalogue))
        .routes(utoipa_axum::routes!(
            notices::file_notice,
            notices::list_notices
        ))
        .routes(utoipa_axum::routes!(notices::notice_queue))
        .routes(utoipa_axum::routes!(notices::get_notice))
        .routes(utoipa_axum::routes!(notices::decide_item))
        .routes(utoipa_axum::routes!(notices::counter_notice))
        .routes(utoipa_axum::routes!(notices::court_action))
        .routes(utoipa_axum::routes!(notices::shop_notices))
        .routes(utoipa_axum::routes!(notices::holder_standing))
        .routes(utoipa_axum::routes!(authorizations::request_authorization))
        .routes(utoipa_axum::routes!(authorizations::list_authorizations))
        .routes(utoipa_axum::routes!(authorizations::get_authorization))
        .routes(utoipa_axum::routes!(authorizations::decide_authorization))
        .routes(utoipa_axum::routes!(authorizations::withdraw_authorization))
        .routes(utoipa_axum::routes!(reports::transparency))
        .routes(utoipa_axum::routes!(healthz))
        .routes(utoipa_axum::routes!(metrics))
        .routes(utoipa_axum::routes!(openapi_json))
}

/// The whole API and the console under `/console`, with their guards:
/// the whole-request deadline, the rate limits, the body-read deadline,
/// and error answers that are JSON on API paths and HTML pages on the
/// console's (see [`guard`]).
pub fn router(app: Arc<App>) -> Router {
    let limiter = Arc::new(limits::Limiter::new(app.config().server.clone()));
    let console = Arc::new(console::Console::new(app.clone()));
    let guarded = guard::Guard {
        app: app.clone(),
        limiter,
        console: console.clone(),
    };
    let (api, _) = api().split_for_parts();
    api.nest("/console", console::router(console))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            guarded.clone(),
            guard::admit,
        ))
        .layer(axum::Extension(guarded.limiter.clone()))
        .layer(middleware::from_fn(guard::error_bodies))
        .layer(middleware::from_fn_with_state(guarded, guard::deadline))
        .layer(middleware::from_fn_with_state(app.clone(), count_requests))
        .with_state(app)
}

/// What connections beyond the cap are answered: `/healthz` as usual and
/// 503 with `Retry-After` for anything else.
fn overflow_router(app: Arc<App>) -> Router {
    let retry = app.config().server.retry_after_secs;
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
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
    /// Sets the duties' stop flag when dropped: also when this future is
    /// dropped unfinished (its runtime shutting down), so the duties'
    /// blocking threads end and the runtime's shutdown does not wait for
    /// them forever.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_guard = StopOnDrop(stop.clone());
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

/// The server is up.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The registry version the engine in force was built from.
    pub registry_version: u64,
    /// The detectors in force.
    pub detectors: Vec<String>,
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health)))]
async fn healthz(State(app): State<Arc<App>>) -> Json<Health> {
    let engine = app.registry().engine();
    Json(Health {
        status: "ok".into(),
        registry_version: engine.registry_version(),
        detectors: engine
            .detector_names()
            .iter()
            .map(|d| d.to_string())
            .collect(),
    })
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    description = "Prometheus text exposition: decisions, screening time, rights, HTTP requests by method, route and status, review queue depth, oldest age and SLA breaches, appeals by state, violations by type, the webhook outbox backlog.",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = match tokio::task::spawn_blocking(move || app.metrics_text()).await {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return error::ApiError::from(e).into_response(),
        Err(e) => {
            return error::ApiError::internal(format!("metrics task failed: {e}")).into_response();
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The shape of an OpenAPI 3.1 document (only the top level is spelled
/// out here; the OpenAPI specification defines the rest).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct OpenApiDocument {
    /// The OpenAPI version, `3.1.0`.
    openapi: String,
    #[schema(value_type = Object)]
    info: (),
    /// Operations by path.
    #[schema(value_type = Object)]
    paths: (),
    #[schema(value_type = Object)]
    components: (),
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This document", body = OpenApiDocument)))]
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
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let resp = next.run(req).await;
    app.metrics()
        .http_requests
        .get_or_create(&HttpLabel {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
