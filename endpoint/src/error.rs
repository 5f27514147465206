//! What clients see when a request fails: a status and `{"error": "...", "field": ...}`; the
//! internal cause is logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use consent_banner::core::event::EventError;
use consent_banner::core::fields::FieldError;
use serde_json::json;
use thiserror::Error;

/// A failed request.
#[derive(Debug, Error)]
pub enum ApiError {
    /// 400: the request is wrong; `field` names the culprit when known.
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    /// 413: the body is over the limit.
    #[error("body too large")]
    TooLarge,
    /// 403: the Origin is missing or not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 401: no or wrong admin token.
    #[error("admin token required")]
    Unauthorized,
    /// 503: admin routes are off because no token is configured.
    #[error("admin API disabled: no admin token configured")]
    AdminDisabled,
    /// 409: the event id is taken by a different event.
    #[error("event_id already used for a different event")]
    Conflict,
    /// 429: slow down for this many seconds.
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// 404.
    #[error("not found")]
    NotFound,
    /// 405: the route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 503: storage is failing or shutting down; the client should retry. The cause is logged.
    #[error("storage unavailable")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The cause is logged.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming a field.
    pub fn field(message: impl Into<String>, field: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 400 or 413 for an event body [`ConsentEvent::parse`] refused.
    ///
    /// [`ConsentEvent::parse`]: consent_banner::core::event::ConsentEvent::parse
    pub fn from_event(e: &EventError) -> ApiError {
        match e {
            EventError::TooLarge => ApiError::TooLarge,
            _ => ApiError::BadRequest {
                message: e.to_string(),
                field: e.field().map(str::to_string),
            },
        }
    }

    /// A 400 for a field error.
    pub fn from_field(e: &FieldError) -> ApiError {
        ApiError::BadRequest {
            message: e.to_string(),
            field: Some(e.path.clone()),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::AdminDisabled | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = match &self {
            ApiError::BadRequest { field, .. } => field.clone(),
            ApiError::Conflict => Some("event_id".into()),
            _ => None,
        };
        match &self {
            ApiError::Unavailable(cause) => tracing::error!(cause, "storage unavailable"),
            ApiError::Internal(cause) => tracing::error!(cause, "internal error"),
            other => {
                tracing::debug!(status = other.status().as_u16(), error = %other, "request refused")
            }
        }
        let status = self.status();
        let mut resp = (
            status,
            Json(json!({ "error": self.to_string(), "field": field })),
        )
            .into_response();
        let headers = resp.headers_mut();
        match self {
            ApiError::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs.max(1)),
                );
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}
