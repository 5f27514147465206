//! The running banner on one page: owns the config, the state machine and every browser-facing
//! part, feeds inputs to the machine and carries out the effects it returns, in order.

use super::dom::{self, Listener};
use super::render::{Scene, Ui};
use super::report::Reporter;
use super::scripts::Gate;
use super::storage::{self, Store};
use crate::core::config::Config;
use crate::core::event::{page_for, EventParts};
use crate::core::machine::{Effects, Env, Input, Machine, Persist};
use crate::core::policy::{evaluate, Stored};
use crate::core::{gate, gcm, i18n, sha256};
use std::cell::{Cell, RefCell};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Event;

/// localStorage key of the cached Consent Mode update (read by `www/consent.js`).
const HINT_KEY: &str = "pc_gcm";

thread_local! {
    /// The page's banner. It lives as long as the page, so it is leaked on start (as the config
    /// is): nothing ever drops it, and callbacks reach it without reference counting.
    static APP: Cell<Option<&'static App>> = const { Cell::new(None) };
}

/// One banner per page.
pub struct App {
    pub config: Config,
    lang: String,
    banner_version: String,
    /// Consent Mode updates are sent: the config enables it, or the bootstrap sent a default.
    gcm: bool,
    machine: RefCell<Machine>,
    store: Store,
    /// The stored value last applied, so a re-read that finds nothing new does nothing.
    seen: RefCell<Option<String>>,
    ui: Option<Ui>,
    gate: Gate,
    reporter: Option<Reporter>,
    _listeners: Vec<Listener>,
}

/// Runs `f` on the page's banner, if it started. Nothing stays borrowed while `f` runs, so
/// callbacks that re-enter (a gated script calling the API) are safe.
pub fn with<R>(f: impl FnOnce(&App) -> R) -> Option<R> {
    let app = APP.with(Cell::get)?;
    Some(f(app))
}

fn env() -> Env {
    Env { now_ms: dom::now_ms(), random: dom::random::<32>() }
}

/// Feeds one input to the banner and carries out the effects.
pub fn dispatch(input: Input) {
    with(|app| app.step(input));
}

/// Starts the banner from config text. Returns false (after one `console.error` naming the
/// field) when the config is invalid: then nothing is shown and nothing is activated.
pub fn start(config_text: &str, build_hash: &str, gcm_defaulted: bool) -> bool {
    if APP.with(Cell::get).is_some() {
        return true;
    }
    let config = match Config::parse(config_text) {
        Ok(c) => c,
        Err(e) => {
            let mut msg = e.message();
            msg.push_str(" — the banner is not shown and no optional script runs.");
            dom::error(&msg);
            return false;
        }
    };
    let doc = dom::document();
    let html_lang = doc.as_ref().and_then(|d| d.document_element()).and_then(|e| dom::attr(&e, "lang"));
    // Plain loops over JS arrays, here and elsewhere: less code than the array iterator's adapters.
    let mut browser = Vec::new();
    if let Some(w) = dom::window() {
        let list = w.navigator().languages();
        for i in 0..list.length() {
            if let Some(l) = list.get(i).as_string() {
                browser.push(l);
            }
        }
    }
    let mut browser_refs = Vec::new();
    for l in &browser {
        browser_refs.push(l.as_str());
    }
    let lang = i18n::choose(&config, html_lang.as_deref(), &browser_refs).to_string();

    let mut seed = String::from(build_hash);
    seed.push('\n');
    seed.push_str(config_text);
    let banner_version = sha256::hex(&sha256::digest(seed.as_bytes())[..16]);

    let ui = Ui::build(&config, &lang, dispatch);
    let gate = Gate::new(
        || {
            with(|app| app.gate.loaded());
        },
        || {
            // A copy, not a borrow of the machine: an inline script activated here runs at once
            // and may call the API, which steps the machine.
            with(|app| app.gate.apply(&app.grants()));
        },
    );
    let reporter = config.endpoint.map(|url| {
        Reporter::new(
            url,
            |id, status, retry| {
                with(|app| app.reporter.as_ref().map(|r| r.settle(&id, status, retry)));
            },
            |hidden| {
                with(|app| app.reporter.as_ref().map(|r| r.on_visibility(hidden)));
            },
        )
    });
    // Plain functions, not closures: one boxed `fn(Event)` type for the four, so they share one
    // call shim and vtable (measured: raw wasm −80 B, brotli total −4 B).
    let mut listeners = Vec::new();
    if let Some(w) = dom::window() {
        listeners.push(Listener::new(&w, "storage", on_storage as fn(Event)));
        listeners.push(Listener::new(&w, "pageshow", on_pageshow as fn(Event)));
        listeners.push(Listener::new(&w, "focus", on_focus as fn(Event)));
    }
    if let Some(d) = &doc {
        listeners.push(Listener::new(d, "visibilitychange", on_visibility as fn(Event)));
    }

    let store = Store::new(config.cookie.clone());
    let gpc = dom::window().is_some_and(|w| dom::prop_true(&w.navigator(), "globalPrivacyControl"));
    let app: &'static App = Box::leak(Box::new(App {
        machine: RefCell::new(Machine::new(&config)),
        gcm: config.consent_mode.enabled || gcm_defaulted,
        config,
        lang,
        banner_version,
        store,
        seen: RefCell::new(None),
        ui,
        gate,
        reporter,
        _listeners: listeners,
    }));
    APP.with(|a| a.set(Some(app)));
    let stored = app.stored();
    app.step(Input::Start { stored, gpc });
    dom::emit("consent:ready", &app.detail(None));
    if let Some(r) = &app.reporter {
        r.flush();
    }
    true
}

