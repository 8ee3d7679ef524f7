//! Enforcement over HTTP: review queues and cases, shop and creator
//! records, appeals, the event log, ticks; and the background task that
//! runs due ticks and delivers the webhook outbox.
//!
//! Roles: reviewers (and admins) work the queues and decide appeals; a
//! seller sees only its shop's record and appeals its violations; a creator
//! likewise for itself; admins see everything, including the log and the
//! outbox. Anything outside the caller's scope answers 404.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use shopshield_app::enforce::{Party, Severity, Verdict, sign};
use shopshield_app::{App, AppError, parse_queue};
use shopshield_model::{ValidationError, ViolationType};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};

type ApiResult<T> = Result<T, ApiError>;
type JsonValue = Json<serde_json::Value>;

async fn run<T: serde::Serialize + Send + 'static>(
    app: &Arc<App>,
    f: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> ApiResult<serde_json::Value> {
    let app = app.clone();
    let v = tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| ApiError::internal(format!("task failed: {e}")))?
        .map_err(ApiError::from)?;
    serde_json::to_value(v).map_err(|e| ApiError::internal(format!("cannot encode: {e}")))
}

fn body<T: serde::de::DeserializeOwned>(b: Result<Bytes, BytesRejection>) -> ApiResult<T> {
    let bytes = b.map_err(|r| {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "malformed_json"
        };
        ApiError::new(status, code, r.body_text())
    })?;
    Ok(shopshield_intake::parse_json(&bytes)?)
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ApiError::from(AppError::Invalid(ValidationError::new(field, reason)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SeqQuery {
    /// Entries after this sequence number (default 0).
    pub after: Option<u64>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<usize>,
}

// ----------------------------------------------------------------- queues

#[utoipa::path(get, path = "/v1/queues", tag = "enforcement",
    description = "Every review queue (violation type × region) with open cases: open, overdue and unclaimed counts, the oldest case's age and the SLA, in seconds. Reviewers and admins.",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_queues(State(app): State<Arc<App>>, Auth(p): Auth) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.review_queues(&p)).await?))
}

#[utoipa::path(get, path = "/v1/queues/{type}/{region}", tag = "enforcement",
    description = "Open cases of one queue, oldest first, each with its age, SLA, due time, overdue flag and current lease. `type` is a violation type or `unclassified`.",
    params(("type" = String, Path, description = "violation type or `unclassified`"), ("region" = String, Path, description = "ISO 3166-1 alpha-2")),
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_queue(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path((kind, region)): Path<(String, String)>,
) -> ApiResult<JsonValue> {
    let key = parse_queue(&kind, &region).map_err(|e| ApiError::from(AppError::Invalid(e)))?;
    Ok(Json(run(&app, move |a| a.review_queue(&p, &key)).await?))
}

// ------------------------------------------------------------------ cases

#[utoipa::path(get, path = "/v1/cases/{id}", tag = "enforcement",
    description = "A case (its id is the decision id, `{listing}@v{version}`) with the decision and evidence behind it, its lease and outcome.",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_case(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.review_case(&p, &id)).await?))
}

#[utoipa::path(post, path = "/v1/cases/{id}/claim", tag = "enforcement",
    description = "Takes the exclusive lease on a case (or renews one's own). 409 when another reviewer holds an unexpired lease or the case is decided.",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn claim_case(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.claim_case(&p, &id)).await?))
}

#[utoipa::path(post, path = "/v1/cases/{id}/release", tag = "enforcement",
    description = "Gives a claimed case back to its queue (lease holder only).",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn release_case(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.release_case(&p, &id)).await?))
}

/// A reviewer's decision on a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseDecision {
    /// `uphold` (listing removed, violation recorded) or `clear` (listing live).
    pub outcome: String,
    /// For `uphold`: the violation type.
    #[serde(rename = "type")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<ViolationType>,
    /// For `uphold`: `minor`, `moderate`, `severe` or `critical`.
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    /// For `uphold` of an IP type: a knock-off (takes the knock-off points row).
    #[serde(default)]
    pub knock_off: bool,
    /// Why: becomes part of the violation's evidence.
    pub note: String,
}

#[utoipa::path(post, path = "/v1/cases/{id}/decide", tag = "enforcement", request_body = CaseDecision,
    description = "Decides a case the caller holds the lease on. Answers the log entries appended (the violation, penalties, warnings, the listing's new status).",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_case(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<JsonValue> {
    let d: CaseDecision = body(b)?;
    let verdict = match d.outcome.as_str() {
        "clear" => Verdict::Clear,
        "uphold" => Verdict::Uphold {
            kind: d
                .kind
                .ok_or_else(|| invalid("type", "an upheld case needs a violation type"))?,
            severity: d
                .severity
                .ok_or_else(|| invalid("severity", "an upheld case needs a severity"))?,
            knock_off: d.knock_off,
        },
        _ => return Err(invalid("outcome", "must be `uphold` or `clear`")),
    };
    Ok(Json(
        run(&app, move |a| a.decide_case(&p, &id, verdict, &d.note)).await?,
    ))
}

// ---------------------------------------------------------------- records

#[utoipa::path(get, path = "/v1/shops/{id}/enforcement", tag = "enforcement",
    description = "A shop's record: points now, next milestone, penalties in force, and every violation with its evidence, whether it still counts, its appeals and its appeal deadline. The seller of the shop, reviewers and admins.",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn shop_record(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(
        run(&app, move |a| a.enforcement_record(&p, &Party::Shop(id))).await?,
    ))
}

#[utoipa::path(get, path = "/v1/creators/{id}/enforcement", tag = "enforcement",
    description = "A creator's record (as for shops, with the creator ladder and IP strikes). The creator itself, reviewers and admins.",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn creator_record(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(
        run(&app, move |a| a.enforcement_record(&p, &Party::Creator(id))).await?,
    ))
}

