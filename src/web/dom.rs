//! The one place raw DOM calls live: lookups, element creation, attributes, listeners, console.
//! Every call that can throw is caught here and turned into `None`/`Err`, never a panic.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Event, EventTarget, Node, Window};

pub fn window() -> Option<Window> {
    web_sys::window()
}

pub fn document() -> Option<Document> {
    window()?.document()
}

/// Creates an element; `None` only if the document is gone.
pub fn create(doc: &Document, tag: &str) -> Option<Element> {
    doc.create_element(tag).ok()
}

pub fn set_attr(el: &Element, name: &str, value: &str) {
    let _ = el.set_attribute(name, value);
}

pub fn attr(el: &Element, name: &str) -> Option<String> {
    el.get_attribute(name)
}

/// Sets or removes a boolean attribute (`hidden`, `checked`, `disabled`).
pub fn flag(el: &Element, name: &str, on: bool) {
    let _ = el.toggle_attribute_with_force(name, on);
}

/// Text only: config strings never reach the page as HTML.
pub fn text(el: &Element, s: &str) {
    el.set_text_content(Some(s));
}

pub fn append(parent: &Node, child: &Node) {
    let _ = parent.append_child(child);
}

/// `tag` with attributes and text, appended to `parent`.
pub fn child(doc: &Document, parent: &Node, tag: &str, attrs: &[(&str, &str)], content: Option<&str>) -> Option<Element> {
    let el = create(doc, tag)?;
    for (k, v) in attrs {
        set_attr(&el, k, v);
    }
    if let Some(t) = content {
        text(&el, t);
    }
    append(parent, &el);
    Some(el)
}

/// Every element matching `selector` under `root`, in document order.
pub fn query_all(root: &Node, selector: &str) -> Vec<Element> {
    let list = if let Some(d) = root.dyn_ref::<Document>() {
        d.query_selector_all(selector)
    } else if let Some(e) = root.dyn_ref::<Element>() {
        e.query_selector_all(selector)
    } else if let Some(s) = root.dyn_ref::<web_sys::ShadowRoot>() {
        s.query_selector_all(selector)
    } else {
        return Vec::new();
    };
    let Ok(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<Element>().ok()).collect()
}

/// The nearest ancestor-or-self of an event's target matching `selector`.
pub fn closest(event: &Event, selector: &str) -> Option<Element> {
    event.target()?.dyn_into::<Element>().ok()?.closest(selector).ok().flatten()
}

pub fn focus(el: &Element) {
    if let Some(h) = el.dyn_ref::<web_sys::HtmlElement>() {
        let _ = h.focus();
    }
}

/// A property of any JS object; `undefined` when it is missing or its getter throws.
pub fn prop(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn set_prop(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// `n` bytes from `crypto.getRandomValues`; falls back to `Math.random` only where there is no
/// crypto (then ids are merely unique, which is all they need to be).
pub fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let ok = window().and_then(|w| w.crypto().ok()).is_some_and(|c| c.get_random_values_with_u8_array(&mut buf).is_ok());
    if !ok {
        for b in &mut buf {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    buf
}

pub fn warn(msg: &str) {
    web_sys::console::warn_1(&JsValue::from_str(msg));
}

pub fn error(msg: &str) {
    web_sys::console::error_1(&JsValue::from_str(msg));
}

/// An event listener that is removed when dropped.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(target: &EventTarget, kind: &'static str, f: impl FnMut(Event) + 'static) -> Listener {
        let closure = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        Listener { target: target.clone(), kind, closure }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
    }
}

/// Dispatches a `CustomEvent` with `detail` on the document.
pub fn emit(name: &str, detail: &JsValue) {
    let Some(doc) = document() else { return };
    let init = web_sys::CustomEventInit::new();
    init.set_detail(detail);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = doc.dispatch_event(&ev);
    }
}

/// A JS array of strings.
pub fn str_array<'a>(items: impl IntoIterator<Item = &'a str>) -> js_sys::Array {
    items.into_iter().map(JsValue::from_str).collect()
}
