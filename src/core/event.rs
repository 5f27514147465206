//! `ConsentEvent`: the record of one decision that the banner reports and the endpoint stores.
//!
//! Defined once, here: the banner writes it with [`ConsentEvent::to_json`], the endpoint reads it
//! with [`ConsentEvent::parse`], which is strict (unknown fields, bad formats and oversize bodies
//! are errors naming the field) and canonicalising (the page URL loses its query and fragment).

use super::config::is_category_id;
use super::fields::{join, FieldError, Obj, Problem};
use super::ids::{is_consent_id, is_uuid};
use super::json::{self, write_int, write_str, Value};
use thiserror::Error;

/// Largest event body accepted, in bytes.
pub const MAX_EVENT_BYTES: usize = 8 * 1024;
/// Most categories one event may carry.
pub const MAX_CATEGORIES: usize = 32;

/// What the visitor did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    AcceptAll,
    RejectAll,
    Custom,
    /// A category granted before is now refused.
    Withdraw,
    /// The browser's Global Privacy Control signal turned categories off before any choice.
    Gpc,
}

/// Where the decision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    FirstLayer,
    Preferences,
    Api,
    /// No UI: a browser signal (GPC).
    Signal,
}

impl Action {
    pub const ALL: [Action; 5] = [Action::AcceptAll, Action::RejectAll, Action::Custom, Action::Withdraw, Action::Gpc];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::AcceptAll => "accept_all",
            Action::RejectAll => "reject_all",
            Action::Custom => "custom",
            Action::Withdraw => "withdraw",
            Action::Gpc => "gpc",
        }
    }
}

impl Surface {
    pub const ALL: [Surface; 4] = [Surface::FirstLayer, Surface::Preferences, Surface::Api, Surface::Signal];

    pub fn as_str(self) -> &'static str {
        match self {
            Surface::FirstLayer => "first_layer",
            Surface::Preferences => "preferences",
            Surface::Api => "api",
            Surface::Signal => "signal",
        }
    }
}

/// One consent decision, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    /// Client-made random UUID; the idempotency key.
    pub event_id: String,
    /// The pseudonymous id in the stored record.
    pub consent_id: String,
    pub site_id: String,
    pub action: Action,
    /// Per category: granted or not, in config order.
    pub choices: Vec<(String, bool)>,
    pub surface: Surface,
    /// The config revision the visitor saw.
    pub revision: u32,
    /// Hash of the shipped wasm and config (hex).
    pub banner_version: String,
    /// The language the banner was shown in.
    pub language: String,
    /// Origin and path of the page; never the query or fragment.
    pub page: String,
    /// The client's clock, milliseconds since the Unix epoch (informational; clients' clocks lie).
    pub client_ts: i64,
    /// Whether the browser sent the Global Privacy Control signal.
    pub gpc: bool,
}

/// A [`ConsentEvent`] as borrowed parts, to be written as JSON: the banner writes its event from
/// what it already holds instead of copying each string into an owned event first (measured:
/// brotli total 30475 → 30374).
#[derive(Debug, Clone, Copy)]
pub struct EventParts<'a> {
    pub event_id: &'a str,
    pub consent_id: &'a str,
    pub site_id: &'a str,
    pub action: Action,
    pub choices: &'a [(&'a str, bool)],
    pub surface: Surface,
    pub revision: u32,
    pub banner_version: &'a str,
    pub language: &'a str,
    pub page: &'a str,
    pub client_ts: i64,
    pub gpc: bool,
}

impl EventParts<'_> {
    /// The canonical JSON form of the event (see [`ConsentEvent::to_json`]).
    pub fn to_json(&self) -> String {
        // Each key with its punctuation as one literal: no escaping walk over constant keys and no
        // key-writing closure (measured: −8 B brotli).
        let mut s = String::with_capacity(400);
        s.push_str("{\"event_id\":");
        write_str(&mut s, self.event_id);
        s.push_str(",\"consent_id\":");
        write_str(&mut s, self.consent_id);
        s.push_str(",\"site_id\":");
        write_str(&mut s, self.site_id);
        s.push_str(",\"action\":");
        write_str(&mut s, self.action.as_str());
        s.push_str(",\"choices\":{");
        for (i, &(cat, granted)) in self.choices.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_str(&mut s, cat);
            s.push_str(if granted { ":true" } else { ":false" });
        }
        s.push_str("},\"surface\":");
        write_str(&mut s, self.surface.as_str());
        s.push_str(",\"revision\":");
        write_int(&mut s, i64::from(self.revision));
        s.push_str(",\"banner_version\":");
        write_str(&mut s, self.banner_version);
        s.push_str(",\"language\":");
        write_str(&mut s, self.language);
        s.push_str(",\"page\":");
        write_str(&mut s, self.page);
        s.push_str(",\"client_ts\":");
        write_int(&mut s, self.client_ts);
        s.push_str(",\"gpc\":");
        s.push_str(if self.gpc { "true" } else { "false" });
        s.push('}');
        s
    }
}

