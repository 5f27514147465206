//! The evidence log's rows: appending (with the hash chain), erasing, reading, verifying and
//! purging. The chain is defined in [`crate::chain`], the schema in [`crate::schema`], the
//! lookups by event id and consent id in [`crate::keys`].

use crate::keys::{self, Keys};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::value::RawValue;
use std::path::PathBuf;
use thiserror::Error;

use crate::time::format_rfc3339;

pub use crate::chain::{chain_hash, hex, sha256, Meta, GENESIS};
pub use crate::schema::{open, open_existing, SCHEMA_VERSION};

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot create directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a consent-endpoint database (it has no events log); left unchanged")]
    Foreign(PathBuf),
    #[error("database schema version {0} is not supported (this program writes {SCHEMA_VERSION})")]
    Schema(i64),
    #[error("cannot start a storage thread: {0}")]
    Thread(std::io::Error),
}

/// An event about to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub site_id: String,
    pub consent_id: String,
    /// Server receive time, UTC milliseconds.
    pub received_at: i64,
    /// The request's `Sec-GPC` header, if it had one.
    pub gpc_header: Option<String>,
    /// Canonical JSON of the event.
    pub payload: String,
    /// `SHA-256(payload)`.
    pub payload_hash: [u8; 32],
    /// Answer a replay of an already stored event, but store nothing new (the event failed a
    /// check that a retry of a stored event may fail later, such as a category the site has
    /// since removed).
    pub replay_only: bool,
}

impl NewEvent {
    /// An event with its payload hash; hashing here keeps that work on the request's thread
    /// instead of the single writer's.
    pub fn new(
        payload: String,
        event_id: String,
        site_id: String,
        consent_id: String,
        received_at: i64,
        gpc_header: Option<String>,
    ) -> NewEvent {
        NewEvent {
            payload_hash: sha256(payload.as_bytes()),
            payload,
            event_id,
            site_id,
            consent_id,
            received_at,
            gpc_header,
            replay_only: false,
        }
    }
}

/// What appending did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored as row `seq`.
    New { seq: i64 },
    /// The same event was already row `seq`.
    Replay { seq: i64 },
    /// Row `seq` has this event id with a different payload.
    Conflict { seq: i64 },
    /// A [`NewEvent::replay_only`] event whose id is not stored: nothing was written.
    Absent,
}

/// The last row's `seq` and chain hash (or the checkpoint's, or genesis).
pub fn head(conn: &Connection) -> Result<(i64, [u8; 32]), StoreError> {
    let last = conn
        .prepare_cached("SELECT seq, chain_hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .optional()?;
    let last = match last {
        Some(l) => Some(l),
        None => checkpoint(conn)?.map(|c| (c.seq, c.chain_hash.to_vec())),
    };
    Ok(match last {
        Some((seq, h)) => (seq, h.try_into().unwrap_or(GENESIS)),
        None => (0, GENESIS),
    })
}

/// Appends one event inside the caller's transaction, deduplicating on the event id; `head`
/// moves forward when a row is written, and `keys` learns it (the caller tells `keys` whether
/// the transaction committed).
pub fn append(
    conn: &Connection,
    head: &mut (i64, [u8; 32]),
    keys: &mut Keys,
    e: &NewEvent,
) -> Result<Appended, StoreError> {
    let payload_hash = e.payload_hash;
    if let Some((seq, stored)) = keys.find(conn, &e.event_id)? {
        return Ok(if stored == payload_hash {
            Appended::Replay { seq }
        } else {
            Appended::Conflict { seq }
        });
    }
    if e.replay_only {
        return Ok(Appended::Absent);
    }
    let seq = head.0 + 1;
    let meta = Meta {
        seq,
        event_id: &e.event_id,
        site_id: &e.site_id,
        consent_id: &e.consent_id,
        received_at: e.received_at,
        gpc_header: e.gpc_header.as_deref(),
    };
    let h = chain_hash(&head.1, &payload_hash, &meta);
    conn.prepare_cached(
        "INSERT INTO events (seq, event_id, site_id, consent_id, received_at, gpc_header, payload, payload_hash, chain_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        seq,
        e.event_id,
        e.site_id,
        e.consent_id,
        e.received_at,
        e.gpc_header,
        e.payload,
        &payload_hash[..],
        &h[..]
    ])?;
    *head = (seq, h);
    keys.stage(&e.event_id, seq, payload_hash, &e.consent_id);
    Ok(Appended::New { seq })
}

