//! Whether a stored record still counts: the stored record is a cache, never the truth, and
//! anything doubtful means "ask again, every optional category off".

use super::codec::{self, CodecError};
use super::config::Config;
use super::record::Record;

/// How far in the future a decision time may lie before the record is distrusted (clock skew).
pub const FUTURE_TOLERANCE_SECS: i64 = 3600;

/// What the stored record means for this page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A current decision covering every category of this site.
    Valid(Record),
    /// Current, but some optional category of this site was never decided (a sibling site with
    /// fewer categories wrote it, or GPC pre-set some): ask for the rest.
    Incomplete(Record),
    Missing,
    Corrupt(CodecError),
    FutureDated,
    /// Older than the configured lifetime. Its consent id is kept for the next decision.
    Expired(Record),
    /// Made under another config revision. Its consent id is kept for the next decision.
    RevisionChanged(Record),
}

impl Stored {
    /// The record whose choices apply now, if any.
    pub fn current(&self) -> Option<&Record> {
        match self {
            Stored::Valid(r) | Stored::Incomplete(r) => Some(r),
            _ => None,
        }
    }
}

/// Judges a stored value against the config at `now` (Unix seconds).
///
/// ```
/// use consent_banner::core::{config::Config, policy::{evaluate, Stored}};
/// # let cfg = Config::parse(r#"{"siteId":"d","categories":[{"id":"essential","required":true}],"texts":{"en":{"title":"t","description":"d","acceptAll":"a","rejectAll":"r","customize":"c","save":"s","preferencesTitle":"p","categories":{"essential":{"title":"e","description":"e"}}}}}"#).unwrap();
/// assert_eq!(evaluate(None, &cfg, 1_700_000_000), Stored::Missing);
/// assert!(matches!(evaluate(Some("nonsense"), &cfg, 1_700_000_000), Stored::Corrupt(_)));
/// ```
pub fn evaluate(raw: Option<&str>, config: &Config, now: i64) -> Stored {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else { return Stored::Missing };
    let record = match codec::decode(raw) {
        Ok(r) => r,
        Err(e) => return Stored::Corrupt(e),
    };
    if record.last_decision > now + FUTURE_TOLERANCE_SECS {
        return Stored::FutureDated;
    }
    if record.revision != config.revision {
        return Stored::RevisionChanged(record);
    }
    if now - record.last_decision > config.lifetime_secs() {
        return Stored::Expired(record);
    }
    let undecided = config.categories.iter().any(|c| !c.required && record.choice(c.id).is_none());
    if undecided {
        Stored::Incomplete(record)
    } else {
        Stored::Valid(record)
    }
}

