//! The evidence log in SQLite: schema, the hash chain, and every read and write on the tables.
//!
//! # The chain
//!
//! Every row `i` (its `seq`, 1, 2, 3, … without gaps) stores `payload_hash = SHA-256(payload_i)`
//! and `chain_hash = h_i` where
//!
//! ```text
//! h_0 = 32 zero bytes (or the checkpoint's hash once rows have been purged)
//! h_i = SHA-256( h_{i-1} ‖ SHA-256(payload_i) ‖ meta_i )
//! meta_i = u64be(seq) ‖ str(event_id) ‖ str(site_id) ‖ str(consent_id)
//!          ‖ i64be(received_at) ‖ opt(gpc_header)
//! str(s) = u32be(byte length of s) ‖ UTF-8 bytes of s
//! opt(None) = 0x00;  opt(Some(s)) = 0x01 ‖ str(s)
//! ```
//!
//! `payload_i` is the canonical JSON of the event ([`ConsentEvent::to_json`]) and
//! `received_at` the server's receive time in UTC milliseconds. Because the chain covers the
//! payload's *hash*, erasing a payload (GDPR Art. 17) leaves a verifiable tombstone, and purging
//! the oldest rows keeps the rest verifiable from the `checkpoint` row, which holds the `seq` and
//! `chain_hash` of the last purged row.
//!
//! [`ConsentEvent::to_json`]: consent_banner::core::event::ConsentEvent::to_json

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

use crate::time::format_rfc3339;

/// The hash before the first row.
pub const GENESIS: [u8; 32] = [0; 32];
/// The schema this program writes.
pub const SCHEMA_VERSION: i64 = 1;

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
    #[error("database schema version {0} is not supported (this program writes {SCHEMA_VERSION})")]
    Schema(i64),
}

const SCHEMA: &str = "
CREATE TABLE events (
  seq          INTEGER PRIMARY KEY,
  event_id     TEXT NOT NULL,
  site_id      TEXT NOT NULL,
  consent_id   TEXT NOT NULL,
  received_at  INTEGER NOT NULL,
  gpc_header   TEXT,
  payload      TEXT,
  payload_hash BLOB NOT NULL,
  chain_hash   BLOB NOT NULL,
  erased_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX events_event_id ON events(event_id);
CREATE INDEX events_consent ON events(consent_id);
CREATE INDEX events_site_time ON events(site_id, received_at);
CREATE INDEX events_time ON events(received_at);
CREATE TABLE checkpoint (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         INTEGER NOT NULL,
  chain_hash  BLOB NOT NULL,
  purged_rows INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
CREATE TRIGGER events_append_only
  BEFORE UPDATE OF seq, event_id, site_id, consent_id, received_at, gpc_header, payload_hash, chain_hash ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_erase_only
  BEFORE UPDATE OF payload ON events WHEN NEW.payload IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a payload can only be erased'); END;
PRAGMA user_version = 1;
";

/// Opens (creating if needed) the database, in WAL mode with `synchronous=FULL`, so a commit
/// that returned is on disk.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.into(),
            source,
        })?;
    }
    prepare(Connection::open(path)?)
}

/// Opens an existing database (for the command-line tools); never creates one.
pub fn open_existing(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing(path.into()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    prepare(Connection::open_with_flags(path, flags)?)
}

fn prepare(conn: Connection) -> Result<Connection, StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 32 MiB of page cache: index pages stay in memory instead of being re-read.
    conn.pragma_update(None, "cache_size", -32_768)?;
    conn.set_prepared_statement_cache_capacity(32);
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match version {
        0 => conn
            .execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .or_else(|e| {
                // Another process may have created the schema between our read and our write.
                let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                if v == SCHEMA_VERSION {
                    Ok(())
                } else {
                    Err(e)
                }
            })?,
        SCHEMA_VERSION => {}
        other => return Err(StoreError::Schema(other)),
    }
    Ok(conn)
}

/// SHA-256 of some bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}

