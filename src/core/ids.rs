//! Identifiers made from random bytes the caller supplies: consent ids and event ids (UUID v4).
//!
//! The bytes come from `crypto.getRandomValues` in the browser; keeping the formatting here
//! keeps it testable and the web edge free of decisions.

use super::json::push_hex;

/// A consent id: 32 lowercase hex digits (128 random bits), pseudonymous and stable across a
/// visitor's later changes.
///
/// ```
/// use consent_banner::core::ids::consent_id;
/// assert_eq!(consent_id(&[0xab; 16]), "ab".repeat(16));
/// ```
pub fn consent_id(bytes: &[u8; 16]) -> String {
    super::sha256::hex(bytes)
}

/// A random (version 4, RFC 9562) UUID in its canonical lowercase form.
///
/// ```
/// use consent_banner::core::ids::uuid_v4;
/// assert_eq!(uuid_v4(&[0; 16]), "00000000-0000-4000-8000-000000000000");
/// ```
pub fn uuid_v4(bytes: &[u8; 16]) -> String {
    let mut b = *bytes;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    // Written from the bytes, not by re-reading a hex string's chars: no second string, and no
    // char decoding (with consent_id as sha256::hex, measured: −18 B brotli).
    let mut s = String::with_capacity(36);
    for (i, &byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        push_hex(&mut s, byte);
    }
    s
}

/// True for 32 lowercase hex digits.
pub fn is_consent_id(s: &str) -> bool {
    s.len() == 32 && s.as_bytes().iter().all(|&b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for a canonical lowercase UUID (any version).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.as_bytes().iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_sets_version_and_variant() {
        let u = uuid_v4(&[0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(is_uuid(&u));
        assert!(!is_uuid("ffffffff-ffff-4fff-bfff-fffffffffffF"));
        assert!(!is_uuid("ffffffffffff-4fff-bfff-ffffffffffff"));
        assert!(is_consent_id(&consent_id(&[7; 16])));
        assert!(!is_consent_id("xyz"));
    }
}