/// Another tab changed the record: apply it without a reload.
fn on_storage(ev: Event) {
    let key = dom::prop(&ev, "key").as_string();
    with(|app| match key.as_deref() {
        // The other tab wrote its cookie first and this mirror last, so the event's value is its
        // latest; reading the cookie here can still return the old one for a moment.
        Some(k) if k == app.store.key() => {
            let value = dom::prop(&ev, "newValue").as_string();
            app.step(Input::External(app.judge(value)));
        }
        Some(_) => {}
        // `localStorage.clear()`: nothing to go by but storage itself. Only a change is applied:
        // a page that fires keyless storage events from its own setItem wrapper would otherwise
        // re-enter this listener from the banner's own writes.
        None => app.reread(),
    });
}

/// Restored from the back-forward cache: storage may have changed meanwhile.
fn on_pageshow(ev: Event) {
    if dom::prop_true(&ev, "persisted") {
        with(App::reread);
    }
}

/// A sibling site (www. vs app.) changes the shared cookie without any storage event: look again
/// whenever the visitor comes back to this tab.
fn on_focus(_: Event) {
    with(App::reread);
}

/// The tab became visible again: as for `focus`.
fn on_visibility(_: Event) {
    if dom::document().is_some_and(|d| !dom::prop_true(&d, "hidden")) {
        with(App::reread);
    }
}

impl App {
    fn stored(&self) -> Stored {
        self.judge(self.store.read())
    }

    /// What a stored value means now; remembered as the value last applied.
    fn judge(&self, raw: Option<String>) -> Stored {
        let stored = evaluate(raw.as_deref(), &self.config, dom::now_ms().div_euclid(1000));
        *self.seen.borrow_mut() = raw;
        stored
    }

    /// Applies the stored record if it changed since it was last read (another tab or site).
    fn reread(&self) {
        if self.store.read() != *self.seen.borrow() {
            self.step(Input::External(self.stored()));
        }
    }

    /// The effective choices now.
    pub fn grants(&self) -> Vec<(&'static str, bool)> {
        self.machine.borrow().grants().to_vec()
    }