/// Erases the payloads of every event of a consent id, keeping tombstones (ids, times, payload
/// hash, chain hash). Returns how many payloads were erased.
pub fn erase(
    conn: &Connection,
    keys: &Keys,
    consent_id: &str,
    at: i64,
) -> Result<usize, StoreError> {
    let merged = conn
        .prepare_cached(
            "UPDATE events SET payload = NULL, erased_at = ?2
             WHERE seq IN (SELECT seq FROM consent_keys WHERE consent_id = ?1 AND seq <= ?3)
               AND payload IS NOT NULL",
        )?
        .execute(params![consent_id, at, keys.indexed_seq()])?;
    let recent = conn
        .prepare_cached(
            "UPDATE events SET payload = NULL, erased_at = ?2
             WHERE seq > ?3 AND consent_id = ?1 AND payload IS NOT NULL",
        )?
        .execute(params![consent_id, at, keys.indexed_seq()])?;
    Ok(merged + recent)
}

/// One stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub seq: i64,
    pub event_id: String,
    pub site_id: String,
    pub consent_id: String,
    pub received_at: i64,
    pub gpc_header: Option<String>,
    /// `None` once erased.
    pub payload: Option<String>,
    pub payload_hash: Vec<u8>,
    pub chain_hash: Vec<u8>,
    pub erased_at: Option<i64>,
}

const ROW_COLUMNS: &str =
    "seq, event_id, site_id, consent_id, received_at, gpc_header, payload, payload_hash, chain_hash, erased_at";

impl Row {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            seq: r.get(0)?,
            event_id: r.get(1)?,
            site_id: r.get(2)?,
            consent_id: r.get(3)?,
            received_at: r.get(4)?,
            gpc_header: r.get(5)?,
            payload: r.get(6)?,
            payload_hash: r.get(7)?,
            chain_hash: r.get(8)?,
            erased_at: r.get(9)?,
        })
    }

    /// The row as exported: metadata, hashes (so the chain can be re-verified offline) and the
    /// event itself (`null` once erased).
    pub fn export(&self) -> ExportedRow<'_> {
        ExportedRow {
            seq: self.seq,
            event_id: &self.event_id,
            site_id: &self.site_id,
            consent_id: &self.consent_id,
            received_at: self.received_at,
            received_at_utc: format_rfc3339(self.received_at),
            gpc_header: self.gpc_header.as_deref(),
            payload_sha256: hex(&self.payload_hash),
            chain_hash: hex(&self.chain_hash),
            erased: self.payload.is_none(),
            erased_at: self.erased_at,
            event: self.payload.as_deref().map(StoredEvent::of),
        }
    }
}

/// A row as `export` and `GET /v1/consents/{id}` write it. Serialised field by field, never
/// through a `serde_json::Value` (which would reorder the event's keys).
#[derive(Debug, Serialize)]
pub struct ExportedRow<'a> {
    seq: i64,
    event_id: &'a str,
    site_id: &'a str,
    consent_id: &'a str,
    received_at: i64,
    received_at_utc: String,
    gpc_header: Option<&'a str>,
    payload_sha256: String,
    chain_hash: String,
    erased: bool,
    erased_at: Option<i64>,
    event: Option<StoredEvent<'a>>,
}

