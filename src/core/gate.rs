//! Which gated element may run, and which cookies go when a category is withdrawn.

use super::config::Config;

/// Whether `grants` grants `category`; absent counts as refused. This is also whether an element
/// gated on `category` may run: an unknown category never runs, so a typo in `data-consent` fails
/// closed.
///
/// ```
/// use consent_banner::core::gate::is_granted;
/// let grants = [("essential", true), ("analytics", false)];
/// assert!(is_granted("essential", &grants));
/// assert!(!is_granted("analytics", &grants));
/// assert!(!is_granted("analytic", &grants));
/// ```
pub fn is_granted(category: &str, grants: &[(&str, bool)]) -> bool {
    grants.iter().any(|(c, g)| *c == category && *g)
}

/// The granted categories of `grants`, in order: what the API, the events and the gate report.
///
/// ```
/// use consent_banner::core::gate::granted;
/// assert_eq!(granted(&[("essential", true), ("analytics", false), ("marketing", true)]), ["essential", "marketing"]);
/// ```
// Out of line: one body for its callers rather than the loop inlined into each.
#[inline(never)]
pub fn granted<'a>(grants: &[(&'a str, bool)]) -> Vec<&'a str> {
    // A plain loop: less code than the Filter/Map/collect chain.
    let mut out = Vec::new();
    for &(c, g) in grants {
        if g {
            out.push(c);
        }
    }
    out
}

/// Categories whose effective choice differs between `before` and `after`.
pub fn changed<'a>(before: &[(&str, bool)], after: &[(&'a str, bool)]) -> Vec<&'a str> {
    // Plain loops: the Filter/Map adapter chains they replace compiled to twice the wasm.
    let mut out = Vec::new();
    for &(c, g) in after {
        if before.iter().find(|(b, _)| *b == c).map(|&(_, bg)| bg) != Some(g) {
            out.push(c);
        }
    }
    out
}

/// Categories granted before and refused after.
pub fn withdrawn<'a>(before: &[(&str, bool)], after: &[(&'a str, bool)]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for &(c, g) in after {
        if !g && is_granted(c, before) {
            out.push(c);
        }
    }
    out
}

/// Whether an external gated script with this `data-type` (none: a classic script) and
/// `nomodule` flag will run, and so fire `load` or `error`, which the gate waits for to keep
/// document order. Data blocks (`application/json`, templates) and `nomodule` scripts (skipped by
/// every browser that runs this banner) fire neither.
///
/// ```
/// use consent_banner::core::gate::runs_as_script;
/// assert!(runs_as_script(None, false));
/// assert!(runs_as_script(Some("module"), false));
/// assert!(runs_as_script(Some(" Text/JavaScript "), false));
/// assert!(!runs_as_script(Some("text/x-template"), false));
/// assert!(!runs_as_script(None, true));
/// assert!(runs_as_script(Some("module"), true));
/// ```
pub fn runs_as_script(data_type: Option<&str>, nomodule: bool) -> bool {
    let t = data_type.unwrap_or("").trim_ascii();
    let module = t.eq_ignore_ascii_case("module");
    // `nomodule` is ignored on module scripts. The list starts with the empty type.
    (module || !nomodule) && super::text::listed(" module text/javascript application/javascript text/ecmascript application/ecmascript", t)
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// The names among `present` that belong to the `withdrawn` categories (never the consent cookie).
pub fn cookies_to_clear<'a>(config: &Config, withdrawn: &[&str], present: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for &name in present {
        if name != config.cookie.name
            && config.categories.iter().any(|c| withdrawn.contains(&c.id) && c.cookies.iter().any(|p| glob_match(p, name)))
        {
            out.push(name);
        }
    }
    out
}

