//! Group commit: one thread owns the writing SQLite connection and commits queued work in batches.
//!
//! Requests queue [`Command`]s on a channel. The writer applies them as they come to an open
//! `BEGIN IMMEDIATE` transaction and commits it when the [`Syncer`] is free (or the batch is
//! full), handing the batch's answers over; the syncer sends them once an fsync of the WAL
//! covers the commit. So while one batch's fsync runs, the next batch is being written, and it
//! holds everything that arrived meanwhile: throughput grows with concurrency, one commit and
//! one fsync per batch. Between batches the writer merges the newest rows' ids into the key
//! tables when due (see [`crate::keys`]).

use crate::keys::{Keys, MERGE_AT, MERGE_STEP};
use crate::store::{self, Appended, NewEvent, StoreError};
use crate::syncer::{Settle, SyncWatch, Syncer};
use rusqlite::Connection;
use std::path::Path;
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

/// The answer to an append, with the event handed back: its buffers were allocated by the
/// request's thread and are freed there (glibc's allocator is slow at freeing another thread's
/// memory, and the writer would free every event).
type AppendReply = (Result<Appended, WriteError>, NewEvent);

enum Command {
    Append(NewEvent, oneshot::Sender<AppendReply>),
    Erase {
        consent_id: String,
        at: i64,
        reply: oneshot::Sender<Result<usize, WriteError>>,
    },
    /// From the syncer: it has answered everything (so the open batch can commit).
    Synced,
    Shutdown,
}

/// A cheap, cloneable handle to the writer.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    sync: SyncWatch,
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

/// Starts the writer thread on `conn` (the database at `db`, with `keys` loaded from it), its
/// syncer, and a checkpointer thread on `checkpoint_conn` so that copying WAL pages back into
/// the database stays off the commit path.
pub fn spawn(
    db: &Path,
    conn: Connection,
    keys: Keys,
    checkpoint_conn: Connection,
    max_batch: usize,
    queue: usize,
) -> Result<(Writer, WriterThread), StoreError> {
    let (tx, rx) = mpsc::channel(queue.max(1));
    let counters = Arc::new(Counters::default());
    let c = counters.clone();
    if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES) {
        tracing::warn!(error = %e, "cannot set wal_autocheckpoint");
    }
    // Commits do not wait for the disk; the syncer does, before anyone is answered.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wake = tx.downgrade();
    let syncer = Syncer::spawn(Path::new(&wal), move || {
        if let Some(tx) = wake.upgrade() {
            // A full queue wakes the writer anyway, and it checks the syncer between commands.
            let _ = tx.try_send(Command::Synced);
        }
    })
    .map_err(StoreError::Thread)?;
    let sync = syncer.watch();
    let handle = std::thread::Builder::new()
        .name("consent-writer".into())
        .spawn(move || run(conn, keys, syncer, rx, max_batch.max(1), c))
        .map_err(StoreError::Thread)?;
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
        })
        .map_err(StoreError::Thread)?;
    Ok((
        Writer {
            tx: tx.clone(),
            counters,
            sync,
        },
        WriterThread {
            tx,
            handle: Some(handle),
            checkpointer: Some((stop, ckpt)),
        },
    ))
}

