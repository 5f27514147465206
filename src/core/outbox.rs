//! The report outbox: events wait here until the endpoint answers 2xx, with backoff between
//! tries. Stored as JSON; a damaged store reads as empty rather than failing the banner.

use super::json::{self, write_int, write_str, Value};

/// Most events kept; past this the oldest are dropped.
pub const CAP: usize = 50;
/// Longest wait between tries.
pub const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// One event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The event id (idempotency key), the same on every try.
    pub id: String,
    /// Failed tries so far.
    pub attempts: u32,
    /// Not before this time (ms since the epoch).
    pub next_at: i64,
    /// The event's JSON body.
    pub body: String,
}

/// How a try ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: the endpoint committed it.
    Delivered,
    /// 400, 409, 413 or 422: this event can never be accepted (invalid, too large, or its id
    /// taken by another body), so keeping it would only retry forever.
    Refused,
    /// No answer, 5xx, or any other status: an outage, a deploy, a proxy or a misconfigured
    /// allowlist may pass, so the event waits; `retry_after_ms` from a `Retry-After` header.
    Failed { retry_after_ms: Option<i64> },
}

impl Outcome {
    /// Classifies an HTTP status (0 = the request never got an answer).
    pub fn from_status(status: u16, retry_after_ms: Option<i64>) -> Outcome {
        match status {
            200..=299 => Outcome::Delivered,
            400 | 409 | 413 | 422 => Outcome::Refused,
            _ => Outcome::Failed { retry_after_ms },
        }
    }
}

/// Parses a `Retry-After` value in seconds (HTTP dates are not worth their code here).
pub fn retry_after_ms(header: &str) -> Option<i64> {
    super::json::read_digits(header.trim_ascii(), 7).map(|s| s * 1000)
}

/// The queue of undelivered events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outbox {
    pub entries: Vec<Entry>,
}

