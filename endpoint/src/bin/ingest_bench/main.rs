//! Ingest benchmark: events per second and p50/p99 latency of `POST /v1/events` with durable
//! (WAL, fsync before every answer, group-commit) writes, at several client counts, next to a
//! trivial axum handler that answers 204 and to the durability floor ([`floor`]: append + fsync,
//! nothing else), all measured in the same run on the same machine. Loopback only; bounded by an
//! event count and a time limit per measurement.
//!
//! `cargo run --release -p consent-endpoint --bin ingest-bench -- [--events N] [--seconds S]
//!  [--clients 1,16,64] [--dir DIR]` (or `bench/ingest.sh`).

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use consent_banner::core::ids::{consent_id, uuid_v4};
use consent_endpoint::config::Config;
use consent_endpoint::server::serve_on;
use consent_endpoint::store;
use consent_endpoint::{app, Endpoint};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

mod floor;

const ORIGIN: &str = "http://127.0.0.1:8080";

struct Options {
    events: usize,
    seconds: f64,
    clients: Vec<usize>,
    dir: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        events: 20_000,
        seconds: 8.0,
        clients: vec![1, 16, 64],
        dir: "target/ingest-bench".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--events" => o.events = value()?.parse().map_err(|e| format!("--events: {e}"))?,
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--clients" => {
                o.clients = value()?.split(',').map(|c| c.trim().parse()).collect::<Result<_, _>>().map_err(|e| format!("--clients: {e}"))?
            }
            "--dir" => o.dir = value()?.into(),
            _ => return Err(format!("unknown argument {flag}; usage: ingest-bench [--events N] [--seconds S] [--clients 1,16,64] [--dir DIR]")),
        }
    }
    if o.events == 0 || o.clients.contains(&0) || o.seconds.is_nan() || o.seconds <= 0.0 {
        return Err("--events, --seconds and --clients must be positive".into());
    }
    Ok(o)
}

/// Random-enough bytes for ids (xorshift seeded from the clock).
struct Rng(u64);

impl Rng {
    fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes());
        }
        out
    }
}

fn event_body(rng: &mut Rng, consent: &str, i: usize) -> Bytes {
    let id = uuid_v4(&rng.bytes16());
    let (a, m) = (i % 2 == 0, i % 3 == 0);
    Bytes::from(format!(
        r#"{{"event_id":"{id}","consent_id":"{consent}","site_id":"bench","action":"custom","choices":{{"essential":true,"analytics":{a},"marketing":{m}}},"surface":"first_layer","revision":1,"banner_version":"0123456789abcdef","language":"en","page":"https://bench.example/landing?utm_source=x","client_ts":1764000000000,"gpc":false}}"#
    ))
}

#[derive(Default)]
struct Run {
    ok: usize,
    errors: usize,
    latencies_us: Vec<u32>,
    elapsed: Duration,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

/// `clients` keep-alive connections post events until `events` are done or time is up.
async fn load(
    addr: SocketAddr,
    clients: usize,
    events: usize,
    limit: Duration,
    expect: StatusCode,
    seed: u64,
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + limit;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let next = next.clone();
        let mut rng = Rng(seed ^ ((c as u64 + 1) * 0x9E37_79B9_7F4A_7C15) | 1);
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let consent = consent_id(&rng.bytes16());
            let Ok(stream) = TcpStream::connect(addr).await else {
                run.errors += 1;
                return run;
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut sender, conn)) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
            else {
                run.errors += 1;
                return run;
            };
            tokio::spawn(conn);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= events || Instant::now() >= deadline {
                    break;
                }
                let req = Request::post("/v1/events")
                    .header("host", "127.0.0.1")
                    .header("origin", ORIGIN)
                    .header("content-type", "text/plain;charset=UTF-8")
                    .body(Full::new(event_body(&mut rng, &consent, i)));
                let Ok(req) = req else { break };
                let t = Instant::now();
                if sender.ready().await.is_err() {
                    run.errors += 1;
                    break;
                }
                match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        if status == expect {
                            run.ok += 1;
                            run.latencies_us
                                .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                        } else {
                            run.errors += 1;
                        }
                    }
                    Err(_) => {
                        run.errors += 1;
                        break;
                    }
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        if let Ok(r) = t.await {
            total.ok += r.ok;
            total.errors += r.errors;
            total.latencies_us.extend(r.latencies_us);
        }
    }
    total.elapsed = start.elapsed();
    total.latencies_us.sort_unstable();
    total
}

/// Serves `router` on a fresh loopback port of the current runtime, through the endpoint's own
/// connection handling (its header timer included), so the comparisons measure handlers only.
async fn serve_router(router: Router) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(serve_on(listener, router, std::future::pending()));
    Ok(addr)
}

