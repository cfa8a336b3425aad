//! [`RateLimiting`]: at most N traces per second, with a burst allowance.

use crate::clock::TickClock;
use crate::ot_trace_state::without_threshold;
use crate::sampler::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, Ordering};

/// An atomic on its own cache line(s), so that writing it does not slow
/// down readers of neighbouring fields.
pub(crate) type PaddedAtomicU64 = CachePadded<AtomicU64>;

#[derive(Clone, Copy, Debug)]
enum Limit {
    /// A positive, finite rate.
    Rate {
        /// Ticks between two traces at the sustained rate.
        interval: u64,
        /// How far ahead of now the schedule may run: `(burst − 1)` intervals.
        tolerance: u64,
    },
    /// Rate zero (or invalid): nothing is sampled.
    Nothing,
    /// Infinite rate: everything is sampled.
    Everything,
}

/// Samples at most `traces_per_second` spans per second on average, letting
/// up to `burst` through at once after a quiet period.
///
/// The limiter is the generic cell rate algorithm, a token bucket expressed
/// as one number: the *theoretical arrival time* of the next trace, kept in a
/// single `AtomicU64`. A decision reads a monotonic clock (`quanta`, see
/// the crate docs) and loads the atomic; a span is admitted when the schedule is no more than
/// `burst − 1` intervals ahead of now, and the schedule then advances by one
/// interval with a compare-and-swap. Refusals only read, so under overload
/// the threads share the cache line instead of fighting over it, and no
/// decision ever takes a lock.
///
/// Rate-limited spans are not probability samples: any consistent-sampling
/// threshold (`th`) inherited from the parent is erased from their trace
/// state. Used on its own it limits every span; as the root sampler of
/// [`ParentBased`](crate::ParentBased) (environment name
/// `parentbased_ratelimiting`) it limits new traces, which is the usual
/// intent.
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceId};
/// use tracekit_samplers::{RateLimiting, Sampler, SamplingParameters};
///
/// let sampler = RateLimiting::with_burst(1.0, 3);
/// let params = SamplingParameters::root(TraceId::from(1), "job", &SpanKind::Internal);
/// let admitted = (0..100)
///     .filter(|_| sampler.should_sample(&params).decision.is_sampled())
///     .count();
/// assert!((3..=4).contains(&admitted)); // the burst, plus at most one refill
/// assert_eq!(sampler.description(), "RateLimitingSampler{1/s,burst=3}");
/// ```
#[derive(Debug)]
pub struct RateLimiting {
    schedule: PaddedAtomicU64,
    clock: TickClock,
    limit: Limit,
    traces_per_second: f64,
    burst: u32,
}

impl RateLimiting {
    /// At most `traces_per_second` traces per second, with a burst of one
    /// second's worth (`max(1, ⌈rate⌉)`). A rate that is zero, negative or
    /// NaN samples nothing; an infinite rate samples everything.
    pub fn new(traces_per_second: f64) -> Self {
        let burst = if traces_per_second.is_finite() && traces_per_second > 1.0 {
            traces_per_second.ceil().min(f64::from(u32::MAX)) as u32
        } else {
            1
        };
        Self::with_burst(traces_per_second, burst)
    }

    /// At most `traces_per_second` traces per second on average, and at most
    /// `burst` (at least 1) admitted back to back.
    pub fn with_burst(traces_per_second: f64, burst: u32) -> Self {
        Self::with_clock(traces_per_second, burst, TickClock::new())
    }

    pub(crate) fn with_clock(traces_per_second: f64, burst: u32, clock: TickClock) -> Self {
        let burst = burst.max(1);
        let limit = if traces_per_second.is_nan() || traces_per_second <= 0.0 {
            Limit::Nothing
        } else if traces_per_second.is_infinite() {
            Limit::Everything
        } else {
            let interval = clock.ticks_in(traces_per_second.recip());
            Limit::Rate {
                interval,
                tolerance: interval.saturating_mul(u64::from(burst - 1)),
            }
        };
        RateLimiting {
            schedule: PaddedAtomicU64::default(),
            clock,
            limit,
            traces_per_second: if traces_per_second.is_nan() {
                0.0
            } else {
                traces_per_second.max(0.0)
            },
            burst,
        }
    }

    /// The configured sustained rate.
    pub fn traces_per_second(&self) -> f64 {
        self.traces_per_second
    }

