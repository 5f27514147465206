//! `POST /v1/events`: validate, rate-limit, hand to the writer, answer after the commit.

use crate::error::ApiError;
use crate::origin::{allowed_origin, check_declared_length, forbidden, request_origin, with_cors};
use crate::rate::ClientNet;
use crate::store::{Appended, NewEvent};
use crate::time::now_ms;
use crate::AppState;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_banner::core::event::{ConsentEvent, MAX_EVENT_BYTES};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::task::Poll;
use std::time::{Duration, Instant};

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
            // The right-most address is the one our proxy added; anything left of it came from
            // the client and could be forged to get a fresh bucket each time.
            .and_then(|s| s.rsplit(',').next())
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

/// How long a client may take to send the body once its headers are in.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

fn unreadable_body() -> ApiError {
    ApiError::BadRequest {
        message: "could not read the body".into(),
        field: None,
    }
}

/// Reads the body, at most [`MAX_EVENT_BYTES`] of it, within [`BODY_TIMEOUT`].
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    let mut read = std::pin::pin!(to_bytes(body, MAX_EVENT_BYTES));
    // An event usually arrives in the same packet as its headers; only a body still in flight
    // pays for a timer (arming one costs a timer-wheel insert and often a driver wake-up).
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    let result = match first {
        Poll::Ready(r) => r,
        Poll::Pending => tokio::time::timeout(BODY_TIMEOUT, read)
            .await
            .map_err(|_| unreadable_body())?,
    };
    result.map_err(|e| {
        if is_length_limit(e.into_inner().as_ref()) {
            ApiError::TooLarge
        } else {
            unreadable_body()
        }
    })
}

/// `201 {"ok":true,"seq":N}`, written directly rather than through a JSON value.
fn created(seq: i64) -> Response {
    let mut r = (
        StatusCode::CREATED,
        format!("{{\"ok\":true,\"seq\":{seq}}}"),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Accepts one event. 201 `{"ok":true,"seq":N}` once committed, and the same again for a replay
/// of the same event; 409 for its id with a different body. Every answer to an allowed origin
/// carries the CORS headers; other origins get 403 before the body is read, and an origin that
/// only another site lists gets 403 without them once the event names its site.
pub async fn post(State(st): State<AppState>, req: Request) -> Response {
    let origin = match allowed_origin(&st, req.headers()) {
        // A copy: the request's own value is a slice of hyper's read buffer (see below).
        Ok(origin) => HeaderValue::from_bytes(origin.as_bytes()).unwrap_or(origin),
        Err(why) => return forbidden(why),
    };
    // Nothing taken from the request lives on while the event waits for its commit: the body
    // and the header values are slices of hyper's read buffer, and while any of them is alive
    // the connection cannot reuse that buffer: each wait cost a fresh 8 KiB buffer, freed
    // later on glibc's slow path.
    let resp = match admit(&st, req).await {
        Ok(Admitted {
            event,
            unless_replay,
        }) => match (st.writer.append(event).await, unless_replay) {
            (Ok(Appended::New { seq }) | Ok(Appended::Replay { seq }), _) => created(seq),
            (Ok(Appended::Conflict { .. }) | Ok(Appended::Absent), Some(refusal)) => {
                refusal.into_response()
            }
            (Ok(Appended::Conflict { .. }), None) => ApiError::Conflict.into_response(),
            (Ok(Appended::Absent), None) => {
                ApiError::Unavailable("the event was not stored".into()).into_response()
            }
            (Err(e), _) => ApiError::Unavailable(e.to_string()).into_response(),
        },
        // Allowed for some other site, not this one: no CORS headers, or that site's pages
        // could read the refusal like any answer meant for them.
        Err(ApiError::Forbidden(why)) => return forbidden(why),
        Err(e) => e.into_response(),
    };
    with_cors(resp, origin)
}

/// An event that passed the checks, to be stored; or one whose choices do not match the site's
/// categories, which gets the original 201 if this exact event was stored before (a banner
/// retrying an event the endpoint committed, after the site's categories changed, must not be
/// told that a row that exists was refused) and `unless_replay` otherwise.
struct Admitted {
    event: NewEvent,
    unless_replay: Option<ApiError>,
}

/// Reads and checks an event: the row to append, or why it is refused.
async fn admit(st: &AppState, req: Request) -> Result<Admitted, ApiError> {
    let received_at = now_ms();
    check_declared_length(req.headers())?;
    let (parts, body) = req.into_parts();
    let bytes = read_body(body).await?;
    let event = ConsentEvent::parse(&bytes).map_err(|e| ApiError::from_event(&e))?;
    let site = st
        .config
        .site(&event.site_id)
        .ok_or_else(|| ApiError::field("unknown site", "site_id"))?;
    let origin = request_origin(&parts.headers).unwrap_or_default();
    if !site.allows(origin) {
        return Err(ApiError::Forbidden("origin not allowed for this site"));
    }
    let known: Vec<&str> = site.categories.iter().map(String::as_str).collect();
    let required: Vec<&str> = site.required.iter().map(String::as_str).collect();
    let unless_replay = event
        .check_categories(&known, &required)
        .err()
        .map(|e| ApiError::from_field(&e));
    if let Some(key) = parts.headers.get("idempotency-key") {
        let key = key.to_str().unwrap_or_default().trim().trim_matches('"');
        if key != event.event_id {
            return Err(ApiError::field(
                "Idempotency-Key must equal event_id",
                "Idempotency-Key",
            ));
        }
    }
    // Before the replay lookup too: refused events must not reach the writer unlimited.
    if st.limiter.enabled() {
        st.limiter
            .check(client_net(st, &parts), &site.id, Instant::now())
            .map_err(|wait| ApiError::RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil() as u64,
            })?;
    }

    let mut new = NewEvent::new(
        event.to_json(),
        event.event_id,
        event.site_id,
        event.consent_id,
        received_at,
        gpc_header(&parts.headers),
    );
    new.replay_only = unless_replay.is_some();
    Ok(Admitted {
        event: new,
        unless_replay,
    })
}

/// `OPTIONS /v1/events`: 204 with the CORS preflight headers for allowed origins, else 403.
pub async fn preflight(State(st): State<AppState>, headers: HeaderMap) -> Response {
    match allowed_origin(&st, &headers) {
        Ok(origin) => crate::origin::preflight(origin),
        Err(why) => forbidden(why),
    }
}
