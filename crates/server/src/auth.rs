//! Who is calling: the API key in the request, authenticated by the keys
//! service into a [`Principal`], and [`Caller`], which runs a service call
//! for that principal off the async workers.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shopshield_app::{App, AppError, Principal};

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
        let principal = tokio::task::spawn_blocking(move || app.keys().authenticate(&secret))
            .await
            .map_err(|e| ApiError::internal(format!("authentication task failed: {e}")))??;
        principal
            .map(Auth)
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
    }
}

/// An authenticated caller with the application: every handler is one
/// service call through [`Caller::run`] or [`Caller::json`].
pub struct Caller {
    pub app: Arc<App>,
    pub principal: Principal,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let Auth(principal) = Auth::from_request_parts(parts, app).await?;
        Ok(Caller {
            app: app.clone(),
            principal,
        })
    }
}

impl Caller {
    /// Runs a service call for the caller on a blocking thread (storage
    /// commits are fsynced) and maps its error to an HTTP answer.
    pub async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&App, &Principal) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let Caller { app, principal } = self;
        tokio::task::spawn_blocking(move || f(&app, &principal))
            .await
            .map_err(|e| ApiError::internal(format!("task failed: {e}")))?
            .map_err(ApiError::from)
    }

    /// [`Caller::run`], answered as JSON.
    pub async fn json<T: Send + 'static>(
        self,
        f: impl FnOnce(&App, &Principal) -> Result<T, AppError> + Send + 'static,
    ) -> Result<Json<T>, ApiError> {
        self.run(f).await.map(Json)
    }
}
