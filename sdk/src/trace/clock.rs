//! The span clock: one cheap monotonic read per span start and end.
//!
//! Reading the wall clock and the monotonic clock through the operating
//! system costs tens of nanoseconds each, more than the rest of a span
//! start. tracekit reads a monotonic cycle counter instead (through
//! `quanta`, which calibrates it against the OS monotonic clock and falls
//! back to that clock where the counter is not reliable), and maps counter
//! values to wall-clock time through an anchor: a (counter, wall-clock) pair
//! re-read from the OS at most once a second, so a stepped system clock is
//! followed within a second. A span's end time is its start time plus the
//! monotonic duration, so durations never go negative.

use crate::sync::Mutex;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

/// Re-anchor the mapping to wall-clock time when it is older than this.
const ANCHOR_MAX_AGE_NANOS: u64 = 1_000_000_000;

/// A seqlock-protected anchor: readers never block or write shared memory.
struct Anchor {
    seq: AtomicU64,
    raw: AtomicU64,
    wall_nanos: AtomicU64,
    writer: Mutex<()>,
}

static ANCHOR: Anchor = Anchor::new();

#[inline]
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(|| {
        let clock = quanta::Clock::new();
        ANCHOR.store(&clock);
        clock
    })
}

fn wall_nanos_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Anchor {
    /// An anchor at counter value zero and wall time zero: stale from the
    /// start, so the first mapping renews it.
    const fn new() -> Anchor {
        Anchor {
            seq: AtomicU64::new(0),
            raw: AtomicU64::new(0),
            wall_nanos: AtomicU64::new(0),
            writer: Mutex::new(()),
        }
    }

    /// Re-read the (counter, wall-clock) pair now.
    fn store(&self, clock: &quanta::Clock) {
        let Some(_guard) = self.writer.try_lock() else {
            return; // another thread is re-anchoring right now
        };
        let raw = clock.raw();
        let wall = wall_nanos_now();
        self.seq.fetch_add(1, Ordering::AcqRel);
        self.raw.store(raw, Ordering::Relaxed);
        self.wall_nanos.store(wall, Ordering::Relaxed);
        self.seq.fetch_add(1, Ordering::Release);
    }

    #[inline]
    fn load(&self) -> (u64, u64) {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            let raw = self.raw.load(Ordering::Relaxed);
            let wall = self.wall_nanos.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if s1 & 1 == 0 && self.seq.load(Ordering::Relaxed) == s1 {
                return (raw, wall);
            }
            std::hint::spin_loop();
        }
    }

    /// The wall-clock time of counter value `raw`, renewing the anchor
    /// first when it is older than [`ANCHOR_MAX_AGE_NANOS`]: extrapolated
    /// over a long idle time, the counter's calibration error (tens of
    /// microseconds a second) would misplace the span being started
    /// against its children, which start after the renewal.
    #[inline]
    fn wall_time(&self, clock: &quanta::Clock, raw: u64) -> SystemTime {
        let (mut anchor_raw, mut anchor_wall) = self.load();
        // Zero when `raw` is not after the anchor.
        let mut ahead = clock.delta_as_nanos(anchor_raw, raw);
        if ahead > ANCHOR_MAX_AGE_NANOS {
            self.store(clock);
            (anchor_raw, anchor_wall) = self.load();
            ahead = clock.delta_as_nanos(anchor_raw, raw);
        }
        let wall = if raw >= anchor_raw {
            anchor_wall.saturating_add(ahead)
        } else {
            anchor_wall.saturating_sub(clock.delta_as_nanos(raw, anchor_raw))
        };
        UNIX_EPOCH + Duration::from_nanos(wall)
    }
}

/// Make sure the clock is calibrated (the first call takes a few
/// milliseconds); called when a provider is built so no span pays for it.
pub(crate) fn warm_up() {
    let _ = clock();
}

/// The current counter value.
#[inline]
pub(crate) fn now_raw() -> u64 {
    clock().raw()
}

/// Nanoseconds between two counter values (zero if `end` is not after
/// `start`).
#[inline]
pub(crate) fn nanos_between(start: u64, end: u64) -> u64 {
    clock().delta_as_nanos(start, end)
}

/// The wall-clock time of counter value `raw`.
#[inline]
pub(crate) fn wall_time(raw: u64) -> SystemTime {
    ANCHOR.wall_time(clock(), raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_tracks_the_system_clock() {
        let before = SystemTime::now();
        let t = wall_time(now_raw());
        let after = SystemTime::now();
        // Calibration error is far below this tolerance.
        let slack = Duration::from_millis(50);
        assert!(t + slack >= before, "{t:?} < {before:?}");
        assert!(t <= after + slack, "{t:?} > {after:?}");
    }

    #[test]
    fn durations_are_monotonic() {
        let a = now_raw();
        std::thread::sleep(Duration::from_millis(5));
        let b = now_raw();
        let nanos = nanos_between(a, b);
        assert!(nanos >= 4_000_000, "{nanos}");
        assert_eq!(nanos_between(b, a), 0);
    }

    #[test]
    fn a_stale_anchor_is_renewed_before_a_time_is_mapped_from_it() {
        // An anchor of its own (the process-wide one stays untouched for
        // the tests running beside this one), stale and wrong: counter
        // zero at wall time zero. Mapping from it before renewing would
        // give a time in 1970.
        let clock = clock();
        let anchor = Anchor::new();
        let before = SystemTime::now();
        let t = anchor.wall_time(clock, clock.raw());
        let after = SystemTime::now();
        // Mapped from the renewed anchor.
        let slack = Duration::from_millis(5);
        assert!(t + slack >= before, "{t:?} < {before:?}");
        assert!(t <= after + slack, "{t:?} > {after:?}");
    }

    #[test]
    fn earlier_counter_values_map_to_earlier_times() {
        let a = now_raw();
        std::thread::sleep(Duration::from_millis(2));
        let b = now_raw();
        assert!(wall_time(a) < wall_time(b));
    }
}
