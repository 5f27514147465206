//! The banner's DOM: first layer, preferences dialog and re-open button in an open shadow root
//! with a constructable stylesheet. Texts go in as text nodes; focus and keyboard follow the
//! WAI-ARIA dialog pattern. Renders what the machine decided; decides nothing.

use super::dom::{self, Listener};
use crate::core::config::{Config, Texts};
use crate::core::event::Surface;
use crate::core::i18n;
use crate::core::machine::{Input, View};
use std::cell::{Cell, RefCell};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Event, ShadowRoot};

const CSS: &str = include_str!("banner.css");
pub const HOST_ID: &str = "pc-host";

/// What to show; a snapshot of the machine.
pub struct Scene<'a> {
    pub view: View,
    pub grants: &'a [(&'static str, bool)],
    pub consent_id: Option<&'a str>,
    pub gpc_honoured: bool,
    /// A decision exists, so the re-open control belongs on screen.
    pub settled: bool,
}

/// The rendered banner. Dropping it removes its listeners and its host element.
pub struct Ui {
    host: Element,
    root: ShadowRoot,
    layer: Element,
    backdrop: Element,
    dialog: Element,
    /// Category id and its checkbox.
    switches: Vec<(&'static str, Element)>,
    reopen: Option<Element>,
    /// An empty block at the end of the page, as tall as the first layer while it shows.
    spacer: Element,
    consent_id: Element,
    /// The GPC notice in the first layer and in the dialog.
    gpc_notices: [Element; 2],
    opener: RefCell<Option<Element>>,
    view: Cell<View>,
    _listeners: Vec<Listener>,
}

fn surface_of(el: &Element) -> Surface {
    if dom::closest_of(el, ".prefs").is_some() {
        Surface::Preferences
    } else {
        Surface::FirstLayer
    }
}

impl Ui {
    /// Builds the banner (hidden) at the start of `<body>`, so keyboard users meet it first.
    /// `on_input` receives every visitor action as the machine's input.
    //
    // The machine's inputs, not a UI action enum of its own that `start` mapped onto them; the
    // opener is remembered in `show`, as for `showPreferences()`. Measured: −225 B raw wasm,
    // −113 B brotli total on this batch.
    pub fn build(config: &Config, lang: &str, on_input: impl Fn(Input) + Clone + 'static) -> Option<Ui> {
        let doc = dom::document()?;
        // `body` and `adoptedStyleSheets` through `get`/`set_prop`: two web-sys imports fewer.
        let body = dom::get(&doc, "body")?;
        let host = dom::create(&doc, "div");
        dom::set_attr(&host, "id", HOST_ID);
        let root = dom::dom(&host).attach_shadow(&dom::object(&[("mode", &"open".into())]));
        // Constructable stylesheets are missing from older browsers: then the constructor throws.
        if let Ok(sheet) = web_sys::CssStyleSheet::new() {
            dom::dom(&sheet).replace_sync(CSS);
            let sheets = js_sys::Array::new();
            sheets.push(&sheet);
            dom::set_prop(&root, "adoptedStyleSheets", &sheets);
        }
        let t = config.texts_for(lang);
        let dir = if i18n::is_rtl(lang) { "rtl" } else { "ltr" };
        let r: &web_sys::Node = &root;

        // First layer: a labelled region, reachable by keyboard, not modal.
        // Each top-level part carries the texts' language and direction.
        let localized = |el: Element| {
            dom::set_attr(&el, "lang", lang);
            dom::set_attr(&el, "dir", dir);
            el
        };
        let layer = localized(dom::child(&doc, r, "section class=layer role=region aria-labelledby=pc-t hidden", None));
        dom::leaf(&doc, &layer, "h2 id=pc-t", t.title);
        // Separators are part of the text before them: no text nodes to create.
        let mut description = String::from(t.description);
        if config.privacy_policy_url.is_some() {
            description.push(' ');
        }
        let p = dom::child(&doc, &layer, "p id=pc-d", Some(&description));
        if let Some(url) = &config.privacy_policy_url {
            dom::set_attr(&dom::child(&doc, &p, "a", Some(t.policy_link)), "href", url);
        }
        // Where the visitor decides, they learn that the signal was honoured before they choose
        // (and what Accept all would override); the dialog repeats it beside the switches.
        const NOTE: &str = "p class=note data-gpc-notice role=status hidden";
        let layer_notice = dom::child(&doc, &layer, NOTE, Some(t.gpc_notice));
        buttons(&doc, &layer, t, "button type=button class=alt data-action=customize", t.customize);

        // Preferences: a modal dialog.
        let backdrop = dom::child(&doc, r, "div class=backdrop hidden", None);
        let dialog = localized(dom::child(&doc, &backdrop, "div class=prefs role=dialog aria-modal=true aria-labelledby=pc-pt tabindex=-1", None));
        dom::leaf(&doc, &dialog, "h2 id=pc-pt", t.preferences_title);
        // First in the focus order, as it is first on screen (the top corner), not last.
        dom::set_attr(&dom::child(&doc, &dialog, "button type=button class=x data-action=close", Some("×")), "aria-label", t.close);
        let gpc_notices = [layer_notice, dom::child(&doc, &dialog, NOTE, Some(t.gpc_notice))];
        let mut switches = Vec::new();
        for (i, (cat, text)) in config.categories.iter().zip(t.categories).enumerate() {
            let mut desc_id = String::from("pc-c");
            crate::core::json::write_int(&mut desc_id, i as i64);
            let wrap = dom::child(&doc, &dialog, "div class=cat", None);
            let label = dom::child(&doc, &wrap, "label", None);
            dom::leaf(&doc, &label, "span", text.title);
            let input = dom::child(&doc, &label, "input type=checkbox role=switch", None);
            dom::set_attr(&input, "data-category", cat.id);
            dom::set_attr(&input, "aria-describedby", &desc_id);
            if cat.required {
                dom::flag(&input, "checked", true);
                dom::flag(&input, "disabled", true);
            }
            dom::set_attr(&dom::child(&doc, &wrap, "p", Some(text.description)), "id", &desc_id);
            switches.push((cat.id, input));
        }
        let mut label = String::from(t.consent_id_label);
        label.push_str(": ");
        let cid = dom::child(&doc, &dialog, "p class=cid", Some(&label));
        let consent_id = dom::child(&doc, &cid, "code data-consent-id", None);
        buttons(&doc, &dialog, t, "button type=button class=alt data-action=save", t.save);

        let reopen = if config.reopen_button {
            Some(localized(dom::child(&doc, r, "button type=button class=reopen data-action=reopen hidden", Some(t.reopen))))
        } else {
            None
        };

        dom::dom(&body).prepend(&host);
        // Empty, so nothing in it reaches assistive technology.
        let spacer = dom::create(&doc, "div");
        dom::append(body.unchecked_ref(), &spacer);
        // In the top layer (a manual popover, never light-dismissed) the banner is above every
        // z-index on the page, and a transform or filter on <body> cannot make it the containing
        // block of the banner's fixed boxes. Browsers without popovers keep the z-index stacking.
        // Not over a modal dialog the page already has open (an age gate): everything outside it
        // is inert, so the banner would be drawn on top yet not respond. It stays under it instead.
        let show = dom::prop(&host, "showPopover").dyn_into::<js_sys::Function>().ok();
        if let Some(show) = show.filter(|_| dom::select_all(&doc, ":modal").is_empty()) {
            dom::set_attr(&host, "popover", "manual");
            // call2: one import shared with the other callers; showPopover ignores the arguments.
            let _ = show.call2(&host, &JsValue::UNDEFINED, &JsValue::UNDEFINED);
        }

        let dialog_for_save = dialog.clone();
        let act = on_input.clone();
        let click = Listener::new(&root, "click", move |ev| {
            let Some(button) = dom::closest(&ev, "[data-action]") else { return };
            let input = match dom::attr(&button, "data-action").as_deref() {
                Some("accept-all") => Input::AcceptAll(surface_of(&button)),
                Some("reject-all") => Input::RejectAll(surface_of(&button)),
                Some("customize") | Some("reopen") => Input::ShowPreferences,
                Some("close") => Input::ClosePreferences,
                // Read from the dialog itself: its switches are the truth, and no copy of them is kept.
                Some("save") => {
                    let mut on = Vec::new();
                    for input in &dom::select_all(&dialog_for_save, "input[data-category]:checked") {
                        if let Some(c) = dom::attr(input, "data-category") {
                            on.push(c);
                        }
                    }
                    Input::Choose(on, Surface::Preferences)
                }
                _ => return,
            };
            act(input);
        });
        let act = on_input.clone();
        let open_links = Listener::new(&doc, "click", move |ev| {
            if dom::closest(&ev, "[data-consent-open]").is_some() {
                ev.prevent_default();
                act(Input::ShowPreferences);
            }
        });
        let dialog_for_keys = dialog.clone();
        let root_for_keys = root.clone();
        // On the document, not the shadow root: a click on the backdrop moves focus to <body>,
        // and Escape and the Tab trap must still work from there.
        let keys = Listener::new(&doc, "keydown", move |ev| {
            if dom::closest_of(&dialog_for_keys, "[hidden]").is_some() {
                return;
            }
            match dom::prop(&ev, "key").as_string().as_deref() {
                Some("Escape") => {
                    ev.prevent_default();
                    on_input(Input::ClosePreferences);
                }
                Some("Tab") => trap_tab(&dialog_for_keys, &root_for_keys, &ev),
                _ => {}
            }
        });

        Some(Ui {
            host,
            root,
            layer,
            backdrop,
            dialog,
            switches,
            reopen,
            spacer,
            consent_id,
            gpc_notices,
            opener: RefCell::new(None),
            view: Cell::new(View::Hidden),
            _listeners: vec![click, open_links, keys],
        })
    }

