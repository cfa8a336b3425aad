//! [`KeyAddressCache`]: what the redactor decided for a key, found by the
//! address and length of the key's text, without reading the text.
//!
//! An address alone says nothing about the text once that memory may be
//! freed and reused. So each slot *pins* the key it describes: it keeps a
//! clone of the `opentelemetry::Key`, and a slot only ever advertises an
//! address while the clone it holds keeps the text there. A `&'static str`
//! key clones as the same static text and an `Arc<str>` key as the same
//! shared allocation; an owned key clones into a new allocation, at another
//! address, and is refused (the caller then relies on the content-keyed
//! [`KeyDecisionCache`](super::key_cache::KeyDecisionCache)).
//!
//! Why a hit is exact: a reader's key is alive while it reads, and the
//! slot's pinned key was alive when the slot was read (the sequence number
//! is checked around the read, and a writer drops the old pin only after
//! the slot stopped advertising it). Two live texts at the same address
//! are the same text (the same static bytes or the same shared
//! allocation), and with the same length they are equal.
//!
//! The table is fixed-size and two-way set-associative (two keys whose
//! addresses hash alike both stay): a new key takes an empty way of its
//! set, or else evicts the way the set names next, in turn (dropping that
//! pin), so at most `SLOTS` keys are pinned. Writers take the slot's mutex
//! with `try_lock` (and skip caching when another writer has it); readers
//! never lock and never write.

use super::slot_table::{pin_in_place, write_pinned, SlotTable};
use opentelemetry::Key;
use std::sync::atomic::{fence, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One entry, one cache line.
#[repr(align(64))]
#[derive(Default)]
struct Slot {
    /// Even: stable; odd: the slot's writer is changing it.
    seq: AtomicU64,
    /// Address of the key's text (0: empty slot).
    addr: AtomicUsize,
    /// The text's length in the low 32 bits, the decision in the high 32.
    meta: AtomicU64,
    /// The key whose text `addr` points to, keeping it there; also the
    /// writers' lock.
    pinned: Mutex<Option<Key>>,
    /// In a set's first way: which way a new key evicts next (bit 0).
    next_victim: AtomicU8,
}

/// A fixed-size, lock-free map from the address and length of a key's
/// text to a 32-bit decision, in `SLOTS` slots (a power of two).
#[derive(Debug)]
pub(crate) struct KeyAddressCache<const SLOTS: usize> {
    slots: SlotTable<Slot, SLOTS>,
}

/// What [`KeyAddressCache::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pinned {
    /// The key is cached (or its slot was busy, and it may be next time).
    Yes,
    /// The key's text cannot be pinned where it is (an owned string).
    Never,
}

impl<const SLOTS: usize> KeyAddressCache<SLOTS> {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        KeyAddressCache {
            slots: SlotTable::new(),
        }
    }

    /// The first way of the set for `addr` (the second is the next slot).
    #[inline]
    fn set(&self, addr: usize) -> usize {
        // Multiplicative hashing: the top bits of the product.
        let mixed = (addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        // A power of two minus two keeps both ways in bounds (one slot:
        // both ways are that slot).
        (mixed as usize) & (SLOTS - 1) & !1
    }

    /// The decision cached for the text `key` (by its address and length).
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        let set = self.set(key.as_ptr() as usize);
        Self::get_in(&self.slots[set], key)
            .or_else(|| Self::get_in(&self.slots[(set + 1) & (SLOTS - 1)], key))
    }

    /// The decision in `slot`, if it describes `key`.
    #[inline]
    fn get_in(slot: &Slot, key: &str) -> Option<u32> {
        let addr = key.as_ptr() as usize;
        let seq = slot.seq.load(Ordering::Acquire);
        let cached_addr = slot.addr.load(Ordering::Relaxed);
        let meta = slot.meta.load(Ordering::Relaxed);
        // Order the copy before the second read of the sequence number.
        fence(Ordering::Acquire);
        let differs =
            (cached_addr ^ addr) as u64 | ((meta & 0xffff_ffff) ^ key.len() as u64) | (seq & 1);
        if differs != 0 || slot.seq.load(Ordering::Relaxed) != seq {
            return None;
        }
        Some((meta >> 32) as u32)
    }

    /// Cache `decision` for `key`, pinning a clone of it, unless its text
    /// cannot stay where it is or is longer than 4 GiB.
    pub(crate) fn insert(&self, key: &Key, decision: u32) -> Pinned {
        let Some(pin) = pin_in_place(key) else {
            return Pinned::Never;
        };
        let text = key.as_str();
        let addr = text.as_ptr() as usize;
        let Ok(len) = u32::try_from(text.len()) else {
            return Pinned::Never;
        };
        let set = self.set(addr);
        let ways = [set, (set + 1) & (SLOTS - 1)];
        // A way that holds this text already, else an empty one, else the
        // set's next victim.
        let holds = |way: usize| {
            let cached = self.slots[way].addr.load(Ordering::Relaxed);
            cached == addr || cached == 0
        };
        let way = match ways.into_iter().find(|&way| holds(way)) {
            Some(way) => way,
            None => {
                ways[usize::from(self.slots[set].next_victim.fetch_xor(1, Ordering::Relaxed) & 1)]
            }
        };
        let slot = &self.slots[way];
        // A slot another writer holds is left alone: the key may be cached
        // next time.
        write_pinned(&slot.seq, &slot.pinned, Some(pin), || {
            slot.addr.store(addr, Ordering::Relaxed);
            slot.meta.store(
                u64::from(len) | (u64::from(decision) << 32),
                Ordering::Relaxed,
            );
        });
        Pinned::Yes
    }
}