/// The effective choice for every category of this site, in config order: required ones always
/// granted, the rest as recorded, undecided ones refused.
pub fn effective(config: &Config, record: Option<&Record>) -> Vec<(&'static str, bool)> {
    // A plain loop: the Map/collect chain compiled larger.
    let mut out = Vec::with_capacity(config.categories.len());
    for c in config.categories {
        out.push((c.id, c.required || record.and_then(|r| r.choice(c.id)) == Some(true)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::tests::MINIMAL;

    const NOW: i64 = 1_750_000_000;
    const DAY: i64 = 86_400;

    fn cfg() -> Config {
        Config::parse(MINIMAL).unwrap()
    }

    fn rec(rev: u32, last: i64, choices: &[(&str, bool)]) -> String {
        codec::encode(&Record {
            consent_id: "c".repeat(32),
            revision: rev,
            first_decision: last - 10,
            last_decision: last,
            choices: choices.iter().map(|(c, g)| (c.to_string(), *g)).collect(),
            under_gpc: false,
        })
    }

    const ALL: [(&str, bool); 3] = [("essential", true), ("analytics", true), ("marketing", false)];

    #[test]
    fn decisions_over_time() {
        let c = cfg();
        assert!(matches!(evaluate(Some(&rec(2, NOW - DAY, &ALL)), &c, NOW), Stored::Valid(_)));
        // The lifetime runs from the last decision: 182 days is fine, a second more is not.
        assert!(matches!(evaluate(Some(&rec(2, NOW - 182 * DAY, &ALL)), &c, NOW), Stored::Valid(_)));
        assert!(matches!(evaluate(Some(&rec(2, NOW - 182 * DAY - 1, &ALL)), &c, NOW), Stored::Expired(_)));
        assert!(matches!(evaluate(Some(&rec(2, NOW - 183 * DAY, &ALL)), &c, NOW), Stored::Expired(_)));
        // Small clock skew is tolerated, a decision from the future is not.
        assert!(matches!(evaluate(Some(&rec(2, NOW + 60, &ALL)), &c, NOW), Stored::Valid(_)));
        assert_eq!(evaluate(Some(&rec(2, NOW + 2 * DAY, &ALL)), &c, NOW), Stored::FutureDated);
    }

    #[test]
    fn revisions_and_bad_records() {
        let c = cfg();
        assert!(matches!(evaluate(Some(&rec(1, NOW, &ALL)), &c, NOW), Stored::RevisionChanged(_)));
        assert!(matches!(evaluate(Some(&rec(3, NOW, &ALL)), &c, NOW), Stored::RevisionChanged(_)));
        assert_eq!(evaluate(None, &c, NOW), Stored::Missing);
        assert_eq!(evaluate(Some(""), &c, NOW), Stored::Missing);
        assert!(matches!(evaluate(Some("{\"v\":99}"), &c, NOW), Stored::Corrupt(_)));
        assert!(matches!(evaluate(Some(&rec(2, NOW, &ALL).replacen('1', "9", 1)), &c, NOW), Stored::Corrupt(CodecError::UnknownVersion)));
    }

    #[test]
    fn a_record_from_a_smaller_sibling_is_incomplete_but_applies() {
        let c = cfg();
        let app = rec(2, NOW, &[("essential", true), ("analytics", true)]);
        let stored = evaluate(Some(&app), &c, NOW);
        assert!(matches!(stored, Stored::Incomplete(_)));
        let eff = effective(&c, stored.current());
        assert_eq!(eff, vec![("essential", true), ("analytics", true), ("marketing", false)]);
        // Unknown extra categories do not make a record invalid.
        let bigger = rec(2, NOW, &[("essential", true), ("analytics", false), ("marketing", false), ("chat", true)]);
        assert!(matches!(evaluate(Some(&bigger), &c, NOW), Stored::Valid(_)));
    }

    #[test]
    fn effective_fails_closed() {
        let c = cfg();
        assert_eq!(effective(&c, None), vec![("essential", true), ("analytics", false), ("marketing", false)]);
        // A record cannot refuse a required category.
        let r = codec::decode(&rec(2, NOW, &[("essential", false), ("analytics", false), ("marketing", true)])).unwrap();
        assert_eq!(effective(&c, Some(&r))[0], ("essential", true));
    }

    #[test]
    fn never_trusts_a_mutated_record_it_should_not() {
        let c = cfg();
        let good = rec(2, NOW - DAY, &ALL);
        let (mut current, mut other) = (0, 0);
        for m in crate::core::mutate::text_mutants(&good, 20_000, 6) {
            match evaluate(Some(&m), &c, NOW) {
                Stored::Valid(r) | Stored::Incomplete(r) => {
                    // Whatever a mutation leaves standing still meets every rule.
                    assert_eq!(r.revision, c.revision, "{m}");
                    assert!(r.last_decision <= NOW + FUTURE_TOLERANCE_SECS, "{m}");
                    assert!(NOW - r.last_decision <= c.lifetime_secs(), "{m}");
                    assert!(r.first_decision <= r.last_decision, "{m}");
                    // Required categories stay granted, whatever the record says.
                    assert_eq!(effective(&c, Some(&r))[0], ("essential", true), "{m}");
                    current += 1;
                }
                _ => other += 1,
            }
        }
        assert!(current > 100 && other > 10_000, "current {current}, other {other}");
    }
}
