use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shopshield_app::AppError;
use shopshield_intake::IntakeError;

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code: `invalid`, `malformed_json`,
    /// `malformed_query`, `malformed_path`, `malformed_request`,
    /// `too_large`, `uri_too_long`, `headers_too_large`, `unauthorized`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`,
    /// `request_timeout`, `rate_limited`, `too_many_requests`, `overloaded`,
    /// `timeout`, `internal`.
    pub code: &'static str,
    /// A sentence for humans.
    pub message: String,
    /// The field at fault, when there is one (`price.currency`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answer: a status and a JSON body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait before trying again (429, 503): `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// The same answer naming the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same answer with a `Retry-After` (whole seconds, at least 1).
    pub fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// 429: a budget is spent.
    pub fn rate_limited(message: impl Into<String>, wait: std::time::Duration) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(wait)
    }

    /// 503: the server cannot take the request now.
    pub fn unavailable(code: &'static str, message: impl Into<String>, wait_secs: u64) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            .retry_after(std::time::Duration::from_secs(wait_secs))
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        let field = e.field().map(str::to_string);
        let (status, code) = match &e {
            IntakeError::Syntax { .. } => (StatusCode::BAD_REQUEST, "malformed_json"),
            IntakeError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            IntakeError::Io(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            IntakeError::Invalid(_) | IntakeError::Image { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            }
        };
        ApiError {
            status,
            code,
            message: e.to_string(),
            field,
            retry_after: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid(v) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "invalid",
                message: v.to_string(),
                field: Some(v.field),
                retry_after: None,
            },
            AppError::Intake(i) => i.into(),
            e @ AppError::NotFound { .. } => ApiError::not_found(e.to_string()),
            AppError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            AppError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            AppError::Busy(m) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m)
                    .retry_after(std::time::Duration::from_secs(1))
            }
            AppError::Integrity(m) => {
                tracing::error!(error = %m, "integrity failure");
                ApiError::internal("integrity check failed; see the server log")
            }
            AppError::Store(s) => {
                tracing::error!(error = %s, "storage failure");
                ApiError::internal("storage failure; nothing was changed")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"shopshield\""),
            );
        }
        resp
    }
}
