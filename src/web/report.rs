//! Delivery of consent events: an outbox in storage (memory as fallback), `fetch` with
//! `keepalive` to learn the endpoint's answer, `sendBeacon` when the page is hidden, retries on
//! later loads and when the page is visible or online again. Never blocks the visitor.

use super::dom::{self, Listener};
use super::storage;
use crate::core::outbox::{self, Outbox, Outcome};
use std::cell::{Cell, RefCell};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

const KEY: &str = "pc_outbox";

/// Sends events to the configured endpoint; owns its callbacks and listeners.
pub struct Reporter {
    endpoint: &'static str,
    /// The outbox's stored form; memory is the outbox while localStorage refuses it.
    slot: storage::Slot,
    in_flight: RefCell<Vec<String>>,
    warned: Cell<bool>,
    warned_full: Cell<bool>,
    on_settled: Closure<dyn FnMut(JsValue, JsValue)>,
    _listeners: Vec<Listener>,
}

impl Reporter {
    /// `answered(id, status, retry_after)` and `visibility(hidden)` must reach
    /// [`Reporter::settle`] and [`Reporter::on_visibility`] through the banner's single instance.
    pub fn new(
        endpoint: &'static str,
        answered: impl Fn(String, u16, Option<String>) + 'static,
        visibility: impl Fn(bool) + Clone + 'static,
    ) -> Reporter {
        // One callback for both ways the fetch ends: a Response (any status), or a rejection
        // (offline, blocked, refused by CORS), which counts as no answer.
        let on_settled = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |id: JsValue, end: JsValue| {
            let (status, retry) = match end.dyn_ref::<web_sys::Response>() {
                Some(r) => (r.status(), r.headers().get("retry-after").ok().flatten()),
                None => (0, None),
            };
            answered(id.as_string().unwrap_or_default(), status, retry);
        });
        let mut listeners = Vec::new();
        if let Some(doc) = dom::document() {
            let v = visibility.clone();
            let d = doc.clone();
            listeners.push(Listener::new(&doc, "visibilitychange", move |_| v(dom::prop_true(&d, "hidden"))));
        }
        if let Some(w) = dom::window() {
            listeners.push(Listener::new(&w, "online", move |_| visibility(false)));
        }
        Reporter {
            endpoint,
            slot: storage::Slot::new(KEY),
            in_flight: RefCell::new(Vec::new()),
            warned: Cell::new(false),
            warned_full: Cell::new(false),
            on_settled,
            _listeners: listeners,
        }
    }

    fn load(&self) -> Outbox {
        Outbox::decode(&self.slot.get())
    }

    fn save(&self, o: &Outbox) {
        let text = if o.entries.is_empty() { String::new() } else { o.encode() };
        let saved = self.slot.set(&text);
        self.slot.keep_in_memory(!saved);
    }

    fn warn_once(&self, msg: &str) {
        if !self.warned.replace(true) {
            dom::warn(msg);
        }
    }

    /// Queues an event and tries to send it now.
    pub fn submit(&self, id: String, body: String) {
        let mut o = self.load();
        if o.push(id, body, dom::now_ms()) > 0 && !self.warned_full.replace(true) {
            dom::warn("consent: report outbox full; the oldest unsent events were dropped.");
        }
        self.save(&o);
        self.flush();
    }

    /// Sends every due event that is not already on its way.
    pub fn flush(&self) {
        self.send(false);
    }

    /// Every due event not already on its way goes to `fetch`, or to `sendBeacon` when `beacon`.
    // One loop for both: they differ only in the call made per event.
    fn send(&self, beacon: bool) {
        let o = self.load();
        let Some(w) = dom::window() else { return };
        for e in &o.due(dom::now_ms()) {
            if self.in_flight.borrow().contains(&e.id) {
                continue;
            }
            if beacon {
                let _ = w.navigator().send_beacon_with_opt_str(self.endpoint, Some(&e.body));
                continue;
            }
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            // A string body is sent as text/plain: a CORS-safelisted request, no preflight.
            init.set_body(&JsValue::from_str(&e.body));
            dom::set_prop(&init, "keepalive", &JsValue::TRUE);
            dom::set_prop(&init, "credentials", &JsValue::from_str("omit"));
            let id = JsValue::from_str(&e.id);
            let settled = self.on_settled.as_ref().unchecked_ref::<js_sys::Function>().bind1(&JsValue::NULL, &id);
            self.in_flight.borrow_mut().push(e.id.clone());
            let promise: JsValue = w.fetch_with_str_and_init(self.endpoint, &init).into();
            if let Ok(then) = dom::prop(&promise, "then").dyn_into::<js_sys::Function>() {
                let _ = then.call2(&promise, &settled, &settled);
            }
        }
    }

    /// Records the endpoint's answer (status 0: no answer).
    pub fn settle(&self, id: &str, status: u16, retry_after: Option<String>) {
        // Ids are in flight at most once (`send` skips one already there), and their order does
        // not matter: a swap_remove is all `retain` did, in less code.
        {
            let mut in_flight = self.in_flight.borrow_mut();
            if let Some(i) = in_flight.iter().position(|x| x == id) {
                in_flight.swap_remove(i);
            }
        }
        let outcome = Outcome::from_status(status, retry_after.as_deref().and_then(outbox::retry_after_ms));
        match outcome {
            Outcome::Delivered => {}
            Outcome::Refused => self.warn_once("consent: the consent endpoint refused an event; see its response for the field."),
            Outcome::Failed { .. } => {
                self.warn_once("consent: the consent endpoint is unreachable; the choice applies and will be reported later.")
            }
        }
        // One byte of the 32 the machine's ids take: the same source, and no second copy of
        // `random` for a one-byte buffer.
        let jitter = i64::from(dom::random::<32>()[0]) * 4;
        let mut o = self.load();
        o.settle(id, outcome, dom::now_ms(), jitter);
        self.save(&o);
    }

    /// Page hidden: hand every due event to `sendBeacon`, which survives the page; one backing
    /// off (after repeated failures, or under a `Retry-After` that has not passed) waits for a
    /// later page. The events
    /// stay queued until a later `fetch` sees the endpoint's 2xx (the endpoint dedupes by id).
    /// Page visible or back online: retry what is due.
    pub fn on_visibility(&self, hidden: bool) {
        self.send(hidden);
    }
}
