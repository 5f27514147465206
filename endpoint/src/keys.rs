//! Lookups by event id and by consent id: two key tables filled in sorted bulk, plus the newest
//! rows' ids in the writer's memory.
//!
//! Both ids are random. Indexed row by row, every event dirtied a random B-tree leaf in each of
//! the two indexes, and every dirty page is a 4 KiB WAL frame to write, checksum, fsync and
//! later checkpoint: most of the writer's work went there. Instead, rows after
//! `key_state.indexed_seq` are not in the key tables yet: the writer keeps their ids in memory
//! (the event ids for deduplication), and a merge copies them into `event_keys` and
//! `consent_keys` in key order, where many keys share each leaf page. Until a merge completes,
//! readers find those rows by scanning the tail `seq > indexed_seq`, which [`MERGE_AT`] bounds
//! (see [`crate::store::rows_for_consent`]).
//!
//! A merge runs in small [`Keys::merge_step`]s inside the writer's batches, while the batch
//! waits for the previous one's fsync, so it neither stalls the writer nor needs a transaction
//! of its own; `indexed_seq` moves in the batch that inserts the last keys. A merge rewrites the
//! leaves its keys land on: while a key table has fewer leaves than a merge has keys (up to
//! about a million events) that is a fraction of a page per event; for larger tables it tends
//! to one page per event and table, what indexing row by row costs.
//!
//! Crash safety: inserts are idempotent (an event key is upserted, a consent key ignored if
//! there), and the memory part is rebuilt from the tail on start ([`Keys::load`]); a merge cut
//! short is simply done again.

use crate::chain::GENESIS;
use crate::store::StoreError;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Rows after which a merge is due. Bounds the memory (about 200 bytes a row) and the tail a
/// consent lookup scans.
pub const MERGE_AT: usize = 16_384;
/// When the writer has nothing queued, a merge of fewer rows is due after this long.
pub const MERGE_AFTER: Duration = Duration::from_secs(1);
/// Keys inserted by one [`Keys::merge_step`] (a fraction of a millisecond).
pub const MERGE_STEP: usize = 64;

/// What the writer remembers of a row not merged yet.
#[derive(Debug, Clone)]
struct Recent {
    seq: i64,
    payload_hash: [u8; 32],
    consent_id: String,
}

/// A merge under way: every key of the rows up to `upto`, sorted, and how far the inserts got.
#[derive(Debug)]
struct Merge {
    upto: i64,
    /// `(false, event_id, seq)` in key order, then `(true, consent_id, seq)` in key order.
    keys: Vec<(bool, String, i64)>,
    /// Inserted and committed.
    done: usize,
    /// Inserted in the open transaction.
    open: usize,
    /// The open transaction also moves `indexed_seq`: the merge has no step left, it waits for
    /// the commit.
    final_staged: bool,
}

/// The writer's view of the key tables and of the rows not merged into them yet.
#[derive(Debug)]
pub struct Keys {
    /// Rows up to this `seq` are in the key tables.
    indexed_seq: i64,
    /// Event id → what is remembered of the rows after `indexed_seq`.
    recent: HashMap<String, Recent>,
    /// The first `seq` added in the open transaction, to forget on rollback.
    staged_from: Option<i64>,
    merge: Option<Merge>,
    last_merge: Instant,
    /// After a failed merge, the next one waits until then.
    retry_at: Option<Instant>,
}

impl Keys {
    /// Reads how far the key tables reach and remembers the rows after that.
    pub fn load(conn: &Connection) -> Result<Keys, StoreError> {
        let indexed_seq = indexed_seq(conn)?;
        let mut recent = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT seq, event_id, payload_hash, consent_id FROM events WHERE seq > ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([indexed_seq])?;
        while let Some(r) = rows.next()? {
            let (seq, id, hash): (i64, String, Vec<u8>) = (r.get(0)?, r.get(1)?, r.get(2)?);
            recent.entry(id).or_insert(Recent {
                seq,
                payload_hash: hash.try_into().unwrap_or(GENESIS),
                consent_id: r.get(3)?,
            });
        }
        Ok(Keys {
            indexed_seq,
            recent,
            staged_from: None,
            merge: None,
            last_merge: Instant::now(),
            retry_at: None,
        })
    }

    /// Rows up to this `seq` are in the key tables.
    pub fn indexed_seq(&self) -> i64 {
        self.indexed_seq
    }

    /// How many rows wait to be merged.
    pub fn pending(&self) -> usize {
        self.recent.len()
    }

