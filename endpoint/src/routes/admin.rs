//! Admin routes (bearer token): every event of a consent id, its erasure, and daily stats.

use crate::error::ApiError;
use crate::stats;
use crate::store;
use crate::time::{now_ms, parse_date, DAY_MS};
use crate::AppState;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use consent_banner::core::ids::is_consent_id;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Longest range `GET /v1/stats` answers, in days.
pub const MAX_STATS_DAYS: i64 = 366;

/// Checks `Authorization: Bearer <token>` in constant time; 503 when no token is configured.
pub fn authorize(st: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = st.admin_token.as_deref() else {
        return Err(ApiError::AdminDisabled);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    let diff = a
        .iter()
        .zip(b)
        .fold(a.len() ^ b.len(), |acc, (x, y)| acc | usize::from(x ^ y));
    if diff == 0 {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Runs a read on the reader connection off the async threads.
async fn read<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce(&Connection) -> Result<T, store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let reader = st.reader.clone();
    tokio::task::spawn_blocking(move || {
        let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Unavailable(e.to_string()))
}

/// The checks both `/v1/consents/{consent_id}` routes make: the admin token, then the id's shape
/// (a path segment that is not even valid UTF-8 gets the same JSON 400, after the token check).
fn authorized_consent_id(
    st: &AppState,
    headers: &HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<String, ApiError> {
    authorize(st, headers)?;
    match id {
        Ok(Path(id)) if is_consent_id(&id) => Ok(id),
        _ => Err(ApiError::field(
            "consent_id must be 32 lowercase hex digits",
            "consent_id",
        )),
    }
}

/// The answer of `GET /v1/consents/{consent_id}`: a struct, not a JSON value, so each event
/// goes out as its stored text (see [`store::ExportedRow`]).
#[derive(Serialize)]
struct ConsentEvents<'a> {
    consent_id: &'a str,
    count: usize,
    events: Vec<store::ExportedRow<'a>>,
}

/// `GET /v1/consents/{consent_id}`: `{"consent_id", "count", "events": [row…]}` in order, erased
/// rows included as tombstones (`"event": null`).
pub async fn get_consent(
    State(st): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = authorized_consent_id(&st, &headers, id)?;
    let lookup = id.clone();
    let rows = read(&st, move |c| store::rows_for_consent(c, &lookup)).await?;
    let events: Vec<_> = rows.iter().map(store::Row::export).collect();
    Ok(Json(ConsentEvents {
        consent_id: &id,
        count: events.len(),
        events,
    })
    .into_response())
}

/// `DELETE /v1/consents/{consent_id}`: erases the payloads, keeps the tombstones.
pub async fn erase_consent(
    State(st): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = authorized_consent_id(&st, &headers, id)?;
    let erased = st
        .writer
        .erase(id.clone(), now_ms())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    tracing::info!(erased, "consent erased");
    Ok(Json(
        json!({ "ok": true, "consent_id": id, "erased": erased }),
    ))
}

/// Query of `GET /v1/stats`.
#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    site: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /v1/stats?site=…&from=YYYY-MM-DD&to=YYYY-MM-DD` (both days inclusive, UTC); the shape is
/// documented in [`stats`].
pub async fn stats(
    State(st): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&st, &headers)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest {
        message: e.body_text(),
        field: None,
    })?;
    let site_id = q
        .site
        .ok_or_else(|| ApiError::field("site is required", "site"))?;
    let site = st
        .config
        .site(&site_id)
        .ok_or_else(|| ApiError::field("unknown site", "site"))?;
    let day = |v: Option<String>, name: &str| {
        v.as_deref()
            .and_then(parse_date)
            .ok_or_else(|| ApiError::field(format!("{name} must be a date YYYY-MM-DD"), name))
    };
    let (from, to) = (day(q.from, "from")?, day(q.to, "to")?);
    if to < from {
        return Err(ApiError::field("to must not be before from", "to"));
    }
    if to - from >= MAX_STATS_DAYS {
        return Err(ApiError::field(
            format!("at most {MAX_STATS_DAYS} days"),
            "to",
        ));
    }
    let (lookup, categories) = (site.id.clone(), site.categories.clone());
    // Rows are folded into the tally as they are read, never held all at once.
    let tally = read(&st, move |c| {
        let mut tally = stats::Tally::new(&categories, from, to);
        store::for_each_site_payload(c, &lookup, from * DAY_MS, (to + 1) * DAY_MS, |at, id, p| {
            tally.add(at, id, p)
        })?;
        Ok(tally)
    })
    .await?;
    Ok(Json(tally.report(&site.id)))
}
