//! Helpers shared by the endpoint's integration tests: configs, events, an HTTP client.
#![allow(dead_code)]

use axum::body::Bytes;
use consent_banner::core::ids::{consent_id, uuid_v4};
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpStream;

pub const ORIGIN: &str = "http://127.0.0.1:8080";
pub const TOKEN: &str = "test-admin-token";

/// A config with two sites; `extra` goes before the sites (e.g. a `[rate_limit]` table).
pub fn config_text(db: &Path, extra: &str) -> String {
    format!(
        r#"listen = "127.0.0.1:0"
database = "{}"
admin_token_env = "CONSENT_TEST_TOKEN_UNSET"
{extra}
[[sites]]
id = "rufio-marketing"
origins = ["http://127.0.0.1:8080", "http://localhost:8080"]
categories = ["essential", "analytics", "marketing"]
required = ["essential"]

[[sites]]
id = "rufio-app"
origins = ["https://app.rufio.example"]
categories = ["essential", "analytics"]
required = ["essential"]
"#,
        db.display()
    )
}

/// Random-enough 16 bytes for ids: a process-wide counter mixed with the time and pid.
pub fn random16() -> [u8; 16] {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = t ^ (u64::from(std::process::id()) << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    out[..8].copy_from_slice(&n.to_le_bytes());
    out
}

pub fn new_event_id() -> String {
    uuid_v4(&random16())
}

pub fn new_consent_id() -> String {
    consent_id(&random16())
}

/// A valid event body for `rufio-marketing`.
pub fn event(event_id: &str, consent: &str, analytics: bool, marketing: bool) -> String {
    format!(
        r#"{{"event_id":"{event_id}","consent_id":"{consent}","site_id":"rufio-marketing","action":"custom",
"choices":{{"essential":true,"analytics":{analytics},"marketing":{marketing}}},"surface":"preferences","revision":1,
"banner_version":"deadbeefcafe","language":"en","page":"https://rufio.example/pricing?email=a@b.c","client_ts":1764000000000,"gpc":false}}"#
    )
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    req: Request<Full<Bytes>>,
) -> Result<(StatusCode, HeaderMap, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await?.to_bytes();
    Ok((parts.status, parts.headers, bytes))
}

/// `POST /v1/events` with the demo origin.
pub fn post_event(addr: SocketAddr, body: &str) -> Request<Full<Bytes>> {
    Request::post(format!("http://{addr}/v1/events"))
        .header("host", addr.to_string())
        .header("origin", ORIGIN)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The real `consent-endpoint serve` binary, running.
pub struct Server {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

/// Starts `consent-endpoint serve --config PATH` and waits for its "listening on" line.
pub fn spawn_server(config: &Path) -> Server {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_consent-endpoint"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .env("CONSENT_TEST_TOKEN_UNSET", TOKEN)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start consent-endpoint");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Server { child, addr }
}

/// Runs `consent-endpoint verify --db PATH`: (success, stdout).
pub fn verify_cli(db: &Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consent-endpoint"))
        .args(["verify", "--db"])
        .arg(db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