#[cfg(test)]
mod tests {
    use super::super::slot_table::hammer::hammer;
    use super::*;
    use std::sync::Arc;

    #[test]
    fn static_and_shared_keys_are_pinned_owned_ones_refused() {
        let cache = KeyAddressCache::<16>::new();
        let key = Key::from_static_str("http.route");
        assert_eq!(cache.insert(&key, 7), Pinned::Yes);
        assert_eq!(cache.get(key.as_str()), Some(7));
        // The same text elsewhere is another address: no hit.
        let owned = Key::from(String::from("http.route"));
        assert_eq!(cache.get(owned.as_str()), None);
        assert_eq!(cache.insert(&owned, 7), Pinned::Never);
        // A prefix at the same address differs by length.
        assert_eq!(cache.get(&key.as_str()[..4]), None);

        let shared = Key::from(Arc::<str>::from("app.shared"));
        assert_eq!(cache.insert(&shared, 9), Pinned::Yes);
        assert_eq!(cache.get(shared.as_str()), Some(9));
        assert_eq!(cache.insert(&Key::from_static_str(""), 1), Pinned::Never);
    }

    #[test]
    fn a_pinned_text_outlives_every_other_owner() {
        let cache = KeyAddressCache::<1>::new();
        let text: Arc<str> = Arc::from("app.pinned");
        let weak = Arc::downgrade(&text);
        let key = Key::from(text);
        assert_eq!(cache.insert(&key, 3), Pinned::Yes);
        drop(key);
        // Still alive: the slot holds it, so its address cannot be reused.
        assert!(weak.upgrade().is_some());
        // Evicted by another key (one slot): released.
        assert_eq!(cache.insert(&Key::from_static_str("other"), 4), Pinned::Yes);
        assert!(weak.upgrade().is_none());
        assert_eq!(cache.get(&String::from("other")), None);
    }

    #[test]
    fn colliding_keys_evict_each_other_and_never_mix() {
        let cache = KeyAddressCache::<1>::new();
        let two = KeyAddressCache::<2>::new();
        let (a, b, c) = (
            Key::from_static_str("a.key"),
            Key::from_static_str("b.key"),
            Key::from_static_str("c.key"),
        );
        // One set of two ways: two keys both stay, a third evicts in turn.
        assert_eq!(two.insert(&a, 1), Pinned::Yes);
        assert_eq!(two.insert(&b, 2), Pinned::Yes);
        assert_eq!(
            (two.get(a.as_str()), two.get(b.as_str())),
            (Some(1), Some(2))
        );
        assert_eq!(two.insert(&c, 3), Pinned::Yes);
        assert_eq!(two.get(c.as_str()), Some(3));
        assert_eq!(
            [two.get(a.as_str()), two.get(b.as_str())]
                .iter()
                .filter(|hit| hit.is_some())
                .count(),
            1
        );
        let keys: Vec<Key> = (0..64)
            .map(|i| Key::from(Arc::<str>::from(format!("k{i}"))))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(cache.insert(key, i as u32), Pinned::Yes);
            assert_eq!(cache.get(key.as_str()), Some(i as u32));
            for (j, other) in keys.iter().enumerate().take(i) {
                assert_eq!(cache.get(other.as_str()), None, "{j}");
            }
        }
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_a_wrong_decision() {
        let keys: Vec<Key> = (0..50)
            .map(|i| Key::from(Arc::<str>::from(format!("key.{i}"))))
            .collect();
        hammer(
            &KeyAddressCache::<2>::new(),
            &keys,
            400,
            |cache, key| cache.get(key.as_str()),
            |cache, key, decision| {
                cache.insert(key, decision);
            },
        );
    }
}