    /// The configured burst.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Take one admission if the rate allows it now.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let (interval, tolerance) = match self.limit {
            Limit::Rate {
                interval,
                tolerance,
            } => (interval, tolerance),
            Limit::Nothing => return false,
            Limit::Everything => return true,
        };
        let now = self.clock.now();
        let schedule: &AtomicU64 = &self.schedule;
        let mut current = schedule.load(Ordering::Relaxed);
        loop {
            let start = current.max(now);
            if start - now > tolerance {
                return false;
            }
            match schedule.compare_exchange_weak(
                current,
                start.saturating_add(interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Sampler for RateLimiting {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        let decision = if self.try_acquire() {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: params.parent_trace_state().and_then(without_threshold),
        }
    }

    fn description(&self) -> String {
        format!(
            "RateLimitingSampler{{{}/s,burst={}}}",
            self.traces_per_second, self.burst
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use std::str::FromStr;
    use std::time::{Duration, Instant};

    #[test]
    fn burst_then_refusal() {
        let limiter = RateLimiting::with_burst(0.001, 5);
        let admitted = (0..50).filter(|_| limiter.try_acquire()).count();
        assert_eq!(admitted, 5);
        let single = RateLimiting::new(0.5);
        assert_eq!(single.burst(), 1);
        assert_eq!((0..10).filter(|_| single.try_acquire()).count(), 1);
        assert_eq!(RateLimiting::new(250.2).burst(), 251);
    }

    #[test]
    fn refills_at_the_configured_rate() {
        use std::sync::atomic::AtomicU64;
        let ticks: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
        // 4 per second: one every 250 ms, burst 2.
        let limiter = RateLimiting::with_clock(4.0, 2, TickClock::manual(ticks));
        let take = |n: usize| (0..n).filter(|_| limiter.try_acquire()).count();
        assert_eq!(take(10), 2);
        ticks.store(249_999_999, Ordering::Relaxed);
        assert_eq!(take(10), 0);
        ticks.store(250_000_000, Ordering::Relaxed);
        assert_eq!(take(10), 1);
        // Ten quiet seconds refill only up to the burst.
        ticks.store(10_250_000_000, Ordering::Relaxed);
        assert_eq!(take(10), 2);
        // Over one busy second: exactly 4 more.
        let mut admitted = 0;
        for ms in 1..=1000u64 {
            ticks.store(10_250_000_000 + ms * 1_000_000, Ordering::Relaxed);
            admitted += take(3);
        }
        assert_eq!(admitted, 4);
    }

    #[test]
    fn degenerate_rates() {
        assert!(!RateLimiting::new(0.0).try_acquire());
        assert!(!RateLimiting::new(-3.0).try_acquire());
        assert!(!RateLimiting::new(f64::NAN).try_acquire());
        let unlimited = RateLimiting::new(f64::INFINITY);
        assert!((0..1000).all(|_| unlimited.try_acquire()));
        assert_eq!(RateLimiting::new(f64::NAN).traces_per_second(), 0.0);
    }

    #[test]
    fn rate_limited_spans_drop_the_parents_threshold() {
        let parent = SpanContext::new(
            TraceId::from(1u128),
            SpanId::from(1u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_str("ot=th:8;rv:ffffffffffffff,a=b").unwrap_or_default(),
        );
        let limiter = RateLimiting::with_burst(0.001, 1);
        let kind = SpanKind::Server;
        let params = SamplingParameters::child(&parent, "s", &kind);
        let first = limiter.should_sample(&params);
        assert!(first.decision.is_sampled());
        let header = first.trace_state.map(|t| t.header());
        assert_eq!(header.as_deref(), Some("ot=rv:ffffffffffffff,a=b"));
        let second = limiter.should_sample(&params);
        assert_eq!(second.decision, SamplingDecision::Drop);
        let root = SamplingParameters::root(TraceId::from(1u128), "s", &kind);
        assert_eq!(limiter.should_sample(&root).trace_state, None);
    }

    /// The acceptance test: 2 threads contending for 10 seconds stay within
    /// ±5% of the configured rate (plus the initial burst). Takes 10 s; the
    /// threads pause between attempts to leave the CPU to others.
    #[test]
    fn two_threads_for_ten_seconds_stay_within_five_percent() {
        let rate = 500.0;
        let burst = 50;
        let limiter = RateLimiting::with_burst(rate, burst);
        let run_for = Duration::from_secs(10);
        let start = Instant::now();
        let counts: Vec<(u64, u64)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        let (mut attempts, mut admitted) = (0u64, 0u64);
                        while start.elapsed() < run_for {
                            for _ in 0..16 {
                                attempts += 1;
                                admitted += u64::from(limiter.try_acquire());
                            }
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        (attempts, admitted)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or((0, 0)))
                .collect()
        });
        let elapsed = start.elapsed().as_secs_f64();
        let attempts: u64 = counts.iter().map(|c| c.0).sum();
        let admitted: u64 = counts.iter().map(|c| c.1).sum();
        assert!(
            counts.iter().all(|c| c.1 > 0),
            "both threads admitted: {counts:?}"
        );
        // The load must exceed the rate for the limit to bind.
        assert!(
            attempts as f64 > 2.0 * rate * elapsed,
            "only {attempts} attempts"
        );
        let expected = f64::from(burst) + rate * elapsed;
        let error = (admitted as f64 - expected) / expected;
        assert!(
            error.abs() <= 0.05,
            "admitted {admitted}, expected {expected:.0} over {elapsed:.2} s ({:+.2}%)",
            error * 100.0
        );
    }
}
