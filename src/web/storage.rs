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
    /// The localStorage mirror; memory is the store once a write reached neither the cookie nor
    /// localStorage.
    slot: Slot,
    warned: Cell<bool>,
}

/// One localStorage key, with memory standing in for it when a write does not land. Memory is
/// read only while it is the store, so what another tab changed or removed is not brought back
/// from here. The record and the report outbox each keep one.
pub struct Slot {
    key: &'static str,
    /// The value last written.
    memory: RefCell<String>,
    memory_only: Cell<bool>,
}

impl Slot {
    pub fn new(key: &'static str) -> Slot {
        Slot { key, memory: RefCell::new(String::new()), memory_only: Cell::new(false) }
    }

    /// The stored value, empty when there is none.
    pub fn get(&self) -> String {
        if self.memory_only.get() {
            return self.memory.borrow().clone();
        }
        local().and_then(|s| s.get_item(self.key).ok().flatten()).unwrap_or_default()
    }

    /// Stores `value` (empty: removes the key); whether localStorage took it. Memory keeps it
    /// either way, for [`Slot::keep_in_memory`].
    pub fn set(&self, value: &str) -> bool {
        // No borrow across setItem/removeItem: the page may have wrapped them.
        value.clone_into(&mut self.memory.borrow_mut());
        put(self.key, value)
    }

    /// Whether memory is the store from now on (the owner knows whether the last write landed
    /// anywhere else).
    pub fn keep_in_memory(&self, on: bool) {
        self.memory_only.set(on);
    }
}

/// `localStorage`, if reading it does not throw.
pub fn local() -> Option<Storage> {
    Some(dom::get(dom::window()?.as_ref(), "localStorage")?.unchecked_into())
}

/// Stores `value` under `key` in localStorage (empty: removes the key); whether that worked.
pub fn put(key: &str, value: &str) -> bool {
    local().is_some_and(|s| if value.is_empty() { s.remove_item(key) } else { s.set_item(key, value) }.is_ok())
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
        Store { slot: Slot::new(settings.name), settings, secure, warned: Cell::new(false) }
    }

    fn degrade(&self) {
        if !self.warned.replace(true) {
            dom::warn("consent: browser storage is unavailable; the choice is kept for this page only.");
        }
    }

    /// The stored value: cookie first (it is what sibling sites share), then the localStorage
    /// mirror, or memory when storage refused the last write.
    pub fn read(&self) -> Option<String> {
        // Empty values are dropped before copying, so only a usable cookie allocates.
        let from_cookie = cookie_header().and_then(|h| {
            let latest = codec::latest(&gate::cookie_values(&h, self.settings.name));
            latest.filter(|v| !v.is_empty()).map(String::from)
        });
        from_cookie.or_else(|| Some(self.slot.get()).filter(|v| !v.is_empty()))
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
        let mut line = String::with_capacity(160);
        line.push_str(self.settings.name);
        line.push('=');
        line.push_str(value);
        self.attributes(&mut line, self.settings.domain);
        line.push_str("; max-age=");
        crate::core::json::write_int(&mut line, max_age);
        let cookie_ok = set_cookie(&line) && self.read_cookie_is(value);
        let local_ok = self.slot.set(value);
        self.slot.keep_in_memory(!cookie_ok && !local_ok);
        if !cookie_ok && !local_ok {
            self.degrade();
        }
    }

    fn read_cookie_is(&self, value: &str) -> bool {
        cookie_header().is_some_and(|h| gate::cookie_values(&h, self.settings.name).contains(&value))
    }

    /// Forgets the stored value everywhere.
    pub fn clear(&self) {
        self.delete_cookies(&[self.settings.name]);
        self.slot.set("");
    }

    /// Deletes the cookies `names` under every domain they may have been set on.
    // A list, so the domains are worked out once for all the cookies a withdrawal clears.
    pub fn delete_cookies(&self, names: &[&str]) {
        let host = dom::location("hostname").unwrap_or_default();
        let domains = gate::deletion_domains(&host);
        let mut line = String::new();
        for name in names {
            for domain in domains.iter().copied().chain(self.settings.domain) {
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
