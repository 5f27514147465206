//! `POST /v1/events`: validate, rate-limit, hand to the writer, answer after the commit.

use crate::error::ApiError;
use crate::origin::request_origin;
use crate::rate::ClientNet;
use crate::store::{Appended, NewEvent};
use crate::time::now_ms;
use crate::AppState;
use axum::body::to_bytes;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{request::Parts, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use consent_banner::core::event::{ConsentEvent, MAX_EVENT_BYTES};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// The `Sec-GPC` value as stored: the header's text when it is short printable ASCII.
pub fn gpc_header(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("sec-gpc")?;
    let b = v.as_bytes();
    let printable = !b.is_empty() && b.len() <= 16 && b.iter().all(|c| c.is_ascii_graphic());
    Some(if printable {
        String::from_utf8_lossy(b).into_owned()
    } else {
        "invalid".into()
    })
}

/// Whether a body error (or any error under it) is a length-limit error.
fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The client's network for rate limiting: from the configured proxy header, else the socket.
fn client_net(st: &AppState, parts: &Parts) -> ClientNet {
    if let Some(name) = &st.config.rate_limit.client_ip_header {
        let from_header = parts
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse::<IpAddr>().ok());
        if let Some(ip) = from_header {
            return ClientNet::of(ip);
        }
    }
    if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        return ClientNet::of(addr.ip());
    }
    match parts.extensions.get::<MockConnectInfo<SocketAddr>>() {
        Some(MockConnectInfo(addr)) => ClientNet::of(addr.ip()),
        None => ClientNet::Unknown,
    }
}

/// Accepts one event. 201 `{"ok":true,"seq":N}` once committed, and the same again for a replay
/// of the same event; 409 for its id with a different body.
pub async fn post(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let received_at = now_ms();
    let (parts, body) = req.into_parts();
    let origin = request_origin(&parts.headers)
        .ok_or(ApiError::Forbidden("missing Origin header"))?
        .to_string();
    let bytes = to_bytes(body, MAX_EVENT_BYTES).await.map_err(|e| {
        let inner = e.into_inner();
        if is_length_limit(inner.as_ref()) {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest {
                message: "could not read the body".into(),
                field: None,
            }
        }
    })?;
    let event = ConsentEvent::parse(&bytes).map_err(|e| ApiError::from_event(&e))?;
    let site = st
        .config
        .site(&event.site_id)
        .ok_or_else(|| ApiError::field("unknown site", "site_id"))?;
    if !site.allows(&origin) {
        return Err(ApiError::Forbidden("origin not allowed for this site"));
    }
    let known: Vec<&str> = site.categories.iter().map(String::as_str).collect();
    let required: Vec<&str> = site.required.iter().map(String::as_str).collect();
    event
        .check_categories(&known, &required)
        .map_err(|e| ApiError::from_field(&e))?;
    if let Some(key) = parts.headers.get("idempotency-key") {
        let key = key.to_str().unwrap_or_default().trim().trim_matches('"');
        if key != event.event_id {
            return Err(ApiError::field(
                "Idempotency-Key must equal event_id",
                "Idempotency-Key",
            ));
        }
    }
    st.limiter
        .check(client_net(&st, &parts), &site.id, Instant::now())
        .map_err(|wait| ApiError::RateLimited {
            retry_after_secs: wait.as_secs_f64().ceil() as u64,
        })?;

    let new = NewEvent {
        payload: event.to_json(),
        event_id: event.event_id,
        site_id: event.site_id,
        consent_id: event.consent_id,
        received_at,
        gpc_header: gpc_header(&parts.headers),
    };
    match st.writer.append(new).await {
        Ok(Appended::New { seq }) | Ok(Appended::Replay { seq }) => Ok((
            StatusCode::CREATED,
            Json(json!({ "ok": true, "seq": seq })).into_response(),
        )
            .into_response()),
        Ok(Appended::Conflict { .. }) => Err(ApiError::Conflict),
        Err(e) => Err(ApiError::Unavailable(e.to_string())),
    }
}

/// `OPTIONS /v1/events`; the CORS middleware answers allowed preflights before this runs.
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}
