//! Handlers of the `/v1` API: registry, listings, decisions, keys. Every
//! handler is one call of a service for the authenticated [`Caller`].

use std::sync::Arc;

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shopshield_app::{App, NewKey as KeyRequest};
use shopshield_intake::{ImageBase, parse_json, read_image, read_video};
use shopshield_model::{
    Category, Decision, Listing, NewRight, Permission, Right, RightReviewInput, RightReviewState,
    RightsHolder, Role,
};
use shopshield_store::{Page, StoredListing};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, Caller};
use crate::error::{ApiError, ErrorBody};

type ApiResult<T> = Result<T, ApiError>;

/// Reads a JSON body, turning every failure into a JSON error answer.
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let bytes = b.map_err(|r| {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "malformed_json"
        };
        ApiError::new(status, code, r.body_text())
    })?;
    Ok(parse_json(&bytes)?)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Return items after this id.
    pub after: Option<String>,
    /// At most this many items (1 to 1000, default 100).
    pub limit: Option<usize>,
}

impl PageQuery {
    pub(crate) fn page(self) -> Page {
        Page {
            after: self.after,
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        }
    }
}

// ---------------------------------------------------------------- holders

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHolder {
    /// Optional id; derived from the name when absent.
    pub id: Option<String>,
    pub name: String,
}

#[utoipa::path(post, path = "/v1/holders", tag = "registry", request_body = NewHolder,
    responses((status = 201, body = RightsHolder), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_holder(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<RightsHolder>)> {
    let new: NewHolder = body(b)?;
    let h = c
        .run(move |a, p| a.registry().create_holder(p, new.id, &new.name))
        .await?;
    Ok((StatusCode::CREATED, Json(h)))
}

#[utoipa::path(get, path = "/v1/holders", tag = "registry",
    responses((status = 200, body = Vec<RightsHolder>)), security(("api_key" = [])))]
pub async fn list_holders(c: Caller) -> ApiResult<Json<Vec<RightsHolder>>> {
    c.json(|a, p| a.registry().holders(p)).await
}

