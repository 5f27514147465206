//! The durability floor: the least any durable ingest does per batch here — append the bodies to
//! a file and answer once an `fdatasync` covers them — so the endpoint's rate can be read against
//! what durable commits alone allow on the same machine, not only against a handler that does
//! nothing.
//!
//! Group commit like the endpoint's: requests queue their bodies; one thread takes everything
//! queued, writes it with one `write`, syncs once, and answers the whole batch. No parsing, no
//! validation, no database.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Bodies waiting for the next batch, and whether the thread should stop.
#[derive(Default)]
struct Pending {
    bodies: Vec<(Bytes, oneshot::Sender<bool>)>,
    stop: bool,
}

#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
    wake: Condvar,
}

/// The floor's committing thread; stopped (after answering what is queued) on drop.
pub struct Floor {
    queue: Arc<Queue>,
    thread: Option<JoinHandle<()>>,
}

impl Floor {
    /// Starts the thread that appends to `log` (created or truncated).
    pub fn start(log: &Path) -> std::io::Result<Floor> {
        let file = File::create(log)?;
        let queue = Arc::new(Queue::default());
        let theirs = queue.clone();
        let thread = std::thread::Builder::new()
            .name("floor-sync".into())
            .spawn(move || commit_loop(file, &theirs))?;
        Ok(Floor {
            queue,
            thread: Some(thread),
        })
    }

    /// `POST /v1/events`: 204 once the body is durably appended, 503 if the write failed.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/events", post(append))
            .with_state(self.queue.clone())
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        if let Ok(mut p) = self.queue.pending.lock() {
            p.stop = true;
        }
        self.queue.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn append(State(queue): State<Arc<Queue>>, body: Bytes) -> StatusCode {
    let (done, synced) = oneshot::channel();
    // Only a thread that found nothing to do waits on the condvar; while it syncs, arrivals
    // just queue, so a busy floor costs no wake-up per request.
    let was_empty = {
        let Ok(mut p) = queue.pending.lock() else {
            return StatusCode::SERVICE_UNAVAILABLE;
        };
        p.bodies.push((body, done));
        p.bodies.len() == 1
    };
    if was_empty {
        queue.wake.notify_one();
    }
    match synced.await {
        Ok(true) => StatusCode::NO_CONTENT,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn commit_loop(mut file: File, queue: &Queue) {
    let mut batch = Vec::new();
    let mut buf = Vec::new();
    loop {
        {
            let Ok(mut p) = queue.pending.lock() else {
                return;
            };
            while p.bodies.is_empty() && !p.stop {
                let Ok(next) = queue.wake.wait(p) else { return };
                p = next;
            }
            if p.bodies.is_empty() {
                return;
            }
            std::mem::swap(&mut p.bodies, &mut batch);
        }
        for (body, _) in &batch {
            buf.extend_from_slice(body);
            buf.push(b'\n');
        }
        let ok = file.write_all(&buf).and_then(|()| file.sync_data()).is_ok();
        buf.clear();
        for (_, done) in batch.drain(..) {
            let _ = done.send(ok);
        }
    }
}
