//! The site config: its model, its defaults, and validation that names the offending field.
//!
//! A config is read once from JSON text; [`Config::parse`] either returns a config every other
//! module can trust, or one error that a site developer can act on.

use super::fields::{done, index, keep, list, FieldError, Obj, Problem};
use super::json::{self, Value};
use std::fmt;
use std::mem::ManuallyDrop;

/// Both ways a config could grant without asking: a category that needs consent marked
/// required, and a required category mapped to a signal that needs consent.
const NEEDS_CONSENT: &str = "needs consent, so it cannot be required";

/// The Consent Mode v2 signals a category may map to.
pub const SIGNALS: [&str; 7] = [
    "ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
    "functionality_storage", "personalization_storage", "security_storage",
];

/// A config that failed to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// "consent config is not valid JSON: {0}"
    Json(json::JsonError),
    /// "consent config: {0}"
    Field(FieldError),
}

impl ConfigError {
    /// The error's text, the same as its `Display`. Built with `push_str` only: calling this
    /// instead of `to_string()` keeps `core::fmt` out of the wasm.
    pub fn message(&self) -> String {
        let mut out = String::new();
        match self {
            ConfigError::Json(e) => {
                out.push_str("consent config is not valid JSON: ");
                e.write_to(&mut out);
            }
            ConfigError::Field(e) => {
                out.push_str("consent config: ");
                e.write_to(&mut out);
            }
        }
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Json(e) => Some(e),
            ConfigError::Field(e) => Some(e),
        }
    }
}

impl From<json::JsonError> for ConfigError {
    fn from(e: json::JsonError) -> Self {
        ConfigError::Json(e)
    }
}

impl From<FieldError> for ConfigError {
    fn from(e: FieldError) -> Self {
        ConfigError::Field(e)
    }
}

/// `SameSite` attribute of the consent cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// Where and how the consent record is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieSettings {
    pub name: &'static str,
    /// `None`: the current host only. A registrable domain shares the choice with its subdomains.
    pub domain: Option<&'static str>,
    pub path: &'static str,
    pub same_site: SameSite,
}

/// One purpose the visitor decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: &'static str,
    /// Always on and locked (strictly necessary).
    pub required: bool,
    /// Cookie names to delete when the category is withdrawn; `*` matches any run of characters.
    pub cookies: &'static [&'static str],
}

/// The title and description of a category in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryText {
    pub title: &'static str,
    pub description: &'static str,
}

/// Every text the banner shows, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    pub title: &'static str,
    pub description: &'static str,
    pub accept_all: &'static str,
    pub reject_all: &'static str,
    pub customize: &'static str,
    pub save: &'static str,
    pub preferences_title: &'static str,
    pub close: &'static str,
    pub reopen: &'static str,
    pub policy_link: &'static str,
    pub gpc_notice: &'static str,
    pub consent_id_label: &'static str,
    /// In config category order.
    pub categories: &'static [CategoryText],
}

/// Region-specific Consent Mode defaults: these categories' signals start `granted` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionDefault {
    pub regions: &'static [&'static str],
    pub granted: &'static [&'static str],
}

/// Google Consent Mode v2 settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentMode {
    pub enabled: bool,
    pub wait_for_update: u32,
    /// Category id → the signals it grants.
    pub map: &'static [(&'static str, &'static [&'static str])],
    pub regions: &'static [RegionDefault],
    pub url_passthrough: bool,
    pub ads_data_redaction: bool,
}

