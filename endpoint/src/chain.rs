//! The hash chain over stored rows: its definition, and the hashing both the writer and `verify` use.
//!
//! Every row `i` (its `seq`, 1, 2, 3, … without gaps) stores `payload_hash = SHA-256(payload_i)`
//! and `chain_hash = h_i` where
//!
//! ```text
//! h_0 = 32 zero bytes (or the checkpoint's hash once rows have been purged)
//! h_i = SHA-256( h_{i-1} ‖ SHA-256(payload_i) ‖ meta_i )
//! meta_i = u64be(seq) ‖ str(event_id) ‖ str(site_id) ‖ str(consent_id)
//!          ‖ i64be(received_at) ‖ opt(gpc_header)
//! str(s) = u32be(byte length of s) ‖ UTF-8 bytes of s
//! opt(None) = 0x00;  opt(Some(s)) = 0x01 ‖ str(s)
//! ```
//!
//! `payload_i` is the canonical JSON of the event ([`ConsentEvent::to_json`]) and
//! `received_at` the server's receive time in UTC milliseconds. Because the chain covers the
//! payload's *hash*, erasing a payload (GDPR Art. 17) leaves a verifiable tombstone, and purging
//! the oldest rows keeps the rest verifiable from the `checkpoint` row, which holds the `seq` and
//! `chain_hash` of the last purged row.
//!
//! [`ConsentEvent::to_json`]: consent_banner::core::event::ConsentEvent::to_json

use sha2::{Digest, Sha256};

/// The hash before the first row.
pub const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 of some bytes.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}

/// The row fields the chain covers besides the payload hash.
#[derive(Debug, Clone, Copy)]
pub struct Meta<'a> {
    pub seq: i64,
    pub event_id: &'a str,
    pub site_id: &'a str,
    pub consent_id: &'a str,
    pub received_at: i64,
    pub gpc_header: Option<&'a str>,
}

impl Meta<'_> {
    /// The canonical byte encoding (see the module docs).
    pub fn encode(&self) -> Vec<u8> {
        fn str(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&self.seq.to_be_bytes());
        str(&mut out, self.event_id);
        str(&mut out, self.site_id);
        str(&mut out, self.consent_id);
        out.extend_from_slice(&self.received_at.to_be_bytes());
        match self.gpc_header {
            None => out.push(0),
            Some(g) => {
                out.push(1);
                str(&mut out, g);
            }
        }
        out
    }
}

/// `h_i = SHA-256(h_{i-1} ‖ payload_hash ‖ meta)`.
pub fn chain_hash(prev: &[u8; 32], payload_hash: &[u8; 32], meta: &Meta<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(payload_hash);
    h.update(meta.encode());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_encoding_is_length_prefixed() {
        let m = Meta {
            seq: 1,
            event_id: "e",
            site_id: "s",
            consent_id: "c",
            received_at: 2,
            gpc_header: Some("1"),
        };
        let mut want = vec![
            0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, b'e', 0, 0, 0, 1, b's', 0, 0, 0, 1, b'c',
        ];
        want.extend([0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 1, b'1']);
        assert_eq!(m.encode(), want);
        let none = Meta {
            gpc_header: None,
            ..m
        };
        assert_eq!(*none.encode().last().unwrap(), 0);
    }
}
