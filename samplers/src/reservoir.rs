//! [`ReservoirThenRatio`]: the first N traces of every second, then a
//! probability for the rest.

use crate::clock::TickClock;
use crate::ot_trace_state::without_threshold;
use crate::rate_limiting::PaddedAtomicU64;
use crate::sampler::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};
use crate::trace_id_ratio::TraceIdRatioBased;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bits of the packed state holding the count within the current second.
const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
/// The largest reservoir: the count must fit its bits.
pub const MAX_RESERVOIR: u32 = (1 << COUNT_BITS) - 1;

/// Samples the first `per_second` spans of every second (a "reservoir", so
/// that rare operations are always seen), then samples the rest of that
/// second with a consistent [`TraceIdRatioBased`] probability.
///
/// The current second's index and how many spans it has admitted share one
/// `AtomicU64`; a decision reads the tick clock, and once the reservoir is
/// full only loads it, so the hot path is lock-free and mostly read-only.
/// Reservoir spans are not probability samples and carry no `th`; the rest
/// get the ratio sampler's `ot=th:…` when sampled.
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceId};
/// use tracekit_samplers::{ReservoirThenRatio, Sampler, SamplingParameters};
///
/// let sampler = ReservoirThenRatio::new(2, 0.0);
/// let params = SamplingParameters::root(TraceId::from(1), "job", &SpanKind::Internal);
/// let sampled = (0..10)
///     .filter(|_| sampler.should_sample(&params).decision.is_sampled())
///     .count();
/// assert_eq!(sampled, 2);
/// ```
#[derive(Debug)]
pub struct ReservoirThenRatio {
    window: PaddedAtomicU64,
    clock: TickClock,
    per_second: u32,
    ratio: TraceIdRatioBased,
}

impl ReservoirThenRatio {
    /// The first `per_second` spans of each second (at most
    /// [`MAX_RESERVOIR`]), then the fraction `ratio` of the others (clamped
    /// as [`TraceIdRatioBased::new`] does).
    pub fn new(per_second: u32, ratio: f64) -> Self {
        Self::with_clock(per_second, ratio, TickClock::new())
    }

    fn with_clock(per_second: u32, ratio: f64, clock: TickClock) -> Self {
        ReservoirThenRatio {
            window: PaddedAtomicU64::default(),
            clock,
            per_second: per_second.min(MAX_RESERVOIR),
            ratio: TraceIdRatioBased::new(ratio),
        }
    }

    /// The reservoir size per second.
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// The sampler for spans past the reservoir.
    pub fn ratio(&self) -> &TraceIdRatioBased {
        &self.ratio
    }

    /// Take a place in the current second's reservoir, if one is left.
    #[inline]
    fn take_reservoir_slot(&self) -> bool {
        if self.per_second == 0 {
            return false;
        }
        let second = self.clock.now() / self.clock.ticks_per_second();
        let limit = u64::from(self.per_second);
        let window: &AtomicU64 = &self.window;
        let mut current = window.load(Ordering::Relaxed);
        loop {
            let (mut window_second, mut count) = (current >> COUNT_BITS, current & COUNT_MASK);
            if second > window_second {
                window_second = second;
                count = 0;
            }
            if count >= limit {
                return false;
            }
            let next = (window_second << COUNT_BITS) | (count + 1);
            match window.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Sampler for ReservoirThenRatio {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        if self.take_reservoir_slot() {
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: params.parent_trace_state().and_then(without_threshold),
            }
        } else {
            self.ratio.decide(params)
        }
    }

    fn description(&self) -> String {
        format!(
            "ReservoirThenRatio{{{}/s,then:{}}}",
            self.per_second,
            self.ratio.description()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanKind, TraceId};
    use std::sync::atomic::AtomicU64;

    fn params(id: u128) -> SamplingParameters<'static> {
        SamplingParameters::root(TraceId::from(id), "s", &SpanKind::Internal)
    }

    fn manual_clock() -> (&'static AtomicU64, TickClock) {
        let ticks: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        (ticks, TickClock::manual(ticks))
    }

    #[test]
    fn reservoir_then_ratio_then_next_second() {
        let (ticks, clock) = manual_clock();
        let sampler = ReservoirThenRatio::with_clock(3, 0.5, clock);
        // Randomness 1: rejected by the 50% threshold.
        let low = params(1);
        let high = params(0xff_ffff_ffff_ffff);
        for _ in 0..3 {
            let r = sampler.should_sample(&low);
            assert!(r.decision.is_sampled());
            assert_eq!(r.trace_state, None, "reservoir spans carry no th");
        }
        assert_eq!(sampler.should_sample(&low).decision, SamplingDecision::Drop);
        let r = sampler.should_sample(&high);
        assert!(r.decision.is_sampled());
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:8")
        );
        ticks.store(999_999_999, Ordering::Relaxed);
        assert_eq!(sampler.should_sample(&low).decision, SamplingDecision::Drop);
        ticks.store(1_000_000_000, Ordering::Relaxed);
        assert!(sampler.should_sample(&low).decision.is_sampled());
        // A thread with a slightly older reading counts in the newer window.
        ticks.store(999_999_999, Ordering::Relaxed);
        assert!(sampler.should_sample(&low).decision.is_sampled());
        assert!(sampler.should_sample(&low).decision.is_sampled());
        assert_eq!(sampler.should_sample(&low).decision, SamplingDecision::Drop);
        ticks.store(5_500_000_000, Ordering::Relaxed);
        assert!(sampler.should_sample(&low).decision.is_sampled());
        assert_eq!(
            sampler.description(),
            "ReservoirThenRatio{3/s,then:TraceIdRatioBased{0.5}}"
        );
    }

    #[test]
    fn empty_reservoir_is_just_the_ratio() {
        let sampler = ReservoirThenRatio::new(0, 1.0);
        let r = sampler.should_sample(&params(1));
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:0")
        );
        assert_eq!(
            ReservoirThenRatio::new(u32::MAX, 0.1).per_second(),
            MAX_RESERVOIR
        );
    }

    #[test]
    fn reservoir_is_shared_exactly_between_threads() {
        let (_, clock) = manual_clock();
        let sampler = ReservoirThenRatio::with_clock(1000, 0.0, clock);
        let sampled: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        (0..2000)
                            .filter(|_| sampler.should_sample(&params(1)).decision.is_sampled())
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
        });
        assert_eq!(sampled, 1000);
    }
}