    /// The `(seq, payload_hash)` of the row holding `event_id`, if any.
    pub fn find(
        &self,
        conn: &Connection,
        event_id: &str,
    ) -> Result<Option<(i64, [u8; 32])>, StoreError> {
        if let Some(r) = self.recent.get(event_id) {
            // `purge` (another process) may have deleted it since.
            let exists = conn
                .prepare_cached("SELECT 1 FROM events WHERE seq = ?1")?
                .exists([r.seq])?;
            return Ok(exists.then_some((r.seq, r.payload_hash)));
        }
        let found = conn
            .prepare_cached(
                "SELECT e.seq, e.payload_hash FROM event_keys k JOIN events e ON e.seq = k.seq
                 WHERE k.event_id = ?1",
            )?
            .query_row([event_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        Ok(found.map(|(seq, h)| (seq, h.try_into().unwrap_or(GENESIS))))
    }

    /// Remembers a row written in the open transaction.
    pub fn stage(&mut self, event_id: &str, seq: i64, payload_hash: [u8; 32], consent_id: &str) {
        self.staged_from.get_or_insert(seq);
        self.recent.insert(
            event_id.to_owned(),
            Recent {
                seq,
                payload_hash,
                consent_id: consent_id.to_owned(),
            },
        );
    }

    /// The open transaction committed: its rows and merge progress stay.
    pub fn committed(&mut self) {
        self.staged_from = None;
        let Some(m) = &mut self.merge else { return };
        m.done = m.open;
        if m.done == m.keys.len() {
            let upto = m.upto;
            self.indexed_seq = upto;
            self.recent.retain(|_, r| r.seq > upto);
            self.merge = None;
            self.last_merge = Instant::now();
        }
    }

    /// The open transaction rolled back: its rows and merge progress never happened.
    pub fn rolled_back(&mut self) {
        if let Some(from) = self.staged_from.take() {
            self.recent.retain(|_, r| r.seq < from);
        }
        if let Some(m) = &mut self.merge {
            m.open = m.done;
            m.final_staged = false;
        }
    }

    /// Whether a merge is under way.
    pub fn merging(&self) -> bool {
        self.merge.is_some()
    }

    /// Whether the merge under way has a step left to run. Once its last step is in the open
    /// transaction it has none until that commits, and calling [`Keys::merge_step`] again
    /// would only busy-loop the writer.
    pub fn has_step(&self) -> bool {
        self.merge.as_ref().is_some_and(|m| !m.final_staged)
    }

    /// Whether a merge should start; `idle` when nothing is queued for the writer.
    pub fn merge_due(&self, idle: bool) -> bool {
        let n = self.recent.len();
        let due = n >= MERGE_AT || (idle && n > 0 && self.last_merge.elapsed() >= MERGE_AFTER);
        let waiting = self.retry_at.is_some_and(|t| Instant::now() < t);
        self.merge.is_none() && due && !waiting
    }

    /// Starts merging every committed row (up to `committed_seq`). Only sorts what is in
    /// memory: the inserts happen in [`Keys::merge_step`]s.
    pub fn start_merge(&mut self, committed_seq: i64) {
        if self.merge.is_some() || committed_seq <= self.indexed_seq {
            return;
        }
        let n = self.recent.len();
        let mut events: Vec<(bool, String, i64)> = Vec::with_capacity(n * 2);
        // `false` sorts first: the event ids, then the consent ids, each in key order.
        let mut consents: Vec<(bool, String, i64)> = Vec::with_capacity(n);
        for (id, r) in self.recent.iter().filter(|(_, r)| r.seq <= committed_seq) {
            events.push((false, id.clone(), r.seq));
            consents.push((true, r.consent_id.clone(), r.seq));
        }
        events.sort_unstable();
        consents.sort_unstable();
        events.append(&mut consents);
        self.merge = Some(Merge {
            upto: committed_seq,
            keys: events,
            done: 0,
            open: 0,
            final_staged: false,
        });
    }

    /// Gives up the merge under way (after an error); the next one starts after [`MERGE_AFTER`].
    /// Keys it already inserted stay: they are correct, and readers ignore them until a later
    /// merge moves `indexed_seq` past them.
    pub fn abandon_merge(&mut self) {
        self.merge = None;
        self.retry_at = Some(Instant::now() + MERGE_AFTER);
    }

    /// Inserts the next [`MERGE_STEP`] keys of the merge under way in the open transaction
    /// (after the last ones, also moves `indexed_seq`). Nothing happens without a merge.
    pub fn merge_step(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let Some(m) = self.merge.as_mut().filter(|m| !m.final_staged) else {
            return Ok(());
        };
        let end = (m.open + MERGE_STEP).min(m.keys.len());
        // An event key already there is the same row's (from a merge a crash cut short), or a
        // purged row's whose key a merge under way put back after `purge` ran: then the event
        // arrived again, as a new row, and the key must point at that one.
        let mut event = conn.prepare_cached(
            "INSERT INTO event_keys (event_id, seq) VALUES (?1, ?2)
             ON CONFLICT(event_id) DO UPDATE SET seq = excluded.seq",
        )?;
        let mut consent = conn.prepare_cached(
            "INSERT OR IGNORE INTO consent_keys (consent_id, seq) VALUES (?1, ?2)",
        )?;
        for (is_consent, key, seq) in &m.keys[m.open..end] {
            let put = if *is_consent {
                &mut consent
            } else {
                &mut event
            };
            put.execute(params![key, seq])?;
        }
        if end == m.keys.len() {
            conn.prepare_cached("UPDATE key_state SET indexed_seq = ?1 WHERE id = 1")?
                .execute([m.upto])?;
            m.final_staged = true;
        }
        m.open = end;
        Ok(())
    }
}

/// `key_state.indexed_seq`.
pub fn indexed_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT indexed_seq FROM key_state WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}