/// The `domain` attributes to try when deleting a cookie set on `host`: host-only (empty), the host,
/// and every parent with at least two labels. A tracker may have set its cookie on any of them;
/// the browser ignores the ones it would never have accepted.
// `iter().any` over the bytes, not `contains`: a byte `contains` brings in memchr (measured: +144 B brotli).
#[allow(clippy::manual_contains)]
pub fn deletion_domains(host: &str) -> Vec<&str> {
    let mut out = vec![""];
    let h = host.as_bytes();
    let is_ip = h.iter().any(|&b| b == b':') || h.iter().all(|&b| b.is_ascii_digit() || b == b'.');
    if host.is_empty() || is_ip || !h.iter().any(|&b| b == b'.') {
        return out;
    }
    let mut rest = host;
    loop {
        out.push(rest);
        match super::text::split_at(rest, b'.') {
            Some((_, parent)) if parent.as_bytes().iter().any(|&b| b == b'.') => rest = parent,
            _ => break,
        }
    }
    out
}

/// Names of the cookies in a `document.cookie` string.
pub fn cookie_names(cookie_header: &str) -> Vec<&str> {
    // A plain loop, like the ones above: the Map/Filter chain compiled larger.
    let mut out = Vec::new();
    for kv in super::text::fields(cookie_header, b';') {
        let name = super::text::head(kv, b'=').trim_ascii();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// The values of every cookie called `name` in a `document.cookie` string (the browser keeps
/// one per domain and path, so there can be several).
pub fn cookie_values<'a>(cookie_header: &'a str, name: &str) -> Vec<&'a str> {
    // A plain loop, like `cookie_names`: the FilterMap/Filter/Map chain compiled larger.
    let mut out = Vec::new();
    for kv in super::text::fields(cookie_header, b';') {
        if let Some((k, v)) = super::text::split_at(kv.trim_ascii(), b'=') {
            if k == name {
                out.push(v.trim_ascii());
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
    fn changes_and_withdrawals() {
        let before = [("essential", true), ("analytics", true), ("marketing", true)];
        let after = [("essential", true), ("analytics", true), ("marketing", false)];
        assert_eq!(changed(&before, &after), vec!["marketing"]);
        assert_eq!(withdrawn(&before, &after), vec!["marketing"]);
        assert_eq!(withdrawn(&after, &before), Vec::<&str>::new());
        assert_eq!(changed(&[], &after), vec!["essential", "analytics", "marketing"]);
    }

    #[test]
    fn globs() {
        assert!(glob_match("_ga", "_ga"));
        assert!(!glob_match("_ga", "_gat"));
        assert!(glob_match("_ga_*", "_ga_ABC123"));
        assert!(glob_match("_ga_*", "_ga_"));
        assert!(!glob_match("_ga_*", "_ga"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "a-xx-b-yy-c"));
        assert!(!glob_match("a*b*c", "a-xx-b-yy-d"));
        assert!(glob_match("_gcl_*", "_gcl_au"));
    }

    #[test]
    fn which_cookies_go() {
        let c = Config::parse(MINIMAL).unwrap();
        let present = ["_ga", "_ga_X1", "_gcl_au", "session", "pc_consent"];
        assert_eq!(cookies_to_clear(&c, &["analytics"], &present), vec!["_ga", "_ga_X1"]);
        assert_eq!(cookies_to_clear(&c, &["marketing"], &present), vec!["_gcl_au"]);
        assert!(cookies_to_clear(&c, &[], &present).is_empty());
    }

    #[test]
    fn domains_to_try() {
        assert_eq!(deletion_domains("www.shop.rufio.example"), vec!["", "www.shop.rufio.example", "shop.rufio.example", "rufio.example"]);
        assert_eq!(deletion_domains("localhost"), vec![""]);
        assert_eq!(deletion_domains("127.0.0.1"), vec![""]);
        assert_eq!(deletion_domains("[::1]"), vec![""]);
    }

    #[test]
    fn reads_cookie_strings() {
        let h = "a=1; pc_consent=1.x.y; _ga=GA1.2=3";
        assert_eq!(cookie_names(h), vec!["a", "pc_consent", "_ga"]);
        assert_eq!(cookie_values(h, "pc_consent"), ["1.x.y"]);
        assert_eq!(cookie_values(h, "_ga"), ["GA1.2=3"]);
        assert!(cookie_values(h, "nope").is_empty());
        assert_eq!(cookie_values("a=1; b=2; a=3", "a"), ["1", "3"]);
        assert!(cookie_names("").is_empty());
    }
}