fn config(db: &std::path::Path) -> Result<Config, String> {
    Config::parse(&format!(
        r#"listen = "127.0.0.1:0"
database = "{}"
[rate_limit]
enabled = false
[[sites]]
id = "bench"
origins = ["{ORIGIN}"]
categories = ["essential", "analytics", "marketing"]
required = ["essential"]
"#,
        db.display()
    ))
    .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ingest-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    std::fs::create_dir_all(&o.dir).map_err(|e| format!("{}: {e}", o.dir.display()))?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("server")
        .build()
        .map_err(|e| e.to_string())?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("client")
        .build()
        .map_err(|e| e.to_string())?;
    let limit = Duration::from_secs_f64(o.seconds);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;

    // The trivial handler: same server stack (`serve_on`: axum + hyper on the same runtime), no work.
    let trivial_addr = server_rt.block_on(serve_router(Router::new().route(
        "/v1/events",
        post(|_body: Bytes| async { StatusCode::NO_CONTENT }),
    )))?;

    println!(
        "ingest benchmark: POST /v1/events over loopback, keep-alive, {} cores; up to {} events or {:.0} s per cell",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        o.events,
        o.seconds
    );
    println!("durable floor: each body appended to a file, answered once an fdatasync covers it; group commit (one thread, one write + one fsync per batch); no parsing, no database");
    println!("endpoint: SQLite WAL, each answer after an fsync of the WAL covering its commit; group commit (one writer, one transaction + one fsync per batch)\n");
    println!("| clients | trivial 204: events/s | p50 ms | p99 ms | durable floor: events/s | p50 ms | p99 ms | endpoint: events/s | p50 ms | p99 ms | mean batch | floor / trivial | endpoint / trivial | endpoint / floor |");
    println!("|--------:|----------------------:|-------:|-------:|------------------------:|-------:|-------:|-------------------:|-------:|-------:|-----------:|----------------:|-------------------:|-----------------:|");
    let mut failed = false;
    for &clients in &o.clients {
        let db = o.dir.join(format!("ingest-{clients}.db"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let endpoint = Endpoint::open(config(&db)?, None).map_err(|e| e.to_string())?;
        let state = endpoint.state.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (endpoint_addr, serving) = server_rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let router = app(state.clone());
            let serving = tokio::spawn(serve_on(listener, router, async {
                let _ = stopped.await;
            }));
            Ok::<_, String>((addr, serving))
        })?;

        let floor_log = o.dir.join(format!("floor-{clients}.log"));
        let floor = floor::Floor::start(&floor_log).map_err(|e| format!("durable floor: {e}"))?;
        let floor_addr = server_rt.block_on(serve_router(floor.router()))?;

        // Warm up all three (connections, page cache, SQLite schema), then measure.
        let warm = (clients * 20).min(2000);
        client_rt.block_on(load(
            trivial_addr,
            clients,
            warm,
            limit,
            StatusCode::NO_CONTENT,
            seed,
        ));
        client_rt.block_on(load(
            floor_addr,
            clients,
            warm,
            limit,
            StatusCode::NO_CONTENT,
            seed ^ 4,
        ));
        let warm_ok = client_rt
            .block_on(load(
                endpoint_addr,
                clients,
                warm,
                limit,
                StatusCode::CREATED,
                seed ^ 1,
            ))
            .ok;
        let (b0, c0) = state.writer.committed();
        let trivial = client_rt.block_on(load(
            trivial_addr,
            clients,
            o.events,
            limit,
            StatusCode::NO_CONTENT,
            seed ^ 2,
        ));
        let floor_run = client_rt.block_on(load(
            floor_addr,
            clients,
            o.events,
            limit,
            StatusCode::NO_CONTENT,
            seed ^ 5,
        ));
        drop(floor);
        let _ = std::fs::remove_file(&floor_log);
        let durable = client_rt.block_on(load(
            endpoint_addr,
            clients,
            o.events,
            limit,
            StatusCode::CREATED,
            seed ^ 3,
        ));
        let (b1, c1) = state.writer.committed();
        let mean_batch = (c1 - c0) as f64 / (b1 - b0).max(1) as f64;
        println!(
            "| {clients:>7} | {:>21.0} | {:>6.2} | {:>6.2} | {:>23.0} | {:>6.2} | {:>6.2} | {:>18.0} | {:>6.2} | {:>6.2} | {:>10.1} | {:>15.2} | {:>18.2} | {:>16.2} |",
            trivial.rate(),
            trivial.percentile_ms(0.5),
            trivial.percentile_ms(0.99),
            floor_run.rate(),
            floor_run.percentile_ms(0.5),
            floor_run.percentile_ms(0.99),
            durable.rate(),
            durable.percentile_ms(0.5),
            durable.percentile_ms(0.99),
            mean_batch,
            floor_run.rate() / trivial.rate(),
            durable.rate() / trivial.rate(),
            durable.rate() / floor_run.rate()
        );
        if trivial.errors + floor_run.errors + durable.errors > 0 {
            eprintln!(
                "  errors: trivial {}, durable floor {}, endpoint {}",
                trivial.errors, floor_run.errors, durable.errors
            );
            failed = true;
        }
        drop(state);
        let _ = stop.send(());
        let _ = server_rt.block_on(serving);
        server_rt.block_on(endpoint.shutdown());
        // Every acknowledged event is in the database, and the chain verifies.
        let conn = store::open_existing(&db).map_err(|e| e.to_string())?;
        match store::verify(&conn).map_err(|e| e.to_string())? {
            store::Verdict::Ok { rows, .. } if rows as usize == warm_ok + durable.ok => {}
            other => {
                eprintln!("  chain check failed: {other:?}");
                failed = true;
            }
        }
    }
    println!("\n(endpoint / trivial is the figure: the endpoint's durable throughput as a share of a handler that does nothing; floor / trivial is the most any design that answers after an fsync reached here)");
    if failed {
        return Err("some requests failed".into());
    }
    Ok(())
}