/// The row fields the chain covers besides the payload hash.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    pub seq: i64,
    pub event_id: &'a str,
    pub site_id: &'a str,
    pub consent_id: &'a str,
    pub received_at: i64,
    pub gpc_header: Option<&'a str>,
}

impl Meta<'_> {
    /// The canonical byte encoding (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        fn str(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&self.seq.to_be_bytes());
        str(&mut out, self.event_id);
        str(&mut out, self.site_id);
        str(&mut out, self.consent_id);
        out.extend_from_slice(&self.received_at.to_be_bytes());
        match self.gpc_header {
            None => out.push(0),
            Some(g) => {
                out.push(1);
                str(&mut out, g);
            }
        }
        out
    }
}

/// `h_i = SHA-256(h_{i-1} ‖ payload_hash ‖ meta)`.
pub fn chain_hash(prev: &[u8; 32], payload_hash: &[u8; 32], meta: &Meta<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(payload_hash);
    h.update(meta.encode());
    h.finalize().into()
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
/// moves forward when a row is written.
pub fn append(
    conn: &Connection,
    head: &mut (i64, [u8; 32]),
    e: &NewEvent,
) -> Result<Appended, StoreError> {
    let payload_hash = sha256(e.payload.as_bytes());
    let existing = conn
        .prepare_cached("SELECT seq, payload_hash FROM events WHERE event_id = ?1")?
        .query_row([&e.event_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .optional()?;
    if let Some((seq, stored)) = existing {
        return Ok(if stored == payload_hash {
            Appended::Replay { seq }
        } else {
            Appended::Conflict { seq }
        });
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
    Ok(Appended::New { seq })
}

/// Erases the payloads of every event of a consent id, keeping tombstones (ids, times, payload
/// hash, chain hash). Returns how many payloads were erased.
pub fn erase(conn: &Connection, consent_id: &str, at: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE events SET payload = NULL, erased_at = ?2 WHERE consent_id = ?1 AND payload IS NOT NULL")?
        .execute(params![consent_id, at])?)
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
    pub fn to_json(&self) -> Value {
        let event = self
            .payload
            .as_deref()
            .map(|p| serde_json::from_str::<Value>(p).unwrap_or_else(|_| Value::String(p.into())));
        json!({
            "seq": self.seq,
            "event_id": self.event_id,
            "site_id": self.site_id,
            "consent_id": self.consent_id,
            "received_at": self.received_at,
            "received_at_utc": format_rfc3339(self.received_at),
            "gpc_header": self.gpc_header,
            "payload_sha256": hex(&self.payload_hash),
            "chain_hash": hex(&self.chain_hash),
            "erased": self.payload.is_none(),
            "erased_at": self.erased_at,
            "event": event,
        })
    }
}

/// Every event of one consent id, in order.
pub fn rows_for_consent(conn: &Connection, consent_id: &str) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS} FROM events WHERE consent_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt
        .query_map([consent_id], Row::read)?
        .collect::<Result<Vec<_>, _>>()?;
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
pub fn site_payloads(
    conn: &Connection,
    site: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT received_at, consent_id, payload FROM events
         WHERE site_id = ?1 AND received_at >= ?2 AND received_at < ?3 AND payload IS NOT NULL ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(params![site, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
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
/// a gap in `seq`, a payload that does not match its hash, or a chain hash that does not follow.
pub fn verify(conn: &Connection) -> Result<Verdict, StoreError> {
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
/// row, so the remaining chain still verifies.
pub fn purge(conn: &mut Connection, cutoff: i64, now: i64) -> Result<Purged, StoreError> {
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
    };
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

    fn event(n: u32, consent: &str, at: i64) -> NewEvent {
        NewEvent {
            event_id: format!("00000000-0000-4000-8000-{n:012}"),
            site_id: "s".into(),
            consent_id: consent.into(),
            received_at: at,
            gpc_header: (n % 2 == 0).then(|| "1".into()),
            payload: format!("{{\"n\":{n}}}"),
        }
    }

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("sub/t.db")).unwrap();
        (dir, conn)
    }

    fn fill(conn: &mut Connection, n: u32) {
        let tx = conn.transaction().unwrap();
        let mut h = head(&tx).unwrap();
        for i in 1..=n {
            assert_eq!(
                append(
                    &tx,
                    &mut h,
                    &event(i, if i % 3 == 0 { "c3" } else { "cx" }, i64::from(i) * 1000)
                )
                .unwrap(),
                Appended::New { seq: i64::from(i) }
            );
        }
        tx.commit().unwrap();
    }

    #[test]
    fn meta_encoding_is_length_prefixed() {
        let m = Meta {
            seq: 1,
            event_id: "e",
            site_id: "s",
            consent_id: "c",
            received_at: 2,
            gpc_header: Some("1"),
        };
        let mut want = vec![
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, b'e', 0, 0, 0, 1, b's', 0, 0, 0, 1, b'c',
        ];
        want.extend([0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 1, b'1']);
        assert_eq!(m.encode(), want);
        let none = Meta {
            gpc_header: None,
            ..m
        };
        assert_eq!(*none.encode().last().unwrap(), 0);
    }

    #[test]
    fn appends_dedupes_and_verifies() {
        let (_d, mut conn) = db();
        fill(&mut conn, 5);
        let mut h = head(&conn).unwrap();
        assert_eq!(h.0, 5);
        assert_eq!(
            append(&conn, &mut h, &event(2, "cx", 1)).unwrap(),
            Appended::Replay { seq: 2 }
        );
        let mut changed = event(2, "cx", 1);
        changed.payload = "{}".into();
        assert_eq!(
            append(&conn, &mut h, &changed).unwrap(),
            Appended::Conflict { seq: 2 }
        );
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok {
                rows: 5,
                head_seq: 5,
                ..
            }
        ));
    }

    #[test]
    fn rows_are_append_only_but_tampering_shows() {
        let (_d, mut conn) = db();
        fill(&mut conn, 4);
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
    fn a_deleted_row_breaks_the_chain() {
        let (_d, mut conn) = db();
        fill(&mut conn, 4);
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

    #[test]
    fn erasure_and_purge_keep_the_chain() {
        let (_d, mut conn) = db();
        fill(&mut conn, 9);
        assert_eq!(erase(&conn, "c3", 99).unwrap(), 3);
        assert_eq!(erase(&conn, "c3", 99).unwrap(), 0);
        assert!(rows_for_consent(&conn, "c3")
            .unwrap()
            .iter()
            .all(|r| r.payload.is_none() && r.erased_at == Some(99)));
        assert!(matches!(
            verify(&conn).unwrap(),
            Verdict::Ok { rows: 9, .. }
        ));
        let p = purge(&mut conn, 4500, 1).unwrap();
        assert_eq!(
            p,
            Purged {
                deleted: 4,
                checkpoint_seq: 4
            }
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
            purge(&mut conn, 4500, 2).unwrap(),
            Purged {
                deleted: 0,
                checkpoint_seq: 4
            }
        );
        // Everything purged: the chain continues from the checkpoint.
        assert_eq!(
            purge(&mut conn, i64::MAX, 3).unwrap(),
            Purged {
                deleted: 5,
                checkpoint_seq: 9
            }
        );
        let mut h = head(&conn).unwrap();
        assert_eq!(h.0, 9);
        assert_eq!(
            append(&conn, &mut h, &event(10, "cx", 10_000)).unwrap(),
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
    fn range_reads() {
        let (_d, mut conn) = db();
        fill(&mut conn, 6);
        let mut seen = Vec::new();
        for_each_in_range::<StoreError>(&conn, Some(2000), Some(5000), |r| {
            seen.push(r.seq);
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [2, 3, 4]);
        assert_eq!(site_payloads(&conn, "s", 0, 3000).unwrap().len(), 2);
        let j = rows_for_consent(&conn, "c3").unwrap()[0].to_json();
        assert_eq!(j["event"]["n"], 3);
        assert_eq!(j["payload_sha256"].as_str().unwrap().len(), 64);
    }
}
