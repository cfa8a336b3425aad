//! A cheap monotonic tick counter for the time-based samplers.
//!
//! `Instant::now()` costs tens of nanoseconds on many virtual machines, more
//! than a whole sampling decision should. Ticks are nanoseconds read through
//! `quanta`, the clock the SDK's spans use: the CPU's time stamp counter
//! where it is reliable, calibrated once per process against the OS
//! monotonic clock (a calibration the span clock shares), and the OS
//! monotonic clock elsewhere.

/// A monotonic clock counting ticks (nanoseconds) since it was created.
#[derive(Clone, Debug)]
pub(crate) struct TickClock {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Quanta {
        clock: quanta::Clock,
        origin: u64,
    },
    /// A hand-driven clock for deterministic tests.
    #[cfg(test)]
    Manual(&'static std::sync::atomic::AtomicU64),
}

impl TickClock {
    /// A clock whose tick 0 is now.
    pub(crate) fn new() -> TickClock {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        TickClock {
            source: Source::Quanta { clock, origin },
        }
    }

    /// A clock that reads `ticks` (leaked for the test's lifetime), one
    /// billion ticks per second.
    #[cfg(test)]
    pub(crate) fn manual(ticks: &'static std::sync::atomic::AtomicU64) -> TickClock {
        TickClock {
            source: Source::Manual(ticks),
        }
    }

    /// Ticks elapsed since the clock was created.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match &self.source {
            // A core whose counter is a hair behind the origin's reads 0.
            Source::Quanta { clock, origin } => clock.delta_as_nanos(*origin, clock.raw()),
            #[cfg(test)]
            Source::Manual(ticks) => ticks.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// How many ticks make one second.
    pub(crate) fn ticks_per_second(&self) -> u64 {
        1_000_000_000
    }

    /// The number of ticks in `seconds` (rounded, at least 1).
    pub(crate) fn ticks_in(&self, seconds: f64) -> u64 {
        let ticks = (seconds * self.ticks_per_second() as f64).round();
        if ticks.is_nan() || ticks < 1.0 {
            1
        } else if ticks >= u64::MAX as f64 {
            u64::MAX
        } else {
            ticks as u64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

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
        let clock = TickClock::new();
        assert_eq!(clock.ticks_per_second(), 1_000_000_000);
        assert_eq!(clock.ticks_in(0.001), 1_000_000);
        assert_eq!(clock.ticks_in(0.0), 1);
        assert_eq!(clock.ticks_in(f64::NAN), 1);
        assert_eq!(clock.ticks_in(f64::INFINITY), u64::MAX);
        let a = clock.now();
        assert!(clock.now() >= a);
    }
}
