//! Brand authorisation (letters of authorisation):
//! `POST /v1/rights/{id}/authorizations` (a seller asks),
//! `GET /v1/authorizations`, `GET /v1/authorizations/{id}`,
//! `POST /v1/authorizations/{id}/decision` (the holder approves, refuses
//! or revokes) and `POST /v1/authorizations/{id}/withdraw` (the seller).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use shopshield_app::{Decided, DecisionInput};
use shopshield_model::{Authorization, AuthorizationState, NewAuthorization};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Path, Query};
use crate::routes::body;

type ApiResult<T> = Result<T, ApiError>;

#[utoipa::path(post, path = "/v1/rights/{id}/authorizations", tag = "authorizations",
    request_body = NewAuthorization,
    description = "A seller asks the right's holder to authorise its own shop (admins name `shop_id`): its relationship to the brand, a statement, optionally a supporting document. The holder is told by webhook (`authorization_requested`). Posting the same request again while it is pending answers it (200); another request while one is pending is a 409, as is a shop already authorised. An unknown right is a 404; a bad field a 422 naming it.",
    params(("id" = String, Path, description = "the right")),
    responses(
        (status = 201, body = Authorization, description = "the request was stored"),
        (status = 200, body = Authorization, description = "the same request is pending: as stored"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn request_authorization(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Authorization>)> {
    let new: NewAuthorization = body(b)?;
    let (created, a) = c
        .run(move |app, p| app.authorizations().request(p, &id, new))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(a)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationsQuery {
    /// Only requests in this state.
    pub state: Option<AuthorizationState>,
    /// Only requests on this right.
    pub right_id: Option<String>,
    /// Requests after this id.
    pub after: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/v1/authorizations", tag = "authorizations",
    params(AuthorizationsQuery),
    description = "Authorisation requests in id order: a seller its shop's, a rights holder those on its rights, reviewers and admins all.",
    responses((status = 200, body = Vec<Authorization>, description = "the requests"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_authorizations(
    c: Caller,
    Query(q): Query<AuthorizationsQuery>,
) -> ApiResult<Json<Vec<Authorization>>> {
    let limit = q.limit.unwrap_or(100);
    c.json(move |a, p| {
        a.authorizations()
            .list(p, q.state, q.right_id, q.after, limit)
    })
    .await
}

#[utoipa::path(get, path = "/v1/authorizations/{id}", tag = "authorizations",
    params(("id" = String, Path, description = "the request")),
    responses((status = 200, body = Authorization, description = "the request"),
        (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn get_authorization(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Authorization>> {
    c.json(move |a, p| a.authorizations().get(p, &id)).await
}

#[utoipa::path(post, path = "/v1/authorizations/{id}/decision", tag = "authorizations",
    request_body = DecisionInput,
    params(("id" = String, Path, description = "the request")),
    description = "The right's holder (or an admin) approves or refuses a pending request, or revokes an approved one; a reason is required to refuse or revoke. Approving adds the shop to the right's authorised sellers and bumps the registry version in one transaction, then rescreens that shop's listings whose latest decision names the right: one no longer caught gets a new decision (source `sweep`, cause `authorization_approved` naming the request) and its open case closes. Revoking removes the shop and rescreens its listings holding the mark. Refusing changes nothing else. Both parties are told by webhook. A request decided meanwhile is a 409; another holder's request a 404.",
    responses((status = 200, body = Decided, description = "the request as decided, and what rescreening the shop's listings did"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn decide_authorization(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Decided>> {
    let input: DecisionInput = body(b)?;
    c.json(move |a, p| a.authorizations().decide(p, &id, input))
        .await
}

#[utoipa::path(post, path = "/v1/authorizations/{id}/withdraw", tag = "authorizations",
    params(("id" = String, Path, description = "the request")),
    description = "The seller withdraws its pending request. The holder is told by webhook.",
    responses((status = 200, body = Authorization, description = "the request, withdrawn"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn withdraw_authorization(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Authorization>> {
    c.json(move |a, p| a.authorizations().withdraw(p, &id))
        .await
}
