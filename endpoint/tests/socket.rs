//! The endpoint over a real TCP socket: in process (`axum::serve`), and as the real binary
//! (graceful shutdown on SIGTERM).

mod common;

use axum::body::Bytes;
use common::*;
use consent_endpoint::config::Config;
use consent_endpoint::server::serve_on;
use consent_endpoint::{app, Endpoint};
use http_body_util::Full;
use hyper::{header, Request, StatusCode};
use serde_json::Value;

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