/// Why an event body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    #[error("event body larger than {MAX_EVENT_BYTES} bytes")]
    TooLarge,
    #[error("event body is not UTF-8")]
    NotUtf8,
    #[error(transparent)]
    Json(#[from] json::JsonError),
    #[error(transparent)]
    Field(#[from] FieldError),
}

impl EventError {
    /// The field the error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EventError::Field(f) => Some(&f.path),
            _ => None,
        }
    }
}

const FIELDS: &str =
    "event_id consent_id site_id action choices surface revision banner_version language page client_ts gpc";

impl ConsentEvent {
    /// Reads and validates an event body.
    ///
    /// ```
    /// use consent_banner::core::event::{ConsentEvent, Action};
    /// let body = r#"{"event_id":"6f1c0a52-3b1e-4b7a-9d55-0d6c1f6b2a10","consent_id":"0123456789abcdef0123456789abcdef",
    ///   "site_id":"demo","action":"accept_all","choices":{"essential":true,"analytics":true},
    ///   "surface":"first_layer","revision":1,"banner_version":"deadbeef","language":"en",
    ///   "page":"https://example.com/pricing?utm=x","client_ts":1700000000000,"gpc":false}"#;
    /// let e = ConsentEvent::parse(body.as_bytes()).unwrap();
    /// assert_eq!(e.action, Action::AcceptAll);
    /// assert_eq!(e.page, "https://example.com/pricing");
    /// ```
    pub fn parse(body: &[u8]) -> Result<Self, EventError> {
        if body.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| EventError::NotUtf8)?;
        let v = json::parse(text)?;
        Ok(Self::from_value(&v)?)
    }

    fn from_value(v: &Value) -> Result<Self, FieldError> {
        let o = Obj::new(v, "")?;
        o.only(FIELDS)?;
        let bad = |key: &str, why: &'static str| FieldError::new(o.at(key), Problem::Invalid(why));

        let event_id = o.str("event_id")?;
        if !is_uuid(event_id) {
            return Err(bad("event_id", "must be a lowercase UUID"));
        }
        let consent_id = o.str("consent_id")?;
        if !is_consent_id(consent_id) {
            return Err(bad("consent_id", "must be 32 lowercase hex digits"));
        }
        let site_id = o.str("site_id")?;
        if !is_site_id(site_id) {
            return Err(bad("site_id", "must match [a-z0-9][a-z0-9._-]{0,63}"));
        }
        let action = o.str("action")?;
        let action = Action::ALL
            .into_iter()
            .find(|a| a.as_str() == action)
            .ok_or_else(|| bad("action", "must be accept_all, reject_all, custom, withdraw or gpc"))?;
        let surface = o.str("surface")?;
        let surface = Surface::ALL
            .into_iter()
            .find(|s| s.as_str() == surface)
            .ok_or_else(|| bad("surface", "must be first_layer, preferences, api or signal"))?;

        let choices_obj = Obj::new(o.value("choices")?, "choices")?;
        let entries = choices_obj.entries();
        if entries.is_empty() || entries.len() > MAX_CATEGORIES {
            return Err(bad("choices", "must name between 1 and 32 categories"));
        }
        let mut choices = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let path = join(choices_obj.path, k);
            if !is_category_id(k) {
                return Err(FieldError::new(path, Problem::Invalid("is not a valid category id")));
            }
            match v {
                Value::Bool(b) => choices.push((k.clone(), *b)),
                _ => return Err(FieldError::new(path, Problem::WrongType("true or false"))),
            }
        }

        let revision = o.int("revision")?;
        let revision = u32::try_from(revision).map_err(|_| bad("revision", "must be between 0 and 4294967295"))?;
        let banner_version = o.str("banner_version")?;
        if !(8..=64).contains(&banner_version.len()) || !banner_version.as_bytes().iter().all(|&b| b.is_ascii_hexdigit()) {
            return Err(bad("banner_version", "must be 8 to 64 hex digits"));
        }
        let language = o.str("language")?;
        if !is_language_tag(language) {
            return Err(bad("language", "must be a language tag such as en or pt-BR"));
        }
        let page = o.str("page")?;
        let page = page_without_query(page).ok_or_else(|| bad("page", "must be an http(s) URL without credentials, under 2048 bytes"))?;
        let client_ts = o.int("client_ts")?;
        if client_ts < 0 {
            return Err(bad("client_ts", "must not be negative"));
        }
        let gpc = o.opt_bool("gpc")?.unwrap_or(false);

        Ok(ConsentEvent {
            event_id: event_id.into(),
            consent_id: consent_id.into(),
            site_id: site_id.into(),
            action,
            choices,
            surface,
            revision,
            banner_version: banner_version.to_ascii_lowercase(),
            language: language.into(),
            page,
            client_ts,
            gpc,
        })
    }

    /// The canonical JSON form: fixed field order, compact. `parse(to_json(e)) == e`.
    pub fn to_json(&self) -> String {
        let mut choices = Vec::with_capacity(self.choices.len());
        for (c, g) in &self.choices {
            choices.push((c.as_str(), *g));
        }
        EventParts {
            event_id: &self.event_id,
            consent_id: &self.consent_id,
            site_id: &self.site_id,
            action: self.action,
            choices: &choices,
            surface: self.surface,
            revision: self.revision,
            banner_version: &self.banner_version,
            language: &self.language,
            page: &self.page,
            client_ts: self.client_ts,
            gpc: self.gpc,
        }
        .to_json()
    }

    /// Checks the choices against a site's categories: every category named must be known, and
    /// every required one present and granted.
    pub fn check_categories(&self, known: &[&str], required: &[&str]) -> Result<(), FieldError> {
        for (cat, granted) in &self.choices {
            let path = join("choices", cat);
            if !known.contains(&cat.as_str()) {
                return Err(FieldError::new(path, Problem::Invalid("is not a category of this site")));
            }
            if required.contains(&cat.as_str()) && !granted {
                return Err(FieldError::new(path, Problem::Invalid("is required and cannot be refused")));
            }
        }
        match required.iter().find(|r| !self.choices.iter().any(|(c, _)| c == *r)) {
            Some(r) => Err(FieldError::new(join("choices", r), Problem::Missing)),
            None => Ok(()),
        }
    }

    /// Granted or not, for one category; `None` when the event does not name it.
    pub fn choice(&self, category: &str) -> Option<bool> {
        self.choices.iter().find(|(c, _)| c == category).map(|(_, g)| *g)
    }
}

