//! Origin allowlist and CORS for `/v1/events`: missing or unlisted origins get 403 before the
//! body is read; listed ones get `Access-Control-Allow-Origin` (and a preflight answer).

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consent_banner::core::event::MAX_EVENT_BYTES;

/// The request's `Origin`, if it is valid text.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// Refuses requests whose Origin no configured site lists, answers preflights for those that
/// one does, and adds the CORS headers to every other response for allowed origins.
pub async fn cors(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let origin = request_origin(req.headers());
    let allowed = origin
        .filter(|o| st.config.sites.iter().any(|s| s.allows(o)))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let Some(allowed) = allowed else {
        let why = if origin.is_some() {
            "origin not allowed"
        } else {
            "missing Origin header"
        };
        let mut resp = ApiError::Forbidden(why).into_response();
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
        return resp;
    };
    let mut resp = if req.method() == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Idempotency-Key"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        let mut r = next.run(req).await;
        r.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
        r
    };
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// 413 before reading a body whose declared `Content-Length` is over the limit.
pub async fn content_length_guard(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().parse::<u64>());
    match declared {
        Some(Ok(n)) if n > MAX_EVENT_BYTES as u64 => ApiError::TooLarge.into_response(),
        Some(Err(_)) => ApiError::BadRequest {
            message: "invalid Content-Length".into(),
            field: None,
        }
        .into_response(),
        _ => next.run(req).await,
    }
}
