//! [`KeyListCache`]: the decisions for a whole attribute list at once.
//!
//! Spans from one call site carry the same keys in the same order, span
//! after span. This table remembers such a list, up to [`MAX_LIST_KEYS`]
//! keys, by the address and length of each key's text, with every key's
//! decision: one look-up then checks and decides the whole list.
//!
//! Addresses are trusted the way [`KeyAddressCache`] trusts them: an entry
//! pins clones of its keys (static and shared texts clone in place; a list
//! with an owned key is not cached), so an address it advertises is never
//! freed and reused while it does, and a hit compares every address and
//! length under a sequence number.
//!
//! A list is cached on its second miss in a row at its entry (a signature
//! of the last list that missed is kept), so a stream of ever-different
//! lists costs a signature per list rather than a clone of every key. The
//! table has a fixed number of entries, replaced rather than added.
//!
//! [`KeyAddressCache`]: super::key_address_cache::KeyAddressCache

use super::slot_table::{pin_in_place, write_pinned, SlotTable};
use opentelemetry::{Key, KeyValue};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Longest list cached.
pub(crate) const MAX_LIST_KEYS: usize = 16;

/// Entries of a redactor's list cache.
pub(crate) const REDACTOR_LISTS: usize = 16;

/// One cached list.
#[repr(align(64))]
#[derive(Default)]
struct Entry {
    /// Even: stable; odd: the entry's writer is changing it.
    seq: AtomicU64,
    /// Keys in the list (0: empty entry).
    len: AtomicUsize,
    /// Address of each key's text.
    addrs: [AtomicUsize; MAX_LIST_KEYS],
    /// Length of each key's text.
    lens: [AtomicUsize; MAX_LIST_KEYS],
    /// Each key's decision; only the non-zero ones are read.
    decisions: [AtomicU32; MAX_LIST_KEYS],
    /// The list's [`ListSummary`]: `nonzero` in the low 32 bits, `union`
    /// in the high 32.
    summary: AtomicU64,
    /// Signature of the last list that missed here.
    candidate: AtomicU64,
    /// The keys, keeping their texts where `addrs` says; also the
    /// writers' lock.
    pinned: Mutex<Vec<Key>>,
}

/// What a cached list's decisions add up to, kept with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListSummary {
    /// Bit `i` set when key `i`'s decision is not zero.
    pub(crate) nonzero: u32,
    /// Every decision ORed together.
    pub(crate) union: u32,
}

impl ListSummary {
    fn of(decisions: &[u32]) -> ListSummary {
        decisions.iter().enumerate().fold(
            ListSummary {
                nonzero: 0,
                union: 0,
            },
            |summary, (i, &decision)| ListSummary {
                nonzero: summary.nonzero | u32::from(decision != 0) << i,
                union: summary.union | decision,
            },
        )
    }
}

/// A fixed-size, lock-free map from a list of keys (by text addresses and
/// lengths) to their decisions, in `LISTS` entries (a power of two).
#[derive(Debug)]
pub(crate) struct KeyListCache<const LISTS: usize> {
    entries: SlotTable<Entry, LISTS>,
}

/// A list's texts: address and length of each key's.
#[inline]
fn text_of(kv: &KeyValue) -> (usize, usize) {
    let text = kv.key.as_str();
    (text.as_ptr() as usize, text.len())
}

