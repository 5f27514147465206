//! The one place raw DOM calls live: lookups, element creation, attributes, listeners, console.
//! Every call that can throw is caught here and turned into `None`/`Err`, never a panic; the
//! calls that cannot, with the arguments this crate passes, are bound without the catch ([`Dom`]).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, Event, EventTarget, Node, Window};

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `globalThis`, only to read `window` from.
    type Global;
    /// The `window` global, `None` where there is none. Read directly rather than through
    /// `web_sys::window()`, which probes four globals (`globalThis`, `self`, `window`, `global`)
    /// and checks `instanceof Window`: five imports and their shims in the glue.
    //
    // A getter rather than a `thread_local_v2` static: the static's lazy-init cell cost ~250 B of
    // wasm, and one getter call per read costs no more than the static's clone did.
    #[wasm_bindgen(static_method_of = Global, js_class = "globalThis", getter = window)]
    fn window_of_global() -> Option<Window>;

    /// Any DOM object, for calls that cannot throw with the arguments given here (fixed tag names,
    /// attribute names and selectors; nodes this crate made). web-sys binds them as throwing,
    /// which costs an exception check at every call; these bindings skip it.
    pub type Dom;
    #[wasm_bindgen(method, js_name = createElement)]
    fn create_element(this: &Dom, tag: &str) -> Element;
    #[wasm_bindgen(method, js_name = toggleAttribute)]
    fn toggle_attribute(this: &Dom, name: &str, force: bool);
    #[wasm_bindgen(method, js_name = appendChild)]
    fn append_child(this: &Dom, child: &Node);
    #[wasm_bindgen(method)]
    fn closest(this: &Dom, selector: &str) -> Option<Element>;
    #[wasm_bindgen(method, js_name = querySelectorAll)]
    /// Typed as an Array: a NodeList is array-like, and Array's `length`/index glue (bound anyway)
    /// reads it as well as NodeList's own `length`/`item` imports would.
    fn query_selector_all(this: &Dom, selector: &str) -> js_sys::Array;
    #[wasm_bindgen(method)]
    fn focus(this: &Dom);
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &Dom, kind: &str, listener: &JsValue);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &Dom, kind: &str, listener: &JsValue);
    #[wasm_bindgen(method, js_name = dispatchEvent)]
    fn dispatch_event(this: &Dom, event: &JsValue);
    /// On an element made here, so it has no shadow root yet.
    #[wasm_bindgen(method, js_name = attachShadow)]
    pub fn attach_shadow(this: &Dom, init: &JsValue) -> web_sys::ShadowRoot;
    /// On a constructed stylesheet, with the banner's own CSS.
    #[wasm_bindgen(method, js_name = replaceSync)]
    pub fn replace_sync(this: &Dom, css: &str);
    #[wasm_bindgen(method)]
    pub fn prepend(this: &Dom, node: &Node);
    /// A MutationObserver, on an element, with valid options.
    #[wasm_bindgen(method)]
    pub fn observe(this: &Dom, target: &Node, options: &JsValue);

    /// A MutationObserver, built without the exception check web-sys puts on the constructor:
    /// it throws only for a callback that is not a function (measured: −19 B brotli).
    #[wasm_bindgen(js_name = MutationObserver)]
    pub type Observer;
    #[wasm_bindgen(constructor, js_class = "MutationObserver")]
    pub fn new(callback: &JsValue) -> Observer;
    #[wasm_bindgen(method)]
    pub fn disconnect(this: &Observer);
}

/// The no-throw view of a DOM object (see [`Dom`]).
pub fn dom(v: &JsValue) -> &Dom {
    v.unchecked_ref()
}

pub fn window() -> Option<Window> {
    Global::window_of_global()
}

pub fn document() -> Option<Document> {
    Some(get(window()?.as_ref(), "document")?.unchecked_into())
}

/// Creates an element (`tag` is fixed by the caller).
pub fn create(doc: &Document, tag: &str) -> Element {
    dom(doc).create_element(tag)
}

pub fn set_attr(el: &Element, name: &str, value: &str) {
    let _ = el.set_attribute(name, value);
}

pub fn attr(el: &Element, name: &str) -> Option<String> {
    el.get_attribute(name)
}

/// Sets or removes a boolean attribute (`hidden`, `checked`, `disabled`).
pub fn flag(el: &Element, name: &str, on: bool) {
    dom(el).toggle_attribute(name, on);
}

/// Text only: config strings never reach the page as HTML.
pub fn text(el: &Element, s: &str) {
    set_prop(el, "textContent", &JsValue::from_str(s));
}

pub fn append(parent: &Node, child: &Node) {
    dom(parent).append_child(child);
}