/// The stored payload as exported: its exact text, so that `sha256(event)` can be checked
/// against `payload_sha256` offline.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum StoredEvent<'a> {
    /// The payload is one JSON value: written as it is, byte for byte.
    Verbatim(&'a RawValue),
    /// Anything else (only a tampered row): written as a JSON string, still verbatim once
    /// unquoted.
    Text(&'a str),
}

impl<'a> StoredEvent<'a> {
    fn of(payload: &'a str) -> StoredEvent<'a> {
        match serde_json::from_str::<&RawValue>(payload) {
            // The parser skips whitespace around the value; such a payload is not canonical and
            // would no longer match its hash if written without it.
            Ok(raw) if raw.get().len() == payload.len() => StoredEvent::Verbatim(raw),
            _ => StoredEvent::Text(payload),
        }
    }
}

/// Every event of one consent id, in order.
pub fn rows_for_consent(conn: &Connection, consent_id: &str) -> Result<Vec<Row>, StoreError> {
    let snapshot = conn.unchecked_transaction()?;
    let upto = keys::indexed_seq(&snapshot)?;
    let mut rows = Vec::new();
    for sql in [
        "WHERE seq IN (SELECT seq FROM consent_keys WHERE consent_id = ?1 AND seq <= ?2)",
        "WHERE seq > ?2 AND consent_id = ?1",
    ] {
        let mut stmt = snapshot.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS} FROM events {sql} ORDER BY seq"
        ))?;
        for r in stmt.query_map(params![consent_id, upto], Row::read)? {
            rows.push(r?);
        }
    }
    Ok(rows)
}

/// Calls `f` for every row received in `[from, to)` (either bound optional), in order.
pub fn for_each_in_range<E: From<StoreError>>(
    conn: &Connection,
    from: Option<i64>,
    to: Option<i64>,
    mut f: impl FnMut(Row) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM events WHERE received_at >= ?1 AND received_at < ?2 ORDER BY seq");
    let mut stmt = conn.prepare(&sql).map_err(StoreError::from)?;
    let mut rows = stmt
        .query(params![from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX)])
        .map_err(StoreError::from)?;
    while let Some(r) = rows.next().map_err(StoreError::from)? {
        f(Row::read(r).map_err(StoreError::from)?)?;
    }
    Ok(())
}

/// `(received_at, consent_id, payload)` of the unerased events of a site received in
/// `[from, to)`, in order.
pub fn for_each_site_payload(
    conn: &Connection,
    site: &str,
    from: i64,
    to: i64,
    mut f: impl FnMut(i64, &str, &str),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT received_at, consent_id, payload FROM events
         WHERE site_id = ?1 AND received_at >= ?2 AND received_at < ?3 AND payload IS NOT NULL ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![site, from, to])?;
    while let Some(r) = rows.next()? {
        let text = |i| r.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
        f(r.get(0)?, text(1)?, text(2)?);
    }
    Ok(())
}

/// The retention checkpoint: the last purged row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub chain_hash: [u8; 32],
    pub purged_rows: i64,
}

/// The checkpoint, if rows were ever purged.
pub fn checkpoint(conn: &Connection) -> Result<Option<Checkpoint>, StoreError> {
    let c = conn
        .prepare_cached("SELECT seq, chain_hash, purged_rows FROM checkpoint WHERE id = 1")?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    Ok(c.map(|(seq, h, purged_rows)| Checkpoint {
        seq,
        chain_hash: h.try_into().unwrap_or(GENESIS),
        purged_rows,
    }))
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row checks out.
    Ok {
        rows: u64,
        head_seq: i64,
        head_hash: [u8; 32],
        from_checkpoint: Option<i64>,
    },
    /// Row `seq` is the first that does not.
    Broken { seq: i64, reason: String },
}

