//! Serving HTTP/1.1 connections: each request gets its peer address, headers get a deadline, and
//! a graceful shutdown lets requests in flight finish but ends at a deadline too.
//!
//! `axum::serve` has neither deadline: a client that sent part of a request's headers and then
//! nothing held its connection, and a graceful shutdown, for as long as it liked.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::Service;

/// The deadlines of [`serve_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers, counted from the connection's
    /// start or the end of its previous response (so it is also how long an idle keep-alive
    /// connection stays open). Bodies have their own deadline in the events route.
    pub header_read_timeout: Duration,
    /// How long a graceful shutdown waits for the connections open at the signal before it drops
    /// them. A request in flight normally needs milliseconds (its commit); the events they had
    /// queued are committed after this anyway.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(15),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets each
/// connection finish the request it is in (keep-alive off, idle connections closed at once) and
/// returns when they are all closed or [`ServeOptions::shutdown_grace`] has passed, whichever
/// comes first. Each request carries `ConnectInfo<SocketAddr>` (the rate limiter keys on it).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let http = Arc::new(http);
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            // Finished connections leave the set, or it would grow with every one ever served.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(
                        http.clone(),
                        stream,
                        peer,
                        router.clone(),
                        stopping.clone(),
                    ));
                }
                Err(e) => accept_failed(e).await,
            },
        }
    }
    drop(listener);
    stop.send_replace(true);
    if connections.is_empty() {
        return Ok(());
    }
    tracing::info!(
        connections = connections.len(),
        "draining the open connections"
    );
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            grace_ms = options.shutdown_grace.as_millis() as u64,
            "graceful shutdown deadline passed: dropping the connections still open"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until it closes, or, once `stopping` turns true, until the request it
/// is in (if any) has its answer.
async fn connection(
    http: Arc<http1::Builder>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    mut stopping: watch::Receiver<bool>,
) {
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(req)
    });
    let mut conn = std::pin::pin!(http.serve_connection(TokioIo::new(stream), service));
    // A closed channel (the server gone) is a stop too.
    let stop = async {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = stop => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// What `axum::serve` did on a failed accept: a connection that died in the backlog is skipped;
/// anything else (such as running out of file descriptors) is logged and waited out for a second
/// rather than retried in a busy loop.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
