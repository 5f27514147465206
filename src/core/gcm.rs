//! Categories → Google Consent Mode v2 signals.

use super::config::Config;

/// The `gtag('consent','update', …)` state for the effective choices: every mapped signal, granted
/// only when every category mapped to it is granted.
///
/// ```
/// use consent_banner::core::{config::Config, gcm::update};
/// # let cfg = Config::parse(r#"{"siteId":"d","categories":[{"id":"essential","required":true},{"id":"analytics"},{"id":"marketing"}],"texts":{"en":{"title":"t","description":"d","acceptAll":"a","rejectAll":"r","customize":"c","save":"s","preferencesTitle":"p","categories":{"essential":{"title":"e","description":"e"},"analytics":{"title":"a","description":"a"},"marketing":{"title":"m","description":"m"}}}}}"#).unwrap();
/// let grants = vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), false)];
/// let u = update(&cfg, &grants);
/// assert!(u.contains(&("analytics_storage", true)));
/// assert!(u.contains(&("ad_user_data", false)));
/// ```
pub fn update<'a>(config: &'a Config, grants: &[(String, bool)]) -> Vec<(&'a str, bool)> {
    let mut out: Vec<(&str, bool)> = Vec::new();
    for (cat, signals) in &config.consent_mode.map {
        let granted = grants.iter().any(|(c, g)| c == cat && *g);
        for s in signals {
            match out.iter_mut().find(|(k, _)| k == s) {
                Some(slot) => slot.1 &= granted,
                None => out.push((s.as_str(), granted)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::tests::MINIMAL;

    #[test]
    fn analytics_only_leaves_ads_denied() {
        let c = Config::parse(MINIMAL).unwrap();
        let grants = vec![("essential".into(), true), ("analytics".into(), true), ("marketing".into(), false)];
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
        let grants = vec![("analytics".into(), true), ("marketing".into(), false)];
        let u = update(&c, &grants);
        assert!(u.contains(&("personalization_storage", false)));
        assert!(u.contains(&("analytics_storage", true)));
        let all = vec![("analytics".into(), true), ("marketing".into(), true)];
        assert!(update(&c, &all).iter().all(|(_, g)| *g));
    }
}