#[utoipa::path(get, path = "/v1/listings/{id}/status", tag = "enforcement",
    description = "Where a listing's latest version stands: `live`, `pending_review`, `removed` or `rejected`, with the shop's penalties in force.",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn listing_status(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.listing_status(&p, &id)).await?))
}

// ---------------------------------------------------------------- appeals

/// An appeal by the shop or creator a violation is recorded against.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppeal {
    /// Why the violation is wrong.
    pub statement: String,
}

#[utoipa::path(post, path = "/v1/violations/{id}/appeals", tag = "enforcement", request_body = NewAppeal,
    description = "Files an appeal (sellers for their shop, creators for themselves) within the appeal window; a second appeal within its window after a rejection. Violation ids look like `v:{listing}@v{version}`.",
    responses((status = 201, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn file_appeal(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, JsonValue)> {
    let new: NewAppeal = body(b)?;
    let a = run(&app, move |a| a.file_appeal(&p, &id, &new.statement)).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/v1/appeals/{id}", tag = "enforcement",
    description = "An appeal and its decision. Appeal ids contain `/` (`v:l-1@v1/appeal1`): send it as `%2F`.",
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_appeal(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.appeal(&p, &id)).await?))
}

/// A reviewer's decision on an appeal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionBody {
    /// True reverses the violation, its points and every penalty they
    /// caused, and reinstates the listing.
    pub upheld: bool,
    /// At least 20 characters (configurable): say why.
    pub reason: String,
    /// Indices into the violation's `evidence`; a rejection must cite one.
    #[serde(default)]
    pub cited_evidence: Vec<usize>,
}

#[utoipa::path(post, path = "/v1/appeals/{id}/decide", tag = "enforcement", request_body = AppealDecisionBody,
    description = "Decides an appeal. The reviewer must not have made the original decision nor an earlier appeal decision on the violation (403).",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_appeal(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<JsonValue> {
    let d: AppealDecisionBody = body(b)?;
    Ok(Json(
        run(&app, move |a| {
            a.decide_appeal(&p, &id, d.upheld, &d.reason, d.cited_evidence)
        })
        .await?,
    ))
}

// ------------------------------------------------------------------ admin

#[utoipa::path(get, path = "/v1/enforcement/log", tag = "enforcement", params(SeqQuery),
    description = "The hash-chained event log, in order (admins).",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn event_log(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Query(q): Query<SeqQuery>,
) -> ApiResult<JsonValue> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, 1000));
    Ok(Json(
        run(&app, move |a| a.enforcement_log(&p, after, limit)).await?,
    ))
}

#[utoipa::path(get, path = "/v1/enforcement/outbox", tag = "enforcement", params(SeqQuery),
    description = "Webhook deliveries and their state (admins).",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn outbox(
    State(app): State<Arc<App>>,
    Auth(p): Auth,
    Query(q): Query<SeqQuery>,
) -> ApiResult<JsonValue> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, 1000));
    Ok(Json(
        run(&app, move |a| a.enforcement_outbox(&p, after, limit)).await?,
    ))
}

#[utoipa::path(post, path = "/v1/enforcement/tick", tag = "enforcement",
    description = "Applies the points expiries and penalty ends due now (admins, service). The server also does this on its own when due.",
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn tick(State(app): State<Arc<App>>, Auth(p): Auth) -> ApiResult<JsonValue> {
    Ok(Json(run(&app, move |a| a.enforcement_tick(&p)).await?))
}

// ------------------------------------------------------------- background

/// Runs due ticks and delivers due webhooks until stopped.
pub(crate) struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Background {
    pub(crate) fn spawn(app: Arc<App>) -> Background {
        let (stop, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let cfg = app.config().webhooks.clone();
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(cfg.timeout_secs))
                .build()
                .ok();
            let every = Duration::from_millis(cfg.poll_interval_ms);
            loop {
                let a = app.clone();
                match tokio::task::spawn_blocking(move || a.enforcement_tick_if_due()).await {
                    Ok(Err(e)) => tracing::error!(error = %e, "scheduled tick failed"),
                    Err(e) => tracing::error!(error = %e, "scheduled tick panicked"),
                    Ok(Ok(_)) => {}
                }
                if let (Some(url), Some(secret), Some(client)) = (&cfg.url, &cfg.secret, &client) {
                    deliver_due(&app, client, url, secret).await;
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = rx.changed() => break,
                }
            }
        });
        Background { stop, task }
    }

    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Delivers every due outbox row once, in log order. Each POST carries the
/// row's `Idempotency-Key` and `X-Shopshield-Signature: sha256=<hex HMAC of
/// the body>`; only a 2xx answer marks it delivered, anything else
/// schedules a retry with backoff.
async fn deliver_due(app: &Arc<App>, client: &reqwest::Client, url: &str, secret: &str) {
    let a = app.clone();
    let due = match tokio::task::spawn_blocking(move || a.due_deliveries(100)).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the outbox");
            return;
        }
        Err(_) => return,
    };
    for row in due {
        let signature = sign(secret.as_bytes(), row.payload.as_bytes());
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", &row.idempotency_key)
            .header("x-shopshield-event", &row.kind)
            .header("x-shopshield-signature", format!("sha256={signature}"))
            .body(row.payload.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status())),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = &outcome {
            tracing::warn!(key = %row.idempotency_key, error = %e, "webhook delivery failed");
        }
        let a = app.clone();
        match tokio::task::spawn_blocking(move || a.record_delivery(row, outcome)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot record a delivery"),
            Err(_) => {}
        }
    }
}
