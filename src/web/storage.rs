//! Where the record lives: a first-party cookie, mirrored in localStorage, with memory as the
//! last fallback. Every access is guarded: a throwing `document.cookie` or `localStorage` getter,
//! or a full quota, degrades to memory for this page and never raises.

use super::dom;
use crate::core::config::{CookieSettings, SameSite};
use crate::core::{codec, gate};
use std::cell::{Cell, RefCell};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Storage;

/// The consent record store for one page.
pub struct Store {
    settings: CookieSettings,
    secure: bool,
    memory: RefCell<Option<String>>,
    /// The last write reached neither the cookie nor localStorage: memory is the store. Only
    /// then is it read, so a record another tab removed is not brought back from here.
    memory_only: Cell<bool>,
    warned: Cell<bool>,
}

/// `localStorage`, if reading it does not throw.
pub fn local() -> Option<Storage> {
    Some(dom::get(dom::window()?.as_ref(), "localStorage")?.unchecked_into())
}

/// The whole `document.cookie` string, or `None` when reading it throws.
pub fn cookie_header() -> Option<String> {
    dom::prop(dom::document()?.as_ref(), "cookie").as_string()
}

fn set_cookie(line: &str) -> bool {
    dom::document().is_some_and(|d| dom::set_prop(&d, "cookie", &JsValue::from_str(line)))
}

impl Store {
    pub fn new(settings: CookieSettings) -> Store {
        let secure = dom::location("protocol").is_some_and(|p| p == "https:");
        Store { settings, secure, memory: RefCell::new(None), memory_only: Cell::new(false), warned: Cell::new(false) }
    }

    fn degrade(&self) {
        if !self.warned.replace(true) {
            dom::warn("consent: browser storage is unavailable; the choice is kept for this page only.");
        }
    }

    /// The stored value: cookie first (it is what sibling sites share), then the localStorage
    /// mirror, then memory when storage refused the last write.
    pub fn read(&self) -> Option<String> {
        // Empty values are dropped before copying, so only a usable cookie allocates.
        let from_cookie = cookie_header().and_then(|h| {
            let latest = codec::latest(&gate::cookie_values(&h, self.settings.name));
            latest.filter(|v| !v.is_empty()).map(String::from)
        });
        from_cookie
            .or_else(|| local().and_then(|s| s.get_item(self.settings.name).ok().flatten()))
            .or_else(|| self.memory.borrow().clone().filter(|_| self.memory_only.get()))
    }

    fn attributes(&self, line: &mut String, domain: Option<&str>) {
        line.push_str("; path=");
        line.push_str(self.settings.path);
        if let Some(d) = domain.filter(|d| !d.is_empty()) {
            line.push_str("; domain=");
            line.push_str(d);
        }
        line.push_str("; SameSite=");
        line.push_str(self.settings.same_site.as_str());
        if self.secure || self.settings.same_site == SameSite::None {
            line.push_str("; Secure");
        }
    }

    /// Stores `value` for `max_age` seconds in every place that works.
    pub fn write(&self, value: &str, max_age: i64) {
        *self.memory.borrow_mut() = Some(value.to_string());
        let mut line = String::with_capacity(160);
        line.push_str(self.settings.name);
        line.push('=');
        line.push_str(value);
        self.attributes(&mut line, self.settings.domain.as_deref());
        line.push_str("; max-age=");
        crate::core::json::write_int(&mut line, max_age);
        let cookie_ok = set_cookie(&line) && self.read_cookie_is(value);
        let local_ok = local().is_some_and(|s| s.set_item(self.settings.name, value).is_ok());
        self.memory_only.set(!cookie_ok && !local_ok);
        if !cookie_ok && !local_ok {
            self.degrade();
        }
    }

    fn read_cookie_is(&self, value: &str) -> bool {
        cookie_header().is_some_and(|h| gate::cookie_values(&h, self.settings.name).contains(&value))
    }

    /// Forgets the stored value everywhere.
    pub fn clear(&self) {
        *self.memory.borrow_mut() = None;
        self.delete_cookies(&[self.settings.name]);
        if let Some(s) = local() {
            let _ = s.remove_item(self.settings.name);
        }
    }

    /// Deletes the cookies `names` under every domain they may have been set on.
    // A list, so the domains are worked out once for all the cookies a withdrawal clears.
    pub fn delete_cookies(&self, names: &[&str]) {
        let host = dom::location("hostname").unwrap_or_default();
        let domains = gate::deletion_domains(&host);
        let mut line = String::new();
        for name in names {
            for domain in domains.iter().copied().chain(self.settings.domain.as_deref()) {
                for path in &["/", self.settings.path] {
                    line.clear();
                    line.push_str(name);
                    line.push_str("=; max-age=0; path=");
                    line.push_str(path);
                    if !domain.is_empty() {
                        line.push_str("; domain=");
                        line.push_str(domain);
                    }
                    set_cookie(&line);
                }
            }
        }
    }

    /// The storage key the record uses (for `storage` events from other tabs).
    pub fn key(&self) -> &str {
        self.settings.name
    }
}