/// Walks the chain from the checkpoint (or genesis) and reports the first row that breaks it:
/// a gap in `seq`, a payload that does not match its hash, a payload and `erased_at` that
/// disagree (one set, the other not), or a chain hash that does not follow.
/// Reads one snapshot, so a `purge` or an append running meanwhile cannot make it report a gap.
pub fn verify(conn: &Connection) -> Result<Verdict, StoreError> {
    let snapshot = conn.unchecked_transaction()?;
    let conn: &Connection = &snapshot;
    let cp = checkpoint(conn)?;
    let (mut prev_seq, mut prev_hash) = cp.as_ref().map_or((0, GENESIS), |c| (c.seq, c.chain_hash));
    let mut stmt = conn.prepare(&format!("SELECT {ROW_COLUMNS} FROM events ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut count = 0u64;
    while let Some(r) = rows.next()? {
        let row = Row::read(r)?;
        let broken = |reason: String| {
            Ok(Verdict::Broken {
                seq: row.seq,
                reason,
            })
        };
        if row.seq != prev_seq + 1 {
            return broken(if row.seq <= prev_seq {
                format!("seq {} is not after {prev_seq}", row.seq)
            } else {
                format!("rows {}..{} are missing", prev_seq + 1, row.seq - 1)
            });
        }
        let Ok(payload_hash) = <[u8; 32]>::try_from(row.payload_hash.as_slice()) else {
            return broken("payload hash is not 32 bytes".into());
        };
        if let Some(p) = &row.payload {
            if sha256(p.as_bytes()) != payload_hash {
                return broken("payload does not match its hash".into());
            }
        }
        // The chain covers neither column: an erasure is only told from a deleted payload (or
        // a claimed one from a real one) by the two agreeing, as `erase` leaves them.
        match (&row.payload, row.erased_at) {
            (None, None) => return broken("payload is gone but erased_at is not set".into()),
            (Some(_), Some(_)) => {
                return broken("erased_at is set but the payload is still there".into())
            }
            _ => {}
        }
        let meta = Meta {
            seq: row.seq,
            event_id: &row.event_id,
            site_id: &row.site_id,
            consent_id: &row.consent_id,
            received_at: row.received_at,
            gpc_header: row.gpc_header.as_deref(),
        };
        let h = chain_hash(&prev_hash, &payload_hash, &meta);
        if row.chain_hash != h {
            return broken("chain hash does not follow from the previous row".into());
        }
        prev_seq = row.seq;
        prev_hash = h;
        count += 1;
    }
    Ok(Verdict::Ok {
        rows: count,
        head_seq: prev_seq,
        head_hash: prev_hash,
        from_checkpoint: cp.map(|c| c.seq),
    })
}

/// What [`purge`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub deleted: u64,
    /// The checkpoint's `seq` afterwards (0: nothing was ever purged).
    pub checkpoint_seq: i64,
}

/// Retention: deletes the oldest rows received before `cutoff` (only a prefix of the chain, so
/// a row is kept if any earlier-`seq` row is young) and moves the checkpoint to the last deleted
/// row, so the remaining chain still verifies. Rows after `verified_upto` (the head a [`verify`]
/// just checked) stay, so nothing appended since is baked into the checkpoint unchecked.
pub fn purge(
    conn: &mut Connection,
    cutoff: i64,
    now: i64,
    verified_upto: i64,
) -> Result<Purged, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cp_seq = checkpoint(&tx)?.map_or(0, |c| c.seq);
    let first_young: Option<i64> = tx.query_row(
        "SELECT MIN(seq) FROM events WHERE received_at >= ?1",
        [cutoff],
        |r| r.get(0),
    )?;
    let last = match first_young {
        Some(s) => Some(s - 1),
        None => tx.query_row("SELECT MAX(seq) FROM events", [], |r| r.get(0))?,
    }
    .map(|l: i64| l.min(verified_upto));
    let last_row = match last {
        Some(l) if l > cp_seq => tx
            .query_row(
                "SELECT seq, chain_hash FROM events WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1",
                [l],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()?,
        _ => None,
    };
    let Some((last_seq, last_hash)) = last_row.filter(|(s, _)| *s > cp_seq) else {
        return Ok(Purged {
            deleted: 0,
            checkpoint_seq: cp_seq,
        });
    };
    // The purged rows leave the key tables with them (erased rows keep theirs).
    for sql in [
        "DELETE FROM event_keys WHERE event_id IN (SELECT event_id FROM events WHERE seq <= ?1)",
        "DELETE FROM consent_keys
         WHERE (consent_id, seq) IN (SELECT consent_id, seq FROM events WHERE seq <= ?1)",
    ] {
        tx.execute(sql, [last_seq])?;
    }
    let deleted = tx.execute("DELETE FROM events WHERE seq <= ?1", [last_seq])?;
    tx.execute(
        "INSERT INTO checkpoint (id, seq, chain_hash, purged_rows, updated_at) VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, chain_hash = excluded.chain_hash,
           purged_rows = checkpoint.purged_rows + excluded.purged_rows, updated_at = excluded.updated_at",
        params![last_seq, last_hash, deleted as i64, now],
    )?;
    tx.commit()?;
    Ok(Purged {
        deleted: deleted as u64,
        checkpoint_seq: last_seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;

    fn event(n: u32, consent: &str, at: i64) -> NewEvent {
        NewEvent::new(
            format!("{{\"n\":{n}}}"),
            format!("00000000-0000-4000-8000-{n:012}"),
            "s".into(),
            consent.into(),
            at,
            (n % 2 == 0).then(|| "1".into()),
        )
    }

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("sub/t.db")).unwrap();
        (dir, conn)
    }

    /// Appends events `from..=to` in one transaction.
    fn fill(conn: &mut Connection, keys: &mut Keys, from: u32, to: u32) {
        let tx = conn.transaction().unwrap();
        let mut h = head(&tx).unwrap();
        for i in from..=to {
            assert_eq!(
                append(
                    &tx,
                    &mut h,
                    keys,
                    &event(i, if i % 3 == 0 { "c3" } else { "cx" }, i64::from(i) * 1000)
                )
                .unwrap(),
                Appended::New { seq: i64::from(i) }
            );
        }
        tx.commit().unwrap();
        keys.committed();
    }

    /// Merges every committed row, step by step, each in its own transaction.
    fn merge_all(conn: &Connection, keys: &mut Keys) {
        keys.start_merge(head(conn).unwrap().0);
        finish_merge(conn, keys);
    }

    /// Runs the merge under way to its end, each step in its own transaction.
    fn finish_merge(conn: &Connection, keys: &mut Keys) {
        while keys.merging() {
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            keys.merge_step(conn).unwrap();
            conn.execute_batch("COMMIT").unwrap();
            keys.committed();
        }
    }

    fn replay_and_conflict(conn: &Connection, keys: &mut Keys, n: u32) {
        let mut h = head(conn).unwrap();
        assert_eq!(
            append(conn, &mut h, keys, &event(n, "cx", 1)).unwrap(),
            Appended::Replay { seq: i64::from(n) }
        );
        let mut changed = event(n, "cx", 1);
        changed.payload = "{}".into();
        changed.payload_hash = sha256(b"{}");
        assert_eq!(
            append(conn, &mut h, keys, &changed).unwrap(),
            Appended::Conflict { seq: i64::from(n) }
        );
    }

    #[test]
    fn appends_dedupes_and_verifies() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 5);
        assert_eq!(head(&conn).unwrap().0, 5);
        // Found in memory before the merge, in the key table after it, and after a restart.
        replay_and_conflict(&conn, &mut keys, 2);
        merge_all(&conn, &mut keys);
        assert_eq!((keys.pending(), keys.indexed_seq()), (0, 5));
        replay_and_conflict(&conn, &mut keys, 2);
        fill(&mut conn, &mut keys, 6, 7);
        let mut keys = Keys::load(&conn).unwrap();
        assert_eq!((keys.pending(), keys.indexed_seq()), (2, 5));
        replay_and_conflict(&conn, &mut keys, 7);
        replay_and_conflict(&conn, &mut keys, 3);
        assert_eq!(head(&conn).unwrap().0, 7);
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok {
                rows: 7,
                head_seq: 7,
                ..
            }
        ));
    }

    #[test]
    fn a_rolled_back_append_is_forgotten() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 2);
        {
            let tx = conn.transaction().unwrap();
            let mut h = head(&tx).unwrap();
            append(&tx, &mut h, &mut keys, &event(3, "cx", 3)).unwrap();
            // Dropped: rolled back.
        }
        keys.rolled_back();
        assert_eq!(keys.pending(), 2);
        fill(&mut conn, &mut keys, 3, 3);
    }

    #[test]
    fn rows_are_append_only_but_tampering_shows() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 4);
        assert!(conn
            .execute("UPDATE events SET site_id = 'x' WHERE seq = 2", [])
            .is_err());
        assert!(conn
            .execute("UPDATE events SET payload = '{}' WHERE seq = 2", [])
            .is_err());
        conn.execute_batch("DROP TRIGGER events_append_only; DROP TRIGGER events_erase_only;")
            .unwrap();
        conn.execute("UPDATE events SET received_at = 7 WHERE seq = 3", [])
            .unwrap();
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Broken { seq: 3, .. }
        ));
        conn.execute("UPDATE events SET payload = '{\"n\":9}' WHERE seq = 2", [])
            .unwrap();
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Broken { seq: 2, .. }
        ));
    }

    #[test]
    fn forged_erasure_bookkeeping_shows() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 4);
        // The triggers allow only a real erasure: payload and time together, once.
        for forged in [
            "UPDATE events SET payload = NULL WHERE seq = 2",
            "UPDATE events SET erased_at = 7 WHERE seq = 2",
        ] {
            assert!(conn.execute(forged, []).is_err(), "{forged}");
        }
        assert_eq!(erase(&conn, &keys, "c3", 99).unwrap(), 1);
        for forged in [
            "UPDATE events SET erased_at = 7 WHERE seq = 3",
            "UPDATE events SET erased_at = NULL WHERE seq = 3",
        ] {
            assert!(conn.execute(forged, []).is_err(), "{forged}");
        }
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok { rows: 4, .. }
        ));
        // Someone with the file drops the triggers; verify still tells.
        conn.execute_batch("DROP TRIGGER events_erase_only")
            .unwrap();
        conn.execute("UPDATE events SET payload = NULL WHERE seq = 2", [])
            .unwrap();
        assert_eq!(
            verify(&conn).unwrap(),
            Verdict::Broken {
                seq: 2,
                reason: "payload is gone but erased_at is not set".into()
            }
        );
        conn.execute("UPDATE events SET erased_at = 8 WHERE seq = 2", [])
            .unwrap();
        assert!(matches!(verify(&conn).unwrap(), Verdict::Ok { .. }));
        conn.execute("UPDATE events SET erased_at = 8 WHERE seq = 4", [])
            .unwrap();
        assert_eq!(
            verify(&conn).unwrap(),
            Verdict::Broken {
                seq: 4,
                reason: "erased_at is set but the payload is still there".into()
            }
        );
    }

    #[test]
    fn a_deleted_row_breaks_the_chain() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 4);
        conn.execute("DELETE FROM events WHERE seq = 2", [])
            .unwrap();
        assert_eq!(
            verify(&conn).unwrap(),
            Verdict::Broken {
                seq: 3,
                reason: "rows 2..2 are missing".into()
            }
        );
    }

    /// The seqs `rows_for_consent` finds for consent id `c3`.
    fn seqs(conn: &Connection) -> Vec<i64> {
        rows_for_consent(conn, "c3")
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect()
    }

    #[test]
    fn purge_stops_at_the_verified_head() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 5);
        let Verdict::Ok { head_seq, .. } = verify(&conn).unwrap() else {
            panic!("chain broken")
        };
        // The server appends two more rows between the verify and the purge.
        fill(&mut conn, &mut keys, 6, 7);
        let p = purge(&mut conn, i64::MAX, 1, head_seq).unwrap();
        assert_eq!(
            p,
            Purged {
                deleted: 5,
                checkpoint_seq: 5
            }
        );
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok {
                rows: 2,
                head_seq: 7,
                from_checkpoint: Some(5),
                ..
            }
        ));
    }

    #[test]
    fn a_purge_during_a_merge_leaves_no_key_that_breaks_replays() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 4);
        // A merge of rows 1..4 is under way when `purge` (another process) deletes them all.
        keys.start_merge(head(&conn).unwrap().0);
        purge(&mut conn, i64::MAX, 1, i64::MAX).unwrap();
        finish_merge(&conn, &mut keys);
        // Event 2 arrives again: a new row (its original was purged), then merged.
        let mut h = head(&conn).unwrap();
        assert_eq!(
            append(&conn, &mut h, &mut keys, &event(2, "cx", 9_000)).unwrap(),
            Appended::New { seq: 5 }
        );
        keys.committed();
        merge_all(&conn, &mut keys);
        // Once merged, it is found through the key table: a replay, not a third row.
        assert_eq!(
            append(&conn, &mut h, &mut keys, &event(2, "cx", 9_000)).unwrap(),
            Appended::Replay { seq: 5 }
        );
    }

    #[test]
    fn erasure_and_purge_keep_the_chain() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        // c3 owns 3, 6, 9: 3 and 6 merged into the key tables, 9 still in the tail.
        fill(&mut conn, &mut keys, 1, 7);
        merge_all(&conn, &mut keys);
        fill(&mut conn, &mut keys, 8, 9);
        assert_eq!(seqs(&conn), [3, 6, 9]);
        assert_eq!(erase(&conn, &keys, "c3", 99).unwrap(), 3);
        assert_eq!(erase(&conn, &keys, "c3", 99).unwrap(), 0);
        assert!(rows_for_consent(&conn, "c3")
            .unwrap()
            .iter()
            .all(|r| r.payload.is_none() && r.erased_at == Some(99)));
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok { rows: 9, .. }
        ));
        let p = purge(&mut conn, 4500, 1, i64::MAX).unwrap();
        assert_eq!(
            p,
            Purged {
                deleted: 4,
                checkpoint_seq: 4
            }
        );
        assert_eq!(seqs(&conn), [6, 9]);
        let in_keys: i64 = conn
            .query_row("SELECT COUNT(*) FROM event_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            in_keys, 3,
            "rows 5..7 are merged, 1..4 purged with their keys"
        );
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok {
                rows: 5,
                head_seq: 9,
                from_checkpoint: Some(4),
                ..
            }
        ));
        assert_eq!(
            purge(&mut conn, 4500, 2, i64::MAX).unwrap(),
            Purged {
                deleted: 0,
                checkpoint_seq: 4
            }
        );
        // Everything purged: the chain continues from the checkpoint, and a purged event that
        // the writer still remembered is not a replay any more.
        assert_eq!(
            purge(&mut conn, i64::MAX, 3, i64::MAX).unwrap(),
            Purged {
                deleted: 5,
                checkpoint_seq: 9
            }
        );
        let mut h = head(&conn).unwrap();
        assert_eq!(h.0, 9);
        assert_eq!(
            append(&conn, &mut h, &mut keys, &event(9, "c3", 10_000)).unwrap(),
            Appended::New { seq: 10 }
        );
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok {
                rows: 1,
                head_seq: 10,
                ..
            }
        ));
        assert_eq!(checkpoint(&conn).unwrap().unwrap().purged_rows, 9);
    }

    #[test]
    fn a_merge_cut_short_neither_hides_nor_doubles_rows() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        // 90 rows are 180 keys: a merge takes three steps.
        fill(&mut conn, &mut keys, 1, 90);
        let c3: Vec<i64> = (1..=30).map(|i| i * 3).collect();
        // One step: some keys are in the tables, but `indexed_seq` has not moved.
        keys.start_merge(90);
        conn.execute_batch("BEGIN").unwrap();
        keys.merge_step(&conn).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        keys.committed();
        assert!(keys.merging() && keys.indexed_seq() == 0);
        assert_eq!(seqs(&conn), c3);
        // A restart forgets the merge; doing it again finds its keys already there.
        let mut keys = Keys::load(&conn).unwrap();
        assert_eq!(keys.pending(), 90);
        merge_all(&conn, &mut keys);
        assert_eq!((keys.pending(), keys.indexed_seq()), (0, 90));
        assert_eq!(seqs(&conn), c3);
        assert_eq!(erase(&conn, &keys, "c3", 5).unwrap(), 30);
        replay_and_conflict(&conn, &mut keys, 4);
    }

    #[test]
    fn a_merge_waiting_for_its_commit_has_no_step_left() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 3);
        keys.start_merge(3);
        conn.execute_batch("BEGIN").unwrap();
        keys.merge_step(&conn).unwrap();
        assert!(keys.merging() && !keys.has_step());
        // Another call runs nothing (the writer used to spin on it until the commit).
        let before = conn.total_changes();
        keys.merge_step(&conn).unwrap();
        assert_eq!(conn.total_changes(), before);
        // Rolled back, the whole merge is to do again.
        conn.execute_batch("ROLLBACK").unwrap();
        keys.rolled_back();
        assert!(keys.has_step());
        conn.execute_batch("BEGIN").unwrap();
        keys.merge_step(&conn).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        keys.committed();
        assert!(!keys.merging() && keys.indexed_seq() == 3);
    }

    #[test]
    fn range_reads() {
        let (_d, mut conn) = db();
        let mut keys = Keys::load(&conn).unwrap();
        fill(&mut conn, &mut keys, 1, 6);
        let mut seen = Vec::new();
        for_each_in_range::<StoreError>(&conn, Some(2000), Some(5000), |r| {
            seen.push(r.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [2, 3, 4]);
        let mut n = 0;
        for_each_site_payload(&conn, "s", 0, 3000, |_, _, _| n += 1).unwrap();
        assert_eq!(n, 2);
        let j = serde_json::to_string(&rows_for_consent(&conn, "c3").unwrap()[0].export()).unwrap();
        assert!(j.ends_with(r#","event":{"n":3}}"#), "{j}");
        assert!(j.contains(&format!(
            r#""payload_sha256":"{}""#,
            hex(&sha256(b"{\"n\":3}"))
        )));
    }

    #[test]
    fn exports_the_stored_payload_verbatim() {
        let out = |payload: &str| {
            let row = Row {
                seq: 1,
                event_id: "e".into(),
                site_id: "s".into(),
                consent_id: "c".into(),
                received_at: 0,
                gpc_header: None,
                payload: Some(payload.into()),
                payload_hash: sha256(payload.as_bytes()).to_vec(),
                chain_hash: vec![0; 32],
                erased_at: None,
            };
            let j = serde_json::to_string(&row.export()).unwrap();
            let event = j.split_once(r#""event":"#).unwrap().1;
            event[..event.len() - 1].to_string()
        };
        // Keys stay in their stored order, numbers and escapes as written.
        let canonical = r#"{"z":1,"a":{"y":true,"b":false},"n":1.50,"s":"\u00e9"}"#;
        assert_eq!(out(canonical), canonical);
        // Not a single JSON value (a tampered row): a JSON string holding the text.
        assert_eq!(out("{not json"), r#""{not json""#);
        assert_eq!(out(" {} "), r#"" {} ""#);
    }
}
