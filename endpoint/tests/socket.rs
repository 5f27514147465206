//! The endpoint over a real TCP socket: in process (`serve_on`, and `serve_with` for its
//! deadlines), and as the real binary (graceful shutdown on SIGTERM).

mod common;

use axum::body::Bytes;
use common::*;
use consent_endpoint::config::Config;
use consent_endpoint::server::{serve_on, serve_with, ServeOptions};
use consent_endpoint::{app, Endpoint};
use http_body_util::Full;
use hyper::{header, Request, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn json(b: &Bytes) -> Value {
    serde_json::from_slice(b).unwrap_or(Value::Null)
}

#[tokio::test]
async fn every_status_over_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("consent.db");
    let config = Config::parse(&config_text(
        &db,
        "[rate_limit]\nburst = 12\nper_second = 0.1\n",
    ))
    .unwrap();
    let endpoint = Endpoint::open(config, Some(TOKEN.into())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = app(endpoint.state.clone());
    let server = tokio::spawn(serve_on(listener, router, async {
        let _ = stopped.await;
    }));

    let (id, consent) = (new_event_id(), new_consent_id());
    let body = event(&id, &consent, true, false);
    let mut req = post_event(addr, &body);
    req.headers_mut().insert("sec-gpc", "1".parse().unwrap());
    let (s, h, b) = send(addr, req).await.unwrap();
    assert_eq!(
        (s, json(&b)),
        (
            StatusCode::CREATED,
            serde_json::json!({"ok": true, "seq": 1})
        )
    );
    assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    let (s2, _, b2) = send(addr, post_event(addr, &body)).await.unwrap();
    assert_eq!((s2, b2), (s, b), "a replay gets the original answer");
    let (s, _, _) = send(addr, post_event(addr, &event(&id, &consent, true, true)))
        .await
        .unwrap();
    assert_eq!(s, StatusCode::CONFLICT);

    let big = format!("{body}{}", " ".repeat(9000));
    assert_eq!(
        send(addr, post_event(addr, &big)).await.unwrap().0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        send(addr, post_event(addr, "{\"event_id\":"))
            .await
            .unwrap()
            .0,
        StatusCode::BAD_REQUEST
    );
    let (s, _, b) = send(
        addr,
        post_event(addr, &body.replace("\"marketing\":false", "\"x\":false")),
    )
    .await
    .unwrap();
    assert_eq!(
        (s, json(&b)["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("choices.x"))
    );
    let mut evil = post_event(addr, &event(&new_event_id(), &consent, true, true));
    evil.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(send(addr, evil).await.unwrap().0, StatusCode::FORBIDDEN);
    let mut none = post_event(addr, &event(&new_event_id(), &consent, true, true));
    none.headers_mut().remove(header::ORIGIN);
    assert_eq!(send(addr, none).await.unwrap().0, StatusCode::FORBIDDEN);
    let pre = Request::options(format!("http://{addr}/v1/events"))
        .header(header::HOST, addr.to_string())
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(addr, pre).await.unwrap().0, StatusCode::NO_CONTENT);

    let get = |uri: String, token: Option<&str>| {
        let mut r =
            Request::get(format!("http://{addr}{uri}")).header(header::HOST, addr.to_string());
        if let Some(t) = token {
            r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        r.body(Full::new(Bytes::new())).unwrap()
    };
    assert_eq!(
        send(addr, get(format!("/v1/consents/{consent}"), None))
            .await
            .unwrap()
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _, b) = send(addr, get(format!("/v1/consents/{consent}"), Some(TOKEN)))
        .await
        .unwrap();
    assert_eq!((s, json(&b)["count"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(json(&b)["events"][0]["gpc_header"], "1");
    assert_eq!(
        send(addr, get("/healthz".into(), None)).await.unwrap().0,
        StatusCode::OK
    );

    // The burst of 12 is spent after 11 more events; the 13th request is limited.
    let mut limited = None;
    for _ in 0..12 {
        let (s, h, _) = send(
            addr,
            post_event(addr, &event(&new_event_id(), &consent, true, true)),
        )
        .await
        .unwrap();
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(h);
            break;
        }
        assert_eq!(s, StatusCode::CREATED);
    }
    let limited = limited.expect("rate limited");
    assert!(
        limited[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    endpoint.shutdown().await;
    let (ok, out) = verify_cli(&db);
    assert!(ok, "{out}");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    assert!(
        !contains(&bytes, b"127.0.0.1"),
        "the client address is in the database"
    );
    assert!(
        !contains(&bytes, &[127, 0, 0, 1]),
        "the client address bytes are in the database"
    );
}

#[test]
fn the_binary_shuts_down_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("consent.db");
    let config = dir.path().join("endpoint.toml");
    std::fs::write(&config, config_text(&db, "")).unwrap();
    let mut server = spawn_server(&config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = server.addr;
    let (s, _, _) = rt
        .block_on(send(
            addr,
            post_event(addr, &event(&new_event_id(), &new_consent_id(), true, true)),
        ))
        .unwrap();
    assert_eq!(s, StatusCode::CREATED);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit within 10 s of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let (ok, out) = verify_cli(&db);
    assert!(ok && out.starts_with("OK: 1 rows"), "{out}");
}

/// The endpoint served in process with `options`: its database, the endpoint, its address, the
/// sender that starts the graceful shutdown, and the serving task.
async fn serve_in_process(
    options: ServeOptions,
) -> (
    tempfile::TempDir,
    Endpoint,
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::parse(&config_text(&dir.path().join("consent.db"), "")).unwrap();
    let endpoint = Endpoint::open(config, Some(TOKEN.into())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with(
        listener,
        app(endpoint.state.clone()),
        async {
            let _ = stopped.await;
        },
        options,
    ));
    (dir, endpoint, addr, stop, server)
}

/// Reads until the server closes the connection (or resets it): what it sent, or `None` if it
/// was still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut got)).await {
        Ok(Ok(_)) => Some(got),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(got),
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => None,
    }
}

/// The start of a request whose headers never end.
const PARTIAL_HEAD: &[u8] = b"POST /v1/events HTTP/1.1\r\nHost: x\r\n";

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    let timeout = Duration::from_millis(300);
    let (_dir, endpoint, addr, stop, server) = serve_in_process(ServeOptions {
        header_read_timeout: timeout,
        ..ServeOptions::default()
    })
    .await;
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(PARTIAL_HEAD).await.unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    for stream in [&mut partial, &mut silent] {
        let got = read_until_closed(stream, Duration::from_secs(5)).await;
        assert_eq!(got.as_deref(), Some(&b""[..]), "closed without an answer");
    }
    let took = start.elapsed();
    assert!(
        took >= timeout - Duration::from_millis(50) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // The server itself is fine.
    let (s, _, _) = send(
        addr,
        post_event(addr, &event(&new_event_id(), &new_consent_id(), true, true)),
    )
    .await
    .unwrap();
    assert_eq!(s, StatusCode::CREATED);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    endpoint.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight_and_ends_at_its_deadline() {
    let grace = Duration::from_millis(1000);
    let (dir, endpoint, addr, stop, server) = serve_in_process(ServeOptions {
        // Longer than the test: only the shutdown deadline can end the stalled connection.
        header_read_timeout: Duration::from_secs(60),
        shutdown_grace: grace,
    })
    .await;
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    stalled.write_all(PARTIAL_HEAD).await.unwrap();
    // A request in flight at the signal: headers and half the body sent.
    let body = event(&new_event_id(), &new_consent_id(), true, false);
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight
        .write_all(
            format!(
                "POST /v1/events HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    in_flight.write_all(first).await.unwrap();
    // An idle keep-alive connection, after one answered request.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(50)).await;

    let start = Instant::now();
    let _ = stop.send(());
    let closed = read_until_closed(&mut idle, Duration::from_millis(500)).await;
    assert_eq!(
        closed.as_deref(),
        Some(&b""[..]),
        "idle connections close at once"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections"
    );
    in_flight.write_all(rest).await.unwrap();
    let answer = read_until_closed(&mut in_flight, Duration::from_secs(5))
        .await
        .expect("the request in flight is answered and its connection closed");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    // The stalled client is still connected; the deadline ends the shutdown anyway.
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("graceful shutdown ends at its deadline")
        .unwrap()
        .unwrap();
    let took = start.elapsed();
    assert!(took >= grace - Duration::from_millis(50), "{took:?}");
    let closed = read_until_closed(&mut stalled, Duration::from_secs(1)).await;
    assert_eq!(closed.as_deref(), Some(&b""[..]), "dropped at the deadline");
    endpoint.shutdown().await;
    let (ok, out) = verify_cli(&dir.path().join("consent.db"));
    assert!(ok && out.starts_with("OK: 1 rows"), "{out}");
}

#[tokio::test]
async fn hyper_refuses_a_bad_content_length_before_the_endpoint_sees_it() {
    let (_dir, endpoint, addr, stop, server) = serve_in_process(ServeOptions::default()).await;
    let body = event(&new_event_id(), &new_consent_id(), true, true);
    for lengths in [
        "Content-Length: 12abc\r\n".to_string(),
        format!(
            "Content-Length: {0}\r\nContent-Length: {1}\r\n",
            body.len(),
            body.len() + 1
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                format!("POST /v1/events HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\n{lengths}\r\n{body}")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .expect("closed after the answer");
        let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
        let (head, rest) = answer.split_once("\r\n\r\n").unwrap();
        // Hyper's own answer: no JSON error, no CORS, no nosniff.
        assert!(
            head.starts_with("http/1.1 400 bad request"),
            "{lengths}: {answer}"
        );
        assert!(rest.is_empty(), "{lengths}: {answer}");
        for absent in [
            "access-control-allow-origin",
            "x-content-type-options",
            "content-type",
        ] {
            assert!(!head.contains(absent), "{lengths}: {answer}");
        }
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    endpoint.shutdown().await;
}