#[utoipa::path(get, path = "/v1/holders/{id}", tag = "registry",
    responses((status = 200, body = RightsHolder), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_holder(c: Caller, Path(id): Path<String>) -> ApiResult<Json<RightsHolder>> {
    c.json(move |a, p| a.registry().holder(p, &id)).await
}

// ----------------------------------------------------------------- rights

#[utoipa::path(post, path = "/v1/rights", tag = "registry", request_body = NewRight,
    description = "Registers a right. `holder` is the holder's id. For logo and copyright_image rights, `image` is a data: URL. For copyright_video rights, `video` is a data: URL of an MP4 or WebM clip or of a vPDQ hash list, or `vpdq` is the hash list itself.",
    responses((status = 201, body = Right), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_right(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Right>)> {
    let new: NewRight = body(b)?;
    let image = match (&new.image, &new.video) {
        (Some(r), _) => Some(read_image("image", r, ImageBase::DataOnly)?),
        (None, Some(r)) => Some(read_video("video", r, ImageBase::DataOnly)?),
        (None, None) => None,
    };
    if let Some(bytes) = &image {
        c.charge_pixels(Permission::ManageRights, &[("image".into(), bytes)])?;
    }
    let r = c
        .run(move |a, p| a.registry().create_right(p, new, image))
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RightsQuery {
    /// Only rights of this holder.
    pub holder: Option<String>,
    /// Only rights in this review state (`pending`: held for review).
    #[param(inline)]
    pub review: Option<RightReviewState>,
}

#[utoipa::path(get, path = "/v1/rights", tag = "registry", params(RightsQuery),
    description = "The rights the caller may see (a rights holder: its own). Each shows its `registration` and, for a right held for review, its `review`: the state and the conflicting rights (their ids and holder ids).",
    responses((status = 200, body = Vec<Right>), (status = 400, body = ErrorBody)), security(("api_key" = [])))]
pub async fn list_rights(c: Caller, Query(q): Query<RightsQuery>) -> ApiResult<Json<Vec<Right>>> {
    c.json(move |a, p| {
        a.registry()
            .rights_in_review(p, q.holder.as_deref(), q.review)
    })
    .await
}

#[utoipa::path(post, path = "/v1/rights/{id}/review", tag = "registry",
    request_body = RightReviewInput,
    description = "An admin approves or refuses a right held for review (another holder's trademark in force carries the same mark or alias, normalised as the gate normalises text, in an overlapping Nice class and region), with a reason the holder reads. Approval puts the right in force (a registry change: a sweep looks at the live listings carrying its mark); refusal keeps it out of force. A right not held (never held, or already decided) is a 409.",
    responses((status = 200, body = Right, description = "the right as decided"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn review_right(
    c: Caller,
    Path(id): Path<String>,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Right>> {
    let input: RightReviewInput = body(b)?;
    c.json(move |a, p| a.registry().review_right(p, &id, input))
        .await
}

#[utoipa::path(get, path = "/v1/rights/{id}", tag = "registry",
    responses((status = 200, body = Right), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_right(c: Caller, Path(id): Path<String>) -> ApiResult<Json<Right>> {
    c.json(move |a, p| a.registry().right(p, &id)).await
}

#[utoipa::path(post, path = "/v1/rights/{id}/disable", tag = "registry",
    description = "Stops enforcing a right. In force for the very next listing.",
    responses((status = 200, body = Right), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn disable_right(c: Caller, Path(id): Path<String>) -> ApiResult<Json<Right>> {
    c.json(move |a, p| a.registry().set_right_enabled(p, &id, false))
        .await
}

#[utoipa::path(post, path = "/v1/rights/{id}/enable", tag = "registry",
    responses((status = 200, body = Right), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn enable_right(c: Caller, Path(id): Path<String>) -> ApiResult<Json<Right>> {
    c.json(move |a, p| a.registry().set_right_enabled(p, &id, true))
        .await
}

// --------------------------------------------------------------- listings

#[utoipa::path(post, path = "/v1/listings", tag = "listings", request_body = Listing,
    description = "Screens a listing and answers the decision once it is stored. The same content again answers the stored decision (200); changed content is screened as a new version (201).",
    responses((status = 201, body = Decision), (status = 200, body = Decision), (status = 400, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn submit_listing(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Decision>)> {
    let listing: Listing = body(b)?;
    let mut images = Vec::with_capacity(listing.images.len());
    for (i, img) in listing.images.iter().enumerate() {
        let field = format!("images[{i}]");
        if !img.starts_with("data:") {
            return Err(ApiError::from(shopshield_intake::IntakeError::Image {
                field,
                reason: "over HTTP, images are data: URLs".into(),
            }));
        }
        let bytes = read_image(&field, img, ImageBase::DataOnly)?;
        images.push((field, bytes));
    }
    let probes: Vec<(String, &[u8])> = images
        .iter()
        .map(|(f, b)| (f.clone(), b.as_slice()))
        .collect();
    c.charge_pixels(Permission::SubmitContent, &probes)?;
    drop(probes);
    drop(images);
    let s = c
        .run(move |a, p| a.screening().submit(p, listing, ImageBase::DataOnly))
        .await?;
    let status = if s.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(s.decision)))
}

/// A stored version of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListingVersion {
    pub listing: Listing,
    pub version: u32,
    pub content_hash: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
}

impl From<StoredListing> for ListingVersion {
    fn from(s: StoredListing) -> Self {
        ListingVersion {
            listing: s.listing,
            version: s.version,
            content_hash: s.content_hash,
            submitted_at: s.submitted_at,
        }
    }
}

#[utoipa::path(get, path = "/v1/listings/{id}", tag = "listings",
    responses((status = 200, body = ListingVersion), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_listing(c: Caller, Path(id): Path<String>) -> ApiResult<Json<ListingVersion>> {
    Ok(Json(
        c.run(move |a, p| a.screening().listing(p, &id))
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/v1/listings/{id}/history", tag = "listings",
    responses((status = 200, body = Vec<ListingVersion>), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn listing_history(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ListingVersion>>> {
    let h = c
        .run(move |a, p| a.screening().listing_history(p, &id))
        .await?;
    Ok(Json(h.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/v1/listings/{id}/decisions", tag = "decisions",
    responses((status = 200, body = Vec<Decision>), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn listing_decisions(
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Decision>>> {
    c.json(move |a, p| a.screening().decisions_for_listing(p, &id))
        .await
}

#[utoipa::path(get, path = "/v1/shops/{shop_id}/listings", tag = "listings", params(PageQuery),
    responses((status = 200, body = Vec<ListingVersion>), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn shop_listings(
    c: Caller,
    Path(shop): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<ListingVersion>>> {
    let page = q.page();
    let l = c
        .run(move |a, p| a.screening().listings_by_shop(p, &shop, &page))
        .await?;
    Ok(Json(l.into_iter().map(Into::into).collect()))
}

// -------------------------------------------------------------- decisions

#[utoipa::path(get, path = "/v1/decisions", tag = "decisions", params(PageQuery),
    responses((status = 200, body = Vec<Decision>), (status = 403, body = ErrorBody)), security(("api_key" = [])))]
pub async fn list_decisions(
    c: Caller,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<Decision>>> {
    let page = q.page();
    c.json(move |a, p| a.screening().decisions(p, &page)).await
}

#[utoipa::path(get, path = "/v1/decisions/{decision_id}", tag = "decisions",
    responses((status = 200, body = Decision), (status = 404, body = ErrorBody)), security(("api_key" = [])))]
pub async fn get_decision(c: Caller, Path(id): Path<String>) -> ApiResult<Json<Decision>> {
    c.json(move |a, p| a.screening().decision(p, &id)).await
}

// ----------------------------------------------------------------- others

#[utoipa::path(get, path = "/v1/categories", tag = "registry",
    responses((status = 200, body = Vec<Category>)), security(("api_key" = [])))]
pub async fn categories(State(app): State<Arc<App>>, _auth: Auth) -> Json<Vec<Category>> {
    Json(app.taxonomy().categories().to_vec())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub role: Role,
    /// For `rights_holder` keys.
    pub holder: Option<String>,
    /// For `seller` keys.
    pub shop: Option<String>,
    /// For `creator` keys.
    pub creator: Option<String>,
    /// A display name; never used to decide anything.
    #[serde(default)]
    pub label: String,
    /// Adds the key to this principal (key rotation: same role and scope),
    /// or names a new principal; a fresh one is made when absent.
    pub principal: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The secret. It is shown once and never stored.
    pub key: String,
    /// Who the key acts as in enforcement records.
    pub principal: String,
    pub role: Role,
    pub holder: Option<String>,
    pub shop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    pub label: String,
}

#[utoipa::path(post, path = "/v1/keys", tag = "access", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_key(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let new: NewKey = body(b)?;
    let (secret, k) = c
        .run(move |a, p| {
            a.keys().create(
                p,
                KeyRequest {
                    role: Some(new.role),
                    holder: new.holder,
                    shop: new.shop,
                    creator: new.creator,
                    label: new.label,
                    principal: new.principal,
                },
            )
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: secret,
            principal: k.principal_id,
            role: k.role,
            holder: k.holder_id,
            shop: k.shop_id,
            creator: k.creator_id,
            label: k.label,
        }),
    ))
}
