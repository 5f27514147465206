//! Origin allowlist and CORS for `/v1/events`: missing or unlisted origins get 403 before the
//! body is read; listed ones get `Access-Control-Allow-Origin` (and a preflight answer).
//!
//! These are plain functions the two handlers call rather than middleware layers: a layer costs
//! a boxed service clone and a future per request, a measurable share of an event's CPU time.

use crate::error::ApiError;
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_banner::core::event::MAX_EVENT_BYTES;

/// The request's `Origin`, if it is valid text.
pub fn request_origin(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
}

/// The request's `Origin` when some configured site lists it (to echo back); otherwise why not.
pub fn allowed_origin(st: &AppState, headers: &HeaderMap) -> Result<HeaderValue, &'static str> {
    let value = headers.get(header::ORIGIN);
    let origin = value.and_then(|v| v.to_str().ok());
    match (value, origin) {
        (Some(v), Some(o)) if st.config.sites.iter().any(|s| s.allows(o)) => Ok(v.clone()),
        (_, Some(_)) => Err("origin not allowed"),
        _ => Err("missing Origin header"),
    }
}

/// The 403 for an origin [`allowed_origin`] refused.
pub fn forbidden(why: &'static str) -> Response {
    let mut resp = ApiError::Forbidden(why).into_response();
    resp.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// Adds the CORS headers for an allowed origin to an answer of `POST /v1/events`.
pub fn with_cors(mut resp: Response, origin: HeaderValue) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// The answer to a preflight from an allowed origin.
pub fn preflight(origin: HeaderValue) -> Response {
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
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    r
}

/// 413 before reading a body whose declared `Content-Length` is over the limit (400 if the
/// header is not a number). Over the server's sockets that 400 never happens: hyper answers a
/// length that is not a number, or several that disagree, with its own bare 400 before any
/// handler runs. It stays for the router's other callers (tests drive it without a socket).
pub fn check_declared_length(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().parse::<u64>());
    match declared {
        Some(Ok(n)) if n > MAX_EVENT_BYTES as u64 => Err(ApiError::TooLarge),
        Some(Err(_)) => Err(ApiError::BadRequest {
            message: "invalid Content-Length".into(),
            field: None,
        }),
        _ => Ok(()),
    }
}
