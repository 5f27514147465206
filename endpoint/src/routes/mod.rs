//! HTTP handlers: events (public), admin and stats (bearer token), health.

pub mod admin;
pub mod events;

use crate::error::ApiError;
use axum::Json;
use serde_json::{json, Value};

/// `GET /healthz`: the process is up and serving.
pub async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

/// Anything unrouted.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
