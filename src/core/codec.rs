//! Record ⇄ cookie value. Versioned, size-capped, strict: anything odd decodes to an error, which
//! the policy treats as "no consent". Never panics.
//!
//! Format v1: `1.<consent id>.<revision>.<first>.<last>.<cat>:<0|1>~<cat>:<0|1>…[.g]` — only
//! cookie-safe characters, no encoding needed. A trailing `.g` marks a decision made while the
//! browser sent Global Privacy Control, so an explicit opt-in made then is not undone by it.

use super::config::is_category_id;
use super::ids::is_consent_id;
use super::json::write_int;
use super::record::Record;
use thiserror::Error;

/// Longest value accepted or written.
pub const MAX_LEN: usize = 1024;

/// Why a stored value is not a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("stored consent is longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("stored consent has an unknown format version")]
    UnknownVersion,
    #[error("stored consent is malformed: {}", .0.name())]
    Malformed(Part),
}

/// The part of a stored value that is malformed.
//
// A fieldless enum rather than the name itself: the banner never shows why a value was refused,
// so the names (only in `name`) stay out of the wasm. Measured: −185 B brotli.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Version,
    ConsentId,
    Revision,
    FirstDecision,
    LastDecision,
    TimesOutOfOrder,
    Choices,
    TrailingFields,
    Choice,
    Category,
}

impl Part {
    /// What the error message calls it.
    pub fn name(self) -> &'static str {
        match self {
            Part::Version => "version",
            Part::ConsentId => "consent id",
            Part::Revision => "revision",
            Part::FirstDecision => "first decision",
            Part::LastDecision => "last decision",
            Part::TimesOutOfOrder => "decision times out of order",
            Part::Choices => "choices",
            Part::TrailingFields => "trailing fields",
            Part::Choice => "choice",
            Part::Category => "category",
        }
    }
}

/// Writes a record as a cookie value.
///
/// ```
/// use consent_banner::core::{codec, record::Record};
/// let r = Record { consent_id: "ab".repeat(16), revision: 3, first_decision: 100, last_decision: 200,
///                  choices: vec![("essential".into(), true), ("marketing".into(), false)], under_gpc: false };
/// let s = codec::encode(&r);
/// assert_eq!(s, format!("1.{}.3.100.200.essential:1~marketing:0", "ab".repeat(16)));
/// assert_eq!(codec::decode(&s), Ok(r));
/// ```
pub fn encode(r: &Record) -> String {
    let mut s = String::with_capacity(96);
    s.push_str("1.");
    s.push_str(&r.consent_id);
    s.push('.');
    write_int(&mut s, i64::from(r.revision));
    s.push('.');
    write_int(&mut s, r.first_decision);
    s.push('.');
    write_int(&mut s, r.last_decision);
    s.push('.');
    for (i, (cat, granted)) in r.choices.iter().enumerate() {
        if i > 0 {
            s.push('~');
        }
        s.push_str(cat);
        s.push_str(if *granted { ":1" } else { ":0" });
    }
    if r.under_gpc {
        s.push_str(".g");
    }
    s
}

/// Of several stored values, the one holding the latest decision; the first when none decodes.
/// The browser keeps one cookie per domain and path, so a copy written before the config shared
/// the choice across subdomains (or under another path) can linger beside the current one, and
/// `document.cookie` lists the older first.
///
/// ```
/// use consent_banner::core::codec::latest;
/// let id = "ab".repeat(16);
/// let (old, new) = (format!("1.{id}.1.100.100.a:1"), format!("1.{id}.1.100.900.a:0"));
/// assert_eq!(latest(&[old.as_str(), "junk", new.as_str()]), Some(new.as_str()));
/// assert_eq!(latest(&["junk", "more junk"]), Some("junk"));
/// assert_eq!(latest(&[]), None);
/// ```
pub fn latest<'a>(values: &[&'a str]) -> Option<&'a str> {
    let mut first = None;
    let mut best: Option<(i64, &str)> = None;
    for &v in values {
        first.get_or_insert(v);
        if let Ok(r) = decode(v) {
            if best.map_or(true, |(t, _)| r.last_decision >= t) {
                best = Some((r.last_decision, v));
            }
        }
    }
    best.map(|(_, v)| v).or(first)
}

fn number(s: &str, what: Part) -> Result<i64, CodecError> {
    match super::json::read_digits(s, 12) {
        Some(n) if !(s.len() > 1 && s.starts_with("0")) => Ok(n),
        _ => Err(CodecError::Malformed(what)),
    }
}

