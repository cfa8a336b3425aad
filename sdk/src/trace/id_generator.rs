//! Random trace and span ids from a per-thread generator.
//!
//! Ids are drawn from a small, fast pseudo-random generator held in a
//! thread-local, seeded once per thread from the operating system's
//! generator: no lock, no allocation, no system call on the hot path.
//! Every byte of a trace id is random, so the W3C Level 2 requirement (the
//! rightmost 7 bytes random) holds and new traces carry the random flag.

use opentelemetry::trace::{SpanId, TraceId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::cell::RefCell;

thread_local! {
    static RNG: RefCell<SmallRng> = RefCell::new(SmallRng::from_rng(&mut rand::rng()));
}

/// Generates ids for new traces and spans.
///
/// The default, [`RandomIdGenerator`], is what tracekit uses; a custom
/// generator can be given to the provider builder (for deterministic tests).
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

#[inline]
fn next_u64() -> u64 {
    RNG.with(|rng| rng.borrow_mut().next_u64())
}

impl IdGenerator for RandomIdGenerator {
    #[inline]
    fn new_trace_id(&self) -> TraceId {
        loop {
            let id = ((next_u64() as u128) << 64) | next_u64() as u128;
            if id != 0 {
                return TraceId::from(id);
            }
        }
    }

    #[inline]
    fn new_span_id(&self) -> SpanId {
        loop {
            let id = next_u64();
            if id != 0 {
                return SpanId::from(id);
            }
        }
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
}