/// An element from `spec`, with text, appended to `parent`. `spec` is the tag, then fixed
/// attributes separated by spaces: `"button type=button class=btn"`; a name without `=` gets
/// an empty value (`hidden`). Values cannot hold spaces; set config-derived ones with [`set_attr`].
//
// One static string per element instead of a slice of (name, value) pairs: the banner builds
// ~25 elements, and each pair was two pointer/length stores inlined at the call site.
//
// Infallible, so the ~25 call sites in the banner's build carry no early-return branch each.
pub fn child(doc: &Document, parent: &Node, spec: &str, content: Option<&str>) -> Element {
    let mut parts = crate::core::text::fields(spec, b' ');
    // `fields` yields at least one part, the tag.
    let el = create(doc, parts.next().unwrap_or_default());
    for a in parts {
        let (k, v) = crate::core::text::split_at(a, b'=').unwrap_or((a, ""));
        set_attr(&el, k, v);
    }
    if let Some(t) = content {
        text(&el, t);
    }
    append(parent, &el);
    el
}

/// [`child`] with text, for an element nothing refers to later: dropped here rather than at each
/// call site.
pub fn leaf(doc: &Document, parent: &Node, spec: &str, content: &str) {
    child(doc, parent, spec, Some(content));
}

/// The elements under `root` (a document, shadow root or element) matching a fixed `selector`,
/// in document order.
pub fn select_all(root: &JsValue, selector: &str) -> Vec<Element> {
    let list = dom(root).query_selector_all(selector);
    // A plain loop rather than a Map/collect over the array iterator, which costs more code.
    let mut out = Vec::new();
    for i in 0..list.length() {
        // A selector only matches elements.
        out.push(list.get(i).unchecked_into());
    }
    out
}

/// The nearest ancestor-or-self of an event's target matching `selector`.
pub fn closest(event: &Event, selector: &str) -> Option<Element> {
    closest_of(&get(event, "target")?.dyn_into::<Element>().ok()?, selector)
}

/// The nearest ancestor-or-self of `el` matching a fixed `selector`.
pub fn closest_of(el: &Element, selector: &str) -> Option<Element> {
    dom(el).closest(selector)
}

/// `focus()` exists on every HTML, SVG and MathML element, so no `instanceof` check.
pub fn focus(el: &Element) {
    dom(el).focus();
}

/// A property of any JS object; `undefined` when it is missing or its getter throws.
pub fn prop(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Whether the setter ran without throwing (`document.cookie` may).
pub fn set_prop(obj: &JsValue, key: &str, value: &JsValue) -> bool {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), value).is_ok()
}

/// A property that holds an object (`document`, `body`, `localStorage`, …); `None` when it is
/// null, missing or its getter throws.
pub fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Some(prop(obj, key)).filter(|v| !v.is_null_or_undefined())
}

/// `location.<key>` of this page (`origin`, `pathname`, `hostname`, `protocol`).
pub fn location(key: &str) -> Option<String> {
    prop(&prop(window()?.as_ref(), "location"), key).as_string()
}

/// The element in `activeElement` of a document or shadow root.
pub fn active(root: &JsValue) -> Option<Element> {
    prop(root, "activeElement").dyn_into().ok()
}

/// Whether a property is exactly `true` (`persisted`, `shiftKey`, `checked`, …).
//
// Properties and dictionaries go through `prop`/`set_prop` rather than typed web-sys getters and
// setters: every distinct web-sys method is one more import and JS shim in the glue (plus an
// `instanceof` check for each `dyn_ref`), while these two reuse the same two imports.
pub fn prop_true(obj: &JsValue, key: &str) -> bool {
    prop(obj, key) == JsValue::TRUE
}

/// A plain JS object with these properties, for dictionary arguments (`EventInit`, …).
pub fn object(props: &[(&str, &JsValue)]) -> js_sys::Object {
    let o = js_sys::Object::new();
    for (k, v) in props {
        set_prop(&o, k, v);
    }
    o
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// `n` bytes from `crypto.getRandomValues`; falls back to `Math.random` only where there is no
/// crypto (then ids are merely unique, which is all they need to be).
pub fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    let crypto = window().and_then(|w| get(&w, "crypto")).map(JsCast::unchecked_into::<web_sys::Crypto>);
    let ok = crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut buf).is_ok());
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
        Self::boxed(target, kind, Box::new(f))
    }

    /// The registration itself, once for every kind of callback rather than once per call site.
    #[inline(never)]
    fn boxed(target: &EventTarget, kind: &'static str, f: Box<dyn FnMut(Event)>) -> Listener {
        let closure = Closure::wrap(f);
        dom(target).add_event_listener(kind, closure.as_ref());
        Listener { target: target.clone(), kind, closure }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        dom(&self.target).remove_event_listener(self.kind, self.closure.as_ref());
    }
}

/// Dispatches a `CustomEvent` with `detail` on the document.
pub fn emit(name: &str, detail: &JsValue) {
    let Some(doc) = document() else { return };
    let init = object(&[("detail", detail)]);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        dom(&doc).dispatch_event(&ev);
    }
}

/// A JS array of strings.
pub fn str_array(items: &[&str]) -> js_sys::Array {
    // A plain loop: less code than the Map/collect into an Array.
    let out = js_sys::Array::new();
    for s in items {
        out.push(&JsValue::from_str(s));
    }
    out
}
