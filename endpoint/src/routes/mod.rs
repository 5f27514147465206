//! HTTP handlers: events (public), admin and stats (bearer token), health.

pub mod admin;
pub mod events;

use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `GET /healthz`: 200 while events can be stored; 503 once they cannot (the writer stopped, or
/// an fsync failed, after which nothing is acknowledged until a restart), so that whatever
/// supervises the process restarts it.
pub async fn health(State(st): State<AppState>) -> Response {
    if st.writer.healthy() {
        Json(json!({ "ok": true })).into_response()
    } else {
        let body = json!({ "ok": false, "error": "events cannot be stored; restart required" });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// Anything unrouted.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// A known route with another method: the same JSON error shape as every other refusal.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