impl Writer {
    /// Whether events can still be stored: the writer thread runs and no fsync has failed.
    pub fn healthy(&self) -> bool {
        !self.tx.is_closed() && !self.sync.failed()
    }

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
        let (result, _event) = rx.await.map_err(|_| WriteError::Closed)?;
        result
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

/// What the writer thread keeps between batches.
struct State {
    conn: Connection,
    keys: Keys,
    syncer: Syncer<Done>,
    /// The last row's `seq` after this writer's last commit; anything else when a batch begins
    /// means another process appended, and `keys` is reloaded.
    head_seq: Option<i64>,
    /// The batch being written, if a transaction is open.
    open: Option<Batch>,
    counters: Arc<Counters>,
}

/// An open transaction: where the chain stands and what to answer once it is durable.
struct Batch {
    head: (i64, [u8; 32]),
    done: Vec<Done>,
    started: std::time::Instant,
}

fn run(
    conn: Connection,
    keys: Keys,
    syncer: Syncer<Done>,
    mut rx: mpsc::Receiver<Command>,
    max_batch: usize,
    counters: Arc<Counters>,
) {
    let mut st = State {
        conn,
        keys,
        syncer,
        head_seq: None,
        open: None,
        counters,
    };
    let mut stopping = false;
    loop {
        if let Some(b) = &st.open {
            if stopping || b.done.len() >= max_batch || st.syncer.idle() {
                // What queued while the batch waited (or a merge step ran) joins it.
                while !stopping && st.open.as_ref().is_some_and(|b| b.done.len() < max_batch) {
                    match rx.try_recv() {
                        Ok(Command::Synced) => {}
                        Ok(Command::Shutdown) => stopping = true,
                        Ok(cmd) => st.apply(cmd),
                        Err(_) => break,
                    }
                }
                st.catch_up_merge();
                st.commit();
                if let Some(seq) = st.head_seq.filter(|_| st.keys.merge_due(rx.is_empty())) {
                    st.keys.start_merge(seq);
                }
                continue;
            }
        } else if stopping {
            break;
        }
        let cmd = match rx.try_recv() {
            Ok(cmd) => cmd,
            Err(mpsc::error::TryRecvError::Disconnected) => {
                stopping = true;
                continue;
            }
            Err(mpsc::error::TryRecvError::Empty) => {
                // Nothing queued: spend the wait on the merge under way, if any (in the open
                // batch while it waits for the syncer, or alone when everything is idle: a step
                // of its own while a batch could commit would only delay that batch), else
                // sleep until work arrives (or, with a batch open, until the syncer's wake-up).
                let spare = st.open.is_some() || st.syncer.idle();
                if spare && st.keys.has_step() && !st.syncer.failed() {
                    st.merge_step();
                    continue;
                }
                match rx.blocking_recv() {
                    Some(cmd) => cmd,
                    None => {
                        stopping = true;
                        continue;
                    }
                }
            }
        };
        match cmd {
            Command::Synced => {}
            Command::Shutdown => stopping = true,
            cmd => st.apply(cmd),
        }
    }
    st.syncer.stop();
    tracing::info!("writer stopped");
}

impl State {
    /// Carries out one command in the open transaction, opening one if needed.
    fn apply(&mut self, cmd: Command) {
        if self.syncer.failed() {
            refuse(cmd, "the log could not be synced to disk; restart required");
            return;
        }
        if self.open.is_none() {
            match self.begin() {
                Ok(b) => self.open = Some(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot begin a transaction");
                    refuse(cmd, &e.to_string());
                    return;
                }
            }
        }
        let Some(b) = self.open.as_mut() else { return };
        let outcome = match cmd {
            Command::Append(e, reply) => {
                match store::append(&self.conn, &mut b.head, &mut self.keys, &e) {
                    Ok(a) => Ok(Done::Append(reply, a, e)),
                    Err(err) => Err((err, Command::Append(e, reply))),
                }
            }
            Command::Erase {
                consent_id,
                at,
                reply,
            } => match store::erase(&self.conn, &self.keys, &consent_id, at) {
                Ok(n) => Ok(Done::Erase(reply, n)),
                Err(err) => Err((
                    err,
                    Command::Erase {
                        consent_id,
                        at,
                        reply,
                    },
                )),
            },
            Command::Synced | Command::Shutdown => return,
        };
        match outcome {
            Ok(done) => b.done.push(done),
            Err((e, cmd)) => {
                // A failed statement fails its whole transaction: nobody in it gets a 2xx.
                let msg = e.to_string();
                refuse(cmd, &msg);
                self.roll_back(&msg);
            }
        }
    }

