//! Opening the database: WAL with `synchronous=FULL`, the schema, and upgrades of older files.
//!
//! Tables: `events` (the chained log, `seq` = rowid, indexed by site and time and by time: both
//! grow at their right edge, so a commit touches one leaf of each), `checkpoint` (the last
//! purged row), the key tables `event_keys` and `consent_keys` (lookups by the random event and
//! consent ids, filled in bulk: see [`crate::keys`]) and `key_state` (how far they are filled).

use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// The schema this program writes. Version 1 also indexed `event_id` and `consent_id` on
/// `events` itself; version 2 let a payload be erased without `erased_at` and `erased_at` be
/// rewritten. Both are upgraded in place on open.
pub const SCHEMA_VERSION: i64 = 3;

const TABLES: &str = "
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
";

/// The key tables (version 2), filled from whatever `events` holds.
const KEY_TABLES: &str = "
CREATE TABLE event_keys (
  event_id TEXT PRIMARY KEY,
  seq      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE consent_keys (
  consent_id TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  PRIMARY KEY (consent_id, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE key_state (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_seq INTEGER NOT NULL
) STRICT;
INSERT INTO event_keys (event_id, seq) SELECT event_id, seq FROM events ORDER BY event_id;
INSERT INTO consent_keys (consent_id, seq) SELECT consent_id, seq FROM events ORDER BY consent_id, seq;
INSERT INTO key_state (id, indexed_seq) VALUES (1, (SELECT COALESCE(MAX(seq), 0) FROM events));
PRAGMA user_version = 2;
";

/// Version 1 → 2: the per-row indexes on the random ids give way to the key tables.
const UPGRADE_1: &str = "
DROP INDEX IF EXISTS events_event_id;
DROP INDEX IF EXISTS events_consent;
";

/// The erasure rule (version 3, replacing version 2's): a payload is only ever erased, once,
/// together with the time of its erasure, so the two cannot disagree unless the triggers were
/// dropped (which `verify` then reports).
const ERASE_RULE: &str = "
DROP TRIGGER IF EXISTS events_erase_only;
CREATE TRIGGER events_erase_only
  BEFORE UPDATE OF payload, erased_at ON events
  WHEN NEW.payload IS NOT NULL OR NEW.erased_at IS NULL OR OLD.erased_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a payload can only be erased, once, with its erasure time'); END;
PRAGMA user_version = 3;
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

/// Opens an existing endpoint database (for the command-line tools); never creates one, and
/// refuses, before writing anything (not even the switch to WAL), a file that is some other
/// SQLite database: a mistyped `--db` must not get an events log added and then verify as OK.
pub fn open_existing(path: &Path) -> Result<Connection, StoreError> {
    if !path.exists() {
        return Err(StoreError::Missing(path.into()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_events: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'events')",
        [],
        |r| r.get(0),
    )?;
    if version == 0 || !has_events {
        return Err(StoreError::Foreign(path.into()));
    }
    prepare(conn)
}

fn prepare(conn: Connection) -> Result<Connection, StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 8 MiB of page cache keeps the hot pages (the tails of `events` and its time indexes, the
    // upper levels of the key tables). A much larger cache costs at every commit: SQLite scans
    // the cache's whole hash table when a transaction ends.
    conn.pragma_update(None, "cache_size", -8_192)?;
    conn.set_prepared_statement_cache_capacity(32);
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let script = match version {
        0 => format!("BEGIN IMMEDIATE; {TABLES} {KEY_TABLES} {ERASE_RULE} COMMIT;"),
        1 => format!("BEGIN IMMEDIATE; {UPGRADE_1} {KEY_TABLES} {ERASE_RULE} COMMIT;"),
        2 => format!("BEGIN IMMEDIATE; {ERASE_RULE} COMMIT;"),
        SCHEMA_VERSION => return Ok(conn),
        other => return Err(StoreError::Schema(other)),
    };
    if let Err(e) = conn.execute_batch(&script) {
        // Another process may have created or upgraded the schema between our read and our
        // write (and our batch stopped inside its transaction).
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if v != SCHEMA_VERSION {
            return Err(e.into());
        }
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions 1 and 2's erasure trigger: it only refused a payload other than NULL.
    const OLD_ERASE_TRIGGER: &str = "
    CREATE TRIGGER events_erase_only
      BEFORE UPDATE OF payload ON events WHEN NEW.payload IS NOT NULL
      BEGIN SELECT RAISE(ABORT, 'a payload can only be erased'); END;";

    /// The erasure trigger's text as stored.
    fn erase_trigger(c: &Connection) -> String {
        c.query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = 'events_erase_only'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Whether the trigger of version 3 is in place: the erasure bookkeeping cannot be forged.
    fn assert_erasure_is_guarded(c: &Connection) {
        assert!(erase_trigger(c).contains("OLD.erased_at IS NOT NULL"));
        for forged in [
            "UPDATE events SET payload = NULL WHERE seq = 1",
            "UPDATE events SET erased_at = 5 WHERE seq = 1",
        ] {
            assert!(c.execute(forged, []).is_err(), "{forged}");
        }
        c.execute(
            "UPDATE events SET payload = NULL, erased_at = 5 WHERE seq = 1",
            [],
        )
        .unwrap();
        for forged in [
            "UPDATE events SET erased_at = 6 WHERE seq = 1",
            "UPDATE events SET erased_at = NULL WHERE seq = 1",
        ] {
            assert!(c.execute(forged, []).is_err(), "{forged}");
        }
    }

    #[test]
    fn upgrades_a_version_2_database_to_the_new_erasure_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "{TABLES} {OLD_ERASE_TRIGGER}
                 INSERT INTO events (seq, event_id, site_id, consent_id, received_at, payload, payload_hash, chain_hash)
                   VALUES (1, 'e1', 's', 'c1', 10, '{{}}', x'00', x'00');
                 {KEY_TABLES}"
            ))
            .unwrap();
            // What version 2 allowed.
            c.execute("UPDATE events SET erased_at = 1 WHERE seq = 1", [])
                .unwrap();
            c.execute("UPDATE events SET erased_at = NULL WHERE seq = 1", [])
                .unwrap();
        }
        let c = open_existing(&path).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_erasure_is_guarded(&c);
        drop(c);
        // Opened again (by the server this time): nothing left to do.
        let c = open(&path).unwrap();
        assert!(erase_trigger(&c).contains("OLD.erased_at IS NOT NULL"));
    }

    #[test]
    fn a_new_database_has_the_new_erasure_rule() {
        let dir = tempfile::tempdir().unwrap();
        let c = open(&dir.path().join("new.db")).unwrap();
        c.execute(
            "INSERT INTO events (seq, event_id, site_id, consent_id, received_at, payload, payload_hash, chain_hash)
               VALUES (1, 'e1', 's', 'c1', 10, '{}', x'00', x'00')",
            [],
        )
        .unwrap();
        assert_erasure_is_guarded(&c);
    }

    #[test]
    fn upgrades_a_version_1_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(&format!(
                "{TABLES} {OLD_ERASE_TRIGGER}
                 CREATE UNIQUE INDEX events_event_id ON events(event_id);
                 CREATE INDEX events_consent ON events(consent_id);
                 INSERT INTO events (seq, event_id, site_id, consent_id, received_at, payload, payload_hash, chain_hash)
                   VALUES (1, 'e1', 's', 'c1', 10, '{{}}', x'00', x'00'), (2, 'e2', 's', 'c1', 20, '{{}}', x'00', x'00');
                 PRAGMA user_version = 1;"
            ))
            .unwrap();
        }
        let c = open_existing(&path).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let keys: i64 = c
            .query_row("SELECT COUNT(*) FROM event_keys", [], |r| r.get(0))
            .unwrap();
        let consents: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM consent_keys WHERE consent_id = 'c1'",
                [],
                |r| r.get(0),
            )
            .unwrap();

        let indexed: i64 = c
            .query_row("SELECT indexed_seq FROM key_state", [], |r| r.get(0))
            .unwrap();
        assert_eq!((keys, consents, indexed), (2, 2, 2));
        let old: String = c
            .query_row(
                "SELECT group_concat(name) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, "events_site_time,events_time");
        assert_erasure_is_guarded(&c);
    }

    #[test]
    fn the_tools_open_no_other_database() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.sqlite");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
            .unwrap();
        // Empty: what `sqlite3 file.db` leaves behind. Unversioned: a table named `events`
        // that this program did not create.
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        let unversioned = dir.path().join("unversioned.db");
        Connection::open(&unversioned)
            .unwrap()
            .execute_batch("CREATE TABLE events (x)")
            .unwrap();
        for path in [&other, &empty, &unversioned] {
            let before = std::fs::read(path).unwrap();
            assert!(
                matches!(open_existing(path), Err(StoreError::Foreign(p)) if p == *path),
                "{}",
                path.display()
            );
            assert_eq!(std::fs::read(path).unwrap(), before, "{}", path.display());
            assert!(!path.with_extension("sqlite-wal").exists());
            assert!(!path.with_extension("db-wal").exists());
        }
        // The server's own file opens (and a fresh one is the server's to create).
        let ours = dir.path().join("ours.db");
        drop(open(&ours).unwrap());
        open_existing(&ours).unwrap();
    }
}
