//! Test-only: deterministic mutations of valid inputs, for "never panics on anything" tests.
//!
//! In the wasm a panic is a trap that ends the banner for the rest of the page, and in the
//! endpoint a panicking request; every reader of untrusted text (config, stored record, outbox,
//! event body) must answer `Err` instead. A seeded xorshift keeps failures reproducible: the
//! failing input is printed by the caller's assertion, and the same seed finds it again.

/// Bytes that steer a JSON or record reader into its branches: structure, escapes, digits,
/// separators, a UTF-8 lead byte, a NUL.
const INTERESTING: &[u8] = b"{}[]\":,\\u0123456789-.eEtfn~ g\x00\xc3\xff";

/// Yields `count` mutants of `seed`, each one to four edits (replace, insert, delete a range,
/// duplicate a range, truncate) away from it. Mutants are bytes: they may be invalid UTF-8.
pub fn mutants(seed: &[u8], count: usize, rng_seed: u64) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut state = rng_seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count).map(move |_| {
        let mut m = seed.to_vec();
        for _ in 0..=next() % 4 {
            let len = m.len().max(1);
            let at = (next() as usize) % len;
            let span = 1 + (next() as usize) % 16;
            let byte = INTERESTING[(next() as usize) % INTERESTING.len()];
            match next() % 5 {
                0 if !m.is_empty() => m[at] = byte,
                1 => m.insert(at.min(m.len()), byte),
                2 if !m.is_empty() => {
                    m.drain(at..(at + span).min(m.len()));
                }
                3 if !m.is_empty() => {
                    let piece = m[at..(at + span).min(m.len())].to_vec();
                    m.splice(at..at, piece);
                }
                _ => m.truncate(at),
            }
        }
        m
    })
}

/// Like [`mutants`], keeping only the ones that are valid UTF-8 (for readers that take `&str`).
pub fn text_mutants(seed: &str, count: usize, rng_seed: u64) -> impl Iterator<Item = String> + '_ {
    mutants(seed.as_bytes(), count, rng_seed).filter_map(|m| String::from_utf8(m).ok())
}

/// The shipped example configs: real-sized, with every section the schema has.
pub const EXAMPLE_CONFIGS: [&str; 3] = [
    include_str!("../../examples/rufio-marketing.json"),
    include_str!("../../examples/rufio-app.json"),
    include_str!("../../examples/trapioka.json"),
];

#[test]
fn mutants_are_deterministic_and_varied() {
    let seed = br#"{"a":[1,2,3]}"#;
    let a: Vec<_> = mutants(seed, 200, 7).collect();
    let b: Vec<_> = mutants(seed, 200, 7).collect();
    assert_eq!(a, b);
    let distinct: std::collections::HashSet<_> = a.iter().collect();
    assert!(distinct.len() > 150, "only {} distinct mutants", distinct.len());
    assert!(a.iter().any(|m| m.len() < seed.len()) && a.iter().any(|m| m.len() > seed.len()));
}
