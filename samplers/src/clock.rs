//! A cheap monotonic tick counter for the time-based samplers.
//!
//! `Instant::now()` costs tens of nanoseconds on many virtual machines, more
//! than a whole sampling decision should. On x86-64 Linux, when the kernel
//! itself trusts the time stamp counter (its clocksource is `tsc`, which it
//! only selects when the TSC is invariant and synchronised across cores),
//! ticks are read with `rdtsc` and converted with a rate calibrated once per
//! process against `Instant`. Everywhere else ticks are nanoseconds of
//! `Instant`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A monotonic clock counting ticks since it was created.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TickClock {
    source: Source,
    ticks_per_second: u64,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    Instant(Instant),
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    Tsc(u64),
    /// A hand-driven clock for deterministic tests.
    #[cfg(test)]
    Manual(&'static std::sync::atomic::AtomicU64),
}

impl TickClock {
    /// A clock whose tick 0 is now.
    pub(crate) fn new() -> TickClock {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if let Some(rate) = tsc::ticks_per_second() {
            return TickClock {
                source: Source::Tsc(tsc::read()),
                ticks_per_second: rate,
            };
        }
        Self::from_instant()
    }

    /// A clock reading `Instant` (nanosecond ticks), whatever the platform.
    pub(crate) fn from_instant() -> TickClock {
        TickClock {
            source: Source::Instant(Instant::now()),
            ticks_per_second: 1_000_000_000,
        }
    }

    /// A clock that reads `ticks` (leaked for the test's lifetime), one
    /// billion ticks per second.
    #[cfg(test)]
    pub(crate) fn manual(ticks: &'static std::sync::atomic::AtomicU64) -> TickClock {
        TickClock {
            source: Source::Manual(ticks),
            ticks_per_second: 1_000_000_000,
        }
    }

    /// Ticks elapsed since the clock was created.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self.source {
            Source::Instant(origin) => {
                u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            // A core whose counter is a hair behind the origin's reads 0.
            Source::Tsc(origin) => tsc::read().saturating_sub(origin),
            #[cfg(test)]
            Source::Manual(ticks) => ticks.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// How many ticks make one second.
    pub(crate) fn ticks_per_second(&self) -> u64 {
        self.ticks_per_second
    }

    /// The number of ticks in `seconds` (rounded, at least 1).
    pub(crate) fn ticks_in(&self, seconds: f64) -> u64 {
        let ticks = (seconds * self.ticks_per_second as f64).round();
        if ticks.is_nan() || ticks < 1.0 {
            1
        } else if ticks >= u64::MAX as f64 {
            u64::MAX
        } else {
            ticks as u64
        }
    }
}

static CALIBRATION: OnceLock<Option<u64>> = OnceLock::new();

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod tsc {
    use super::*;

    #[inline]
    pub(super) fn read() -> u64 {
        // SAFETY: `rdtsc` exists on every x86-64 processor and has no
        // preconditions; it only reads the time stamp counter.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// The counter's rate, calibrated once per process; `None` when the
    /// kernel does not use the TSC as its clocksource.
    pub(super) fn ticks_per_second() -> Option<u64> {
        *CALIBRATION.get_or_init(|| {
            let source = std::fs::read_to_string(
                "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            )
            .ok()?;
            if source.trim() != "tsc" {
                return None;
            }
            calibrate()
        })
    }

    /// A (tsc, instant) pair read as close together as possible: the best of
    /// a few attempts, so that a preemption does not skew the calibration.
    fn paired_reading() -> (u64, Instant) {
        let mut best: Option<(u64, u64, Instant)> = None;
        for _ in 0..7 {
            let before = read();
            let instant = Instant::now();
            let after = read();
            let spread = after.wrapping_sub(before);
            let better = match best {
                Some((best_spread, _, _)) => spread < best_spread,
                None => true,
            };
            if better {
                best = Some((spread, before + spread / 2, instant));
            }
        }
        match best {
            Some((_, tsc, instant)) => (tsc, instant),
            None => (read(), Instant::now()),
        }
    }

    fn calibrate() -> Option<u64> {
        let (tsc0, t0) = paired_reading();
        std::thread::sleep(Duration::from_millis(10));
        let (tsc1, t1) = paired_reading();
        let nanos = t1.duration_since(t0).as_nanos();
        let ticks = u128::from(tsc1.checked_sub(tsc0)?);
        if nanos == 0 {
            return None;
        }
        let rate = u64::try_from(ticks * 1_000_000_000 / nanos).ok()?;
        // Anything outside 100 MHz..100 GHz is not a sane TSC.
        (100_000_000..=100_000_000_000)
            .contains(&rate)
            .then_some(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_track_instant() {
        let clock = TickClock::new();
        let start = Instant::now();
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(50));
        let t1 = clock.now();
        let elapsed = start.elapsed().as_secs_f64();
        assert!(t1 > t0);
        let measured = (t1 - t0) as f64 / clock.ticks_per_second() as f64;
        // Generous bounds: only a grossly wrong calibration fails.
        assert!(
            measured > elapsed * 0.5 && measured < elapsed * 1.5 + 0.05,
            "measured {measured} s, elapsed {elapsed} s"
        );
    }

    #[test]
    fn tick_conversions() {
        let clock = TickClock::from_instant();
        assert_eq!(clock.ticks_per_second(), 1_000_000_000);
        assert_eq!(clock.ticks_in(0.001), 1_000_000);
        assert_eq!(clock.ticks_in(0.0), 1);
        assert_eq!(clock.ticks_in(f64::NAN), 1);
        assert_eq!(clock.ticks_in(f64::INFINITY), u64::MAX);
        let a = clock.now();
        assert!(clock.now() >= a);
    }
}
