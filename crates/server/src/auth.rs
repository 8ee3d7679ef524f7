use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shopshield_app::{App, Principal};

use crate::error::ApiError;

/// The authenticated caller. Send the key as `Authorization: Bearer KEY`
/// (or `X-Api-Key: KEY`).
pub struct Auth(pub Principal);

impl FromRequestParts<Arc<App>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let secret = header("authorization")
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .or_else(|| header("x-api-key"))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("send an API key as Authorization: Bearer KEY")
            })?;
        if secret.is_empty() || secret.len() > 200 {
            return Err(ApiError::unauthorized("the API key is not valid"));
        }
        let app = app.clone();
        let secret = secret.to_string();
        let principal = tokio::task::spawn_blocking(move || app.authenticate(&secret))
            .await
            .map_err(|e| ApiError::internal(format!("authentication task failed: {e}")))??;
        principal
            .map(Auth)
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
    }
}
