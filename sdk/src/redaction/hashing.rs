//! Keyed hashing of attribute values: HMAC-SHA256 with a configured key,
//! shortened to 64 bits, so equal values still group together in a backend
//! without revealing them (and without being open to a dictionary attack by
//! anyone who lacks the key).

#[cfg(feature = "redaction-hash")]
use hmac::{Hmac, Mac};
#[cfg(feature = "redaction-hash")]
use sha2::Sha256;
use std::fmt;

/// Prefix of every hashed value.
#[cfg(feature = "redaction-hash")]
pub(crate) const HASH_PREFIX: &str = "hmac-sha256:";

/// Fewest key bytes accepted (RFC 2104 advises against keys shorter than
/// the hash output; 16 bytes is the floor tracekit enforces).
pub const MIN_HASH_KEY_LEN: usize = 16;

/// Whether this build can hash (cargo feature `redaction-hash`).
pub(crate) const HASHING_AVAILABLE: bool = cfg!(feature = "redaction-hash");

/// HMAC-SHA256 with the key schedule done once; each value clones it.
/// Without the `redaction-hash` feature there is none (hash rules mask).
#[derive(Clone)]
pub(crate) struct KeyedHasher {
    #[cfg(feature = "redaction-hash")]
    mac: Hmac<Sha256>,
    #[cfg(not(feature = "redaction-hash"))]
    never: std::convert::Infallible,
}

impl KeyedHasher {
    /// A hasher for `key`; `None` when the key is shorter than
    /// [`MIN_HASH_KEY_LEN`] (or the build cannot hash).
    #[cfg(feature = "redaction-hash")]
    pub(crate) fn new(key: &[u8]) -> Option<KeyedHasher> {
        if key.len() < MIN_HASH_KEY_LEN {
            return None;
        }
        // HMAC accepts keys of any length; this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        Some(KeyedHasher { mac })
    }

    /// Without the `redaction-hash` feature: never a hasher.
    #[cfg(not(feature = "redaction-hash"))]
    pub(crate) fn new(_key: &[u8]) -> Option<KeyedHasher> {
        None
    }

    /// `hmac-sha256:` followed by the first 16 hex digits of the MAC of
    /// `value`.
    #[cfg(feature = "redaction-hash")]
    pub(crate) fn hash(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(HASH_PREFIX.len() + 16);
        out.push_str(HASH_PREFIX);
        for byte in &digest[..8] {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 0xf) as usize] as char);
        }
        out
    }

    /// Without the `redaction-hash` feature no hasher exists.
    #[cfg(not(feature = "redaction-hash"))]
    pub(crate) fn hash(&self, _value: &[u8]) -> String {
        match self.never {}
    }
}

impl fmt::Debug for KeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHasher { key: <hidden> }")
    }
}

#[cfg(all(test, feature = "redaction-hash"))]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2_prefix() {
        // RFC 4231 test case 2 uses a 4-byte key ("Jefe"), below our floor;
        // test case 1 has a 20-byte key of 0x0b and data "Hi There".
        let hasher = KeyedHasher::new(&[0x0b; 20]).unwrap();
        assert_eq!(hasher.hash(b"Hi There"), "hmac-sha256:b0344c61d8db3853");
    }

    #[test]
    fn equal_values_group_and_keys_differ() {
        let a = KeyedHasher::new(b"0123456789abcdef").unwrap();
        let b = KeyedHasher::new(b"0123456789abcdeF").unwrap();
        assert_eq!(a.hash(b"alice"), a.hash(b"alice"));
        assert_ne!(a.hash(b"alice"), a.hash(b"bob"));
        assert_ne!(a.hash(b"alice"), b.hash(b"alice"));
        assert_eq!(a.hash(b"").len(), HASH_PREFIX.len() + 16);
    }

    #[test]
    fn short_keys_are_refused_and_debug_hides_the_key() {
        assert!(KeyedHasher::new(b"short").is_none());
        let h = KeyedHasher::new(b"super-secret-key-material").unwrap();
        assert!(!format!("{h:?}").contains("super"));
    }
}