impl<const LISTS: usize> KeyListCache<LISTS> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        KeyListCache {
            entries: SlotTable::new(),
        }
    }

    /// The entry for lists of `len` keys starting with `first`.
    #[inline]
    fn entry(&self, first: usize, len: usize) -> &Entry {
        let mixed = ((first as u64) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        // A power of two minus one keeps the index in bounds.
        &self.entries[(mixed as usize) & (LISTS - 1)]
    }

    /// The decisions for the keys of `list`, by position, and their
    /// summary; `None` (and `decisions` meaningless) when the list is not
    /// cached. Only the non-zero decisions are written: `decisions` must
    /// come in zeroed.
    #[inline]
    pub(crate) fn get(
        &self,
        list: &[KeyValue],
        decisions: &mut [u32; MAX_LIST_KEYS],
    ) -> Option<ListSummary> {
        let (Some(first), true) = (list.first(), list.len() <= MAX_LIST_KEYS) else {
            return None;
        };
        let entry = self.entry(text_of(first).0, list.len());
        let seq = entry.seq.load(Ordering::Acquire);
        let mut differs = entry.len.load(Ordering::Relaxed) ^ list.len() | (seq & 1) as usize;
        for (i, kv) in list.iter().enumerate() {
            // `i` < `list.len()` <= MAX_LIST_KEYS: the mask only spares the
            // bounds checks.
            let i = i & (MAX_LIST_KEYS - 1);
            let (text_addr, text_len) = text_of(kv);
            differs |= (entry.addrs[i].load(Ordering::Relaxed) ^ text_addr)
                | (entry.lens[i].load(Ordering::Relaxed) ^ text_len);
        }
        let summary = entry.summary.load(Ordering::Relaxed);
        let nonzero = summary as u32;
        // The other decisions are zero, as `decisions` came in.
        let mut active = nonzero;
        while active != 0 {
            let i = active.trailing_zeros() as usize & (MAX_LIST_KEYS - 1);
            active &= active - 1;
            decisions[i] = entry.decisions[i].load(Ordering::Relaxed);
        }
        // Order the copies before the second read of the sequence number.
        fence(Ordering::Acquire);
        (differs == 0 && entry.seq.load(Ordering::Relaxed) == seq).then_some(ListSummary {
            nonzero,
            union: (summary >> 32) as u32,
        })
    }

    /// Offer `list` with its `decisions` (one per key, in order). It is
    /// cached if it was the last list to miss at its entry and every key's
    /// text can be pinned where it is.
    pub(crate) fn offer(&self, list: &[KeyValue], decisions: &[u32]) {
        let (Some(first), true) = (
            list.first(),
            list.len() <= MAX_LIST_KEYS && decisions.len() == list.len(),
        ) else {
            return;
        };
        let entry = self.entry(text_of(first).0, list.len());
        let signature = list.iter().fold(list.len() as u64, |sig, kv| {
            let (addr, len) = text_of(kv);
            (sig ^ addr as u64 ^ ((len as u64) << 48)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        if entry.candidate.swap(signature, Ordering::Relaxed) != signature {
            return;
        }
        let Some(pins) = list
            .iter()
            .map(|kv| pin_in_place(&kv.key))
            .collect::<Option<Vec<Key>>>()
        else {
            return;
        };
        let summary = ListSummary::of(decisions);
        // An entry another writer holds is left alone.
        write_pinned(&entry.seq, &entry.pinned, pins, || {
            entry.len.store(list.len(), Ordering::Relaxed);
            entry.summary.store(
                u64::from(summary.nonzero) | (u64::from(summary.union) << 32),
                Ordering::Relaxed,
            );
            for ((((kv, decision), addr), len), cached) in list
                .iter()
                .zip(decisions)
                .zip(&entry.addrs)
                .zip(&entry.lens)
                .zip(&entry.decisions)
            {
                let (text_addr, text_len) = text_of(kv);
                addr.store(text_addr, Ordering::Relaxed);
                len.store(text_len, Ordering::Relaxed);
                cached.store(*decision, Ordering::Relaxed);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::slot_table::hammer::hammer;
    use super::*;
    use std::sync::Arc;

    fn list(keys: &[&'static str]) -> Vec<KeyValue> {
        keys.iter().map(|k| KeyValue::new(*k, 1_i64)).collect()
    }

    #[test]
    fn a_list_is_cached_on_its_second_miss_and_found_exactly() {
        let cache = KeyListCache::<4>::new();
        let a = list(&["http.route", "url.full", "server.port"]);
        let mut out = [0u32; MAX_LIST_KEYS];
        assert_eq!(cache.get(&a, &mut out), None);
        cache.offer(&a, &[1, 0, 4]);
        assert_eq!(
            cache.get(&a, &mut out),
            None,
            "cached only on the second miss"
        );
        cache.offer(&a, &[1, 0, 4]);
        assert_eq!(
            cache.get(&a, &mut out),
            Some(ListSummary {
                nonzero: 0b101,
                union: 5
            })
        );
        assert_eq!(out[..3], [1, 0, 4]);
        // Another order, a shorter list, another text with the same
        // characters elsewhere: no hit.
        let swapped = list(&["http.route", "server.port", "url.full"]);
        assert_eq!(cache.get(&swapped, &mut out), None);
        assert_eq!(cache.get(&a[..2], &mut out), None);
        let owned: Vec<KeyValue> = a
            .iter()
            .map(|kv| KeyValue::new(Key::from(kv.key.to_string()), 1_i64))
            .collect();
        assert_eq!(cache.get(&owned, &mut out), None);
        // A list with an owned key is never cached.
        cache.offer(&owned, &[1, 2, 3]);
        cache.offer(&owned, &[1, 2, 3]);
        assert_eq!(cache.get(&owned, &mut out), None);
    }

    #[test]
    fn empty_long_and_mismatched_lists_are_refused() {
        let cache = KeyListCache::<1>::new();
        let mut out = [0u32; MAX_LIST_KEYS];
        assert_eq!(cache.get(&[], &mut out), None);
        let long: Vec<KeyValue> = (0..=MAX_LIST_KEYS)
            .map(|i| KeyValue::new(Key::from(Arc::<str>::from(format!("k{i}"))), 1_i64))
            .collect();
        let decisions = vec![0; long.len()];
        cache.offer(&long, &decisions);
        cache.offer(&long, &decisions);
        assert_eq!(cache.get(&long, &mut out), None);
        let a = list(&["a", "b"]);
        cache.offer(&a, &[1]);
        cache.offer(&a, &[1]);
        assert_eq!(cache.get(&a, &mut out), None);
    }

    #[test]
    fn pinned_keys_outlive_their_lists_until_replaced() {
        let cache = KeyListCache::<1>::new();
        let text: Arc<str> = Arc::from("app.pinned");
        let weak = Arc::downgrade(&text);
        let a = vec![KeyValue::new(Key::from(text), 1_i64)];
        cache.offer(&a, &[5]);
        cache.offer(&a, &[5]);
        drop(a);
        assert!(weak.upgrade().is_some());
        let b = list(&["other"]);
        cache.offer(&b, &[6]);
        cache.offer(&b, &[6]);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_a_wrong_decision() {
        // Lists of one to three shared keys; a list's decisions are its
        // index times 16 plus the key's position.
        let lists: Vec<Vec<KeyValue>> = (0..40)
            .map(|i| {
                (0..1 + i % 3)
                    .map(|k| {
                        let key = Key::from(Arc::<str>::from(format!("list{i}.key{k}")));
                        KeyValue::new(key, 1_i64)
                    })
                    .collect()
            })
            .collect();
        let decisions = |index: u32, list: &[KeyValue]| -> Vec<u32> {
            (0..list.len() as u32).map(|k| index * 16 + k).collect()
        };
        hammer(
            &KeyListCache::<2>::new(),
            &lists,
            300,
            |cache, list| {
                let mut out = [0u32; MAX_LIST_KEYS];
                cache.get(list, &mut out).map(|_| {
                    // Every key's decision belongs to the same list.
                    let index = out[0] / 16;
                    assert_eq!(out[..list.len()], decisions(index, list)[..]);
                    index
                })
            },
            |cache, list, index| {
                cache.offer(list, &decisions(index, list));
                cache.offer(list, &decisions(index, list));
            },
        );
    }
}