    /// Shows `scene`, moving focus as the dialog pattern asks.
    pub fn show(&self, scene: &Scene) {
        let was = self.view.replace(scene.view);
        let opening = scene.view == View::Preferences && was != View::Preferences;
        // Focus goes back to what had it when the dialog closes, however it was opened (a banner
        // button, a page link, `showPreferences()` on a page button). Read before anything is
        // hidden: a button that is hidden loses focus.
        if opening && self.opener.borrow().is_none() {
            self.remember_opener();
        }
        // Read before the layer hides: a decision made there leaves focus on a hidden button.
        let focus_in_layer = was == View::Banner && dom::active(&self.root).is_some();
        dom::flag(&self.layer, "hidden", scene.view != View::Banner);
        // The first layer is not modal, so the page stays usable under it, but what gets focus
        // there must not be hidden behind it (WCAG 2.4.11): focus scrolling keeps clear of a
        // scroll-padding as tall as the layer, and the spacer lets a short page's last links
        // scroll above it.
        let mut cover = String::new();
        if scene.view == View::Banner {
            crate::core::json::write_int(&mut cover, i64::from(self.layer.client_height()) + 24);
            cover.push_str("px");
        }
        let html = dom::document().and_then(|d| d.document_element());
        for (el, key) in [(html.as_ref(), "scrollPaddingBottom"), (Some(&self.spacer), "height")] {
            if let Some(el) = el {
                dom::set_prop(&dom::prop(el, "style"), key, &JsValue::from_str(&cover));
            }
        }
        dom::flag(&self.backdrop, "hidden", scene.view != View::Preferences);
        if let Some(r) = &self.reopen {
            dom::flag(r, "hidden", !(scene.view == View::Hidden && scene.settled));
        }
        for notice in &self.gpc_notices {
            dom::flag(notice, "hidden", !scene.gpc_honoured);
        }
        dom::text(&self.consent_id, scene.consent_id.unwrap_or("—"));
        if opening {
            for (id, input) in &self.switches {
                let on = crate::core::gate::is_granted(id, scene.grants);
                dom::set_prop(input, "checked", &JsValue::from_bool(on));
            }
            dom::focus(&self.dialog);
        }
        if focus_in_layer && scene.view == View::Hidden {
            // Decided on the first layer: focus goes to the control that reopens it, not <body>.
            if let Some(r) = self.reopen.as_ref().filter(|_| scene.settled) {
                dom::focus(r);
            }
        }
        if was == View::Preferences && scene.view != View::Preferences {
            if let Some(opener) = self.opener.take() {
                let visible = dom::prop_true(&opener, "isConnected") && dom::closest_of(&opener, "[hidden]").is_none();
                if visible {
                    dom::focus(&opener);
                } else if scene.view == View::Hidden {
                    if let Some(r) = self.reopen.as_ref().filter(|_| scene.settled) {
                        dom::focus(r);
                    }
                }
            }
        }
    }

