//! Durability: concurrent clients post while the real server is killed with SIGKILL at random
//! moments and restarted on the same database; clients retry unacknowledged events with the same
//! id. Every event that got a 2xx must be stored exactly once (with the seq it was acknowledged
//! with), and the chain must verify.

mod common;

use common::*;
use hyper::StatusCode;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const EVENTS_PER_CLIENT: usize = 100;
const KILLS: usize = 4;

struct Shared {
    acked: Mutex<HashMap<String, i64>>,
    acked_count: AtomicUsize,
    attempts: AtomicUsize,
}

/// Sends the client's queue front to back, retrying the front until it gets a 2xx, until the
/// queue is empty or `stop` is set.
async fn client(
    addr: SocketAddr,
    queue: Arc<Mutex<VecDeque<(String, String)>>>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
) {
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Some((id, body)) = queue.lock().unwrap().front().cloned() else {
            return;
        };
        shared.attempts.fetch_add(1, Ordering::Relaxed);
        let sent =
            tokio::time::timeout(Duration::from_secs(5), send(addr, post_event(addr, &body))).await;
        match sent {
            Ok(Ok((status, _, body))) if status.is_success() => {
                assert_eq!(status, StatusCode::CREATED);
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let seq = v["seq"].as_i64().unwrap();
                let mut acked = shared.acked.lock().unwrap();
                if let Some(prev) = acked.insert(id.clone(), seq) {
                    assert_eq!(prev, seq, "{id} acknowledged twice with different seqs");
                } else {
                    shared.acked_count.fetch_add(1, Ordering::SeqCst);
                }
                queue.lock().unwrap().pop_front();
            }
            Ok(Ok((status, _, body))) => {
                panic!("unexpected {status}: {}", String::from_utf8_lossy(&body))
            }
            // Connection refused or reset: the server is down. Try again (same id).
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

#[test]
fn acknowledged_events_survive_sigkill_exactly_once() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("consent.db");
    let config = dir.path().join("endpoint.toml");
    std::fs::write(&config, config_text(&db, "[rate_limit]\nenabled = false\n")).unwrap();

    let queues: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let consent = new_consent_id();
            let q: VecDeque<_> = (0..EVENTS_PER_CLIENT)
                .map(|i| {
                    let id = new_event_id();
                    let body = event(&id, &consent, i % 2 == 0, i % 3 == 0);
                    (id, body)
                })
                .collect();
            Arc::new(Mutex::new(q))
        })
        .collect();
    let total = CLIENTS * EVENTS_PER_CLIENT;
    let shared = Arc::new(Shared {
        acked: Mutex::new(HashMap::new()),
        acked_count: AtomicUsize::new(0),
        attempts: AtomicUsize::new(0),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut seed = u64::from_le_bytes(random16()[8..].try_into().unwrap()) | 1;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };

    let mut killed_mid_traffic = 0;
    for round in 0..=KILLS {
        let mut server = spawn_server(&config);
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = queues
            .iter()
            .map(|q| rt.spawn(client(server.addr, q.clone(), shared.clone(), stop.clone())))
            .collect();
        if round < KILLS {
            // Kill once a random share of this round's slice of the events is acknowledged,
            // plus a random few hundred microseconds, so requests are in flight.
            let slice = total / (KILLS + 1);
            let target = slice * round + slice / 2 + rand(slice as u64) as usize;
            let deadline = Instant::now() + Duration::from_secs(10);
            while shared.acked_count.load(Ordering::SeqCst) < target && Instant::now() < deadline {
                std::thread::sleep(Duration::from_micros(200));
            }
            std::thread::sleep(Duration::from_micros(rand(800)));
            let before = shared.acked_count.load(Ordering::SeqCst);
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
            if before < total {
                killed_mid_traffic += 1;
            }
            stop.store(true, Ordering::SeqCst);
            rt.block_on(async {
                for t in tasks {
                    t.await.unwrap();
                }
            });
        } else {
            rt.block_on(async {
                for t in tasks {
                    tokio::time::timeout(Duration::from_secs(20), t)
                        .await
                        .expect("clients finish")
                        .unwrap();
                }
            });
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        }
    }
    assert_eq!(
        killed_mid_traffic, KILLS,
        "every kill landed while events were still being sent"
    );

    let acked = shared.acked.lock().unwrap();
    assert_eq!(
        acked.len(),
        total,
        "every event was eventually acknowledged"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as usize, total, "no event stored twice, none lost");
    let mut stmt = conn
        .prepare("SELECT seq FROM events WHERE event_id = ?1")
        .unwrap();
    for (id, seq) in acked.iter() {
        let stored: Vec<i64> = stmt
            .query_map([id], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(stored, [*seq], "{id}");
    }
    let (ok, out) = verify_cli(&db);
    assert!(ok && out.starts_with(&format!("OK: {total} rows")), "{out}");
    let attempts = shared.attempts.load(Ordering::Relaxed);
    eprintln!(
        "{total} events, {attempts} attempts, {KILLS} SIGKILLs, {:.1?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}
