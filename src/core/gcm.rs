//! Categories → Google Consent Mode v2 signals.

use super::config::Config;
use super::json::{write_int, write_str};
use super::record::Record;

/// The `gtag('consent','update', …)` state for the effective choices: every mapped signal, granted
/// only when every category mapped to it is granted.
///
/// ```
/// use consent_banner::core::{config::Config, gcm::update};
/// # let cfg = Config::parse(r#"{"siteId":"d","categories":[{"id":"essential","required":true},{"id":"analytics"},{"id":"marketing"}],"texts":{"en":{"title":"t","description":"d","acceptAll":"a","rejectAll":"r","customize":"c","save":"s","preferencesTitle":"p","categories":{"essential":{"title":"e","description":"e"},"analytics":{"title":"a","description":"a"},"marketing":{"title":"m","description":"m"}}}}}"#).unwrap();
/// let grants = [("essential", true), ("analytics", true), ("marketing", false)];
/// let u = update(&cfg, &grants);
/// assert!(u.contains(&("analytics_storage", true)));
/// assert!(u.contains(&("ad_user_data", false)));
/// ```
pub fn update<'a>(config: &'a Config, grants: &[(&str, bool)]) -> Vec<(&'a str, bool)> {
    let mut out: Vec<(&str, bool)> = Vec::new();
    for &(cat, signals) in config.consent_mode.map {
        let granted = super::gate::is_granted(cat, grants);
        for s in signals {
            match out.iter_mut().find(|(k, _)| k == s) {
                Some(slot) => slot.1 &= granted,
                None => out.push((s, granted)),
            }
        }
    }
    out
}

/// The cached update the bootstrap replays on the next page, before any tag runs (JSON):
/// `{"c": stored cookie value, "r": config revision, "e": expiry in ms, "g": decided under GPC,
/// "s": {signal: state}}`.
/// The bootstrap only compares it with the current cookie, the clock and the GPC signal; it never
/// decodes a record. `None` when there is no current decision to cache.
///
/// ```
/// # use consent_banner::core::{config::Config, gcm::hint, record::Record};
/// # let cfg = Config::parse(r#"{"siteId":"d","categories":[{"id":"essential","required":true},{"id":"analytics"}],"texts":{"en":{"title":"t","description":"d","acceptAll":"a","rejectAll":"r","customize":"c","save":"s","preferencesTitle":"p","categories":{"essential":{"title":"e","description":"e"},"analytics":{"title":"a","description":"a"}}}}}"#).unwrap();
/// let r = Record { consent_id: "0".repeat(32), revision: 0, first_decision: 10, last_decision: 10,
///                  choices: vec![("analytics".into(), true)], under_gpc: false };
/// let grants = [("essential", true), ("analytics", true)];
/// assert_eq!(hint(&cfg, Some(&r), "v", &grants).unwrap(),
///            r#"{"c":"v","r":0,"e":15724810000,"g":false,"s":{"analytics_storage":"granted"}}"#);
/// ```
pub fn hint(config: &Config, record: Option<&Record>, cookie: &str, grants: &[(&str, bool)]) -> Option<String> {
    let r = record.filter(|_| config.consent_mode.enabled && !cookie.is_empty())?;
    let mut s = String::from("{\"c\":");
    write_str(&mut s, cookie);
    s.push_str(",\"r\":");
    write_int(&mut s, i64::from(config.revision));
    s.push_str(",\"e\":");
    write_int(&mut s, (r.last_decision + config.lifetime_secs()) * 1000);
    s.push_str(if r.under_gpc { ",\"g\":true,\"s\":{" } else { ",\"g\":false,\"s\":{" });
    for (i, &(signal, granted)) in update(config, grants).iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_str(&mut s, signal);
        s.push_str(if granted { ":\"granted\"" } else { ":\"denied\"" });
    }
    s.push_str("}}");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::tests::MINIMAL;

    #[test]
    fn analytics_only_leaves_ads_denied() {
        let c = Config::parse(MINIMAL).unwrap();
        let grants = vec![("essential", true), ("analytics", true), ("marketing", false)];
        assert_eq!(
            update(&c, &grants),
            vec![("analytics_storage", true), ("ad_storage", false), ("ad_user_data", false), ("ad_personalization", false)]
        );
    }

    #[test]
    fn a_shared_signal_needs_every_category() {
        let text = MINIMAL.replace(
            r#""siteId""#,
            r#""consentMode":{"map":{"analytics":["analytics_storage","personalization_storage"],"marketing":["ad_storage","personalization_storage"]}},"siteId""#,
        );
        let c = Config::parse(&text).unwrap();
        let grants = vec![("analytics", true), ("marketing", false)];
        let u = update(&c, &grants);
        assert!(u.contains(&("personalization_storage", false)));
        assert!(u.contains(&("analytics_storage", true)));
        let all = vec![("analytics", true), ("marketing", true)];
        assert!(update(&c, &all).iter().all(|(_, g)| *g));
    }

    #[test]
    fn hint_only_for_a_current_decision_with_consent_mode_on() {
        let c = Config::parse(MINIMAL).unwrap();
        let r = Record {
            consent_id: "a".repeat(32),
            revision: 2,
            first_decision: 1,
            last_decision: 100,
            choices: vec![("analytics".into(), true), ("marketing".into(), false)],
            under_gpc: true,
        };
        let grants = vec![("essential", true), ("analytics", true), ("marketing", false)];
        let h = hint(&c, Some(&r), "1.x\"y", &grants).unwrap();
        let v = crate::core::json::parse(&h).unwrap();
        assert_eq!(v.get("c"), Some(&crate::core::json::Value::Str("1.x\"y".into())));
        assert_eq!(v.get("g"), Some(&crate::core::json::Value::Bool(true)));
        assert_eq!(v.get("r"), Some(&crate::core::json::Value::Int(2)));
        assert_eq!(v.get("e"), Some(&crate::core::json::Value::Int((100 + 182 * 86_400) * 1000)));
        let s = v.get("s").unwrap();
        assert_eq!(s.get("ad_storage"), Some(&crate::core::json::Value::Str("denied".into())));
        assert_eq!(s.get("analytics_storage"), Some(&crate::core::json::Value::Str("granted".into())));
        assert_eq!(hint(&c, None, "1.x", &grants), None);
        assert_eq!(hint(&c, Some(&r), "", &grants), None);
        let off = Config::parse(&MINIMAL.replace(r#""siteId""#, r#""consentMode":{"enabled":false},"siteId""#)).unwrap();
        assert_eq!(hint(&off, Some(&r), "1.x", &grants), None);
    }
}