/// A validated site config.
///
/// Its strings borrow from the parsed JSON, which [`Config::parse`] keeps for the rest of the
/// program (`'static`): a page parses its config once and uses it until it unloads, and
/// borrowing instead of copying ~40 strings out of the JSON keeps the copies, their drop code
/// and their error-path cleanup out of the wasm. Its lists are kept the same way (`Vec::leak`,
/// once per config): a config has no drop code at all, no error exit of the readers frees the
/// lists read before it, and the default signal map is a constant (measured: −415 B brotli).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub site_id: &'static str,
    pub revision: u32,
    pub lifetime_days: u32,
    pub cookie: CookieSettings,
    pub endpoint: Option<&'static str>,
    pub privacy_policy_url: Option<&'static str>,
    pub default_language: &'static str,
    pub reopen_button: bool,
    pub categories: &'static [Category],
    /// The configured language tags; the default language is among them. A list of its own, so
    /// choosing a language reads it instead of collecting one (measured: −76 B brotli).
    pub languages: &'static [&'static str],
    /// The texts of each language, in [`Config::languages`] order.
    pub texts: &'static [Texts],
    pub consent_mode: ConsentMode,
    /// Categories the Global Privacy Control signal turns off.
    pub gpc_categories: &'static [&'static str],
}

/// The known top-level keys (see [`Obj::only`]).
const TOP: &str = concat!(
    "siteId revision lifetimeDays cookie endpoint privacyPolicyUrl defaultLanguage reopenButton categories texts ",
    "consentMode gpc $schema",
);
/// The keys of one language's texts, in [`Texts`] field order: [`REQUIRED_TEXTS`] required ones,
/// then one per [`ENGLISH_FALLBACK`] entry, then `categories`.
const TEXT_KEYS: &str = concat!(
    "title description acceptAll rejectAll customize save preferencesTitle close reopen policyLink gpcNotice ",
    "consentIdLabel categories",
);
const REQUIRED_TEXTS: usize = 7;
/// The last resort for the optional texts `close`, `reopen`, `policyLink`, `gpcNotice`, `consentIdLabel`.
const ENGLISH_FALLBACK: [&str; 5] =
    ["Close", "Privacy choices", "Privacy policy", "Your browser's Global Privacy Control signal was honoured.", "Your consent ID"];

const NOT_A_CATEGORY: &str = "is not a configured category";

/// Default consent lifetime: six months, CNIL's good practice.
pub const DEFAULT_LIFETIME_DAYS: u32 = 182;

