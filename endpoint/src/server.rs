//! `serve`: bind, run until SIGINT/SIGTERM, then finish in-flight requests (within a deadline)
//! and queued commits.

use crate::assets::{self, Mount};
use crate::config::Config;
pub use crate::http::{serve_with, ServeOptions};
use crate::{app, Endpoint, StartError};
use axum::Router;
use std::future::Future;
use std::io::Write;
use thiserror::Error;
use tokio::net::TcpListener;

/// Why serving failed.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the endpoint (and the static mounts) until a shutdown signal.
pub async fn serve(config: Config, mounts: Vec<Mount>) -> Result<(), ServeError> {
    let token = std::env::var(&config.admin_token_env)
        .ok()
        .filter(|t| !t.is_empty());
    if token.is_none() {
        tracing::warn!(env = %config.admin_token_env, "no admin token in the environment: admin routes answer 503");
    }
    let listen = config.listen.clone();
    tracing::info!(database = %config.database.display(), sites = config.sites.len(), "opening");
    let endpoint = Endpoint::open(config, token)?;
    let router = assets::mount(app(endpoint.state.clone()), mounts);
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen.clone(),
            source,
        })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // One machine-readable line on stdout for scripts and tests (which may listen on port 0).
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "consent-endpoint listening on http://{addr}");
    let _ = out.flush();
    drop(out);
    let served = serve_on(listener, router, shutdown_signal()).await;
    tracing::info!("connections closed; committing queued events");
    endpoint.shutdown().await;
    served?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` resolves, with each connection's peer address
/// (the rate limiter keys on it) and the default deadlines of [`ServeOptions`]. Tests and the
/// ingest benchmark run the endpoint through this too.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, shutdown, ServeOptions::default()).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT"),
        () = term => tracing::info!("SIGTERM"),
    }
}
