//! Which configured language to show, and its writing direction.

use super::config::Config;
use super::text::listed;

/// Picks a configured language: `<html lang>` first, then the browser's languages in order, then
/// the config's default. Matching ignores case and falls back from `de-AT` to `de`.
///
/// ```
/// use consent_banner::core::i18n::pick;
/// let have = ["en", "de", "fr"];
/// assert_eq!(pick(&have, Some("de-AT"), &["fr"], "en"), "de");
/// assert_eq!(pick(&have, Some("ja"), &["ja", "FR-ca"], "en"), "fr");
/// assert_eq!(pick(&have, None, &[], "en"), "en");
/// ```
pub fn pick<'a>(have: &[&'a str], html_lang: Option<&str>, browser: &[&str], default: &'a str) -> &'a str {
    let find = |want: &str| -> Option<&'a str> {
        let want = want.trim_ascii();
        if want.is_empty() {
            return None;
        }
        let primary = super::text::head(want, b'-');
        have.iter()
            .find(|h| h.eq_ignore_ascii_case(want))
            .or_else(|| have.iter().find(|h| h.eq_ignore_ascii_case(primary)))
            .copied()
    };
    html_lang.and_then(find).or_else(|| browser.iter().find_map(|b| find(b))).unwrap_or(default)
}

/// [`pick`] over a config's languages.
pub fn choose<'a>(config: &'a Config, html_lang: Option<&str>, browser: &[&str]) -> &'a str {
    pick(config.languages, html_lang, browser, config.default_language)
}

/// Right-to-left text: a language written right to left by default, unless a script subtag says
/// otherwise (`az-Arab` and `pa-Arab` are right to left, `uz-Latn` is not).
pub fn is_rtl(lang: &str) -> bool {
    // Compared ignoring case against word lists, not lowered into a copy and matched against
    // literals: no allocation, and one search instead of a comparison per code (measured: −55 B brotli).
    let mut subtags = super::text::fields(lang, b'-');
    let primary = subtags.next().unwrap_or("");
    match subtags.find(|s| s.len() == 4 && s.as_bytes().iter().all(u8::is_ascii_alphabetic)) {
        Some(script) => listed("arab hebr thaa syrc nkoo adlm rohg", script),
        None => listed("ar he fa ur ps sd ug yi dv ckb syr", primary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::tests::MINIMAL;

    #[test]
    fn chooses_from_config() {
        let c = Config::parse(MINIMAL).unwrap();
        assert_eq!(choose(&c, Some("DE"), &[]), "de");
        assert_eq!(choose(&c, Some(""), &["it", "de-CH"]), "de");
        assert_eq!(choose(&c, None, &["it"]), "en");
    }

    #[test]
    fn direction() {
        assert!(is_rtl("ar"));
        assert!(is_rtl("he-IL"));
        assert!(!is_rtl("en"));
        assert!(!is_rtl("fr-CA"));
        assert!(is_rtl("pa-Arab") && is_rtl("az-arab-IR") && is_rtl("ks-Arab"));
        assert!(!is_rtl("uz-Latn") && !is_rtl("ar-Latn") && !is_rtl("pa-Guru"));
    }
}