/// Site ids: `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn is_site_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
        && b.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

/// A BCP 47-shaped tag: 2–3 letters, then `-`-separated alphanumeric subtags, 35 bytes at most.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = super::text::fields(s, b'-');
    let first_ok = parts.next().is_some_and(|p| matches!(p.len(), 2..=3) && p.as_bytes().iter().all(|&b| b.is_ascii_alphabetic()));
    first_ok
        && s.len() <= 35
        && parts.all(|p| matches!(p.len(), 1..=8) && p.as_bytes().iter().all(|&b| matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9')))
}

/// The `page` of an event from `location.origin` and `location.pathname`: cut (at a character
/// boundary) to fit under [`page_without_query`]'s 2048-byte limit, so a very long route still
/// reports its decisions instead of having them refused.
///
/// ```
/// use consent_banner::core::event::{page_for, page_without_query};
/// assert_eq!(page_for("https://a.example", "/pricing"), "https://a.example/pricing");
/// let long = page_for("https://a.example", &"/é".repeat(2000));
/// assert!(long.len() < 2048 && page_without_query(&long).is_some());
/// ```
pub fn page_for(origin: &str, path: &str) -> String {
    let mut page = String::with_capacity(origin.len() + path.len());
    page.push_str(origin);
    page.push_str(path);
    let mut end = page.len().min(2047);
    while !page.is_char_boundary(end) {
        end -= 1;
    }
    page.truncate(end);
    page
}

/// `https://host/path?q#f` → `https://host/path`; `None` unless http(s), non-empty host, no
/// credentials (`user:pass@`: the schema stores origin and path, nothing else), no whitespace or
/// control characters, and under 2048 bytes.
pub fn page_without_query(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let ok = host_end > 0
        && !rest[..host_end].contains('@')
        && url.len() < 2048
        && !url.as_bytes().iter().any(|&b| b <= b' ' || b == 0x7f);
    ok.then(|| url[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConsentEvent {
        ConsentEvent {
            event_id: "6f1c0a52-3b1e-4b7a-9d55-0d6c1f6b2a10".into(),
            consent_id: "0123456789abcdef0123456789abcdef".into(),
            site_id: "rufio-marketing".into(),
            action: Action::Custom,
            choices: vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), false)],
            surface: Surface::Preferences,
            revision: 3,
            banner_version: "a1b2c3d4e5f60718".into(),
            language: "pt-BR".into(),
            page: "https://rufio.example/pricing".into(),
            client_ts: 1_764_000_000_000,
            gpc: true,
        }
    }

    fn with(field: &str, value: &str) -> String {
        let e = sample().to_json();
        let v = json::parse(&e).unwrap();
        let Value::Object(mut entries) = v else { unreachable!() };
        let new = json::parse(value).unwrap();
        match entries.iter_mut().find(|(k, _)| k == field) {
            Some(slot) => slot.1 = new,
            None => entries.push((field.into(), new)),
        }
        let mut out = String::new();
        json::write_value(&mut out, &Value::Object(entries));
        out
    }

    #[test]
    fn round_trips() {
        let e = sample();
        assert_eq!(ConsentEvent::parse(e.to_json().as_bytes()).unwrap(), e);
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            ("event_id", r#""not-a-uuid""#),
            ("consent_id", r#""ABC""#),
            ("site_id", r#""Bad Site""#),
            ("action", r#""maybe""#),
            ("surface", r#""popup""#),
            ("choices", r#"{}"#),
            ("choices.x<script>", r#"{"x<script>":true}"#),
            ("choices.analytics", r#"{"analytics":"yes"}"#),
            ("revision", "-1"),
            ("banner_version", r#""zz""#),
            ("language", r#""english!""#),
            ("page", r#""javascript:alert(1)""#),
            ("page", r#""https:///nohost""#),
            ("client_ts", "-5"),
            ("gpc", "1"),
            ("ip", r#""1.2.3.4""#),
        ];
        for (field, value) in cases {
            let key = field.split('.').next().unwrap();
            let err = ConsentEvent::parse(with(key, value).as_bytes()).unwrap_err();
            assert_eq!(err.field(), Some(field), "{field} = {value}: {err}");
        }
    }

    #[test]
    fn refuses_bodies_that_are_not_events() {
        assert_eq!(ConsentEvent::parse(&[b' '; MAX_EVENT_BYTES + 1]), Err(EventError::TooLarge));
        assert_eq!(ConsentEvent::parse(&[0xff, 0xfe]), Err(EventError::NotUtf8));
        assert!(matches!(ConsentEvent::parse(b"{"), Err(EventError::Json(_))));
        assert!(matches!(ConsentEvent::parse(b"[]"), Err(EventError::Field(_))));
    }

    #[test]
    fn strips_query_and_fragment() {
        let e = ConsentEvent::parse(with("page", r#""http://a.example/p/q?email=x@y.z#frag""#).as_bytes()).unwrap();
        assert_eq!(e.page, "http://a.example/p/q");
        assert_eq!(page_without_query("https://a.example?x"), Some("https://a.example".into()));
        assert_eq!(page_without_query("https://user:pass@a.example/p"), None, "credentials are refused");
        assert_eq!(page_without_query("https://a.example/p@q"), Some("https://a.example/p@q".into()), "an @ in the path is fine");
    }

    #[test]
    fn checks_categories_against_the_site() {
        let e = sample();
        assert!(e.check_categories(&["essential", "analytics", "marketing"], &["essential"]).is_ok());
        assert_eq!(e.check_categories(&["essential", "analytics"], &["essential"]).unwrap_err().path, "choices.marketing");
        let mut refused = sample();
        refused.choices[0].1 = false;
        assert!(refused.check_categories(&["essential", "analytics", "marketing"], &["essential"]).is_err());
        let mut missing = sample();
        missing.choices.remove(0);
        assert_eq!(
            missing.check_categories(&["essential", "analytics", "marketing"], &["essential"]).unwrap_err().problem,
            Problem::Missing
        );
        assert_eq!(e.choice("analytics"), Some(true));
        assert_eq!(e.choice("nope"), None);
    }

    #[test]
    fn language_tags() {
        for ok in ["en", "de", "pt-BR", "zh-Hant-TW", "ar"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "12"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn parse_never_panics_and_round_trips_what_it_accepts() {
        let body = sample().to_json();
        let (mut ok, mut err) = (0, 0);
        // Bytes, not text: a beacon body can be anything, invalid UTF-8 included.
        for m in crate::core::mutate::mutants(body.as_bytes(), 30_000, 5) {
            match ConsentEvent::parse(&m) {
                Ok(e) => {
                    assert_eq!(ConsentEvent::parse(e.to_json().as_bytes()).as_ref(), Ok(&e));
                    ok += 1;
                }
                Err(_) => err += 1,
            }
        }
        assert!(ok > 100 && err > 10_000, "ok {ok}, err {err}");
    }
}