impl Outbox {
    /// Reads the stored form; anything unreadable is dropped.
    ///
    /// ```
    /// use consent_banner::core::outbox::Outbox;
    /// let mut o = Outbox::decode("not json");
    /// assert!(o.entries.is_empty());
    /// o.push("e1".into(), "{}".into(), 0);
    /// assert_eq!(Outbox::decode(&o.encode()), o);
    /// ```
    pub fn decode(text: &str) -> Outbox {
        let Ok(Value::Array(items)) = json::parse(text) else { return Outbox::default() };
        // A plain loop: the FilterMap/Take chain it replaces compiled larger.
        let mut entries = Vec::new();
        for item in &items {
            if entries.len() == CAP {
                break;
            }
            if let Value::Array(f) = item {
                if let [Value::Str(id), Value::Int(n), Value::Int(at), Value::Str(body)] = f.as_slice() {
                    entries.push(Entry { id: id.clone(), attempts: u32::try_from(*n).unwrap_or(u32::MAX), next_at: *at, body: body.clone() });
                }
            }
        }
        Outbox { entries }
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        let mut s = String::from("[");
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push('[');
            write_str(&mut s, &e.id);
            s.push(',');
            write_int(&mut s, i64::from(e.attempts));
            s.push(',');
            write_int(&mut s, e.next_at);
            s.push(',');
            write_str(&mut s, &e.body);
            s.push(']');
        }
        s.push(']');
        s
    }

    /// Queues an event, due at once. Returns how many old events were dropped to stay under [`CAP`].
    pub fn push(&mut self, id: String, body: String, now: i64) -> usize {
        if self.entries.iter().any(|e| e.id == id) {
            return 0;
        }
        self.entries.push(Entry { id, attempts: 0, next_at: now, body });
        let over = self.entries.len().saturating_sub(CAP);
        // At most one in practice; `remove` is already linked in for `settle`, `drain` is not.
        for _ in 0..over {
            self.entries.remove(0);
        }
        over
    }

    /// Ids of the events due at `now`, oldest first.
    pub fn due(&self, now: i64) -> Vec<&Entry> {
        // A plain loop, like `decode`'s: the Filter adapter compiled larger.
        let mut out = Vec::new();
        for e in &self.entries {
            if e.next_at <= now {
                out.push(e);
            }
        }
        out
    }

    /// Records how a try ended. `jitter_ms` spreads retries of many clients apart.
    pub fn settle(&mut self, id: &str, outcome: Outcome, now: i64, jitter_ms: i64) {
        let Some(pos) = self.entries.iter().position(|e| e.id == id) else { return };
        match outcome {
            Outcome::Delivered | Outcome::Refused => {
                self.entries.remove(pos);
            }
            Outcome::Failed { retry_after_ms } => {
                let e = &mut self.entries[pos];
                e.attempts = e.attempts.saturating_add(1);
                // The first failure retries on the next page load or visit; later ones back off.
                let backoff = if e.attempts <= 1 { 0 } else { (1000i64 << e.attempts.min(22)).min(MAX_BACKOFF_MS) + jitter_ms };
                e.next_at = now + retry_after_ms.map_or(backoff, |r| r.max(backoff));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_events_until_delivered() {
        let mut o = Outbox::default();
        o.push("a".into(), r#"{"x":"<\"y\">"}"#.into(), 100);
        o.push("b".into(), "{}".into(), 100);
        o.push("a".into(), "dup".into(), 100);
        assert_eq!(o.entries.len(), 2);
        assert_eq!(o.due(100).len(), 2);
        o.settle("a", Outcome::Delivered, 100, 0);
        assert_eq!(o.entries.len(), 1);
        o.settle("b", Outcome::Refused, 100, 0);
        assert!(o.entries.is_empty());
    }

    #[test]
    fn backs_off_and_honours_retry_after() {
        let mut o = Outbox::default();
        o.push("a".into(), "{}".into(), 0);
        o.settle("a", Outcome::Failed { retry_after_ms: None }, 1000, 7);
        assert_eq!(o.entries[0].next_at, 1000, "first failure: due again at once (next load)");
        o.settle("a", Outcome::Failed { retry_after_ms: None }, 1000, 7);
        assert_eq!(o.entries[0].next_at, 1000 + 4000 + 7);
        o.settle("a", Outcome::Failed { retry_after_ms: Some(30_000) }, 1000, 7);
        assert_eq!(o.entries[0].next_at, 31_000);
        assert!(o.due(30_999).is_empty());
        assert_eq!(o.due(31_000).len(), 1);
        for _ in 0..40 {
            o.settle("a", Outcome::Failed { retry_after_ms: None }, 0, 0);
        }
        assert_eq!(o.entries[0].next_at, MAX_BACKOFF_MS);
    }

    #[test]
    fn is_bounded() {
        let mut o = Outbox::default();
        let mut dropped = 0;
        for i in 0..CAP + 3 {
            dropped += o.push(i.to_string(), "{}".into(), 0);
        }
        assert_eq!(dropped, 3);
        assert_eq!(o.entries.len(), CAP);
        assert_eq!(o.entries[0].id, "3");
    }

    #[test]
    fn statuses_and_headers() {
        assert_eq!(Outcome::from_status(202, None), Outcome::Delivered);
        for refused in [400, 409, 413, 422] {
            assert_eq!(Outcome::from_status(refused, None), Outcome::Refused, "{refused}");
        }
        // A proxy's 403, a 404 during a deploy, a 401: the event may still get through later.
        for transient in [401, 403, 404, 408] {
            assert_eq!(Outcome::from_status(transient, None), Outcome::Failed { retry_after_ms: None }, "{transient}");
        }
        assert_eq!(Outcome::from_status(429, Some(5)), Outcome::Failed { retry_after_ms: Some(5) });
        assert_eq!(Outcome::from_status(503, None), Outcome::Failed { retry_after_ms: None });
        assert_eq!(Outcome::from_status(0, None), Outcome::Failed { retry_after_ms: None });
        assert_eq!(retry_after_ms(" 12 "), Some(12_000));
        assert_eq!(retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_ms(""), None);
    }

    #[test]
    fn damaged_store_reads_empty_or_partial() {
        assert!(Outbox::decode("").entries.is_empty());
        assert!(Outbox::decode("{}").entries.is_empty());
        let o = Outbox::decode(r#"[["a",1,5,"{}"],["bad"],3]"#);
        assert_eq!(o.entries.len(), 1);
        assert_eq!(o.entries[0].attempts, 1);
    }

    #[test]
    fn decode_never_panics_and_keeps_what_it_reads() {
        let mut o = Outbox::default();
        o.push("e1".into(), r#"{"a":"\"b\"","n":[1,2]}"#.into(), 5);
        o.push("e2".into(), "{}".into(), 9);
        o.settle("e2", Outcome::Failed { retry_after_ms: Some(3000) }, 10, 0);
        let stored = o.encode();
        let mut kept = 0;
        for m in crate::core::mutate::text_mutants(&stored, 20_000, 3) {
            let d = Outbox::decode(&m);
            assert!(d.entries.len() <= CAP);
            // Whatever survives is stored and read back the same.
            assert_eq!(Outbox::decode(&d.encode()), d, "{m}");
            kept += d.entries.len();
        }
        assert!(kept > 1_000, "only {kept} entries survived the mutations");
        for m in crate::core::mutate::text_mutants(" 120 ", 2_000, 4) {
            assert!(retry_after_ms(&m).map_or(true, |ms| (0..10_000_000_000).contains(&ms)), "{m}");
        }
    }
}