    /// Remembers what had focus, to give it back when the dialog closes.
    fn remember_opener(&self) {
        let inner = dom::active(&self.root);
        let outer = dom::document().and_then(|d| dom::active(&d)).filter(|e| *e != self.host);
        *self.opener.borrow_mut() = inner.or(outer);
    }
}

/// The row of buttons both layers end with: accept all, reject all, then `last`.
fn buttons(doc: &Document, parent: &Element, t: &Texts, last: &str, last_text: &str) {
    let row = dom::child(doc, parent, "div class=row", None);
    dom::leaf(doc, &row, "button type=button class=btn data-action=accept-all", t.accept_all);
    dom::leaf(doc, &row, "button type=button class=btn data-action=reject-all", t.reject_all);
    dom::leaf(doc, &row, last, last_text);
}

fn trap_tab(dialog: &Element, root: &ShadowRoot, k: &Event) {
    let items = dom::select_all(dialog, "button,input:not([disabled]),a[href]");
    let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
    let active = dom::active(root);
    let at = |e: &Element| active.as_ref() == Some(e);
    let outside = active.as_ref().map_or(true, |a| !items.contains(a));
    let shift = dom::prop_true(k, "shiftKey");
    if shift && (at(first) || outside) {
        k.prevent_default();
        dom::focus(last);
    } else if !shift && (at(last) || outside) {
        k.prevent_default();
        dom::focus(first);
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.host.remove();
        self.spacer.remove();
    }
}
