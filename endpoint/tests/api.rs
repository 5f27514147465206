//! The endpoint through `app()` without a socket (`tower::ServiceExt::oneshot`): every status,
//! idempotency, limits, origins, CORS, admin routes, erasure, retention, stats, tamper detection.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use common::*;
use consent_endpoint::assets::{self, Mount};
use consent_endpoint::config::Config;
use consent_endpoint::store;
use consent_endpoint::time::{format_date, now_ms, DAY_MS};
use consent_endpoint::{app, Endpoint};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use tower::ServiceExt;

const CLIENT: [u8; 4] = [203, 0, 113, 77];

struct Harness {
    _dir: tempfile::TempDir,
    db: PathBuf,
    endpoint: Endpoint,
    router: Router,
}

fn harness_with(extra: &str, token: Option<&str>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("consent.db");
    let config = Config::parse(&config_text(&db, extra)).unwrap();
    let endpoint = Endpoint::open(config, token.map(String::from)).unwrap();
    let router = app(endpoint.state.clone());
    Harness {
        _dir: dir,
        db,
        endpoint,
        router,
    }
}

fn harness() -> Harness {
    harness_with("", Some(TOKEN))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    raw: Vec<u8>,
}

impl Harness {
    async fn call(&self, mut req: Request<Body>) -> Reply {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from((CLIENT, 40_000))));
        }
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let raw = body.collect().await.unwrap().to_bytes().to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            raw,
        }
    }

    async fn post(&self, body: &str) -> Reply {
        self.call(post(body)).await
    }

    fn rows(&self) -> i64 {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap()
    }

    fn cli(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_consent-endpoint"))
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

fn post(body: &str) -> Request<Body> {
    Request::post("/v1/events")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn admin(method: &str, uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn stores_an_event_once_and_replays_the_answer() {
    let h = harness();
    let (id, consent) = (new_event_id(), new_consent_id());
    let first = h.post(&event(&id, &consent, true, false)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body, json!({ "ok": true, "seq": 1 }));
    assert_eq!(first.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert_eq!(first.headers[header::VARY], "Origin");
    for _ in 0..2 {
        let again = h.post(&event(&id, &consent, true, false)).await;
        assert_eq!(
            (again.status, again.raw.clone()),
            (first.status, first.raw.clone())
        );
    }
    let changed = h.post(&event(&id, &consent, true, true)).await;
    assert_eq!(changed.status, StatusCode::CONFLICT);
    assert_eq!(changed.body["field"], "event_id");
    assert_eq!(h.rows(), 1);
    let second = h
        .post(&event(&new_event_id(), &consent, false, false))
        .await;
    assert_eq!(second.body["seq"], 2);
    // The stored payload is the canonical form: the page lost its query.
    let c = rusqlite::Connection::open(&h.db).unwrap();
    let payload: String = c
        .query_row("SELECT payload FROM events WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    assert!(
        payload.contains(r#""page":"https://rufio.example/pricing""#) && !payload.contains("email"),
        "{payload}"
    );
    h.endpoint.shutdown().await;
}

#[tokio::test]
async fn a_stored_event_replays_after_its_category_is_removed() {
    let h = harness();
    let (id, consent) = (new_event_id(), new_consent_id());
    let body = event(&id, &consent, true, true);
    let first = h.post(&body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    h.endpoint.shutdown().await;

    // The site drops `marketing`; the banner then retries the event it never saw answered.
    let text = config_text(&h.db, "").replacen(
        r#"categories = ["essential", "analytics", "marketing"]"#,
        r#"categories = ["essential", "analytics"]"#,
        1,
    );
    let endpoint = Endpoint::open(Config::parse(&text).unwrap(), Some(TOKEN.into())).unwrap();
    let h = Harness {
        router: app(endpoint.state.clone()),
        endpoint,
        ..h
    };
    let again = h.post(&body).await;
    assert_eq!((again.status, again.raw), (first.status, first.raw));
    // Only that exact event: the same id with another body, or a new event, with the removed
    // category is refused, naming it; neither writes a row.
    for other in [
        event(&id, &consent, false, true),
        event(&new_event_id(), &consent, true, true),
    ] {
        let refused = h.post(&other).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.body["field"], "choices.marketing");
    }
    assert_eq!(h.rows(), 1);
    h.endpoint.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_must_match_the_event() {
    let h = harness();
    let id = new_event_id();
    let body = event(&id, &new_consent_id(), true, true);
    let mut req = post(&body);
    req.headers_mut()
        .insert("idempotency-key", id.parse().unwrap());
    assert_eq!(h.call(req).await.status, StatusCode::CREATED);
    let mut req = post(&body);
    req.headers_mut()
        .insert("idempotency-key", new_event_id().parse().unwrap());
    let r = h.call(req).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Idempotency-Key"))
    );
}

#[tokio::test]
async fn refuses_bodies_over_8_kib() {
    let h = harness();
    let big = format!(
        "{}{}",
        event(&new_event_id(), &new_consent_id(), true, true),
        " ".repeat(9000)
    );
    let r = h.post(&big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["error"], "body too large");
    // A declared length over the limit is refused before any byte is read.
    let mut req = post("{}");
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, "1000000".parse().unwrap());
    assert_eq!(h.call(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A length that is not a number gets the JSON 400 here, through the router alone; over a
    // socket hyper refuses it first (see tests/socket.rs).
    let mut req = post("{}");
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, "12abc".parse().unwrap());
    let r = h.call(req).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid Content-Length"))
    );
    // A streamed body with no declared length is cut at the limit.
    let req = Request::post("/v1/events")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::new(Chunks(20)))
        .unwrap();
    assert!(req.headers().get(header::CONTENT_LENGTH).is_none());
    assert_eq!(h.call(req).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(h.rows(), 0);
}

/// A body of `n` 1 KiB chunks with no size hint (like chunked transfer encoding).
struct Chunks(usize);

impl http_body::Body for Chunks {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        if self.0 == 0 {
            return std::task::Poll::Ready(None);
        }
        self.0 -= 1;
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(vec![b' '; 1024].into()))))
    }
}

