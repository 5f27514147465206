//! Gated elements: finds `data-consent` scripts and iframes, activates the granted ones in
//! document order (an external script finishes loading before the next gated element runs), each
//! exactly once, and watches for ones inserted later.

use super::dom;
use crate::core::gate;
use std::cell::{Cell, RefCell};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event};

const PENDING: &str = "script[type=\"text/plain\"][data-consent]:not([data-consent-state]),iframe[data-consent]:not([data-consent-state])";
const STATE: &str = "data-consent-state";

/// A callback the gate hands to JS (it ignores its argument).
type Callback = Closure<dyn FnMut(Event)>;

/// Activates gated elements; owns its observer and load callback.
pub struct Gate {
    /// Granted elements not activated yet, in document order. A JS array: it shifts without
    /// the Vec removal code, and needs no borrow.
    queue: js_sys::Array,
    /// An external script is loading; the queue waits for it.
    waiting: Cell<bool>,
    /// The choices now: a queued element whose category was withdrawn while it waited is not
    /// run. Kept as given, so the check is the same `is_granted` as the one that queued it.
    grants: RefCell<Vec<(&'static str, bool)>>,
    // Both take one argument and ignore it, like every dom::Listener: each closure signature
    // costs its own glue function and wasm entry point (measured: one signature fewer, −17 B
    // brotli). The observer's callback is really given (records, observer).
    loaded: Callback,
    observer: Option<(dom::Observer, Callback)>,
}

impl Gate {
    /// `on_load` must call [`Gate::loaded`]; `on_insert` must call [`Gate::apply`] with the current
    /// grants. Both go through the banner's single instance rather than capturing it.
    pub fn new(mut on_load: impl FnMut() + 'static, mut on_insert: impl FnMut() + 'static) -> Gate {
        let observer = (|| {
            let cb = Closure::<dyn FnMut(Event)>::new(move |_| on_insert());
            let obs = dom::Observer::new(cb.as_ref());
            let init = dom::object(&[("childList", &JsValue::TRUE), ("subtree", &JsValue::TRUE)]);
            let root = dom::document()?.document_element()?;
            dom::dom(&obs).observe(&root, &init);
            Some((obs, cb))
        })();
        Gate {
            queue: js_sys::Array::new(),
            waiting: Cell::new(false),
            grants: RefCell::new(Vec::new()),
            loaded: Closure::new(move |_| on_load()),
            observer,
        }
    }

    /// Blanks the frames of categories no longer granted, queues every not-yet-handled gated
    /// element whose category is granted, then runs the queue.
    pub fn apply(&self, grants: &[(&'static str, bool)]) {
        *self.grants.borrow_mut() = grants.to_vec();
        let Some(doc) = dom::document() else { return };
        // A script that ran cannot be stopped, but a frame keeps loading and tracking until it is
        // navigated away: on withdrawal it is, and goes back to pending for a later grant.
        for el in &dom::select_all(&doc, "iframe[data-consent-state=activated]") {
            if !gate::is_granted(dom::attr(el, "data-consent").unwrap_or_default().trim_ascii(), grants) {
                dom::set_attr(el, "src", "about:blank");
                dom::flag(el, STATE, false);
            }
        }
        for el in &dom::select_all(&doc, PENDING) {
            let category = dom::attr(el, "data-consent").unwrap_or_default();
            if gate::is_granted(category.trim_ascii(), grants) {
                dom::set_attr(el, STATE, "queued");
                self.queue.push(el);
            }
        }
        self.pump();
    }

    /// The external script being waited for finished (or failed): go on.
    pub fn loaded(&self) {
        self.waiting.set(false);
        self.pump();
    }

    /// Runs queued elements until one must load first.
    fn pump(&self) {
        // `waiting` is read on every turn: a gated inline script may call the API, whose nested
        // `pump` can start an external script this loop must then wait for.
        while !self.waiting.get() {
            let next = self.queue.shift();
            if next.is_undefined() {
                return;
            }
            let el: Element = next.unchecked_into();
            let category = dom::attr(&el, "data-consent").unwrap_or_default();
            if !gate::is_granted(category.trim_ascii(), &self.grants.borrow()) {
                // Withdrawn while it waited: back to pending, for a later grant.
                // toggleAttribute(.., false) removes it: one DOM import fewer than removeAttribute.
                dom::flag(&el, STATE, false);
                continue;
            }
            if self.activate(&el, &category) {
                self.waiting.set(true);
            }
        }
    }

    /// Brings one element to life (`category`: its `data-consent`, as read); returns true when it
    /// is an external script still loading, which will fire `load` or `error`.
    fn activate(&self, old: &Element, category: &str) -> bool {
        dom::set_attr(old, STATE, "activated");
        // Removed (an SPA changed route) before its turn: there is nothing to run or wait for.
        if !dom::prop_true(old, "isConnected") {
            return false;
        }
        let src = dom::attr(old, "data-src");
        if dom::prop(old, "tagName").as_string().is_some_and(|t| t.eq_ignore_ascii_case("iframe")) {
            if let Some(src) = src {
                dom::set_attr(old, "src", &src);
            }
            return false;
        }
        let Some(doc) = dom::document() else { return false };
        let new = dom::create(&doc, "script");
        let names = old.get_attribute_names();
        for i in 0..names.length() {
            let Some(name) = names.get(i).as_string() else { continue };
            // The gate's own attributes are not copied onto the live script (nor the nonce: below).
            // A match rather than a list's `contains`: it compiles to less code.
            if !matches!(name.as_str(), "type" | "data-consent" | "data-src" | "data-type" | STATE | "nonce") {
                dom::set_attr(&new, &name, &dom::attr(old, &name).unwrap_or_default());
            }
        }
        // The nonce attribute reads back empty once parsed (nonce hiding); the property keeps it.
        let nonce = dom::prop(old, "nonce");
        if nonce.as_string().is_some_and(|n| !n.is_empty()) {
            dom::set_prop(&new, "nonce", &nonce);
        }
        // Read once for both uses: every getAttribute site carries its own string conversion.
        let data_type = dom::attr(old, "data-type");
        if let Some(t) = &data_type {
            dom::set_attr(&new, "type", t);
        }
        dom::set_attr(&new, "data-consent", category);
        dom::set_attr(&new, STATE, "activated");
        // Through getAttribute, which is bound anyway, rather than one more import for hasAttribute.
        let author_async = dom::attr(old, "async").is_some();
        let waits = src.is_some()
            && !author_async
            && gate::runs_as_script(data_type.as_deref(), dom::attr(old, "nomodule").is_some());
        match src {
            Some(src) => {
                // Injected scripts are async by default; order comes from waiting on each load.
                // One the author marked `async` keeps it and is not waited for.
                if !author_async {
                    dom::set_prop(&new, "async", &JsValue::FALSE);
                }
                // Only the script the queue waits for may resume it: the load of one that is
                // not waited for (`async`) must not release the queue while another still loads.
                if waits {
                    dom::set_prop(&new, "onload", self.loaded.as_ref());
                    dom::set_prop(&new, "onerror", self.loaded.as_ref());
                }
                dom::set_attr(&new, "src", &src);
            }
            None => dom::text(&new, &dom::prop(old, "textContent").as_string().unwrap_or_default()),
        }
        if old.after_with_node_1(&new).is_err() {
            return false;
        }
        waits
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some((obs, _)) = &self.observer {
            obs.disconnect();
        }
    }
}
