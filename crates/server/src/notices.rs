//! Rights holders' notices and sellers' counter-notices:
//! `POST /v1/notices`, `GET /v1/notices`, `GET /v1/notices/{id}`,
//! `GET /v1/notices/queue`, and per item `.../decision`,
//! `.../counter-notice`, `.../court-action`; `GET
//! /v1/shops/{shop_id}/notices` counts a shop's accepted items; `GET
//! /v1/holders/{id}/standing` is a holder's accuracy as a reporter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use shopshield_app::{
    ItemDecisionInput, NoticeReceipt, QueueEntry, ReporterStanding, ShopNoticeCount,
};
use shopshield_model::{CounterNotice, CourtAction, NewNotice, NoticeItemState};
use shopshield_store::{NoticeItemRecord, NoticeRecord};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::routes::body;

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(post, path = "/v1/notices", tag = "notices", request_body = NewNotice,
    description = "Files a rights holder's notice on one of its own rights (admins: any right), naming 1 to 300 listings. Every legal element is required (17 U.S.C. 512(c)(3), DSA Art. 16(2)); a missing one is a 422 naming it. An unknown listing refuses the whole notice (422 naming `items[i].id`); an unknown right is a 422 naming `right_id`; another holder's right is a 403. Filing the same id and content again answers the stored receipt (200); the same id with other content is a 409.",
    responses(
        (status = 201, body = NoticeReceipt, description = "the notice was stored: its receipt"),
        (status = 200, body = NoticeReceipt, description = "the same notice was filed before: the stored receipt"),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn file_notice(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<NoticeReceipt>)> {
    let notice: NewNotice = body(b)?;
    let (created, receipt) = c.run(move |a, p| a.notices().file(p, notice)).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct NoticesQuery {
    /// Only items in this state (and notices with one).
    pub state: Option<NoticeItemState>,
    /// Notices after this id.
    pub after: Option<String>,
    /// At most this many notices (1 to 1000, default 100).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/notices", tag = "notices", params(NoticesQuery),
    description = "Notices in id order with the state of each item: a rights holder its own, a seller those naming its shop's listings (only those items), reviewers and admins all.",
    responses((status = 200, body = Vec<NoticeRecord>, description = "notices with their items")),
    security(("api_key" = [])))]
pub async fn list_notices(
    c: Caller,
    Query(q): Query<NoticesQuery>,
) -> ApiResult<Json<Vec<NoticeRecord>>> {
    let limit = q.limit.unwrap_or(100);
    c.json(move |a, p| a.notices().list(p, q.state, q.after, limit))
        .await
}

#[utoipa::path(get, path = "/v1/notices/{id}", tag = "notices",
    responses((status = 200, body = NoticeRecord, description = "the notice and its items")),
    security(("api_key" = [])))]
pub async fn get_notice(c: Caller, Path(id): Path<String>) -> ApiResult<Json<NoticeRecord>> {
    c.json(move |a, p| a.notices().get(p, &id)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// At most this many items (1 to 1000, default 100).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/notices/queue", tag = "notices", params(QueueQuery),
    description = "Pending notice items, oldest first, each with the listing, the right, the holder's work and explanation, and our own detectors' latest decision on the listing (action, score, evidence). Reviewers and admins.",
    responses((status = 200, body = Vec<QueueEntry>, description = "the queue")),
    security(("api_key" = [])))]
pub async fn notice_queue(
    c: Caller,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    let limit = q.limit.unwrap_or(100);
    c.json(move |a, p| a.notices().queue(p, limit)).await
}

#[utoipa::path(post, path = "/v1/notices/{id}/items/{item_id}/decision", tag = "notices",
    request_body = ItemDecisionInput,
    description = "A reviewer accepts or rejects one pending item, with a reason. Accepting takes the listing down (a decision with source `notice`, action `reject`, evidence naming the notice and the right), enforced like any decision. Both parties are told by webhook. An item already decided (another reviewer was first) is a 409.",
    responses((status = 200, body = NoticeItemRecord, description = "the item as decided"),
        (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_item(
    c: Caller,
    Path((id, item_id)): Path<(String, String)>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<NoticeItemRecord>> {
    let input: ItemDecisionInput = body(b)?;
    c.json(move |a, p| a.notices().decide(p, &id, &item_id, input))
        .await
}

#[utoipa::path(post, path = "/v1/notices/{id}/items/{item_id}/counter-notice", tag = "notices",
    request_body = CounterNotice,
    description = "The seller of a taken-down item files a counter-notice with every element of 17 U.S.C. 512(g)(3) (a missing one is a 422 naming it). The holder is told by webhook; the listing is restored after `[notices] restore_after_business_days` business days unless the holder records a court action.",
    responses((status = 200, body = NoticeItemRecord, description = "the item, countered, with the restoration time"),
        (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn counter_notice(
    c: Caller,
    Path((id, item_id)): Path<(String, String)>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<NoticeItemRecord>> {
    let counter: CounterNotice = body(b)?;
    c.json(move |a, p| a.notices().counter_notice(p, &id, &item_id, counter))
        .await
}

#[utoipa::path(post, path = "/v1/notices/{id}/items/{item_id}/court-action", tag = "notices",
    request_body = CourtAction,
    description = "The holder records that it filed a court action against the seller of a countered item, before the restoration time: the takedown stands. The seller is told by webhook.",
    responses((status = 200, body = NoticeItemRecord, description = "the item, upheld"),
        (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn court_action(
    c: Caller,
    Path((id, item_id)): Path<(String, String)>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<NoticeItemRecord>> {
    let action: CourtAction = body(b)?;
    c.json(move |a, p| a.notices().court_action(p, &id, &item_id, action))
        .await
}

#[utoipa::path(get, path = "/v1/shops/{shop_id}/notices", tag = "notices",
    description = "How many notice items reviewers accepted against the shop, across notices (repeat infringers). The shop's seller, reviewers, admins.",
    responses((status = 200, body = ShopNoticeCount, description = "the count")),
    security(("api_key" = [])))]
pub async fn shop_notices(
    c: Caller,
    Path(shop_id): Path<String>,
) -> ApiResult<Json<ShopNoticeCount>> {
    c.json(move |a, p| a.notices().shop_count(p, &shop_id))
        .await
}

#[utoipa::path(get, path = "/v1/holders/{id}/standing", tag = "notices",
    description = "A rights holder's accuracy as a reporter over the rolling window (`[notices.reporters]`, 182 days by default) and the standing it earns: `self_service` (its notices take listings down at filing and are reviewed afterwards: at least 20 items decided, at least 90% accepted, at most 5% restored after a counter-notice), `standard`, `warned` (under 50% accepted over at least 10 decided items), or `restricted` (warned, then another unfounded notice: notices are refused until `restricted_until`). The holder itself, reviewers and admins.",
    responses((status = 200, body = ReporterStanding, description = "the holder's record and standing"),
        (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn holder_standing(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReporterStanding>> {
    c.json(move |a, p| a.notices().standing(p, &id)).await
}
