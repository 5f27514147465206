//! Config parsing tests: defaults, every field, each refusal naming its field, and mutated configs.
use super::*;

pub(crate) const MINIMAL: &str = r#"{
  "siteId": "demo",
  "revision": 2,
  "categories": [
    {"id": "essential", "required": true},
    {"id": "analytics", "cookies": ["_ga", "_ga_*"]},
    {"id": "marketing", "cookies": ["_gcl_*"]}
  ],
  "texts": {
    "en": {"title": "Privacy", "description": "We ask first.", "acceptAll": "Accept all", "rejectAll": "Reject all",
      "customize": "Customize", "save": "Save", "preferencesTitle": "Preferences",
      "categories": {"essential": {"title": "Essential", "description": "Needed."},
                     "analytics": {"title": "Analytics", "description": "Stats."},
                     "marketing": {"title": "Marketing", "description": "Ads."}}},
    "de": {"title": "Datenschutz", "description": "Wir fragen.", "acceptAll": "Alle akzeptieren", "rejectAll": "Alle ablehnen",
      "customize": "Anpassen", "save": "Speichern", "preferencesTitle": "Einstellungen", "close": "Schließen",
      "categories": {"essential": {"title": "Notwendig", "description": "Nötig."},
                     "analytics": {"title": "Statistik", "description": "Zahlen."},
                     "marketing": {"title": "Marketing", "description": "Werbung."}}}
  }
}"#;

/// MINIMAL with `path` (a JSON pointer-ish list of keys/indices) replaced by `value`; `None` removes it.
fn edit(path: &[&str], value: Option<&str>) -> String {
    fn go(v: &mut Value, path: &[&str], value: Option<&str>) {
        let (head, rest) = path.split_first().unwrap();
        match v {
            Value::Object(entries) => {
                let pos = entries.iter().position(|(k, _)| k == head);
                if rest.is_empty() {
                    match (pos, value) {
                        (Some(p), Some(val)) => entries[p].1 = json::parse(val).unwrap(),
                        (None, Some(val)) => entries.push((head.to_string(), json::parse(val).unwrap())),
                        (Some(p), None) => {
                            entries.remove(p);
                        }
                        (None, None) => {}
                    }
                } else {
                    go(&mut entries[pos.unwrap()].1, rest, value)
                }
            }
            Value::Array(items) => {
                let i: usize = head.parse().unwrap();
                if rest.is_empty() {
                    items[i] = json::parse(value.unwrap()).unwrap();
                } else {
                    go(&mut items[i], rest, value)
                }
            }
            _ => panic!("bad path"),
        }
    }
    let mut v = json::parse(MINIMAL).unwrap();
    go(&mut v, path, value);
    let mut out = String::new();
    json::write_value(&mut out, &v);
    out
}