impl Config {
    /// Parses and validates a config. The parsed JSON is leaked on purpose (the config borrows
    /// from it), and so are its lists and the paths of the objects read in it
    /// ([`super::fields::keep`]): parse a config once per page or process, not per request.
    ///
    /// ```
    /// use consent_banner::core::config::Config;
    /// let cfg = Config::parse(r#"{"siteId":"demo","categories":[{"id":"essential","required":true},{"id":"analytics"}],
    ///   "texts":{"en":{"title":"Privacy","description":"We ask first.","acceptAll":"Accept all","rejectAll":"Reject all",
    ///   "customize":"Customize","save":"Save","preferencesTitle":"Preferences",
    ///   "categories":{"essential":{"title":"Essential","description":"Needed."},"analytics":{"title":"Analytics","description":"Stats."}}}}}"#).unwrap();
    /// assert_eq!(cfg.lifetime_days, 182);
    /// let err = Config::parse(r#"{"siteId":"demo","categories":[{"id":"essential","required":false}],"texts":{}}"#).unwrap_err();
    /// assert_eq!(err.to_string(), "consent config: `categories[0].required`: essential cannot be optional");
    /// ```
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let v: &'static Value = Box::leak(Box::new(json::parse(text)?));
        Ok(Self::from_value(v)?)
    }

    fn from_value(v: &'static Value) -> Result<Config, FieldError> {
        let o = Obj::new(v, "")?;
        o.only(TOP)?;

        let site_id = o.str("siteId")?;
        if !super::event::is_site_id(site_id) {
            return Err(o.invalid("siteId", "must match [a-z0-9][a-z0-9._-]{0,63}"));
        }
        let revision = match o.opt_int("revision")? {
            None => 0,
            Some(n) => u32::try_from(n).map_err(|_| o.invalid("revision", "must be a whole number from 0"))?,
        };
        let lifetime_days = match o.opt_int("lifetimeDays")? {
            None => DEFAULT_LIFETIME_DAYS,
            Some(n @ 1..=395) => n as u32,
            Some(_) => return Err(o.invalid("lifetimeDays", "must be from 1 to 395 days (13 months)")),
        };
        let cookie = parse_cookie(o.opt_obj("cookie")?)?;
        let endpoint = url_field(&o, "endpoint")?;
        let privacy_policy_url = url_field(&o, "privacyPolicyUrl")?;
        let reopen_button = o.opt_bool("reopenButton")?.unwrap_or(true);
        let categories = parse_categories(&o)?;

        let texts_obj = o.obj("texts")?;
        if texts_obj.entries().is_empty() {
            return Err(o.invalid("texts", "must have at least one language"));
        }
        let default_language = match o.opt_str("defaultLanguage")? {
            Some(l) if texts_obj.opt(l).is_none() => return Err(o.invalid("defaultLanguage", "must be a language in `texts`")),
            Some(l) => l,
            None => texts_obj.entries()[0].0.as_str(),
        };
        let fallback = texts_obj.obj(default_language)?;
        let mut languages = list(0);
        let mut texts = list(0);
        for (lang, _) in texts_obj.entries() {
            let t = texts_obj.obj(lang)?;
            if !super::event::is_language_tag(lang) {
                return Err(texts_obj.invalid(lang, "is not a language tag"));
            }
            languages.push(lang.as_str());
            texts.push(parse_texts(&t, &fallback, categories)?);
        }
        let (languages, texts) = (done(languages), done(texts));

        let consent_mode = parse_consent_mode(o.opt_obj("consentMode")?, categories)?;
        let gpc_categories = match o.opt_obj("gpc")? {
            None => default_gpc(categories),
            Some(g) => {
                g.only("categories")?;
                let list = g.strs("categories")?;
                for (i, c) in list.iter().enumerate() {
                    match find(categories, c) {
                        None => return Err(g.invalid_item("categories", i, NOT_A_CATEGORY)),
                        Some(k) if k.required => {
                            return Err(g.invalid_item("categories", i, "is required and cannot be turned off"))
                        }
                        Some(_) => {}
                    }
                }
                list
            }
        };

        Ok(Config {
            site_id,
            revision,
            lifetime_days,
            cookie,
            endpoint,
            privacy_policy_url,
            default_language,
            reopen_button,
            categories,
            languages,
            texts,
            consent_mode,
            gpc_categories,
        })
    }

    /// The texts for `lang`, which [`super::i18n::choose`] picked among the configured ones.
    pub fn texts_for(&self, lang: &str) -> &Texts {
        // One pass, a plain loop: the find/or_else chain compiled larger. Language tags are
        // unique (they are keys of one JSON object), so the default's match is its only one.
        let mut fallback = &self.texts[0];
        for (l, t) in self.languages.iter().zip(self.texts) {
            if *l == lang {
                return t;
            }
            if *l == self.default_language {
                fallback = t;
            }
        }
        fallback
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        find(self.categories, id)
    }

    /// Consent record lifetime in seconds.
    pub fn lifetime_secs(&self) -> i64 {
        i64::from(self.lifetime_days) * 86_400
    }
}

fn default_gpc(categories: &[Category]) -> &'static [&'static str] {
    // A plain loop: the Filter/Map chain compiled larger.
    let mut out = Vec::new();
    for c in categories {
        if c.id == "marketing" && !c.required {
            out.push(c.id);
        }
    }
    out.leak()
}

/// Category ids: `[a-z][a-z0-9_-]{0,31}`.
pub fn is_category_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Only http(s) URLs, or a same-origin path, may reach the page as links or request targets.
pub fn is_safe_url(s: &str) -> bool {
    let ok_chars = !s.as_bytes().iter().any(|&b| b <= b' ' || b == 0x7f || b == b'"' || b == b'<' || b == b'>' || b == b'\\');
    let shape = (s.starts_with("/") && !s.starts_with("//"))
        || s.strip_prefix("https://").or_else(|| s.strip_prefix("http://")).is_some_and(|r| !r.is_empty() && !r.starts_with("/"));
    ok_chars && shape && s.len() <= 2048
}

