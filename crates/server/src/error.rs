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
    /// `too_large`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `too_many_requests`, `internal`.
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
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
            },
            AppError::Intake(i) => i.into(),
            e @ AppError::NotFound { .. } => ApiError::not_found(e.to_string()),
            AppError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            AppError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            AppError::Busy(m) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m)
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
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"shopshield\""),
            );
        }
        resp
    }
}
