//! Policy packs and seller qualifications: `POST /v1/policy/reload`,
//! `GET /v1/policy/packs`, `POST /v1/qualifications`,
//! `GET /v1/shops/{shop_id}/qualifications`.

use std::collections::BTreeMap;

use crate::extract::Path;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::Serialize;
use shopshield_model::Qualification;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::body;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReloadResponse {
    /// Every pack now in force, name → version (`{declared}+{sha256 prefix}`).
    pub versions: BTreeMap<String, String>,
    /// Rules added, removed or changed by the reload.
    pub changed_rules: Vec<String>,
    /// The sweep opened for live listings the added or changed rules may
    /// affect (the server runs it by itself; `POST /v1/sweeps` runs it now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<String>,
}

#[utoipa::path(post, path = "/v1/policy/reload", tag = "policy",
    description = "Re-reads the policy packs and puts them in force for the next listing, without a restart. A broken pack changes nothing: the answer (422) lists every problem with file and line.",
    responses((status = 200, body = ReloadResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn reload(c: Caller) -> Result<Json<ReloadResponse>, ApiError> {
    let r = c.run(|a, p| a.registry().reload_policy(p)).await?;
    Ok(Json(ReloadResponse {
        versions: r.versions,
        changed_rules: r.changed_rules,
        sweep: r.sweep,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackInfo {
    pub name: String,
    pub version: String,
}

#[utoipa::path(get, path = "/v1/policy/packs", tag = "policy",
    responses((status = 200, body = Vec<PackInfo>)), security(("api_key" = [])))]
pub async fn packs(c: Caller) -> Result<Json<Vec<PackInfo>>, ApiError> {
    let versions = c.run(|a, p| a.registry().policy_packs(p)).await?;
    Ok(Json(
        versions
            .into_iter()
            .map(|(name, version)| PackInfo { name, version })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/v1/qualifications", tag = "policy", request_body = Qualification,
    description = "Records a shop's qualification (licence, registration) for a region; restricted goods that need it are then sellable there until it expires. Admins and platform services.",
    responses((status = 201, body = Qualification), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn put_qualification(
    c: Caller,
    b: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Qualification>), ApiError> {
    let q: Qualification = body(b)?;
    let q = c
        .run(move |a, p| a.screening().put_qualification(p, q))
        .await?;
    Ok((StatusCode::CREATED, Json(q)))
}

#[utoipa::path(get, path = "/v1/shops/{shop_id}/qualifications", tag = "policy",
    responses((status = 200, body = Vec<Qualification>), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn shop_qualifications(
    c: Caller,
    Path(shop): Path<String>,
) -> Result<Json<Vec<Qualification>>, ApiError> {
    c.json(move |a, p| a.screening().qualifications(p, &shop))
        .await
}