fn url_field(o: &Obj<'static>, key: &str) -> Result<Option<&'static str>, FieldError> {
    match o.opt_str(key)? {
        None => Ok(None),
        Some(u) if is_safe_url(u) => Ok(Some(u)),
        Some(_) => Err(o.invalid(key, "must be an http(s) URL or a path starting with /")),
    }
}

fn is_cookie_token(s: &str, wildcard: bool) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.as_bytes().iter().all(|&b| {
            matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'#'..=b'&' | b'\'' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
                || (wildcard && b == b'*')
        })
}

fn parse_cookie(o: Option<Obj<'static>>) -> Result<CookieSettings, FieldError> {
    let mut c = CookieSettings { name: "pc_consent", domain: None, path: "/", same_site: SameSite::Lax };
    let Some(o) = o else { return Ok(c) };
    o.only("name domain path sameSite")?;
    if let Some(name) = o.opt_str("name")? {
        if !is_cookie_token(name, false) {
            return Err(o.invalid("name", "must be a cookie name (an RFC 6265 token, at most 128 bytes)"));
        }
        c.name = name;
    }
    if let Some(domain) = o.opt_str("domain")? {
        let d = domain.trim_start_matches('.');
        let ok = !d.is_empty()
            && d.len() <= 253
            && !d.starts_with("-")
            && d.as_bytes().iter().all(|&b| matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.'))
            // Bytes, not `str::contains`: a substring search pulls in the two-way searcher (~1 KB).
            && !d.as_bytes().windows(2).any(|w| w == b"..");
        if !ok {
            return Err(o.invalid("domain", "must be a host name such as example.com"));
        }
        // Copied and lowered in place: `to_ascii_lowercase` collects through a mapped iterator.
        let mut d = String::from(d);
        d.make_ascii_lowercase();
        c.domain = Some(d.leak());
    }
    if let Some(path) = o.opt_str("path")? {
        if !path.starts_with("/") || path.as_bytes().iter().any(|&b| b <= b' ' || b == b';') {
            return Err(o.invalid("path", "must start with / and hold no spaces or ;"));
        }
        c.path = path;
    }
    c.same_site = match o.opt_str("sameSite")? {
        None | Some("Lax") => SameSite::Lax,
        Some("Strict") => SameSite::Strict,
        Some("None") => SameSite::None,
        Some(_) => return Err(o.invalid("sameSite", "must be Lax, Strict or None")),
    };
    Ok(c)
}

fn parse_categories(o: &Obj<'static>) -> Result<&'static [Category], FieldError> {
    // Required, read here rather than through a required-array reader that had this one caller
    // (measured: −114 B brotli).
    let items = o.opt_arr("categories")?.ok_or_else(|| o.fail("categories", Problem::Missing))?;
    let path = keep(o.at("categories"));
    if items.is_empty() || items.len() > super::event::MAX_CATEGORIES {
        return Err(o.invalid("categories", "must list between 1 and 32 categories"));
    }
    let mut out: ManuallyDrop<Vec<Category>> = list(items.len());
    for (i, item) in items.iter().enumerate() {
        let c = Obj::new(item, keep(index(path, i)))?;
        c.only("id required cookies")?;
        let id = c.str("id")?;
        if !is_category_id(id) {
            return Err(c.invalid("id", "must match [a-z][a-z0-9_-]{0,31}"));
        }
        if out.iter().any(|k| k.id == id) {
            return Err(c.invalid("id", "is used by another category"));
        }
        let required = c.opt_bool("required")?;
        // Both refusals of `required` meet at one error exit (measured: −20 B brotli).
        let wrong = match (id, required) {
            ("essential", Some(true)) => None,
            ("essential", _) => Some("essential cannot be optional"),
            // A required category is granted without asking: never one the banner exists to ask about.
            ("analytics" | "marketing", Some(true)) => Some(NEEDS_CONSENT),
            _ => None,
        };
        if let Some(why) = wrong {
            return Err(c.invalid("required", why));
        }
        let cookies = c.strs("cookies")?;
        if let Some(j) = cookies.iter().position(|p| !is_cookie_token(p, true)) {
            return Err(c.invalid_item("cookies", j, "must be a cookie name, with * as a wildcard"));
        }
        out.push(Category { id, required: required.unwrap_or(false), cookies });
    }
    Ok(done(out))
}

/// Whether `id` is a configured category. Read from the categories themselves: a collected list
/// of their ids cost its allocation and a free on every later error exit.
fn known(categories: &[Category], id: &str) -> bool {
    find(categories, id).is_some()
}

/// The category with this id, for the readers and [`Config::category`]: one plain loop, which
/// the size build compiles smaller than `iter().find` with its closure.
#[allow(clippy::manual_find)]
fn find<'a>(categories: &'a [Category], id: &str) -> Option<&'a Category> {
    for c in categories {
        if c.id == id {
            return Some(c);
        }
    }
    None
}

