//! Durability of committed batches: fsyncs the WAL, then releases the batches' answers.
//!
//! The writer's connection runs with `synchronous=NORMAL`, so its COMMIT writes the batch's WAL
//! frames without waiting for the disk. The batch's answers then wait here until an
//! `fdatasync` of the WAL file that *began after that commit* has returned: the same guarantee
//! as `synchronous=FULL`, whose COMMIT syncs the WAL itself, but on this thread, so the writer
//! prepares the next batch during this one's disk wait, and one fsync covers every batch
//! committed while the previous one ran. (SQLite still syncs the WAL before each checkpoint and
//! its header when it restarts the log, in both modes.)
//!
//! A failed fsync poisons the syncer for good: after one, Linux may have dropped the dirty pages
//! and a later fsync can succeed over a hole in the log, so nothing is acknowledged again until
//! the process restarts and SQLite recovers the log from what is really on disk.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Something waiting for durability: told once whether its batch reached the disk.
pub trait Settle: Send + 'static {
    /// `Ok` once durable; `Err` with the reason otherwise.
    fn settle(self, synced: Result<(), &str>);
}

/// The syncer thread and the way to hand it committed batches.
pub struct Syncer<T: Settle> {
    tx: Option<mpsc::Sender<Vec<T>>>,
    handle: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

/// Whether the syncer has failed, readable from anywhere (the health check).
#[derive(Clone)]
pub struct SyncWatch(Arc<Shared>);

impl SyncWatch {
    /// An fsync failed: nothing more will be acknowledged until restart.
    pub fn failed(&self) -> bool {
        self.0.failed.load(Ordering::Acquire)
    }
}

/// What the syncer thread and its owner both see.
struct Shared {
    failed: AtomicBool,
    /// Batches handed over and not answered yet.
    in_flight: AtomicUsize,
}

impl<T: Settle> Syncer<T> {
    /// Starts the thread that syncs `wal` (the database's `-wal` file, opened here); `idle` is
    /// called whenever it has answered everything handed over.
    pub fn spawn(wal: &Path, idle: impl Fn() + Send + 'static) -> std::io::Result<Syncer<T>> {
        let file = File::open(wal)?;
        let (tx, rx) = mpsc::channel::<Vec<T>>();
        let shared = Arc::new(Shared {
            failed: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
        });
        let theirs = shared.clone();
        let handle = std::thread::Builder::new()
            .name("consent-sync".into())
            .spawn(move || run(&file, &rx, &theirs, &idle))?;
        Ok(Syncer {
            tx: Some(tx),
            handle: Some(handle),
            shared,
        })
    }

    /// Whether an fsync has failed (then nothing more may be acknowledged).
    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// A handle that reports [`Syncer::failed`] from other threads.
    pub fn watch(&self) -> SyncWatch {
        SyncWatch(self.shared.clone())
    }

    /// Whether every batch handed over has been answered.
    pub fn idle(&self) -> bool {
        self.shared.in_flight.load(Ordering::Acquire) == 0
    }

    /// Hands over a batch that has just committed.
    pub fn committed(&self, batch: Vec<T>) {
        let Some(tx) = &self.tx else {
            settle_all(batch, Err("the syncer has stopped"));
            return;
        };
        self.shared.in_flight.fetch_add(1, Ordering::AcqRel);
        if let Err(mpsc::SendError(batch)) = tx.send(batch) {
            self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
            settle_all(batch, Err("the syncer has stopped"));
        }
    }

    /// Syncs and answers everything handed over so far, then stops the thread.
    pub fn stop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                tracing::error!("the syncer thread panicked");
            }
        }
    }
}

impl<T: Settle> Drop for Syncer<T> {
    fn drop(&mut self) {
        self.stop();
    }
}

fn settle_all<T: Settle>(batch: Vec<T>, synced: Result<(), &str>) {
    for t in batch {
        t.settle(synced);
    }
}

fn run<T: Settle>(wal: &File, rx: &mpsc::Receiver<Vec<T>>, shared: &Shared, idle: &dyn Fn()) {
    let failed = &shared.failed;
    let mut waiting: Vec<Vec<T>> = Vec::new();
    while let Ok(first) = rx.recv() {
        waiting.push(first);
        waiting.extend(rx.try_iter());
        // Every batch in `waiting` committed before this call starts, so it covers them all.
        let synced = if failed.load(Ordering::Acquire) {
            Err("an earlier fsync of the log failed".to_string())
        } else {
            wal.sync_data().map_err(|e| {
                tracing::error!(error = %e, "fsync of the WAL failed; refusing all further writes");
                failed.store(true, Ordering::Release);
                format!("fsync of the log failed: {e}")
            })
        };
        let answered = waiting.len();
        for batch in waiting.drain(..) {
            settle_all(batch, synced.as_ref().map(|_| ()).map_err(String::as_str));
        }
        if shared.in_flight.fetch_sub(answered, Ordering::AcqRel) == answered {
            idle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;

    struct Probe(Sender<Result<(), String>>);

    impl Settle for Probe {
        fn settle(self, synced: Result<(), &str>) {
            let _ = self.0.send(synced.map_err(str::to_string));
        }
    }

    #[test]
    fn answers_after_the_sync_and_reports_idle() {
        let dir = tempfile::tempdir().unwrap();
        let wal = dir.path().join("x.db-wal");
        std::fs::write(&wal, b"frames").unwrap();
        let (idle_tx, idle_rx) = mpsc::channel();
        let mut syncer = Syncer::spawn(&wal, move || {
            let _ = idle_tx.send(());
        })
        .unwrap();
        let (tx, rx) = mpsc::channel();
        syncer.committed(vec![Probe(tx.clone()), Probe(tx.clone())]);
        assert_eq!(rx.recv().unwrap(), Ok(()));
        assert_eq!(rx.recv().unwrap(), Ok(()));
        idle_rx.recv().unwrap();
        assert!(syncer.idle() && !syncer.failed());
        syncer.stop();
        // Once stopped, nothing is acknowledged.
        syncer.committed(vec![Probe(tx)]);
        assert!(rx.recv().unwrap().is_err());
    }
}
