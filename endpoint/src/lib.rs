//! The consent-event endpoint: receives [`ConsentEvent`]s from the banner, validates them against
//! each site's configuration, and answers 2xx only after the event is durably committed to a
//! hash-chained SQLite log. Also: admin export and erasure by consent id, daily stats,
//! retention, chain verification, and static files for the demo.
//!
//! [`app`] builds the router from an [`AppState`]; tests drive it without a socket.
//!
//! [`ConsentEvent`]: consent_banner::core::event::ConsentEvent

pub mod assets;
pub mod chain;
pub mod config;
pub mod error;
pub mod http;
pub mod keys;
pub mod origin;
pub mod rate;
pub mod routes;
pub mod schema;
pub mod server;
pub mod stats;
pub mod store;
pub mod syncer;
pub mod time;
pub mod writer;

use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use config::Config;
use rate::RateLimiter;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use store::StoreError;
use thiserror::Error;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::level_filters::LevelFilter;
use writer::{Writer, WriterThread};

/// Shared state of the running endpoint; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the handlers share.
pub struct Inner {
    pub config: Config,
    pub writer: Writer,
    /// A second connection for reads (WAL lets them run beside the writer).
    pub reader: Arc<Mutex<Connection>>,
    pub limiter: RateLimiter,
    /// The admin bearer token; `None` turns the admin routes off (503).
    pub admin_token: Option<String>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Why the endpoint could not start.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An open endpoint: its state and the writer thread behind it.
pub struct Endpoint {
    pub state: AppState,
    writer: WriterThread,
}

impl Endpoint {
    /// Opens the database named in `config` and starts the writer.
    pub fn open(config: Config, admin_token: Option<String>) -> Result<Endpoint, StartError> {
        let conn = store::open(&config.database)?;
        let keys = keys::Keys::load(&conn)?;
        let reader = store::open(&config.database)?;
        let checkpointer = store::open(&config.database)?;
        let (writer, thread) = writer::spawn(
            &config.database,
            conn,
            keys,
            checkpointer,
            config.writer.max_batch,
            config.writer.queue,
        )?;
        let inner = Inner {
            limiter: RateLimiter::new(&config.rate_limit),
            admin_token: admin_token.filter(|t| !t.is_empty()),
            config,
            writer,
            reader: Arc::new(Mutex::new(reader)),
        };
        Ok(Endpoint {
            state: AppState(Arc::new(inner)),
            writer: thread,
        })
    }

    /// Commits everything already queued, then stops the writer.
    pub async fn shutdown(self) {
        drop(self.state);
        self.writer.shutdown().await;
    }
}

/// The API router: events, admin, stats, health. Static files are added by [`assets::mount`].
pub fn app(state: AppState) -> Router {
    // The events route checks its Origin, body size and body timeout itself (see
    // `routes::events`): as layers they cost more per event than the checks do.
    let events = Router::new()
        .route(
            "/v1/events",
            post(routes::events::post).options(routes::events::preflight),
        )
        .method_not_allowed_fallback(routes::method_not_allowed);
    // The trace layer's span, timers and body wrapper cost about a microsecond per event
    // whether or not anything is logged, and below debug it logs nothing the events route
    // does not log itself (its storage failures at error, its refusals at debug). So that
    // route is traced only when debug logging was on when the router was built. (Each part
    // gets its 405 handler before its trace layer, or that layer would not wrap it.)
    let events = if LevelFilter::current() >= LevelFilter::DEBUG {
        events.layer(TraceLayer::new_for_http())
    } else {
        events
    };
    Router::new()
        .route("/healthz", get(routes::health))
        .route(
            "/v1/consents/{consent_id}",
            get(routes::admin::get_consent).delete(routes::admin::erase_consent),
        )
        .route("/v1/stats", get(routes::admin::stats))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(TraceLayer::new_for_http())
        .merge(events)
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}