fn parse_texts(t: &Obj<'static>, fallback: &Obj<'static>, categories: &[Category]) -> Result<Texts, FieldError> {
    t.only(TEXT_KEYS)?;
    let cats = t.obj("categories")?;
    if let Some((k, _)) = cats.entries().iter().find(|(k, _)| !known(categories, k)) {
        return Err(cats.invalid(k, NOT_A_CATEGORY));
    }
    let mut texts = list(categories.len());
    for k in categories {
        let c = cats.obj(k.id)?;
        c.only("title description")?;
        texts.push(CategoryText { title: filled(&c, "title", c.str("title")?)?, description: c.str("description")? });
    }
    let texts = done(texts);
    // One loop over the keys, in `Texts` field order, instead of twelve inlined reads: the first
    // seven are required and must not be blank; the other five fall back to the default
    // language, then to English, so a partial translation still renders every control with a name.
    let mut values = [""; REQUIRED_TEXTS + ENGLISH_FALLBACK.len()];
    for (i, key) in super::text::fields(TEXT_KEYS, b' ').take(values.len()).enumerate() {
        let value = match i.checked_sub(REQUIRED_TEXTS) {
            None => filled(t, key, t.str(key)?)?,
            // A blank text would leave a control (a switch, the close or re-open button, the
            // policy link) without an accessible name.
            Some(j) => match t.opt_str(key)? {
                Some(s) => filled(t, key, s)?,
                None => fallback.opt_str(key)?.unwrap_or(ENGLISH_FALLBACK[j]),
            },
        };
        values[i] = value;
    }
    let [title, description, accept_all, reject_all, customize, save, preferences_title, close, reopen, policy_link, gpc_notice, consent_id_label] =
        values;
    Ok(Texts {
        title,
        description,
        accept_all,
        reject_all,
        customize,
        save,
        preferences_title,
        close,
        reopen,
        policy_link,
        gpc_notice,
        consent_id_label,
        categories: texts,
    })
}

/// `s` (the text under `key`), unless it is blank.
fn filled(o: &Obj<'static>, key: &str, s: &'static str) -> Result<&'static str, FieldError> {
    if s.trim_ascii().is_empty() {
        return Err(o.invalid(key, "must not be empty"));
    }
    Ok(s)
}

/// The default map: `analytics` and `marketing` to their signals, for those the site configures.
fn default_signal_map(categories: &[Category]) -> &'static [(&'static str, &'static [&'static str])] {
    const ANALYTICS: (&str, &[&str]) = ("analytics", &["analytics_storage"]);
    const MARKETING: (&str, &[&str]) = ("marketing", &["ad_storage", "ad_user_data", "ad_personalization"]);
    match (known(categories, "analytics"), known(categories, "marketing")) {
        (true, true) => &[ANALYTICS, MARKETING],
        (true, false) => &[ANALYTICS],
        (false, true) => &[MARKETING],
        (false, false) => &[],
    }
}

