//! Browser tier: the web edge in headless Chromium (wasm-bindgen-test, `run_in_browser`).
#![cfg(target_arch = "wasm32")]

use consent_banner::core::config::Config;
use consent_banner::core::machine::View;
use consent_banner::web::dom;
use consent_banner::web::render::{Scene, Ui};
use consent_banner::web::scripts::Gate;
use consent_banner::web::storage::Store;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONFIG: &str = r#"{"siteId":"t","privacyPolicyUrl":"https://example.com/privacy",
 "categories":[{"id":"essential","required":true},{"id":"analytics","cookies":["_ga*"]},{"id":"marketing"}],
 "texts":{"en":{"title":"<b>Bold?</b> Privacy","description":"We ask first.","acceptAll":"Accept all","rejectAll":"Reject all",
 "customize":"Customize","save":"Save","preferencesTitle":"Preferences",
 "categories":{"essential":{"title":"Essential","description":"Needed."},"analytics":{"title":"Analytics","description":"Stats."},
 "marketing":{"title":"Marketing","description":"Ads."}}}}}"#;

fn config() -> Config {
    Config::parse(CONFIG).unwrap()
}

fn body() -> web_sys::HtmlElement {
    dom::document().unwrap().body().unwrap()
}

/// Runs JS in the page (test set-up only).
fn js(code: &str) -> JsValue {
    js_sys::Function::new_no_args(code).call0(&JsValue::NULL).unwrap()
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        dom::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
fn renders_in_an_open_shadow_root_with_text_only() {
    let c = config();
    let ui = Ui::build(&c, "en", |_| {}).expect("built");
    let host = dom::document().unwrap().get_element_by_id("pc-host").expect("host in the page");
    let root = host.shadow_root().expect("open shadow root");
    let layer = root.query_selector("section.layer").unwrap().unwrap();
    assert!(layer.has_attribute("hidden"), "nothing shows before the machine says so");
    let grants = vec![("essential", true), ("analytics", false), ("marketing", false)];
    ui.show(&Scene { view: View::Banner, grants: &grants, consent_id: None, gpc_honoured: false, settled: false });
    assert!(!layer.has_attribute("hidden"));
    // Config text is text: no <b> element appears.
    assert!(root.query_selector("b").unwrap().is_none());
    assert_eq!(root.query_selector("h2").unwrap().unwrap().text_content().unwrap(), "<b>Bold?</b> Privacy");
    assert_eq!(root.query_selector("a").unwrap().unwrap().get_attribute("href").unwrap(), "https://example.com/privacy");
    assert_eq!(root.adopted_style_sheets().length(), 1, "constructable stylesheet, no <style>");
    assert!(root.query_selector("style").unwrap().is_none());

    ui.show(&Scene { view: View::Preferences, grants: &grants, consent_id: Some("abc"), gpc_honoured: true, settled: false });
    assert!(layer.has_attribute("hidden"));
    let switches = root.query_selector_all("input[role=switch]").unwrap();
    assert_eq!(switches.length(), 3);
    let input = |i| switches.item(i).unwrap().dyn_into::<web_sys::HtmlInputElement>().unwrap();
    assert!(input(0).checked() && input(0).disabled(), "essential: on and locked");
    assert!(!input(1).checked() && !input(2).checked(), "no pre-ticked boxes");
    assert!(!root.query_selector("[data-gpc-notice]").unwrap().unwrap().has_attribute("hidden"));
    assert_eq!(root.query_selector("[data-consent-id]").unwrap().unwrap().text_content().unwrap(), "abc");
    drop(ui);
    assert!(dom::document().unwrap().get_element_by_id("pc-host").is_none(), "dropping the UI removes it");
}

#[wasm_bindgen_test]
fn store_round_trips_through_cookie_and_local_storage() {
    let c = config();
    let store = Store::new(c.cookie.clone());
    store.clear();
    assert_eq!(store.read(), None);
    store.write("1.value", 60);
    assert_eq!(store.read().as_deref(), Some("1.value"));
    let ls = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(ls.get_item("pc_consent").unwrap().as_deref(), Some("1.value"));
    // The cookie wins; the mirror is the fallback when the cookie is gone (e.g. wiped by ITP).
    js("document.cookie = 'pc_consent=; max-age=0; path=/'");
    assert_eq!(store.read().as_deref(), Some("1.value"));
    store.clear();
    assert_eq!(store.read(), None);
    assert_eq!(ls.get_item("pc_consent").unwrap(), None);
}

#[wasm_bindgen_test]
fn throwing_storage_degrades_to_memory() {
    js("window.__ls = Object.getOwnPropertyDescriptor(window, 'localStorage');
        Object.defineProperty(window, 'localStorage', {configurable: true, get() { throw new DOMException('denied', 'SecurityError'); }});
        Object.defineProperty(document, 'cookie', {configurable: true, get() { throw new DOMException('denied', 'SecurityError'); }, set(v) { throw new DOMException('denied', 'SecurityError'); }});");
    let store = Store::new(config().cookie.clone());
    assert_eq!(store.read(), None);
    store.write("1.mem", 60);
    assert_eq!(store.read().as_deref(), Some("1.mem"), "kept in memory for the page");
    store.delete_cookies(&["_ga"]);
    store.clear();
    assert_eq!(store.read(), None);
    js("Object.defineProperty(window, 'localStorage', window.__ls); delete document.cookie;");
    assert!(web_sys::window().unwrap().local_storage().is_ok(), "the real storage is back for the other tests");
}

fn gated(html_attrs: &[(&str, &str)], text: &str) -> web_sys::Element {
    let doc = dom::document().unwrap();
    let el = dom::create(&doc, "script");
    dom::set_attr(&el, "type", "text/plain");
    for (k, v) in html_attrs {
        dom::set_attr(&el, k, v);
    }
    dom::text(&el, text);
    dom::append(&body(), &el);
    el
}

#[wasm_bindgen_test]
async fn activates_in_document_order_once_each() {
    js("window.__order = [];");
    let slot: Rc<RefCell<Option<Rc<Gate>>>> = Rc::new(RefCell::new(None));
    let s = slot.clone();
    let gate = Rc::new(Gate::new(move || { if let Some(g) = s.borrow().clone() { g.loaded() } }, || {}));
    *slot.borrow_mut() = Some(gate.clone());
    // An external script first: the inline one after it must wait for it to load.
    gated(&[("data-consent", "analytics"), ("data-src", "data:text/javascript,window.__order.push('ext')")], "");
    gated(&[("data-consent", "analytics")], "window.__order.push('inline')");
    gated(&[("data-consent", "marketing")], "window.__order.push('marketing')");
    gated(&[("data-consent", "analytic")], "window.__order.push('typo')");
    let grants = vec![("essential", true), ("analytics", true), ("marketing", false)];
    gate.apply(&grants);
    sleep(200).await;
    gate.apply(&grants);
    sleep(100).await;
    let order: Vec<String> = js_sys::Array::from(&js("return window.__order")).iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(order, vec!["ext", "inline"], "document order, each once, refused and unknown categories stay inert");
    let all = vec![("analytics", true), ("marketing", true)];
    gate.apply(&all);
    sleep(50).await;
    let order: Vec<String> = js_sys::Array::from(&js("return window.__order")).iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(order, vec!["ext", "inline", "marketing"]);
    *slot.borrow_mut() = None;
}

#[wasm_bindgen_test]
async fn catches_elements_inserted_later() {
    js("window.__late = 0;");
    let grants = Rc::new(vec![("analytics", true)]);
    let slot: Rc<RefCell<Option<Rc<Gate>>>> = Rc::new(RefCell::new(None));
    let (s1, s2, g2) = (slot.clone(), slot.clone(), grants.clone());
    let gate = Rc::new(Gate::new(
        move || { if let Some(g) = s1.borrow().clone() { g.loaded() } },
        move || { if let Some(g) = s2.borrow().clone() { g.apply(&g2) } },
    ));
    *slot.borrow_mut() = Some(gate.clone());
    gate.apply(&grants);
    // Another script on the page inserts a gated element after start.
    let el = gated(&[("data-consent", "analytics"), ("nonce", "n0nce"), ("data-type", "module")], "window.__late++");
    let iframe = dom::create(&dom::document().unwrap(), "iframe");
    dom::set_attr(&iframe, "data-consent", "analytics");
    dom::set_attr(&iframe, "data-src", "about:blank");
    dom::append(&body(), &iframe);
    sleep(150).await;
    assert_eq!(js("return window.__late").as_f64(), Some(1.0), "the MutationObserver path activated it once");
    assert_eq!(el.get_attribute("data-consent-state").as_deref(), Some("activated"));
    let live = el.next_element_sibling().unwrap();
    assert_eq!(live.get_attribute("type").as_deref(), Some("module"));
    assert_eq!(live.dyn_ref::<web_sys::HtmlElement>().unwrap().nonce(), "n0nce");
    assert_eq!(iframe.get_attribute("src").as_deref(), Some("about:blank"));
    *slot.borrow_mut() = None;
}
