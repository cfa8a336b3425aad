//! [`KeyDecisionCache`]: a small, fixed-size, lock-free memo of what the
//! redactor decided for an attribute key.
//!
//! Deciding for a key means walking the key-rule index and looking up the
//! key's value profile; the answer depends on the key's text alone, and a
//! program uses a few hundred distinct keys at most, over and over. The
//! cache maps the key *text* to that answer.
//!
//! It is keyed by content, not by address: `opentelemetry::Key` does not
//! say whether its text is a `&'static str` (memory that never changes) or
//! an owned or shared string (memory that may be freed and reused), so an
//! address alone could not be trusted. Each slot keeps a copy of the key's
//! bytes and a hit compares them all, so a hit is always for the very same
//! text, whatever the kind of key, and keys built at run time from the same
//! text share one entry.
//!
//! The table is direct-mapped: a key's hash picks one slot, and a new key
//! overwrites whatever was there, so it never grows. Keys longer than
//! [`MAX_CACHED_KEY_LEN`] bytes are not cached (the caller decides the slow
//! way). Each slot is a sequence lock over atomic words: a writer claims the
//! slot by making its sequence number odd (a writer that finds it odd, or
//! loses the race, just skips caching), writes, then makes it even again; a
//! reader copies the slot and accepts the copy only if the sequence number
//! was even and unchanged around it. Readers never wait and never write.

use super::slot_table::SlotTable;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Longest key (in bytes) the cache holds: six 8-byte words.
pub(crate) const MAX_CACHED_KEY_LEN: usize = 48;

/// Words between a key's first and last (keys of 17 to 48 bytes).
const MIDDLE_WORDS: usize = MAX_CACHED_KEY_LEN / 8 - 2;

/// Slots of a redactor's cache (256 × 64 bytes).
pub(crate) const REDACTOR_SLOTS: usize = 256;

/// One entry, one cache line.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Even: stable; odd: a writer is filling the slot.
    seq: AtomicU64,
    /// The key's length in the low byte (0: empty slot), the decision in
    /// the high 32 bits.
    meta: AtomicU64,
    /// The key's first and last words (see [`key_word`]).
    first: AtomicU64,
    last: AtomicU64,
    /// Its other words, `middle[i]` being word `i + 1`.
    middle: [AtomicU64; MIDDLE_WORDS],
}

/// A fixed-size, lock-free map from key text (up to
/// [`MAX_CACHED_KEY_LEN`] bytes) to a 32-bit decision, in `SLOTS` slots (a
/// power of two).
#[derive(Debug)]
pub(crate) struct KeyDecisionCache<const SLOTS: usize> {
    slots: SlotTable<Slot, SLOTS>,
}

/// The number of 8-byte words a key of `len` bytes (1 to 48) packs into.
#[inline]
fn word_count(len: usize) -> usize {
    len.div_ceil(8)
}

