//! Random trace and span ids from a per-thread generator.
//!
//! Ids come from a small, fast generator (`fastrand`'s wyrand) held in a
//! thread-local `Cell`, seeded once per thread from the operating system's
//! generator through `rand`: no lock, no allocation, no system call on the
//! hot path, about a nanosecond per 64 bits. Every byte of a trace id is
//! random, so the W3C Level 2 requirement (the rightmost 7 bytes random)
//! holds and new traces carry the random flag.

use opentelemetry::trace::{SpanId, TraceId};
use rand::RngCore as _;
use std::cell::Cell;

thread_local! {
    static RNG: Cell<fastrand::Rng> = Cell::new(fastrand::Rng::with_seed(rand::rng().next_u64()));
}

/// Generates ids for new traces and spans.
///
/// The default, [`RandomIdGenerator`], is what tracekit uses unless the
/// provider builder is given another (deterministic tests, say).
pub trait IdGenerator: Send + Sync + std::fmt::Debug {
    /// A new, valid (non-zero) trace id.
    fn new_trace_id(&self) -> TraceId;
    /// A new, valid (non-zero) span id.
    fn new_span_id(&self) -> SpanId;
    /// Whether every trace id this generator returns has its rightmost 7
    /// bytes random, so new traces may set the W3C random flag.
    fn trace_ids_are_random(&self) -> bool {
        true
    }
}

/// The default generator: uniformly random, never zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomIdGenerator;

/// Run `f` with this thread's generator.
#[inline]
fn with_rng<R>(f: impl FnOnce(&mut fastrand::Rng) -> R) -> R {
    RNG.with(|cell| {
        let mut rng = cell.replace(fastrand::Rng::with_seed(0));
        let out = f(&mut rng);
        cell.set(rng);
        out
    })
}

/// A non-zero random `u64`.
#[inline]
fn non_zero(rng: &mut fastrand::Rng) -> u64 {
    loop {
        let v = rng.u64(..);
        if v != 0 {
            return v;
        }
    }
}

/// A fresh random span id (never zero).
#[inline]
pub(crate) fn random_span_id() -> SpanId {
    with_rng(|rng| SpanId::from(non_zero(rng)))
}

/// A fresh random trace id and span id in one visit to the generator.
#[inline]
pub(crate) fn random_trace_and_span_id() -> (TraceId, SpanId) {
    with_rng(|rng| {
        let high = rng.u64(..) as u128;
        let low = non_zero(rng) as u128;
        (
            TraceId::from((high << 64) | low),
            SpanId::from(non_zero(rng)),
        )
    })
}

impl IdGenerator for RandomIdGenerator {
    #[inline]
    fn new_trace_id(&self) -> TraceId {
        random_trace_and_span_id().0
    }

    #[inline]
    fn new_span_id(&self) -> SpanId {
        random_span_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_valid_and_distinct() {
        let generator = RandomIdGenerator;
        let mut trace_ids = HashSet::new();
        let mut span_ids = HashSet::new();
        for _ in 0..10_000 {
            let t = generator.new_trace_id();
            let s = generator.new_span_id();
            assert_ne!(t, TraceId::INVALID);
            assert_ne!(s, SpanId::INVALID);
            trace_ids.insert(t);
            span_ids.insert(s);
        }
        assert_eq!(trace_ids.len(), 10_000);
        assert_eq!(span_ids.len(), 10_000);
    }

    #[test]
    fn threads_get_different_sequences() {
        let a = std::thread::spawn(|| RandomIdGenerator.new_trace_id())
            .join()
            .unwrap();
        let b = std::thread::spawn(|| RandomIdGenerator.new_trace_id())
            .join()
            .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn low_bytes_are_uniform_enough() {
        // The rightmost 56 bits drive consistent probability sampling: check
        // that the top bit of that range is set about half of the time.
        let n = 20_000;
        let set = (0..n)
            .filter(|_| {
                let (t, _) = random_trace_and_span_id();
                u128::from_be_bytes(t.to_bytes()) & (1u128 << 55) != 0
            })
            .count();
        assert!((9_000..11_000).contains(&set), "{set}");
    }
}