/// Reads a cookie value back into a record.
pub fn decode(s: &str) -> Result<Record, CodecError> {
    if s.len() > MAX_LEN {
        return Err(CodecError::TooLong);
    }
    let mut parts = super::text::fields(s, b'.');
    match parts.next() {
        Some("1") => {}
        Some(v) if !v.is_empty() && v.as_bytes().iter().all(|b| b.is_ascii_digit()) => return Err(CodecError::UnknownVersion),
        _ => return Err(CodecError::Malformed(Part::Version)),
    }
    let mut next = |what| parts.next().ok_or(CodecError::Malformed(what));
    let consent_id = next(Part::ConsentId)?;
    if !is_consent_id(consent_id) {
        return Err(CodecError::Malformed(Part::ConsentId));
    }
    let revision = u32::try_from(number(next(Part::Revision)?, Part::Revision)?).map_err(|_| CodecError::Malformed(Part::Revision))?;
    let first_decision = number(next(Part::FirstDecision)?, Part::FirstDecision)?;
    let last_decision = number(next(Part::LastDecision)?, Part::LastDecision)?;
    if first_decision > last_decision {
        return Err(CodecError::Malformed(Part::TimesOutOfOrder));
    }
    let list = next(Part::Choices)?;
    let under_gpc = match (parts.next(), parts.next()) {
        (None, _) => false,
        (Some("g"), None) => true,
        _ => return Err(CodecError::Malformed(Part::TrailingFields)),
    };
    let mut choices: Vec<(String, bool)> = Vec::new();
    for item in super::text::fields(list, b'~') {
        let (cat, flag) = super::text::split_at(item, b':').ok_or(CodecError::Malformed(Part::Choice))?;
        let granted = match flag {
            "1" => true,
            "0" => false,
            _ => return Err(CodecError::Malformed(Part::Choice)),
        };
        if !is_category_id(cat) || choices.iter().any(|(c, _)| c == cat) {
            return Err(CodecError::Malformed(Part::Category));
        }
        choices.push((cat.to_string(), granted));
    }
    Ok(Record { consent_id: consent_id.to_string(), revision, first_decision, last_decision, choices, under_gpc })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> String {
        format!("1.{}.7.1700000000.1700000500.essential:1~analytics:0~marketing:1", "0f".repeat(16))
    }

    #[test]
    fn round_trips() {
        let r = decode(&good()).unwrap();
        assert_eq!(r.revision, 7);
        assert_eq!(r.choice("marketing"), Some(true));
        assert_eq!(encode(&r), good());
        let g = decode(&(good() + ".g")).unwrap();
        assert!(g.under_gpc && !r.under_gpc);
        assert_eq!(encode(&g), good() + ".g");
    }

    #[test]
    fn every_kind_of_bad_value_is_an_error() {
        let g = good();
        let id = "0f".repeat(16);
        let cases: Vec<(String, CodecError)> = vec![
            (String::new(), CodecError::Malformed(Part::Version)),
            ("garbage".into(), CodecError::Malformed(Part::Version)),
            (g.replacen("1.", "2.", 1), CodecError::UnknownVersion),
            (g.replacen("1.", "99.", 1), CodecError::UnknownVersion),
            (g[..g.len() - 20].to_string(), CodecError::Malformed(Part::Choice)),
            (format!("1.{id}.7"), CodecError::Malformed(Part::FirstDecision)),
            (g.replace(&id, "XYZ"), CodecError::Malformed(Part::ConsentId)),
            (g.replace(".7.", ".-7."), CodecError::Malformed(Part::Revision)),
            (g.replace(".7.", ".99999999999."), CodecError::Malformed(Part::Revision)),
            (g.replace(".7.", ".07."), CodecError::Malformed(Part::Revision)),
            (g.replace("1700000000", "17e8"), CodecError::Malformed(Part::FirstDecision)),
            (g.replace("1700000500", "1600000000"), CodecError::Malformed(Part::TimesOutOfOrder)),
            (g.replace("analytics:0", "analytics:2"), CodecError::Malformed(Part::Choice)),
            (g.replace("analytics:0", "analytics"), CodecError::Malformed(Part::Choice)),
            (g.replace("analytics:0", "Analytics:0"), CodecError::Malformed(Part::Category)),
            (g.replace("analytics:0", "marketing:0"), CodecError::Malformed(Part::Category)),
            (g.clone() + ".extra", CodecError::Malformed(Part::TrailingFields)),
            (g.clone() + ".g.g", CodecError::Malformed(Part::TrailingFields)),
            (g.clone() + &"~x:1".repeat(300), CodecError::TooLong),
            (format!("1.{id}.7.1.2."), CodecError::Malformed(Part::Choice)),
        ];
        assert_eq!(CodecError::Malformed(Part::TimesOutOfOrder).to_string(), "stored consent is malformed: decision times out of order");
        for (value, want) in cases {
            assert_eq!(decode(&value), Err(want), "{value}");
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz: every prefix and every single-byte mutation of a good value.
        let g = good();
        for end in 0..=g.len() {
            let _ = decode(&g[..end]);
        }
        let bytes = g.as_bytes();
        for i in 0..bytes.len() {
            for b in [b'.', b'~', b':', b'0', b'9', b'a', b'-', 0xC3] {
                let mut m = bytes.to_vec();
                m[i] = b;
                if let Ok(s) = std::str::from_utf8(&m) {
                    let _ = decode(s);
                }
            }
        }
    }
}