    /// `BEGIN IMMEDIATE`, and where the chain stands.
    fn begin(&mut self) -> Result<Batch, StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let started = std::time::Instant::now();
        let head = match store::head(&self.conn) {
            Ok(h) => h,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        if self.head_seq.is_some_and(|s| s != head.0) {
            tracing::warn!(
                expected = self.head_seq,
                found = head.0,
                "another process appended rows; reloading the recent keys"
            );
            match Keys::load(&self.conn) {
                Ok(k) => self.keys = k,
                Err(e) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        Ok(Batch {
            head,
            done: Vec::new(),
            started,
        })
    }

    /// Commits the open transaction and hands its answers to the syncer.
    fn commit(&mut self) {
        let Some(b) = self.open.take() else { return };
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                self.keys.committed();
                self.head_seq = Some(b.head.0);
                let size = b.done.len() as u64;
                self.counters.batches.fetch_add(1, Ordering::Relaxed);
                self.counters.commands.fetch_add(size, Ordering::Relaxed);
                tracing::debug!(
                    size,
                    elapsed_us = b.started.elapsed().as_micros() as u64,
                    "batch committed"
                );
                self.syncer.committed(b.done);
            }
            Err(e) => {
                self.open = Some(b);
                self.roll_back(&e.to_string());
            }
        }
    }

    /// Rolls the open transaction back and answers everyone in it with the error.
    fn roll_back(&mut self, why: &str) {
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rollback failed");
            }
        }
        self.keys.rolled_back();
        self.head_seq = None;
        if let Some(b) = self.open.take() {
            tracing::error!(error = why, size = b.done.len(), "batch failed");
            for d in b.done {
                d.settle(Err(why));
            }
        }
    }

    /// One step of the merge under way: inside the open batch, or else in a transaction of its
    /// own (which needs no fsync: a merge lost in a crash is simply done again).
    /// Under sustained load the queue never empties, so the merge (which otherwise runs while
    /// the writer waits) would never advance, and the unmerged rows (kept in memory, and scanned
    /// by consent lookups) would grow without bound. Past twice the merge size, each batch carries
    /// enough merge steps to insert its own rows' keys and some more.
    fn catch_up_merge(&mut self) {
        if self.keys.pending() < 2 * MERGE_AT {
            return;
        }
        let batch = self.open.as_ref().map_or(0, |b| b.done.len());
        for _ in 0..=(2 * batch / MERGE_STEP) {
            if !self.keys.has_step() || self.syncer.failed() || self.open.is_none() {
                break;
            }
            self.merge_step();
        }
    }

    fn merge_step(&mut self) {
        let own = self.open.is_none();
        if own {
            if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
                tracing::error!(error = %e, "merging keys failed; retrying later");
                self.keys.abandon_merge();
                return;
            }
        }
        let stepped = self.keys.merge_step(&self.conn);
        let finished = match stepped {
            Ok(()) if own => self.conn.execute_batch("COMMIT").map_err(StoreError::from),
            other => other,
        };
        match finished {
            Ok(()) if own => {
                self.keys.committed();
            }
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %e, "merging keys failed; retrying later");
                if own || self.conn.is_autocommit() {
                    // Our own transaction, or the batch's, which the error ended.
                    if !self.conn.is_autocommit() {
                        let _ = self.conn.execute_batch("ROLLBACK");
                    }
                    if own {
                        self.keys.rolled_back();
                    } else {
                        self.roll_back(&e.to_string());
                    }
                }
                self.keys.abandon_merge();
            }
        }
    }
}

/// A command carried out in a committed batch, waiting for the fsync to be answered.
enum Done {
    Append(oneshot::Sender<AppendReply>, Appended, NewEvent),
    Erase(oneshot::Sender<Result<usize, WriteError>>, usize),
}

impl Settle for Done {
    fn settle(self, synced: Result<(), &str>) {
        let failed = |m: &str| WriteError::Batch(m.to_string());
        match self {
            Done::Append(reply, a, e) => {
                let _ = reply.send((synced.map(|()| a).map_err(failed), e));
            }
            Done::Erase(reply, n) => {
                let _ = reply.send(synced.map(|()| n).map_err(failed));
            }
        }
    }
}

/// Answers a command that never reached a transaction.
fn refuse(cmd: Command, why: &str) {
    match cmd {
        Command::Append(e, reply) => {
            let _ = reply.send((Err(WriteError::Batch(why.to_string())), e));
        }
        Command::Erase { reply, .. } => {
            let _ = reply.send(Err(WriteError::Batch(why.to_string())));
        }
        Command::Synced | Command::Shutdown => {}
    }
}