#[tokio::test]
async fn bad_events_get_400_naming_the_field() {
    let h = harness();
    let ok = event(&new_event_id(), &new_consent_id(), true, true);
    let cases = [
        ("{not json".to_string(), None),
        (
            ok.replace(r#""marketing":true"#, r#""x":true"#),
            Some("choices.x"),
        ),
        (
            ok.replace(r#""marketing":true"#, r#""x<script>":true"#),
            Some("choices.x<script>"),
        ),
        (
            ok.replace(r#""essential":true"#, r#""essential":false"#),
            Some("choices.essential"),
        ),
        (
            ok.replace(r#""essential":true,"#, ""),
            Some("choices.essential"),
        ),
        (
            ok.replace("rufio-marketing", "no-such-site"),
            Some("site_id"),
        ),
        (
            ok.replace(r#""action":"custom""#, r#""action":"maybe""#),
            Some("action"),
        ),
        (
            ok.replace(r#""gpc":false"#, r#""gpc":false,"ip":"1.2.3.4""#),
            Some("ip"),
        ),
    ];
    for (body, field) in cases {
        let r = h.post(&body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.body["field"].as_str(), field, "{body}: {}", r.body);
        assert!(r.body["error"].is_string());
    }
    assert_eq!(h.rows(), 0);
}

#[tokio::test]
async fn checks_the_origin_server_side() {
    let h = harness();
    let body = event(&new_event_id(), &new_consent_id(), true, true);
    let mut evil = post(&body);
    evil.headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let r = h.call(evil).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let mut none = post(&body);
    none.headers_mut().remove(header::ORIGIN);
    assert_eq!(h.call(none).await.status, StatusCode::FORBIDDEN);
    // An origin of another site may not post for this one, and its pages may not read why.
    let mut other = post(&body);
    other
        .headers_mut()
        .insert(header::ORIGIN, "https://app.rufio.example".parse().unwrap());
    let r = h.call(other).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "origin not allowed for this site");
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(r
        .headers
        .get(header::ACCESS_CONTROL_EXPOSE_HEADERS)
        .is_none());
    assert_eq!(r.headers[header::VARY], "Origin");
    assert_eq!(h.rows(), 0);
}

#[tokio::test]
async fn answers_preflights_for_allowed_origins_only() {
    let h = harness();
    let pre = |origin: &str| {
        Request::options("/v1/events")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type,idempotency-key",
            )
            .body(Body::empty())
            .unwrap()
    };
    let ok = h.call(pre("http://localhost:8080")).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://localhost:8080"
    );
    assert_eq!(ok.headers[header::ACCESS_CONTROL_ALLOW_METHODS], "POST");
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "Content-Type, Idempotency-Key"
    );
    assert_eq!(ok.headers[header::VARY], "Origin");
    let bad = h.call(pre("https://evil.example")).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert!(bad
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

#[tokio::test]
async fn rate_limits_per_client_network_and_site() {
    let h = harness_with("[rate_limit]\nburst = 3\nper_second = 0.5\n", Some(TOKEN));
    let consent = new_consent_id();
    for _ in 0..3 {
        assert_eq!(
            h.post(&event(&new_event_id(), &consent, true, true))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let limited = h.post(&event(&new_event_id(), &consent, true, true)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers[header::RETRY_AFTER], "2");
    assert_eq!(
        limited.headers[header::ACCESS_CONTROL_EXPOSE_HEADERS],
        "Retry-After"
    );
    // Same /24: same bucket. Another network: its own bucket.
    let mut same_net = post(&event(&new_event_id(), &consent, true, true));
    same_net
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([203, 0, 113, 200], 1))));
    assert_eq!(h.call(same_net).await.status, StatusCode::TOO_MANY_REQUESTS);
    let mut other = post(&event(&new_event_id(), &consent, true, true));
    other
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([198, 51, 100, 1], 1))));
    assert_eq!(h.call(other).await.status, StatusCode::CREATED);
    assert_eq!(h.rows(), 4);
}

