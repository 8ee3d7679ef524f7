//! Enforcement over HTTP: review queues and cases, shop and creator
//! records, appeals, the event log, ticks; and the background task that
//! runs due ticks and delivers the webhook outbox.
//!
//! Roles: reviewers (and admins) work the queues and decide appeals; a
//! seller sees only its shop's record and appeals its violations; a creator
//! likewise for itself; admins see everything, including the log and the
//! outbox. Anything outside the caller's scope answers 404.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use shopshield_app::enforce::{Party, Severity, Verdict};
use shopshield_app::{AppError, CommandOutcome, parse_queue};
use shopshield_model::{ValidationError, ViolationType};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::body;

type ApiResult<T> = Result<T, ApiError>;

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
    responses((status = 200, body = Vec<shopshield_app::enforce::QueueSummary>), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_queues(c: Caller) -> ApiResult<Json<Vec<shopshield_app::enforce::QueueSummary>>> {
    c.json(|a, p| a.review().queues(p)).await
}

#[utoipa::path(get, path = "/v1/queues/{type}/{region}", tag = "enforcement",
    description = "Open cases of one queue, oldest first, each with its age, SLA, due time, overdue flag and current lease. `type` is a violation type or `unclassified`.",
    params(("type" = String, Path, description = "violation type or `unclassified`"), ("region" = String, Path, description = "ISO 3166-1 alpha-2")),
    responses((status = 200, body = Vec<shopshield_app::enforce::CaseView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_queue(
    c: Caller,
    Path((kind, region)): Path<(String, String)>,
) -> ApiResult<Json<Vec<shopshield_app::enforce::CaseView>>> {
    let key = parse_queue(&kind, &region).map_err(|e| ApiError::from(AppError::Invalid(e)))?;
    c.json(move |a, p| a.review().queue(p, &key)).await
}

// ------------------------------------------------------------------ cases

#[utoipa::path(get, path = "/v1/cases/{id}", tag = "enforcement",
    description = "A case (its id is the decision id, `{listing}@v{version}`) with the decision and evidence behind it, its lease and outcome.",
    responses((status = 200, body = shopshield_app::enforce::CaseState), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_case(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::CaseState>> {
    c.json(move |a, p| a.review().case(p, &id)).await
}

#[utoipa::path(post, path = "/v1/cases/{id}/claim", tag = "enforcement",
    description = "Takes the exclusive lease on a case (or renews one's own). 409 when another reviewer holds an unexpired lease or the case is decided.",
    responses((status = 200, body = shopshield_app::enforce::CaseState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn claim_case(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::CaseState>> {
    c.json(move |a, p| a.review().claim(p, &id)).await
}

#[utoipa::path(post, path = "/v1/cases/{id}/release", tag = "enforcement",
    description = "Gives a claimed case back to its queue (lease holder only).",
    responses((status = 200, body = shopshield_app::enforce::CaseState), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn release_case(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::CaseState>> {
    c.json(move |a, p| a.review().release(p, &id)).await
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
    responses((status = 200, body = CommandOutcome), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_case(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<CommandOutcome>> {
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
    c.json(move |a, p| a.review().decide(p, &id, verdict, &d.note))
        .await
}

// ---------------------------------------------------------------- records

#[utoipa::path(get, path = "/v1/shops/{id}/enforcement", tag = "enforcement",
    description = "A shop's record: points now, next milestone, penalties in force, and every violation with its evidence, whether it still counts, its appeals and its appeal deadline. The seller of the shop, reviewers and admins.",
    responses((status = 200, body = shopshield_app::enforce::PartyView), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn shop_record(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::PartyView>> {
    c.json(move |a, p| a.review().record(p, &Party::Shop(id)))
        .await
}

#[utoipa::path(get, path = "/v1/creators/{id}/enforcement", tag = "enforcement",
    description = "A creator's record (as for shops, with the creator ladder and IP strikes). The creator itself, reviewers and admins.",
    responses((status = 200, body = shopshield_app::enforce::PartyView), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn creator_record(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::PartyView>> {
    c.json(move |a, p| a.review().record(p, &Party::Creator(id)))
        .await
}

#[utoipa::path(get, path = "/v1/listings/{id}/status", tag = "enforcement",
    description = "Where a listing's latest version stands: `live`, `pending_review`, `removed` or `rejected`, with the shop's penalties in force.",
    responses((status = 200, body = shopshield_app::ListingStatusView), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn listing_status(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::ListingStatusView>> {
    c.json(move |a, p| a.screening().listing_status(p, &id))
        .await
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
    responses((status = 201, body = shopshield_app::enforce::AppealState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn file_appeal(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<shopshield_app::enforce::AppealState>)> {
    let new: NewAppeal = body(b)?;
    let a = c
        .run(move |a, p| a.review().file_appeal(p, &id, &new.statement))
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[utoipa::path(get, path = "/v1/appeals/{id}", tag = "enforcement",
    description = "An appeal and its decision. Appeal ids contain `/` (`v:l-1@v1/appeal1`): send it as `%2F`.",
    responses((status = 200, body = shopshield_app::enforce::AppealState), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_appeal(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<shopshield_app::enforce::AppealState>> {
    c.json(move |a, p| a.review().appeal(p, &id)).await
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
    responses((status = 200, body = shopshield_app::enforce::AppealState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_appeal(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<shopshield_app::enforce::AppealState>> {
    let d: AppealDecisionBody = body(b)?;
    c.json(move |a, p| {
        a.review()
            .decide_appeal(p, &id, d.upheld, &d.reason, d.cited_evidence)
    })
    .await
}

// ------------------------------------------------------------------ admin

#[utoipa::path(get, path = "/v1/enforcement/log", tag = "enforcement", params(SeqQuery),
    description = "The hash-chained event log, in order (admins).",
    responses((status = 200, body = Vec<shopshield_app::LogEntryView>), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn event_log(
    c: Caller,
    Query(q): Query<SeqQuery>,
) -> ApiResult<Json<Vec<shopshield_app::LogEntryView>>> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, 1000));
    c.json(move |a, p| a.review().log_entries(p, after, limit))
        .await
}

#[utoipa::path(get, path = "/v1/enforcement/outbox", tag = "enforcement", params(SeqQuery),
    description = "Webhook deliveries and their state (admins).",
    responses((status = 200, body = Vec<shopshield_store::OutboxRow>), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn outbox(
    c: Caller,
    Query(q): Query<SeqQuery>,
) -> ApiResult<Json<Vec<shopshield_store::OutboxRow>>> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, 1000));
    c.json(move |a, p| a.delivery().rows(p, after, limit)).await
}

#[utoipa::path(post, path = "/v1/enforcement/tick", tag = "enforcement",
    description = "Applies the points expiries and penalty ends due now (admins, service). The server also does this on its own when due.",
    responses((status = 200, body = CommandOutcome), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn tick(c: Caller) -> ApiResult<Json<CommandOutcome>> {
    c.json(|a, p| a.review().tick(p)).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AppealsQuery {
    /// `pending` (default), `decided` or `all`.
    pub state: Option<String>,
}

#[utoipa::path(get, path = "/v1/appeals", tag = "enforcement", params(AppealsQuery),
    description = "The appeals queue: appeals waiting for a decision (or decided, or all), oldest first. Reviewers and admins.",
    responses((status = 200, body = Vec<shopshield_app::enforce::AppealState>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_appeals(
    c: Caller,
    Query(q): Query<AppealsQuery>,
) -> ApiResult<Json<Vec<shopshield_app::enforce::AppealState>>> {
    let state = q.state.unwrap_or_else(|| "pending".to_string());
    c.json(move |a, p| a.review().appeals(p, &state)).await
}