    /// The granted categories now, essential included.
    pub fn granted(&self) -> Vec<&'static str> {
        gate::granted(self.machine.borrow().grants())
    }

    /// Whether `category` is granted now (no list of the granted ones built to search).
    pub fn is_granted(&self, category: &str) -> bool {
        gate::is_granted(category, self.machine.borrow().grants())
    }

    fn consent_id(&self) -> Option<String> {
        self.machine.borrow().consent_id().map(String::from)
    }

    /// The consent id as a JS string, or `null` before a decision: no Rust copy of it on the way.
    pub fn consent_id_value(&self) -> JsValue {
        self.machine.borrow().consent_id().map_or(JsValue::NULL, JsValue::from_str)
    }

    /// Feeds an input and carries out its effects. The machine is borrowed only while it steps.
    pub fn step(&self, input: Input) {
        let starting = matches!(input, Input::Start { .. });
        // The clock and random bytes first: `Date.now` and `crypto` are page-replaceable.
        let env = env();
        let fx = self.machine.borrow_mut().step(&self.config, input, env);
        self.run(fx, starting);
    }

    fn run(&self, fx: Effects, starting: bool) {
        match &fx.persist {
            // Remembered as seen before it is written: a page that wraps setItem and fires a
            // same-tab storage event must not make the banner re-apply its own write, re-entering
            // the storage listener.
            Some(Persist::Write(value)) => {
                *self.seen.borrow_mut() = Some(value.clone());
                self.store.write(value, self.config.lifetime_secs());
            }
            Some(Persist::Clear) => {
                *self.seen.borrow_mut() = None;
                self.store.clear();
            }
            None => {}
        }
        if let Some(grants) = &fx.grants {
            if !fx.withdrawn.is_empty() {
                self.clear_cookies(&fx.withdrawn);
            }
            if fx.signal {
                self.consent_mode_update(grants);
            }
            self.consent_mode_hint(grants);
            self.gate.apply(grants);
            // Every decision is announced, also one that changes no category (Reject all on a
            // first visit): a page waiting for the visitor to decide learns it here.
            if !starting && (!fx.changed.is_empty() || fx.report.is_some()) {
                dom::emit("consent:change", &self.detail(Some(&fx.changed)));
            }
        }
        if let (Some(_), Some(ui)) = (fx.view, &self.ui) {
            // Copied out: moving focus fires the page's focus handlers, which may call the API.
            let (view, gpc_honoured, settled) = {
                let m = self.machine.borrow();
                (m.view, m.gpc_honoured, m.is_settled(&self.config))
            };
            let (grants, consent_id) = (self.grants(), self.consent_id());
            ui.show(&Scene { view, grants: &grants, consent_id: consent_id.as_deref(), gpc_honoured, settled });
        }
        if let (Some(rep), Some(reporter)) = (fx.report, &self.reporter) {
            // Through `dom::location`: one import fewer than `Window::location`.
            let page = (|| Some(page_for(&dom::location("origin")?, &dom::location("pathname")?)))().unwrap_or_default();
            let body = EventParts {
                event_id: &rep.event_id,
                consent_id: &rep.consent_id,
                site_id: self.config.site_id,
                action: rep.action,
                choices: &rep.choices,
                surface: rep.surface,
                revision: self.config.revision,
                banner_version: &self.banner_version,
                language: &self.lang,
                page: &page,
                client_ts: dom::now_ms(),
                gpc: self.machine.borrow().gpc,
            }
            .to_json();
            reporter.submit(rep.event_id, body);
        }
    }

    fn clear_cookies(&self, withdrawn: &[&str]) {
        let header = storage::cookie_header().unwrap_or_default();
        let present = gate::cookie_names(&header);
        self.store.delete_cookies(&gate::cookies_to_clear(&self.config, withdrawn, &present));
    }

    fn consent_mode_update(&self, grants: &[(&str, bool)]) {
        if !self.gcm {
            return;
        }
        let Some(w) = dom::window() else { return };
        let Ok(gtag) = dom::prop(&w, "gtag").dyn_into::<js_sys::Function>() else { return };
        let state = js_sys::Object::new();
        for &(signal, granted) in &gcm::update(&self.config, grants) {
            dom::set_prop(&state, signal, &JsValue::from_str(if granted { "granted" } else { "denied" }));
        }
        let _ = gtag.call3(&w, &JsValue::from_str("consent"), &JsValue::from_str("update"), &state);
    }

    /// Caches this page's update for the bootstrap of the next one (see `gcm::hint`); cleared
    /// whenever there is no settled decision, so nothing stale is ever replayed.
    fn consent_mode_hint(&self, grants: &[(&str, bool)]) {
        let hint = {
            let m = self.machine.borrow();
            let seen = self.seen.borrow();
            let record = m.record.as_ref().filter(|_| m.is_settled(&self.config));
            gcm::hint(&self.config, record, seen.as_deref().unwrap_or(""), grants)
        };
        // No borrow across setItem/removeItem: the page may have wrapped them.
        storage::put(HINT_KEY, hint.as_deref().unwrap_or(""));
    }

    /// `{categories, consentId, decided}` for `consent:ready`, or `{categories, changed,
    /// consentId}` for `consent:change`.
    fn detail(&self, changed: Option<&[&str]>) -> JsValue {
        let (granted, consent_id, settled) = {
            let m = self.machine.borrow();
            (gate::granted(m.grants()), m.consent_id().map_or(JsValue::NULL, JsValue::from_str), m.is_settled(&self.config))
        };
        let d = js_sys::Object::new();
        dom::set_prop(&d, "categories", &dom::str_array(&granted));
        dom::set_prop(&d, "consentId", &consent_id);
        match changed {
            Some(c) => dom::set_prop(&d, "changed", &dom::str_array(c)),
            None => dom::set_prop(&d, "decided", &JsValue::from_bool(settled)),
        };
        d.into()
    }
}