#[tokio::test]
async fn behind_a_proxy_the_address_it_added_counts_not_what_the_client_wrote() {
    let h = harness_with(
        "[rate_limit]\nburst = 2\nper_second = 0.5\nclient_ip_header = \"x-forwarded-for\"\n",
        Some(TOKEN),
    );
    let consent = new_consent_id();
    let from = |forwarded: &str| {
        let mut req = post(&event(&new_event_id(), &consent, true, true));
        req.headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        req
    };
    // Each request claims another origin on the left; the proxy's entry on the right is the same.
    let statuses = [
        h.call(from("1.1.1.1, 198.51.100.7")).await.status,
        h.call(from("2.2.2.2, 198.51.100.7")).await.status,
        h.call(from("3.3.3.3, 198.51.100.7")).await.status,
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another client, as the proxy saw it: its own bucket.
    assert_eq!(
        h.call(from("3.3.3.3, 192.0.2.9")).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn records_sec_gpc_and_no_client_address() {
    let h = harness();
    let mut req = post(&event(&new_event_id(), &new_consent_id(), true, false));
    req.headers_mut().insert("sec-gpc", "1".parse().unwrap());
    assert_eq!(h.call(req).await.status, StatusCode::CREATED);
    assert_eq!(
        h.post(&event(&new_event_id(), &new_consent_id(), true, false))
            .await
            .status,
        StatusCode::CREATED
    );
    let c = rusqlite::Connection::open(&h.db).unwrap();
    let gpc: Vec<Option<String>> = c
        .prepare("SELECT gpc_header FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(gpc, [Some("1".to_string()), None]);
    drop(c);
    h.endpoint.shutdown().await;
    let mut bytes = std::fs::read(&h.db).unwrap();
    bytes.extend(std::fs::read(h.db.with_extension("db-wal")).unwrap_or_default());
    for needle in ["203.0.113.77", "203.0.113"] {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{needle} found in the database"
        );
    }
    assert!(
        !contains(&bytes, &CLIENT),
        "raw address bytes found in the database"
    );
}

#[tokio::test]
async fn admin_routes_need_the_token() {
    let h = harness();
    let consent = new_consent_id();
    let uri = format!("/v1/consents/{consent}");
    assert_eq!(
        h.call(admin("GET", &uri, None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong = h.call(admin("GET", &uri, Some("nope"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        h.call(admin("DELETE", &uri, None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.call(admin(
            "GET",
            "/v1/stats?site=rufio-marketing&from=2026-01-01&to=2026-01-02",
            None
        ))
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.call(admin("GET", &uri, Some(TOKEN))).await.status,
        StatusCode::OK
    );
    assert_eq!(
        h.call(admin("GET", "/v1/consents/NOT-AN-ID", Some(TOKEN)))
            .await
            .body["field"],
        "consent_id"
    );

    let off = harness_with("", None);
    assert_eq!(
        off.call(admin("GET", &uri, Some(""))).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        off.call(admin("GET", &uri, Some(TOKEN))).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn exports_and_erases_a_consent_keeping_the_chain() {
    let h = harness();
    let (me, other) = (new_consent_id(), new_consent_id());
    let mut mine = Vec::new();
    for i in 0..3 {
        let id = new_event_id();
        h.post(&event(&id, &me, i % 2 == 0, false)).await;
        h.post(&event(&new_event_id(), &other, true, true)).await;
        mine.push(id);
    }
    let uri = format!("/v1/consents/{me}");
    let got = h.call(admin("GET", &uri, Some(TOKEN))).await;
    assert_eq!(got.body["count"], 3);
    let events = got.body["events"].as_array().unwrap();
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, mine.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(events[0]["event"]["choices"]["analytics"], true);
    assert_eq!(events[1]["event"]["choices"]["analytics"], false);
    assert!(events[0]["seq"].as_i64() < events[1]["seq"].as_i64());

    let erased = h.call(admin("DELETE", &uri, Some(TOKEN))).await;
    assert_eq!(
        erased.body,
        json!({ "ok": true, "consent_id": me, "erased": 3 })
    );
    let after = h.call(admin("GET", &uri, Some(TOKEN))).await;
    assert_eq!(after.body["count"], 3, "tombstones stay");
    assert!(after.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event"].is_null() && e["erased"] == true));
    let theirs = h
        .call(admin("GET", &format!("/v1/consents/{other}"), Some(TOKEN)))
        .await;
    assert!(theirs.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event"].is_object()));
    let (ok, out) = h.cli(&["verify"]);
    assert!(ok && out.starts_with("OK: 6 rows"), "{out}");
    // A retry of an erased event is still recognised, and still not stored twice.
    assert_eq!(
        h.post(&event(&mine[0], &me, true, false)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(h.rows(), 6);
    // Tombstones purge like any row, and the checkpoint they leave verifies.
    let c = rusqlite::Connection::open(&h.db).unwrap();
    let cutoff: i64 = c
        .query_row("SELECT MAX(received_at) FROM events", [], |r| r.get(0))
        .unwrap();
    while now_ms() <= cutoff {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (ok, out) = h.cli(&["purge", "--older-than", "0"]);
    assert!(ok && out.contains("purged 6 rows"), "{out}");
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        ok && out.starts_with("OK: 0 rows verified from checkpoint at seq 6"),
        "{out}"
    );
}

/// A row's `payload_sha256` and the raw text of its `event`, as written.
#[derive(serde::Deserialize)]
struct RawRow<'a> {
    payload_sha256: String,
    #[serde(borrow)]
    event: &'a serde_json::value::RawValue,
}

#[derive(serde::Deserialize)]
struct RawRows<'a> {
    #[serde(borrow)]
    events: Vec<RawRow<'a>>,
}

#[tokio::test]
async fn exported_events_are_the_stored_text_and_match_their_hash() {
    let h = harness();
    let consent = new_consent_id();
    // Choices in the client's order, not alphabetical.
    let body = event(&new_event_id(), &consent, true, false).replace(
        r#"{"essential":true,"analytics":true,"marketing":false}"#,
        r#"{"marketing":false,"essential":true,"analytics":true}"#,
    );
    assert_eq!(h.post(&body).await.status, StatusCode::CREATED);
    let c = rusqlite::Connection::open(&h.db).unwrap();
    let stored: String = c
        .query_row("SELECT payload FROM events WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    let check = |row: &RawRow| {
        let text = row.event.get();
        assert_eq!(
            text, stored,
            "the event is the stored payload, byte for byte"
        );
        assert_eq!(
            store::hex(&store::sha256(text.as_bytes())),
            row.payload_sha256
        );
        assert!(text.starts_with(r#"{"event_id":"#), "{text}");
        assert!(
            text.contains(r#""choices":{"marketing":false,"essential":true,"analytics":true}"#),
            "{text}"
        );
    };

    let got = h
        .call(admin(
            "GET",
            &format!("/v1/consents/{consent}"),
            Some(TOKEN),
        ))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let rows: RawRows = serde_json::from_slice(&got.raw).unwrap();
    assert_eq!(rows.events.len(), 1);
    check(&rows.events[0]);

    let (ok, out) = h.cli(&["export"]);
    assert!(ok);
    let lines: Vec<RawRow> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    check(&lines[0]);
}

#[tokio::test]
async fn verify_reports_the_tampered_row() {
    let h = harness();
    for _ in 0..5 {
        h.post(&event(&new_event_id(), &new_consent_id(), true, true))
            .await;
    }
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        ok && out.starts_with("OK: 5 rows verified from genesis"),
        "{out}"
    );
    let c = rusqlite::Connection::open(&h.db).unwrap();
    // The triggers refuse rewrites; someone with the file can drop them, but not hide it.
    assert!(c
        .execute(
            "UPDATE events SET payload = replace(payload, 'false', 'true') WHERE seq = 3",
            []
        )
        .is_err());
    c.execute_batch("DROP TRIGGER events_erase_only; DROP TRIGGER events_append_only;")
        .unwrap();
    c.execute("UPDATE events SET payload = replace(payload, '\"analytics\":true', '\"analytics\":false') WHERE seq = 3", []).unwrap();
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        !ok && out.starts_with("BROKEN at row seq 3: payload does not match its hash"),
        "{out}"
    );
    // Recomputing the payload hash is not enough either: the chain no longer follows.
    let p: String = c
        .query_row("SELECT payload FROM events WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    c.execute(
        "UPDATE events SET payload_hash = ?1 WHERE seq = 3",
        [store::sha256(p.as_bytes()).to_vec()],
    )
    .unwrap();
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        !ok && out.starts_with("BROKEN at row seq 3: chain hash"),
        "{out}"
    );
    c.execute("DELETE FROM events WHERE seq = 3", []).unwrap();
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        !ok && out.starts_with("BROKEN at row seq 4: rows 3..3 are missing"),
        "{out}"
    );
    // A broken chain is never purged into a checkpoint.
    let (ok, out) = h.cli(&["purge", "--older-than", "0"]);
    assert!(!ok && out.contains("not purging"), "{out}");
}

#[test]
fn the_tools_refuse_a_database_that_is_not_an_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    for args in [
        &["verify"][..],
        &["export"],
        &["purge", "--older-than", "0"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_consent-endpoint"))
            .args(args)
            .arg("--db")
            .arg(&other)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.contains("is not a consent-endpoint database"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            std::fs::read(&other).unwrap(),
            before,
            "{args:?} changed it"
        );
    }
    let tables: String = rusqlite::Connection::open(&other)
        .unwrap()
        .query_row(
            "SELECT group_concat(name) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, "notes");
}

#[tokio::test]
async fn purge_keeps_the_rest_of_the_chain_verifiable() {
    let h = harness();
    for _ in 0..4 {
        h.post(&event(&new_event_id(), &new_consent_id(), true, true))
            .await;
    }
    let (ok, out) = h.cli(&["purge", "--older-than", "30"]);
    assert!(ok && out.contains("purged 0 rows"), "{out}");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let (ok, out) = h.cli(&["purge", "--older-than", "0"]);
    assert!(
        ok && out.contains("purged 4 rows; checkpoint at seq 4"),
        "{out}"
    );
    let r = h
        .post(&event(&new_event_id(), &new_consent_id(), true, true))
        .await;
    assert_eq!(r.body["seq"], 5, "the chain continues after the checkpoint");
    let (ok, out) = h.cli(&["verify"]);
    assert!(
        ok && out.starts_with("OK: 1 rows verified from checkpoint at seq 4"),
        "{out}"
    );
}

#[tokio::test]
async fn export_writes_json_lines_for_a_time_range() {
    let h = harness();
    let before = now_ms();
    for _ in 0..3 {
        h.post(&event(&new_event_id(), &new_consent_id(), true, true))
            .await;
    }
    let (ok, out) = h.cli(&["export", "--from", &before.to_string()]);
    assert!(ok);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["seq"], 3);
    assert_eq!(lines[0]["event"]["site_id"], "rufio-marketing");
    assert_eq!(lines[0]["chain_hash"].as_str().unwrap().len(), 64);
    let (ok, out) = h.cli(&["export", "--to", "2001-01-01T00:00:00Z"]);
    assert!(ok && out.is_empty());
    let (ok, _) = h.cli(&["export", "--from", "last tuesday"]);
    assert!(!ok);
    let (ok, _) = h.cli(&["export", "--from", "2026-12-01", "--to", "2026-11-01"]);
    assert!(!ok, "an empty range is a usage error");
    let (ok, _) = h.cli(&["export", "--from", "2026-11-01", "--from", "2026-12-01"]);
    assert!(!ok, "a repeated option is a usage error");
    let (ok, _) = h.cli(&["export", "--config", "endpoint.toml"]);
    assert!(!ok, "--db and --config together are a usage error");
}

#[tokio::test]
async fn stats_count_the_latest_decision_per_consent_per_day() {
    let h = harness();
    let ids: Vec<String> = (0..4).map(|_| new_consent_id()).collect();
    h.post(&event(&new_event_id(), &ids[0], true, true)).await;
    h.post(&event(&new_event_id(), &ids[1], true, false)).await;
    h.post(&event(&new_event_id(), &ids[2], true, true)).await;
    h.post(&event(&new_event_id(), &ids[2], false, false)).await; // changed their mind: counts once, as refused
    h.post(&event(&new_event_id(), &ids[3], false, false)).await;
    let today = now_ms().div_euclid(DAY_MS);
    let (yesterday, today_s) = (format_date(today - 1), format_date(today));
    let r = h
        .call(admin(
            "GET",
            &format!("/v1/stats?site=rufio-marketing&from={yesterday}&to={today_s}"),
            Some(TOKEN),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["site"], "rufio-marketing");
    let days = r.body["days"].as_array().unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!(
        days[0],
        json!({ "date": yesterday, "decisions": 0,
        "granted": { "analytics": 0.0, "essential": 0.0, "marketing": 0.0 },
        "granted_count": { "analytics": 0, "essential": 0, "marketing": 0 } })
    );
    assert_eq!(days[1]["date"], today_s);
    assert_eq!(days[1]["decisions"], 4);
    assert_eq!(
        days[1]["granted"],
        json!({ "analytics": 0.5, "essential": 1.0, "marketing": 0.25 })
    );
    assert_eq!(days[1]["granted_count"]["analytics"], 2);

    let bad = [
        (
            "/v1/stats?from=2026-01-01&to=2026-01-02".to_string(),
            "site",
        ),
        (
            "/v1/stats?site=nope&from=2026-01-01&to=2026-01-02".into(),
            "site",
        ),
        (
            "/v1/stats?site=rufio-marketing&from=2026-13-01&to=2026-01-02".into(),
            "from",
        ),
        (
            "/v1/stats?site=rufio-marketing&from=2026-01-03&to=2026-01-02".into(),
            "to",
        ),
        (
            "/v1/stats?site=rufio-marketing&from=2020-01-01&to=2026-01-02".into(),
            "to",
        ),
    ];
    for (uri, field) in bad {
        let r = h.call(admin("GET", &uri, Some(TOKEN))).await;
        assert_eq!(
            (r.status, r.body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn health_turns_503_once_events_cannot_be_stored() {
    let Harness {
        _dir,
        router,
        endpoint,
        ..
    } = harness();
    let health = || {
        router
            .clone()
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
    };
    assert_eq!(health().await.unwrap().status(), StatusCode::OK);
    // The writer thread stops (as it would after a fatal error); the router is still serving.
    endpoint.shutdown().await;
    let r = health().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["ok"], json!(false));
}

#[tokio::test]
async fn health_and_unknown_routes() {
    let h = harness();
    let r = h
        .call(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, json!({ "ok": true }))
    );
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    // Every refusal has the same JSON shape: an unknown path, a wrong method, a path segment that
    // is not UTF-8 (below).
    for (req, status, error) in [
        (
            admin("GET", "/nope", None),
            StatusCode::NOT_FOUND,
            "not found",
        ),
        (
            admin("POST", "/v1/stats", Some(TOKEN)),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
        (
            admin("GET", "/v1/events", None),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
    ] {
        let r = h.call(req).await;
        assert_eq!((r.status, r.body["error"].as_str()), (status, Some(error)));
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
    let r = h.call(admin("GET", "/v1/consents/%FF", None)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the token is checked first"
    );
    let r = h.call(admin("GET", "/v1/consents/%FF", Some(TOKEN))).await;
    assert_eq!(
        (r.status, r.body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("consent_id"))
    );
}

#[tokio::test]
async fn serves_static_files_with_the_wasm_type() {
    let h = harness();
    let site = tempfile::tempdir().unwrap();
    let pkg = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("index.html"),
        "<!doctype html><title>demo</title>",
    )
    .unwrap();
    std::fs::write(pkg.path().join("banner_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::create_dir(pkg.path().join("sub")).unwrap();
    std::fs::write(pkg.path().join("sub/index.html"), "sub").unwrap();
    let mounts = vec![
        Mount::parse(site.path().to_str().unwrap()).unwrap(),
        Mount::parse(&format!("/pkg={}", pkg.path().display())).unwrap(),
    ];
    let router = assets::mount(app(h.endpoint.state.clone()), mounts);
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let r = router
        .clone()
        .oneshot(get("/pkg/banner_bg.wasm"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let r = router.clone().oneshot(get("/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let r = router.clone().oneshot(get("/pkg/sub")).await.unwrap();
    assert_eq!(
        r.headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap()),
        Some("/pkg/sub/")
    );
    let missing = router.clone().oneshot(get("/missing.js")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let r = router.clone().oneshot(get("/healthz")).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "API routes win over static files"
    );
}