fn err_path(text: &str) -> String {
    match Config::parse(text) {
        Err(ConfigError::Field(f)) => f.path.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn minimal_config_gets_defaults() {
    let c = Config::parse(MINIMAL).unwrap();
    assert_eq!(c.site_id, "demo");
    assert_eq!(c.revision, 2);
    assert_eq!(c.lifetime_days, 182);
    assert_eq!(c.cookie, CookieSettings { name: "pc_consent", domain: None, path: "/", same_site: SameSite::Lax });
    assert_eq!(c.default_language, "en");
    assert!(c.reopen_button);
    assert_eq!(c.gpc_categories, vec!["marketing".to_string()]);
    assert_eq!(c.consent_mode.wait_for_update, 500);
    assert_eq!(c.consent_mode.map[0], ("analytics", &["analytics_storage"][..]));
    assert_eq!(c.consent_mode.map[1].1.len(), 3);
    assert_eq!(c.categories[1].cookies, vec!["_ga", "_ga_*"]);
    // A partial translation borrows from the default language, then from English.
    let de = c.texts_for("de");
    assert_eq!(de.close, "Schließen");
    assert_eq!(de.reopen, "Privacy choices");
    assert_eq!(de.categories[1].title, "Statistik");
    assert_eq!(c.texts_for("xx").title, "Privacy");
}

#[test]
fn full_config_is_read() {
    let text = edit(&["cookie"], Some(r#"{"name":"c","domain":".Rufio.Example","path":"/app","sameSite":"Strict"}"#));
    let text = text.replace(r#""siteId""#, r#""lifetimeDays":30,"endpoint":"https://e.example/v1/events","privacyPolicyUrl":"/privacy","defaultLanguage":"de","reopenButton":false,"gpc":{"categories":["analytics","marketing"]},"consentMode":{"waitForUpdate":800,"urlPassthrough":true,"adsDataRedaction":true,"map":{"marketing":["ad_storage"]},"regions":[{"region":["US-CA","DE"],"granted":["analytics"]}]},"siteId""#);
    let c = Config::parse(&text).unwrap();
    assert_eq!(c.cookie.domain, Some("rufio.example"));
    assert_eq!(c.cookie.same_site, SameSite::Strict);
    assert_eq!(c.lifetime_days, 30);
    assert_eq!(c.default_language, "de");
    assert!(!c.reopen_button);
    assert_eq!(c.gpc_categories.len(), 2);
    assert_eq!(c.consent_mode.map, [("marketing", &["ad_storage"][..])]);
    assert_eq!(c.consent_mode.regions[0].regions, vec!["US-CA", "DE"]);
    assert!(c.consent_mode.url_passthrough && c.consent_mode.ads_data_redaction);
    assert_eq!(c.lifetime_secs(), 30 * 86_400);
}

#[test]
fn each_error_names_its_field() {
    let cases: Vec<(String, &str)> = vec![
        (edit(&["siteId"], None), "siteId"),
        (edit(&["siteId"], Some(r#""Has Spaces""#)), "siteId"),
        (edit(&["siteId"], Some("7")), "siteId"),
        (edit(&["unknown"], Some("1")), "unknown"),
        (edit(&["revision"], Some("-1")), "revision"),
        (edit(&["lifetimeDays"], Some("0")), "lifetimeDays"),
        (edit(&["lifetimeDays"], Some("400")), "lifetimeDays"),
        (edit(&["cookie"], Some(r#"{"name":"a b"}"#)), "cookie.name"),
        (edit(&["cookie"], Some(r#"{"domain":"ex ample.com"}"#)), "cookie.domain"),
        (edit(&["cookie"], Some(r#"{"path":"app"}"#)), "cookie.path"),
        (edit(&["cookie"], Some(r#"{"sameSite":"lax"}"#)), "cookie.sameSite"),
        (edit(&["cookie"], Some(r#"{"secure":true}"#)), "cookie.secure"),
        (edit(&["endpoint"], Some(r#""javascript:alert(1)""#)), "endpoint"),
        (edit(&["endpoint"], Some(r#""//evil.example/x""#)), "endpoint"),
        (edit(&["privacyPolicyUrl"], Some(r#""data:text/html,x""#)), "privacyPolicyUrl"),
        (edit(&["defaultLanguage"], Some(r#""fr""#)), "defaultLanguage"),
        (edit(&["reopenButton"], Some(r#""yes""#)), "reopenButton"),
        (edit(&["categories"], Some("[]")), "categories"),
        (edit(&["categories"], None), "categories"),
        (edit(&["categories", "0", "required"], Some("false")), "categories[0].required"),
        (edit(&["categories", "0"], Some(r#"{"id":"essential"}"#)), "categories[0].required"),
        (edit(&["categories", "1", "required"], Some("true")), "categories[1].required"),
        (edit(&["categories", "2", "required"], Some("true")), "categories[2].required"),
        (edit(&["categories", "1", "id"], Some(r#""Analytics""#)), "categories[1].id"),
        (edit(&["categories", "2", "id"], Some(r#""analytics""#)), "categories[2].id"),
        (edit(&["categories", "1", "basis"], Some(r#""legitimate_interest""#)), "categories[1].basis"),
        (edit(&["categories", "1", "cookies"], Some(r#"["ok", "no;pe"]"#)), "categories[1].cookies[1]"),
        (edit(&["categories", "1", "cookies"], Some(r#"["ok", 3]"#)), "categories[1].cookies[1]"),
        (edit(&["texts"], Some("{}")), "texts"),
        (edit(&["texts", "en", "title"], None), "texts.en.title"),
        (edit(&["texts", "en", "acceptAll"], Some(r#""  ""#)), "texts.en.acceptAll"),
        (edit(&["texts", "en", "close"], Some(r#""""#)), "texts.en.close"),
        (edit(&["texts", "en", "categories", "analytics", "title"], Some(r#"" ""#)), "texts.en.categories.analytics.title"),
        (edit(&["texts", "en", "bogus"], Some(r#""x""#)), "texts.en.bogus"),
        (edit(&["texts", "de", "categories", "marketing"], None), "texts.de.categories.marketing"),
        (edit(&["texts", "de", "categories", "ads"], Some(r#"{"title":"x","description":"y"}"#)), "texts.de.categories.ads"),
        (edit(&["texts", "de", "categories", "analytics", "title"], None), "texts.de.categories.analytics.title"),
        (edit(&["texts", "english"], Some(r#"{}"#)), "texts.english"),
        (edit(&["consentMode"], Some(r#"{"waitForUpdate":20000}"#)), "consentMode.waitForUpdate"),
        (edit(&["consentMode"], Some(r#"{"map":{"ads":["ad_storage"]}}"#)), "consentMode.map.ads"),
        (edit(&["consentMode"], Some(r#"{"map":{"marketing":["ad_storagez"]}}"#)), "consentMode.map.marketing[0]"),
        (edit(&["consentMode"], Some(r#"{"map":{"essential":["security_storage","analytics_storage"]}}"#)), "consentMode.map.essential[1]"),
        (edit(&["consentMode"], Some(r#"{"regions":[{"region":["EU"]}]}"#)), "consentMode.regions[0].region[0]"),
        (edit(&["consentMode"], Some(r#"{"regions":[{"region":["DE","us-ca"]}]}"#)), "consentMode.regions[0].region[1]"),
        (edit(&["consentMode"], Some(r#"{"regions":[{"region":[]}]}"#)), "consentMode.regions[0].region"),
        (edit(&["consentMode"], Some(r#"{"regions":[{"region":["FR"],"granted":["x"]}]}"#)), "consentMode.regions[0].granted[0]"),
        (edit(&["gpc"], Some(r#"{"categories":["essential"]}"#)), "gpc.categories[0]"),
        (edit(&["gpc"], Some(r#"{"categories":["nope"]}"#)), "gpc.categories[0]"),
    ];
    for (text, path) in cases {
        assert_eq!(err_path(&text), path, "{text}");
    }
    assert!(matches!(Config::parse("{"), Err(ConfigError::Json(_))));
    assert!(matches!(Config::parse("[]"), Err(ConfigError::Field(_))));
}

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, as text.
const ASSIGNED: &str = concat!(
        "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCR",
        "CUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHU",
        "IDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQ",
        "MRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSI",
        "SJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW",
    );

#[test]
fn region_codes() {
    let assigned: Vec<&[u8]> = ASSIGNED.as_bytes().chunks(2).collect();
    assert_eq!(assigned.len(), 249);
    for a in b'A'..=b'Z' {
        for b in b'A'..=b'Z' {
            let code = [a, b];
            let text = std::str::from_utf8(&code).unwrap();
            assert_eq!(is_region_code(text), assigned.contains(&&code[..]), "{text}");
        }
    }
    for ok in ["DE", "US-CA", "GB-SCT", "FR-75C", "ES-M"] {
        assert!(is_region_code(ok), "{ok}");
    }
    for bad in ["EU", "UK", "XX", "de", "US-", "US-ABCD", "USA", ""] {
        assert!(!is_region_code(bad), "{bad}");
    }
}

#[test]
fn url_safety() {
    for ok in ["https://a.example/x?y", "http://localhost:8080/v1/events", "/privacy"] {
        assert!(is_safe_url(ok), "{ok}");
    }
    for bad in ["javascript:alert(1)", "//evil", "https://", "https:///x", "ftp://a", "/a b", "data:x", "/\"onload"] {
        assert!(!is_safe_url(bad), "{bad}");
    }
}

#[test]
fn error_texts() {
    let text = |t: &str| {
        let e = Config::parse(t).unwrap_err();
        assert_eq!(e.message(), e.to_string());
        e.message()
    };
    assert_eq!(text("{"), "consent config is not valid JSON: invalid JSON at byte 1: expected a key");
    assert_eq!(text(r#"{"a":1,"a":2}"#), "consent config is not valid JSON: duplicate key \"a\"");
    assert_eq!(text(&"[".repeat(40)), "consent config is not valid JSON: JSON nested deeper than 32 levels");
    assert_eq!(text("[]"), "consent config: ``: must be an object");
    assert_eq!(text(&edit(&["siteId"], None)), "consent config: `siteId`: is required");
    assert_eq!(text(&edit(&["reopenButton"], Some("1"))), "consent config: `reopenButton`: must be true or false");
    assert_eq!(text(&edit(&["x"], Some("1"))), "consent config: `x`: is not a known field");
}

#[test]
fn never_panics_on_mutated_configs() {
    use crate::core::mutate::{text_mutants, EXAMPLE_CONFIGS};
    let (mut ok, mut err) = (0, 0);
    // Fewer than the JSON reader gets: a parsed config is leaked by design (one per page).
    for (i, seed) in EXAMPLE_CONFIGS.iter().enumerate() {
        for m in text_mutants(seed, 1_500, i as u64 + 11) {
            match Config::parse(&m) {
                Ok(c) => {
                    // Whatever passes still has the invariants the rest of the banner relies on.
                    assert!(c.categories.iter().any(|k| k.id == "essential" && k.required), "{m}");
                    assert!(!c.texts.is_empty(), "{m}");
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.message().starts_with("consent config"), "{m}");
                    err += 1;
                }
            }
        }
    }
    assert!(ok > 100 && err > 2_000, "ok {ok}, err {err}");
}
