//! Group commit: one thread owns the writing SQLite connection and commits queued work in batches.
//!
//! Requests queue [`Command`]s on a channel. The writer takes everything queued (up to
//! `max_batch`), runs it in one `BEGIN IMMEDIATE … COMMIT` transaction (one fsync for the batch)
//! and only then answers each request through its oneshot. While a commit's fsync runs, the
//! next batch collects in the channel, so throughput grows with concurrency.

use crate::store::{self, Appended, NewEvent, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Why a write did not happen.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("the writer has stopped")]
    Closed,
    #[error("the batch failed: {0}")]
    Batch(String),
}

enum Command {
    Append(NewEvent, oneshot::Sender<Result<Appended, WriteError>>),
    Erase {
        consent_id: String,
        at: i64,
        reply: oneshot::Sender<Result<usize, WriteError>>,
    },
    Shutdown,
}

/// A cheap, cloneable handle to the writer.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
}

/// How much the writer has committed so far.
#[derive(Debug, Default)]
pub struct Counters {
    batches: AtomicU64,
    commands: AtomicU64,
}

/// The writer thread (and its checkpointer); [`WriterThread::shutdown`] finishes everything
/// queued before it.
pub struct WriterThread {
    tx: mpsc::Sender<Command>,
    handle: Option<JoinHandle<()>>,
    checkpointer: Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>,
}

/// How often the checkpointer copies committed WAL pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// WAL pages after which the writer checkpoints itself (a backstop if the checkpointer lags).
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// Starts the writer thread on `conn`, and a checkpointer thread on `checkpoint_conn` so that
/// copying WAL pages back into the database stays off the commit path.
pub fn spawn(
    conn: Connection,
    checkpoint_conn: Connection,
    max_batch: usize,
    queue: usize,
) -> std::io::Result<(Writer, WriterThread)> {
    let (tx, rx) = mpsc::channel(queue.max(1));
    let counters = Arc::new(Counters::default());
    let c = counters.clone();
    if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES) {
        tracing::warn!(error = %e, "cannot set wal_autocheckpoint");
    }
    let handle = std::thread::Builder::new()
        .name("consent-writer".into())
        .spawn(move || run(conn, rx, max_batch.max(1), &c))?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let ckpt = std::thread::Builder::new()
        .name("consent-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) =
                    checkpoint_conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
        })?;
    Ok((
        Writer {
            tx: tx.clone(),
            counters,
        },
        WriterThread {
            tx,
            handle: Some(handle),
            checkpointer: Some((stop, ckpt)),
        },
    ))
}

impl Writer {
    /// `(committed batches, commands in them)` since start.
    pub fn committed(&self) -> (u64, u64) {
        (
            self.counters.batches.load(Ordering::Relaxed),
            self.counters.commands.load(Ordering::Relaxed),
        )
    }

    /// Appends an event; resolves once its batch is committed (or failed).
    pub async fn append(&self, event: NewEvent) -> Result<Appended, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Append(event, reply))
            .await
            .map_err(|_| WriteError::Closed)?;
        rx.await.map_err(|_| WriteError::Closed)?
    }

    /// Erases the payloads of a consent id; resolves once committed.
    pub async fn erase(&self, consent_id: String, at: i64) -> Result<usize, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Erase {
                consent_id,
                at,
                reply,
            })
            .await
            .map_err(|_| WriteError::Closed)?;
        rx.await.map_err(|_| WriteError::Closed)?
    }
}

impl WriterThread {
    /// Commits everything queued so far, then stops the thread and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.tx.send(Command::Shutdown).await;
        if let Some(h) = self.handle.take() {
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
        if let Some((stop, h)) = self.checkpointer.take() {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || h.join()).await;
        }
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Command>,
    max_batch: usize,
    counters: &Counters,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut stop = matches!(first, Command::Shutdown);
        batch.push(first);
        while !stop && batch.len() < max_batch {
            match rx.try_recv() {
                Ok(c) => {
                    stop = matches!(c, Command::Shutdown);
                    batch.push(c);
                }
                Err(_) => break,
            }
        }
        let size = batch.len() as u64;
        if commit(&mut conn, &mut batch) {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            counters.commands.fetch_add(size, Ordering::Relaxed);
        }
        if stop {
            break;
        }
    }
    tracing::info!("writer stopped");
}

enum Done {
    Append(oneshot::Sender<Result<Appended, WriteError>>, Appended),
    Erase(oneshot::Sender<Result<usize, WriteError>>, usize),
}

/// Runs one batch in one transaction, then answers every request in it; true if it committed.
fn commit(conn: &mut Connection, batch: &mut Vec<Command>) -> bool {
    let started = std::time::Instant::now();
    let size = batch.len();
    let mut done = Vec::with_capacity(size);
    let result = (|| -> Result<(), StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut head = store::head(&tx)?;
        for cmd in batch.drain(..) {
            match cmd {
                Command::Append(e, reply) => {
                    let outcome = store::append(&tx, &mut head, &e)?;
                    done.push(Done::Append(reply, outcome));
                }
                Command::Erase {
                    consent_id,
                    at,
                    reply,
                } => {
                    let n = store::erase(&tx, &consent_id, at)?;
                    done.push(Done::Erase(reply, n));
                }
                Command::Shutdown => {}
            }
        }
        tx.commit()?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            tracing::debug!(
                size,
                elapsed_us = started.elapsed().as_micros() as u64,
                "batch committed"
            );
            for d in done {
                match d {
                    Done::Append(reply, a) => {
                        let _ = reply.send(Ok(a));
                    }
                    Done::Erase(reply, n) => {
                        let _ = reply.send(Ok(n));
                    }
                }
            }
            true
        }
        Err(e) => {
            // The transaction rolled back: nothing in this batch is stored, so nobody gets a 2xx.
            tracing::error!(error = %e, size, "batch failed");
            let msg = e.to_string();
            for d in done {
                match d {
                    Done::Append(reply, _) => {
                        let _ = reply.send(Err(WriteError::Batch(msg.clone())));
                    }
                    Done::Erase(reply, _) => {
                        let _ = reply.send(Err(WriteError::Batch(msg.clone())));
                    }
                }
            }
            // Requests drained before the failure but not yet in `done` were dropped with their
            // senders, so their callers see `Closed`, which is also an error.
            batch.clear();
            false
        }
    }
}
