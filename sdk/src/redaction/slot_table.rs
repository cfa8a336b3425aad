//! [`SlotTable`]: the fixed-size, power-of-two array of slots behind the
//! redactor's key caches.

use opentelemetry::Key;
use std::ops::Deref;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Mutex;

/// `SLOTS` default slots on the heap; `SLOTS` must be a power of two (a
/// compile-time error otherwise), so `hash & (SLOTS - 1)` is always an
/// index.
pub(crate) struct SlotTable<T, const SLOTS: usize>(Box<[T; SLOTS]>);

impl<T: Default, const SLOTS: usize> SlotTable<T, SLOTS> {
    /// Refuses, at compile time, a slot count that is not a power of two.
    const POWER_OF_TWO: () = assert!(SLOTS.is_power_of_two());

    /// `SLOTS` slots, each `T::default()`.
    pub(crate) fn new() -> Self {
        let () = Self::POWER_OF_TWO;
        SlotTable(Box::new(std::array::from_fn(|_| T::default())))
    }
}

impl<T, const SLOTS: usize> Deref for SlotTable<T, SLOTS> {
    type Target = [T; SLOTS];
    fn deref(&self) -> &[T; SLOTS] {
        &self.0
    }
}

impl<T, const SLOTS: usize> std::fmt::Debug for SlotTable<T, SLOTS> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SlotTable({SLOTS} slots)")
    }
}

/// A clone of `key` whose text is where `key`'s is: a `&'static str` key
/// clones as the same static text and an `Arc<str>` key as the same
/// shared allocation. `None` for an owned key (its clone is a new
/// allocation, at another address) and for an empty text: holding such a
/// clone would not keep the address the caches compare meaningful.
pub(crate) fn pin_in_place(key: &Key) -> Option<Key> {
    let pin = key.clone();
    let text = key.as_str();
    (pin.as_str().as_ptr() == text.as_ptr() && !text.is_empty()).then_some(pin)
}

/// Rewrite an entry guarded by a sequence number `seq` (even: stable; odd:
/// being written) and by the lock of the keys it pins, `pinned`, which
/// only writers take: `write` stores the entry's new fields (relaxed)
/// while the number is odd, then `pin` replaces the old pins, which are
/// dropped only once no reader can take their addresses any more.
/// Returns `false`, writing nothing, when another writer holds the lock.
pub(crate) fn write_pinned<P>(
    seq: &AtomicU64,
    pinned: &Mutex<P>,
    pin: P,
    write: impl FnOnce(),
) -> bool {
    let Ok(mut pinned) = pinned.try_lock() else {
        return false;
    };
    // Only the lock holder changes `seq`, so it is even here.
    let stable = seq.load(Ordering::Relaxed);
    seq.store(stable.wrapping_add(1), Ordering::Relaxed);
    // Readers that see any write below also see the odd number.
    fence(Ordering::Release);
    write();
    seq.store(stable.wrapping_add(2), Ordering::Release);
    let old = std::mem::replace(&mut *pinned, pin);
    drop(pinned);
    drop(old);
    true
}

/// The concurrency test both key caches run.
#[cfg(test)]
pub(crate) mod hammer {
    /// Four threads at once look up and insert every key (each key's
    /// decision is its index) for `rounds` rounds, each thread starting a
    /// little further in; panics if a lookup ever returns a decision that
    /// is not the key's own (a torn or mixed-up slot).
    pub(crate) fn hammer<C: Sync, K: Sync>(
        cache: &C,
        keys: &[K],
        rounds: usize,
        get: impl Fn(&C, &K) -> Option<u32> + Sync,
        insert: impl Fn(&C, &K, u32) + Sync,
    ) {
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (get, insert) = (&get, &insert);
                scope.spawn(move || {
                    for round in 0..rounds {
                        let skip = (thread + round) % 3;
                        for (i, key) in keys.iter().enumerate().skip(skip) {
                            if let Some(found) = get(cache, key) {
                                assert_eq!(found, i as u32, "key {i}");
                            }
                            insert(cache, key, i as u32);
                        }
                    }
                });
            }
        });
    }
}