/// Eight bytes of `key` from `at`, little-endian (0 if out of range, which
/// callers never ask for).
#[inline]
fn load8(key: &[u8], at: usize) -> u64 {
    key.get(at..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map_or(0, |b| u64::from_le_bytes(*b))
}

/// A key's first and last words, `None` for keys that are not cached
/// (empty or longer than [`MAX_CACHED_KEY_LEN`]).
#[inline]
fn end_words(key: &[u8]) -> Option<(u64, u64)> {
    match (key.first_chunk::<8>(), key.last_chunk::<8>()) {
        (Some(first), Some(last)) if key.len() <= MAX_CACHED_KEY_LEN => {
            Some((u64::from_le_bytes(*first), u64::from_le_bytes(*last)))
        }
        (None, _) if !key.is_empty() => {
            let word = key_word(key, 0);
            Some((word, word))
        }
        _ => None,
    }
}

/// Word `i` of a key: for keys of 8 bytes or more, the eight bytes at
/// `8 * i`, the last word ending with the key (overlapping the one
/// before); shorter keys fit in one word. Together with the length this is
/// an exact encoding of the key: equal words and length mean equal text.
#[inline]
fn key_word(key: &[u8], i: usize) -> u64 {
    let len = key.len();
    if len >= 8 {
        return load8(key, (8 * i).min(len - 8));
    }
    let load4 = |at: usize| {
        key.get(at..)
            .and_then(<[u8]>::first_chunk::<4>)
            .map_or(0, |b| u64::from(u32::from_le_bytes(*b)))
    };
    if len >= 4 {
        // The first and last four bytes cover the whole key.
        load4(0) | (load4(len - 4) << 32)
    } else {
        key.iter()
            .rev()
            .fold(0u64, |word, &b| (word << 8) | u64::from(b))
    }
}

impl<const SLOTS: usize> KeyDecisionCache<SLOTS> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        KeyDecisionCache {
            slots: SlotTable::new(),
        }
    }

    /// The slot for a key, from its first and last words and its length.
    #[inline]
    fn slot(&self, first: u64, last: u64, len: usize) -> &Slot {
        let mixed = (first ^ last.rotate_left(29) ^ len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(32);
        // A power of two minus one keeps the index in bounds.
        &self.slots[(mixed as usize) & (SLOTS - 1)]
    }

    /// The decision cached for `key`, if any.
    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<u32> {
        let (first, last) = end_words(key)?;
        let len = key.len();
        let slot = self.slot(first, last, len);
        let seq = slot.seq.load(Ordering::Acquire);
        let meta = slot.meta.load(Ordering::Relaxed);
        // Any differing bit, or an odd (being written) sequence number.
        let mut differs = ((meta & 0xff) ^ len as u64)
            | (slot.first.load(Ordering::Relaxed) ^ first)
            | (slot.last.load(Ordering::Relaxed) ^ last)
            | (seq & 1);
        // Middle word `j` (at byte `8 * j`) exists while it ends before the
        // last word starts.
        let mut at = 8;
        for word in &slot.middle {
            if at + 8 >= len {
                break;
            }
            differs |= word.load(Ordering::Relaxed) ^ load8(key, at);
            at += 8;
        }
        // Order the copy before the second read of the sequence number: a
        // writer that changed any of it has changed that number too.
        fence(Ordering::Acquire);
        if differs != 0 || slot.seq.load(Ordering::Relaxed) != seq {
            return None;
        }
        Some((meta >> 32) as u32)
    }

    /// Remember `decision` for `key` (replacing what its slot held). Keys
    /// that are empty or too long are not cached; a slot another thread is
    /// writing is left alone.
    pub(crate) fn insert(&self, key: &[u8], decision: u32) {
        let Some((first, last)) = end_words(key) else {
            return;
        };
        let len = key.len();
        let slot = self.slot(first, last, len);
        let seq = slot.seq.load(Ordering::Relaxed);
        if seq & 1 == 1
            || slot
                .seq
                .compare_exchange(seq, seq + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // Readers that see any of the writes below also see the odd number.
        fence(Ordering::Release);
        slot.meta
            .store(len as u64 | (u64::from(decision) << 32), Ordering::Relaxed);
        slot.first.store(first, Ordering::Relaxed);
        slot.last.store(last, Ordering::Relaxed);
        for (i, word) in slot.middle.iter().enumerate().take(middle_count(len)) {
            word.store(key_word(key, i + 1), Ordering::Relaxed);
        }
        slot.seq.store(seq + 2, Ordering::Release);
    }
}

/// Words between the first and the last of a key of `len` bytes.
#[inline]
fn middle_count(len: usize) -> usize {
    word_count(len).saturating_sub(2)
}

#[cfg(test)]
mod tests {
    use super::super::slot_table::hammer::hammer;
    use super::*;

    /// Every key length from 1 to 48, and some neighbours that differ in
    /// one byte only, each once.
    fn keys() -> Vec<String> {
        let mut keys = Vec::new();
        for len in 1..=MAX_CACHED_KEY_LEN {
            let key: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            for at in [0, len / 2, len - 1] {
                let mut other = key.clone().into_bytes();
                other[at] = b'.';
                keys.push(String::from_utf8(other).unwrap_or_default());
            }
            keys.push(key);
        }
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        keys
    }

    #[test]
    fn words_encode_keys_exactly() {
        let keys = keys();
        let encoded: std::collections::HashSet<(usize, Vec<u64>)> = keys
            .iter()
            .map(|k| {
                let b = k.as_bytes();
                (
                    b.len(),
                    (0..word_count(b.len())).map(|i| key_word(b, i)).collect(),
                )
            })
            .collect();
        assert_eq!(encoded.len(), keys.len());
    }

    #[test]
    fn hits_only_for_the_same_text() {
        let cache = KeyDecisionCache::<REDACTOR_SLOTS>::new();
        assert_eq!(cache.get(b"http.route"), None);
        cache.insert(b"http.route", 7);
        assert_eq!(cache.get(b"http.route"), Some(7));
        // The same text from another allocation hits too.
        let owned = String::from("http.") + "route";
        assert_eq!(cache.get(owned.as_bytes()), Some(7));
        assert_eq!(cache.get(b"http.routE"), None);
        assert_eq!(cache.get(b"http.rout"), None);
        cache.insert(b"http.route", 9);
        assert_eq!(cache.get(b"http.route"), Some(9));
    }

    #[test]
    fn empty_and_long_keys_are_not_cached() {
        let cache = KeyDecisionCache::<4>::new();
        cache.insert(b"", 1);
        assert_eq!(cache.get(b""), None);
        let long = "k".repeat(MAX_CACHED_KEY_LEN + 1);
        cache.insert(long.as_bytes(), 1);
        assert_eq!(cache.get(long.as_bytes()), None);
        let longest = "k".repeat(MAX_CACHED_KEY_LEN);
        cache.insert(longest.as_bytes(), 2);
        assert_eq!(cache.get(longest.as_bytes()), Some(2));
    }

    #[test]
    fn colliding_keys_evict_each_other_and_never_mix() {
        // One slot: every key collides.
        let cache = KeyDecisionCache::<1>::new();
        let keys = keys();
        for (i, key) in keys.iter().enumerate() {
            cache.insert(key.as_bytes(), i as u32);
            assert_eq!(cache.get(key.as_bytes()), Some(i as u32), "{key}");
            if let Some(previous) = i.checked_sub(1).and_then(|p| keys.get(p)) {
                assert_eq!(cache.get(previous.as_bytes()), None, "{previous}");
            }
        }
        // A small table: whatever a key gets back is its own decision.
        let cache = KeyDecisionCache::<8>::new();
        for (i, key) in keys.iter().enumerate() {
            cache.insert(key.as_bytes(), i as u32);
        }
        for (i, key) in keys.iter().enumerate() {
            if let Some(found) = cache.get(key.as_bytes()) {
                assert_eq!(found, i as u32, "{key}");
            }
        }
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_a_wrong_decision() {
        // Two slots, many keys: a torn slot must never be taken for a hit.
        hammer(
            &KeyDecisionCache::<2>::new(),
            &keys(),
            200,
            |cache, key| cache.get(key.as_bytes()),
            |cache, key, decision| cache.insert(key.as_bytes(), decision),
        );
    }
}
