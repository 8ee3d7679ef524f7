//! Sweeps of live listings: `POST /v1/sweeps` (run now), `GET /v1/sweeps`,
//! `GET /v1/sweeps/{id}`. The server also runs them by itself.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::Deserialize;
use shopshield_app::{CatalogueHit, SweepReport};
use shopshield_store::SweepRecord;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::{PageQuery, body};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSweeps {
    /// Handle at most this many pages of listings now (`[sweep] page` per
    /// page); a sweep cut short stays with this server until its lease
    /// ends, then any process resumes it where it stopped.
    pub max_pages: Option<usize>,
}

#[utoipa::path(post, path = "/v1/sweeps", tag = "sweeps", request_body = RunSweeps,
    description = "Opens the sweeps due (rights changed since the last, rule dates passed) and runs the open ones: the live listings the index names are screened again, and those that now violate are taken down (decision source `sweep`). Answers the sweeps worked on, their counts (looked_at, rescreened, taken_down, to_review, cases_closed, restored) and the new decisions. Admins and platform services.",
    responses((status = 200, body = SweepReport, description = "the sweeps run, their counts and decisions"), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn run(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> Result<Json<SweepReport>, ApiError> {
    let req: RunSweeps = match &b {
        Ok(bytes) if bytes.is_empty() => RunSweeps::default(),
        _ => body(b)?,
    };
    c.json(move |a, p| a.sweeps().run_now(p, req.max_pages))
        .await
}

#[utoipa::path(get, path = "/v1/sweeps", tag = "sweeps", params(PageQuery),
    responses((status = 200, body = Vec<SweepRecord>, description = "sweeps, newest first, with cause, state, cursor and counts"), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list(
    c: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Vec<SweepRecord>>, ApiError> {
    let page = q.page();
    c.json(move |a, p| a.sweeps().list(p, &page)).await
}

#[utoipa::path(get, path = "/v1/sweeps/{id}", tag = "sweeps",
    responses((status = 200, body = SweepRecord, description = "one sweep"), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get(c: Caller, Path(id): Path<String>) -> Result<Json<SweepRecord>, ApiError> {
    c.json(move |a, p| a.sweeps().get(p, &id)).await
}

#[utoipa::path(get, path = "/v1/rights/{id}/catalogue", tag = "registry", params(PageQuery),
    description = "Live (and pending) listings whose text holds the right's mark or an alias: `exact` (a word of the mark as the gate normalises it) or `look_alike` (glued into a longer word, or a spelling within the text detector's edit budget). For the right's holder, reviewers and admins; by listing id after `after`.",
    responses((status = 200, body = Vec<CatalogueHit>, description = "matching listings with status, action and the words that matched"), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn catalogue(
    c: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Vec<CatalogueHit>>, ApiError> {
    let page = q.page();
    c.json(move |a, p| a.sweeps().search_catalogue(p, &id, &page))
        .await
}
