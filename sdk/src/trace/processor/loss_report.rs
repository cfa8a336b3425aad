//! When spans are lost (a full queue, failing exports), standard error
//! says so: the first loss at once, then at most one summary a minute
//! while losses go on, and one line when they stop. Never silent, never a
//! line per span.

use std::time::{Duration, Instant};

/// Shortest time between two summaries of an ongoing loss.
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// A loss counter that has not grown for this long has stopped.
pub(crate) const QUIET_AFTER: Duration = Duration::from_secs(10);

/// What to tell the user about one loss counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LossLine {
    /// The first loss of a run: `new` lost, `total` in all.
    First { new: u64, total: u64 },
    /// Losses go on: `new` more since the last line, written `since` ago.
    Summary {
        new: u64,
        total: u64,
        since: Duration,
    },
    /// Losses stopped: `new` since the last line, `total` in all.
    Stopped { new: u64, total: u64 },
}

/// The state of one monotonically growing loss counter's reporting.
#[derive(Debug, Default)]
pub(crate) struct LossReport {
    /// The counter's value when the last line was written.
    reported: u64,
    /// The counter's value when last observed, and when it last grew.
    seen: u64,
    last_growth: Option<Instant>,
    /// When the last line was written; `None` outside a run of losses.
    last_line: Option<Instant>,
}

impl LossReport {
    /// The counter is `total` at `now`: the first loss of a run, or a
    /// summary when a minute has passed since the last line.
    pub(crate) fn observe(&mut self, now: Instant, total: u64) -> Option<LossLine> {
        if total > self.seen {
            self.seen = total;
            self.last_growth = Some(now);
        }
        if total <= self.reported {
            return None;
        }
        let new = total - self.reported;
        match self.last_line {
            None => {
                self.reported = total;
                self.last_line = Some(now);
                Some(LossLine::First { new, total })
            }
            Some(last) if now.saturating_duration_since(last) >= SUMMARY_EVERY => {
                self.reported = total;
                self.last_line = Some(now);
                Some(LossLine::Summary {
                    new,
                    total,
                    since: now.saturating_duration_since(last),
                })
            }
            Some(_) => None,
        }
    }

    /// End the run of losses when the counter has not grown for
    /// [`QUIET_AFTER`].
    pub(crate) fn stop_if_quiet(&mut self, now: Instant) -> Option<LossLine> {
        let quiet = self
            .last_growth
            .is_some_and(|grew| now.saturating_duration_since(grew) >= QUIET_AFTER);
        if quiet {
            self.stop()
        } else {
            None
        }
    }

    /// End the run of losses (what stopped them is known: an export
    /// succeeded, say).
    pub(crate) fn stop(&mut self) -> Option<LossLine> {
        self.last_line.take()?;
        let line = LossLine::Stopped {
            new: self.seen - self.reported,
            total: self.seen,
        };
        self.reported = self.seen;
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_loss_at_once_then_a_summary_a_minute_then_one_when_quiet() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let mut report = LossReport::default();
        assert_eq!(report.observe(at(0), 0), None);
        assert_eq!(
            report.observe(at(1), 5),
            Some(LossLine::First { new: 5, total: 5 })
        );
        // Losses go on: nothing more within the minute.
        for s in 2..61 {
            assert_eq!(report.observe(at(s), 5 + s), None, "second {s}");
            assert_eq!(report.stop_if_quiet(at(s)), None);
        }
        assert_eq!(
            report.observe(at(61), 100),
            Some(LossLine::Summary {
                new: 95,
                total: 100,
                since: Duration::from_secs(60)
            })
        );
        assert_eq!(report.observe(at(62), 103), None);
        // Quiet for less than QUIET_AFTER: still a run.
        assert_eq!(report.stop_if_quiet(at(62) + QUIET_AFTER / 2), None);
        assert_eq!(
            report.stop_if_quiet(at(62) + QUIET_AFTER),
            Some(LossLine::Stopped { new: 3, total: 103 })
        );
        assert_eq!(report.stop_if_quiet(at(200)), None, "once");
        // A new run starts with a first line again.
        assert_eq!(
            report.observe(at(300), 104),
            Some(LossLine::First { new: 1, total: 104 })
        );
        assert_eq!(
            report.stop(),
            Some(LossLine::Stopped { new: 0, total: 104 })
        );
        assert_eq!(report.stop(), None);
    }
}
