//! The JavaScript API: the only `#[wasm_bindgen]` exports. The bootstrap (`consent.js`) wires
//! these onto `window.consent` once the module is ready and replays calls queued before that.

use crate::core::event::Surface;
use crate::core::machine::Input;
use crate::web::app::{self, App};
use crate::web::dom;
use wasm_bindgen::prelude::*;

/// Starts the banner. `config` is the config JSON text; `build` the build's hash (part of the
/// banner version reported with each event); `defaulted`: the bootstrap already sent a Consent
/// Mode default (it cannot read a config fetched through `data-config`, so it sends one whenever
/// it has no inline config saying otherwise), which updates must then follow. Returns false when
/// the config is invalid (one console error names the field; nothing is shown or activated).
#[wasm_bindgen]
pub fn start(config: &str, build: &str, defaulted: bool) -> bool {
    app::start(config, build, defaulted)
}

/// Whether `category` is granted now.
#[wasm_bindgen]
pub fn accepted(category: &str) -> bool {
    app::with(|a| a.is_granted(category)).unwrap_or(false)
}

/// Every granted category, essential included.
#[wasm_bindgen(js_name = acceptedCategories)]
pub fn accepted_categories() -> js_sys::Array {
    dom::str_array(&app::with(App::granted).unwrap_or_default())
}

#[wasm_bindgen(js_name = acceptAll)]
pub fn accept_all() {
    app::dispatch(Input::AcceptAll(Surface::Api));
}

#[wasm_bindgen(js_name = rejectAll)]
pub fn reject_all() {
    app::dispatch(Input::RejectAll(Surface::Api));
}

/// Grants exactly `categories`, an array of category names (the others are refused). Anything
/// but an array of this site's category names changes nothing and says so: a typo must not be
/// stored, and reported, as the visitor refusing everything.
#[wasm_bindgen]
pub fn accept(categories: &JsValue) {
    let Some(list) = categories.dyn_ref::<js_sys::Array>() else {
        dom::warn("consent.accept expects an array of category names; nothing changed.");
        return;
    };
    let mut names = Vec::new();
    for i in 0..list.length() {
        if let Some(c) = list.get(i).as_string() {
            names.push(c);
        }
    }
    let known = names.len() == list.length() as usize
        && app::with(|a| names.iter().all(|c| a.config.category(c).is_some())).unwrap_or(true);
    if !known {
        dom::warn("consent.accept: unknown category names; nothing changed.");
        return;
    }
    app::dispatch(Input::Choose(names, Surface::Api));
}

/// Shows the first layer again.
#[wasm_bindgen]
pub fn show() {
    app::dispatch(Input::ShowBanner);
}

#[wasm_bindgen(js_name = showPreferences)]
pub fn show_preferences() {
    app::dispatch(Input::ShowPreferences);
}

/// Forgets the decision: storage cleared, optional categories withdrawn, banner shown.
#[wasm_bindgen]
pub fn reset() {
    app::dispatch(Input::Reset);
}

/// The visitor's pseudonymous consent id, once a decision exists; `null` before.
#[wasm_bindgen(js_name = consentId)]
pub fn consent_id() -> JsValue {
    app::with(App::consent_id_value).unwrap_or(JsValue::NULL)
}
