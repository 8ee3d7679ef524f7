//! Who is calling: the API key in the request, authenticated by the keys
//! service into a [`Principal`], and [`Caller`], which runs a service call
//! for that principal off the async workers.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shopshield_app::{App, AppError, Principal};

use crate::error::ApiError;
use crate::guard::{Authenticated, presented_key};
use crate::limits::Limiter;

/// The authenticated caller. Send the key as `Authorization: Bearer KEY`
/// (or `X-Api-Key: KEY`).
pub struct Auth(pub Principal);

impl FromRequestParts<Arc<App>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        // The admission guard authenticated the key already.
        if let Some(Authenticated(p)) = parts.extensions.get::<Authenticated>() {
            return Ok(Auth(p.clone()));
        }
        let has_key =
            parts.headers.contains_key("authorization") || parts.headers.contains_key("x-api-key");
        let secret = presented_key(&parts.headers).ok_or_else(|| {
            if has_key {
                ApiError::unauthorized("the API key is not valid")
            } else {
                ApiError::unauthorized("send an API key as Authorization: Bearer KEY")
            }
        })?;
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
#[derive(Clone)]
pub struct Caller {
    pub app: Arc<App>,
    pub principal: Principal,
    limiter: Option<Arc<Limiter>>,
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let Auth(principal) = Auth::from_request_parts(parts, app).await?;
        Ok(Caller {
            app: app.clone(),
            principal,
            limiter: parts.extensions.get::<Arc<Limiter>>().cloned(),
        })
    }
}

impl Caller {
    /// Charges images to the pixel budgets of the request and of the
    /// caller's key, reading only their headers: `images` are (field,
    /// file bytes). A header that cannot be read, or claims too many
    /// pixels, is refused here, before anything is decoded.
    ///
    /// `permission` is the one the service will check: a caller without
    /// it is refused first, and charged nothing.
    pub fn charge_pixels(
        &self,
        permission: shopshield_model::Permission,
        images: &[(String, &[u8])],
    ) -> Result<(), ApiError> {
        self.principal
            .require(permission)
            .map_err(|d| ApiError::from(AppError::from(d)))?;
        let opts = shopshield_pdq::DecodeOptions::default();
        let mut total: u64 = 0;
        for (field, bytes) in images {
            let probe = shopshield_pdq::probe(bytes, &opts).map_err(|e| {
                ApiError::from(shopshield_intake::IntakeError::Image {
                    field: field.clone(),
                    reason: e.to_string(),
                })
            })?;
            total = total.saturating_add(probe.pixels());
        }
        match &self.limiter {
            Some(l) => l
                .pixels(&self.principal, total, std::time::Instant::now())
                .map_err(crate::guard::refused),
            None => Ok(()),
        }
    }

    /// Runs a service call for the caller on a blocking thread (storage
    /// commits are fsynced) and maps its error to an HTTP answer.
    pub async fn run<T: Send + 'static>(
        self,
        f: impl FnOnce(&App, &Principal) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let Caller { app, principal, .. } = self;
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