fn parse_consent_mode(o: Option<Obj<'static>>, categories: &[Category]) -> Result<ConsentMode, FieldError> {
    let mut cm = ConsentMode {
        enabled: true,
        wait_for_update: 500,
        map: default_signal_map(categories),
        regions: &[],
        url_passthrough: false,
        ads_data_redaction: false,
    };
    let Some(o) = o else { return Ok(cm) };
    o.only("enabled waitForUpdate map regions urlPassthrough adsDataRedaction")?;
    cm.enabled = o.opt_bool("enabled")?.unwrap_or(true);
    cm.url_passthrough = o.opt_bool("urlPassthrough")?.unwrap_or(false);
    cm.ads_data_redaction = o.opt_bool("adsDataRedaction")?.unwrap_or(false);
    if let Some(ms) = o.opt_int("waitForUpdate")? {
        cm.wait_for_update = match ms {
            0..=10_000 => ms as u32,
            _ => return Err(o.invalid("waitForUpdate", "must be from 0 to 10000 ms")),
        };
    }
    if let Some(map) = o.opt_obj("map")? {
        let mut signal_map = list(0);
        for (cat, _) in map.entries() {
            let Some(category) = find(categories, cat) else { return Err(map.invalid(cat, NOT_A_CATEGORY)) };
            let signals = map.strs(cat)?;
            if let Some(j) = signals.iter().position(|s| !SIGNALS.contains(s)) {
                return Err(map.invalid_item(cat, j, "is not a Consent Mode v2 signal"));
            }
            // The four signals Google requires consent for would be granted by default. The
            // category is looked up once, above, for both checks (measured: −38 B brotli).
            if let Some(j) = signals.iter().position(|s| category.required && SIGNALS[..4].contains(s)) {
                return Err(map.invalid_item(cat, j, NEEDS_CONSENT));
            }
            signal_map.push((cat.as_str(), signals));
        }
        cm.map = done(signal_map);
    }
    if let Some(regions) = o.opt_arr("regions")? {
        let path = keep(o.at("regions"));
        let mut defaults = list(regions.len());
        for (i, r) in regions.iter().enumerate() {
            let r = Obj::new(r, keep(index(path, i)))?;
            r.only("region granted")?;
            let codes = r.strs("region")?;
            if codes.is_empty() {
                return Err(r.fail("region", Problem::Missing));
            }
            if let Some(j) = codes.iter().position(|c| !is_region_code(c)) {
                return Err(r.invalid_item("region", j, "must be an ISO 3166-1 country or ISO 3166-2 subdivision code (EU is not one)"));
            }
            let granted = r.strs("granted")?;
            if let Some(j) = granted.iter().position(|c| !known(categories, c)) {
                return Err(r.invalid_item("granted", j, NOT_A_CATEGORY));
            }
            defaults.push(RegionDefault { regions: codes, granted });
        }
        cm.regions = done(defaults);
    }
    Ok(cm)
}

/// Every officially assigned ISO 3166-1 alpha-2 code: entry `A..=Z` is the code's first letter,
/// bit `0..26` its second (`DE`: bit 4 of entry 3). 104 bytes instead of 498 of text; the
/// tests hold the list as text and check every one of the 676 pairs against it.
const ISO_3166_1: [u32; 26] = [
    0x2DF5978, 0x36F7BFB, 0x3F27DED, 0x2005610, 0x00E00D4, 0x0025700,
    0x15FB9FB, 0x01A3400, 0x00F7818, 0x000D010, 0x342B1D0, 0x13E0507,
    0x3FFFCFD, 0x212C975, 0x0001000, 0x14E3CF1, 0x0000001, 0x0544010,
    0x3AE7FDF, 0x26A7EEC, 0x3041041, 0x0102155, 0x0040020, 0x0000000,
    0x0080010, 0x0401001,
];

/// An assigned country code (`DE`), or a subdivision of one (`US-CA`, `GB-SCT`, `FR-75C`).
pub fn is_region_code(s: &str) -> bool {
    let (country, sub) = match super::text::split_at(s, b'-') {
        Some((c, sub)) => (c, Some(sub)),
        None => (s, None),
    };
    let known = matches!(country.as_bytes(), [a @ b'A'..=b'Z', b @ b'A'..=b'Z']
        if ISO_3166_1[usize::from(a - b'A')] >> (b - b'A') & 1 == 1);
    known && sub.map_or(true, |sub| matches!(sub.len(), 1..=3) && sub.as_bytes().iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit()))
}

#[cfg(test)]
pub(crate) mod tests;
