//! Splitting ASCII-delimited text (cookie headers, the record codec, language tags, element specs).
//!
//! `str::split(char)` brings std's char searcher and a SIMD-style memchr into the wasm (~1 KB);
//! these two functions cover every separator the banner uses with one small byte search.
//!
//! Byte checks in the config, event, id and text readers iterate `s.as_bytes()`, not `s.bytes()`:
//! the size build calls `str::bytes` and `Copied::next` (one call per byte) out of line
//! (measured: −115 B brotli).

/// The pieces of `s` between each `sep`, like `s.split(sep as char)`.
///
/// ```
/// use consent_banner::core::text::fields;
/// assert_eq!(fields("a.b..c", b'.').collect::<Vec<_>>(), ["a", "b", "", "c"]);
/// assert_eq!(fields("", b'.').collect::<Vec<_>>(), [""]);
/// ```
pub fn fields(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match split_at(r, sep) {
            Some((head, tail)) => {
                rest = Some(tail);
                Some(head)
            }
            None => rest.take(),
        }
    })
}

/// `s` before and after its first `sep`, like `s.split_once(sep as char)`.
///
/// ```
/// use consent_banner::core::text::split_at;
/// assert_eq!(split_at("k=v=w", b'='), Some(("k", "v=w")));
/// assert_eq!(split_at("kv", b'='), None);
/// ```
pub fn split_at(s: &str, sep: u8) -> Option<(&str, &str)> {
    // An ASCII byte never occurs inside a multi-byte UTF-8 sequence, so both sides are whole chars.
    // `split_at` checks one boundary where slicing both sides checked two (measured: −32 B brotli).
    let i = s.as_bytes().iter().position(|&b| b == sep)?;
    let (head, tail) = s.split_at(i);
    Some((head, &tail[1..]))
}

/// The part of `s` before its first `sep` (all of it when there is none).
pub fn head(s: &str, sep: u8) -> &str {
    split_at(s, sep).map_or(s, |(h, _)| h)
}

/// Whether `s` is one of the space-separated `words`, ignoring ASCII case. One string rather
/// than an array of `&str`, which is a table of addresses and lengths beside the same text.
///
/// ```
/// use consent_banner::core::text::listed;
/// assert!(listed("ar he", "HE"));
/// assert!(listed(" module", ""));
/// assert!(!listed("ar he", "h"));
/// ```
pub fn listed(words: &str, s: &str) -> bool {
    fields(words, b' ').any(|w| w.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_on_every_separator_used() {
        for s in [
            "",
            ".",
            "a",
            "a.b",
            ".a.",
            "a..b",
            "é.ü~x:y",
            "1.ab.0.1.2.x:1~y:0.g",
        ] {
            for sep in [b'.', b'~', b':', b'-', b';', b'=', b' '] {
                let ours: Vec<&str> = fields(s, sep).collect();
                let std: Vec<&str> = s.split(sep as char).collect();
                assert_eq!(ours, std, "fields({s:?}, {:?})", sep as char);
                assert_eq!(split_at(s, sep), s.split_once(sep as char));
                assert_eq!(head(s, sep), s.split(sep as char).next().unwrap());
            }
        }
    }
}
