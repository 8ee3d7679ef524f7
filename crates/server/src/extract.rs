//! axum's `Path` and `Query` extractors with JSON error answers: a bad
//! query string or a bad percent-encoding is a 400 naming what is wrong,
//! in the body every other error has.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Path parameters, as axum's `Path`.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => {
                tracing::debug!(error = %e.body_text(), "path refused");
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_path",
                    "a path segment is not valid percent-encoded UTF-8",
                ))
            }
        }
    }
}

/// The query string, as axum's `Query`.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                let reason = e.into_inner().to_string();
                let mut err = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_query",
                    format!("the query string is not valid: {}", clean(&reason)),
                );
                if field != "." && !field.is_empty() {
                    err = err.with_field(field);
                }
                err
            })
    }
}

/// serde_urlencoded's messages, minus the parts that only make sense to
/// its authors.
fn clean(reason: &str) -> String {
    let r = reason.trim();
    if r.chars().count() > 200 {
        r.chars().take(200).collect()
    } else {
        r.to_string()
    }
}
