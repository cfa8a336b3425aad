//! Counters the application can read: spans started, ended, exported,
//! dropped, and export failures.
//!
//! Counters touched on the application's threads are striped across
//! cache-line-padded cells, so threads creating spans concurrently don't
//! fight over one cache line; reading sums the cells.

use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const STRIPES: usize = 8;

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

/// A monotonically increasing counter, cheap to bump from many threads.
#[derive(Debug, Default)]
pub(crate) struct StripedCounter {
    cells: [CachePadded<AtomicU64>; STRIPES],
}

impl StripedCounter {
    /// Add one.
    #[inline]
    pub(crate) fn incr(&self) {
        let stripe = STRIPE.try_with(|s| *s).unwrap_or(0);
        self.cells[stripe].fetch_add(1, Ordering::Relaxed);
    }

    /// The current total.
    pub(crate) fn get(&self) -> u64 {
        self.cells.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// A snapshot of a provider's span counters.
///
/// At any quiescent point (after `force_flush`, or once `shutdown` has
/// returned, even when it timed out), `exported + dropped()` equals the
/// sampled spans ended into exporting processors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpanCounters {
    /// Recording spans started (RecordOnly and RecordAndSample).
    pub started: u64,
    /// Recording spans ended.
    pub ended: u64,
    /// Spans the exporters accepted.
    pub exported: u64,
    /// Spans dropped because a processor's queue was full.
    pub dropped_queue_full: u64,
    /// Spans dropped because their export failed (after retries) or timed out.
    pub dropped_export_failed: u64,
    /// Export calls that failed.
    pub export_failures: u64,
    /// Spans given up at shutdown: ended after the processor shut down, or
    /// still queued or being exported when shutdown ran out of time (a
    /// collector that never answers, say).
    pub dropped_at_shutdown: u64,
}

impl SpanCounters {
    /// All spans dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.dropped_export_failed + self.dropped_at_shutdown
    }

    /// One line with the totals when anything was dropped or an export
    /// failed, for the end of the program; `None` when all went well.
    ///
    /// ```
    /// use tracekit::SpanCounters;
    ///
    /// let fine = SpanCounters { ended: 10, exported: 10, ..SpanCounters::default() };
    /// assert_eq!(fine.summary_line(), None);
    /// let lossy = SpanCounters { ended: 10, exported: 7, dropped_queue_full: 3, ..fine };
    /// assert_eq!(
    ///     lossy.summary_line().as_deref(),
    ///     Some("tracekit: 10 spans ended, 7 exported, 3 dropped (3 queue full, 0 export failed, 0 at shutdown), 0 failed exports")
    /// );
    /// ```
    pub fn summary_line(&self) -> Option<String> {
        (self.dropped() > 0 || self.export_failures > 0).then(|| {
            format!(
                "tracekit: {} spans ended, {} exported, {} dropped ({} queue full, {} export failed, {} at shutdown), {} failed exports",
                self.ended,
                self.exported,
                self.dropped(),
                self.dropped_queue_full,
                self.dropped_export_failed,
                self.dropped_at_shutdown,
                self.export_failures
            )
        })
    }
}

/// Counters kept by an exporting processor.
#[derive(Debug, Default)]
pub(crate) struct ExportCounters {
    pub(crate) exported: AtomicU64,
    pub(crate) dropped_queue_full: StripedCounter,
    pub(crate) dropped_export_failed: AtomicU64,
    pub(crate) export_failures: AtomicU64,
    pub(crate) dropped_at_shutdown: AtomicU64,
}

impl ExportCounters {
    /// Record the outcome of one export call of `n` spans.
    pub(crate) fn record_export(&self, n: usize, ok: bool) {
        if ok {
            self.exported.fetch_add(n as u64, Ordering::Relaxed);
        } else {
            self.dropped_export_failed
                .fetch_add(n as u64, Ordering::Relaxed);
            self.export_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Add these counters into `snapshot`.
    pub(crate) fn add_to(&self, snapshot: &mut SpanCounters) {
        snapshot.exported += self.exported.load(Ordering::Relaxed);
        snapshot.dropped_queue_full += self.dropped_queue_full.get();
        snapshot.dropped_export_failed += self.dropped_export_failed.load(Ordering::Relaxed);
        snapshot.export_failures += self.export_failures.load(Ordering::Relaxed);
        snapshot.dropped_at_shutdown += self.dropped_at_shutdown.load(Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn striped_counter_sums_across_threads() {
        let counter = std::sync::Arc::new(StripedCounter::default());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let c = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        c.incr();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.get(), 4000);
    }

    #[test]
    fn export_outcomes_are_counted() {
        let counters = ExportCounters::default();
        counters.record_export(10, true);
        counters.record_export(3, false);
        counters.dropped_queue_full.incr();
        let mut snap = SpanCounters::default();
        counters.add_to(&mut snap);
        assert_eq!(snap.exported, 10);
        assert_eq!(snap.dropped_export_failed, 3);
        assert_eq!(snap.export_failures, 1);
        assert_eq!(snap.dropped(), 4);
    }
}
