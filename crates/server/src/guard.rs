//! The guards every request passes, outermost first:
//!
//! 1. [`deadline`]: the whole request is answered within
//!    `request_timeout_secs`, or with 503 and `Retry-After`.
//! 2. [`error_bodies`]: an error answer that is not JSON yet (an
//!    extractor's rejection, say) is turned into the API's JSON error
//!    body; under `/console`, into the console's HTML error page instead.
//! 3. [`admit`]: the request target's length, the caller's rate limits
//!    (authenticating its key once, or finding its console session) and
//!    the body, read whole within `body_read_timeout_ms` and the size
//!    limit. `/healthz` skips them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shopshield_app::{App, Principal};

use crate::MAX_BODY_BYTES;
use crate::console::{self, Console};
use crate::error::ApiError;
use crate::limits::{Limiter, Refusal};

/// Longest accepted request target (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub(crate) struct Guard {
    pub app: Arc<App>,
    pub limiter: Arc<Limiter>,
    pub console: Arc<Console>,
}

/// The principal [`admit`] authenticated, for the `Auth` extractor.
#[derive(Clone)]
pub(crate) struct Authenticated(pub Principal);

pub(crate) async fn deadline(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let limit = Duration::from_secs(g.limiter.config().request_timeout_secs);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::unavailable(
            "timeout",
            format!(
                "the request was not answered within {} s; try again",
                limit.as_secs()
            ),
            g.limiter.config().retry_after_secs,
        )
        .into_response(),
    }
}

/// Whether a request is for the console's pages (HTML) rather than the
/// API (JSON).
pub(crate) fn is_console(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

pub(crate) async fn error_bodies(req: Request, next: Next) -> Response {
    let console = is_console(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let done = if console {
        content_type.starts_with("text/html")
    } else {
        content_type.starts_with("application/json")
    };
    if done {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("malformed_request", "the request is not valid"),
        StatusCode::NOT_FOUND => ("not_found", "no such route; see /openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method; see /openapi.json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request was not sent in time"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "the request is not valid"),
        s if s.is_server_error() => ("internal", "the server could not answer; see its log"),
        _ => ("invalid", "the request cannot be answered"),
    };
    let retry = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let allow = resp.headers().get(header::ALLOW).cloned();
    let mut out = if console {
        // The console's pages say it in words a person can act on: a JSON
        // error's message, or an extractor's own (a missing form field).
        let (_, body) = resp.into_parts();
        let text = axum::body::to_bytes(body, 64 * 1024)
            .await
            .ok()
            .and_then(|b| {
                let t = String::from_utf8_lossy(&b).into_owned();
                match serde_json::from_str::<serde_json::Value>(&t) {
                    Ok(v) => v["error"]["message"].as_str().map(str::to_string),
                    Err(_) if !t.trim().is_empty() && !status.is_server_error() => {
                        Some(t.trim().chars().take(300).collect())
                    }
                    Err(_) => None,
                }
            })
            .unwrap_or_else(|| match status {
                StatusCode::NOT_FOUND => "there is no such console page".to_string(),
                _ => message.to_string(),
            });
        console::error_page(status, &text)
    } else {
        let mut err = ApiError::new(status, code, message);
        if let Some(secs) = retry {
            err = err.retry_after(Duration::from_secs(secs));
        }
        err.into_response()
    };
    if let Some(secs) = retry {
        out.headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    }
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// The API key a request carries, as the `Auth` extractor reads it.
pub(crate) fn presented_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| header("x-api-key"))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 200)
}

pub(crate) fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::Rate { retry_after, what } => ApiError::rate_limited(
            format!(
                "too many {what}; try again in {} s",
                retry_after.as_secs_f64().ceil().max(1.0)
            ),
            retry_after,
        ),
        Refusal::RequestPixels { pixels, limit } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request's images have {pixels} pixels; one request may have {limit}"),
        ),
        Refusal::KeyPixels { retry_after, limit } => ApiError::rate_limited(
            format!(
                "this key's image pixels for the minute ({limit}) are spent; try again in {} s",
                retry_after.as_secs_f64().ceil().max(1.0)
            ),
            retry_after,
        ),
    }
}

pub(crate) async fn admit(State(g): State<Guard>, req: Request, next: Next) -> Response {
    match admit_inner(&g, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn admit_inner(g: &Guard, mut req: Request) -> Result<Request, ApiError> {
    if req.uri().path() == "/healthz" {
        return Ok(req);
    }
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {target} bytes; the limit is {MAX_URI_BYTES}"),
        ));
    }
    let now = Instant::now();
    let principal = match presented_key(req.headers()) {
        None if is_console(req.uri().path()) => g.console.session_principal(req.headers()),
        Some(secret) => {
            let (app, secret) = (g.app.clone(), secret.to_string());
            tokio::task::spawn_blocking(move || app.keys().authenticate(&secret))
                .await
                .map_err(|e| ApiError::internal(format!("authentication task failed: {e}")))??
        }
        None => None,
    };
    match &principal {
        Some(p) => g.limiter.request(p, now).map_err(refused)?,
        None => {
            let addr = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
            g.limiter.anonymous(addr, now).map_err(refused)?;
        }
    }
    if let Some(p) = principal {
        req.extensions_mut().insert(Authenticated(p));
    }
    read_body(g, req).await
}

/// Reads the whole body within the time and size limits, so no handler
/// ever waits on a client: a `Content-Length` with no body behind it gets
/// 408 when the time is up.
async fn read_body(g: &Guard, req: Request) -> Result<Request, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared.unwrap_or(0) == 0 && !chunked {
        return Ok(req);
    }
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let limit = Duration::from_millis(g.limiter.config().body_read_timeout_ms);
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(limit, to_bytes(body, MAX_BODY_BYTES)).await {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    limit.as_millis()
                ),
            ));
        }
        Ok(Err(e)) => {
            let too_big = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            if too_big {
                return Err(too_large());
            }
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "the request body could not be read",
            ));
        }
        Ok(Ok(b)) => b,
    };
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is over the limit of {MAX_BODY_BYTES} bytes"),
    )
}
