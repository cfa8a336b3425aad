//! [`TracekitGuard`]: keeps the installed pipeline running and shuts it
//! down when dropped.

use super::pipeline::Tracekit;
use crate::redaction::RedactionCounters;
use crate::trace::{ProcessorError, SpanCounters, Tracer, TracerProvider};
use std::borrow::Cow;

/// Keeps tracekit running; dropping it flushes and shuts down within the
/// shutdown timeout (10 s by default), from any thread or async runtime.
///
/// Bind it to a named variable that lives as long as the program:
/// `let _guard = tracekit::init();`. `let _ = tracekit::init();` drops it
/// on that very line, and nothing is exported afterwards. The guard of a
/// second `init()` (see [`init`](crate::init)) does not own the pipeline: dropping it
/// does nothing and [`shutdown`](Self::shutdown) only flushes.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// tracekit::init(); // error: the guard must be used (bound)
/// ```
#[must_use = "bind the guard for as long as the program runs: `let _guard = tracekit::init();` \
              (`let _ = ...` drops it at once: tracekit shuts down and exports nothing)"]
#[derive(Debug)]
pub struct TracekitGuard {
    pub(super) tracekit: Tracekit,
    pub(super) shut_down: bool,
    pub(super) owns_pipeline: bool,
}

impl TracekitGuard {
    /// The installed pipeline.
    pub fn tracekit(&self) -> &Tracekit {
        &self.tracekit
    }

    /// The installed tracer provider.
    pub fn provider(&self) -> &TracerProvider {
        &self.tracekit.provider
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.tracekit.tracer(name)
    }

    /// The span counters.
    pub fn counters(&self) -> SpanCounters {
        self.tracekit.counters()
    }

    /// How many values each redaction rule has redacted so far.
    pub fn redaction_counters(&self) -> RedactionCounters {
        self.tracekit.redaction_counters()
    }

    /// Flush everything ended so far.
    pub fn force_flush(&self) -> Result<(), ProcessorError> {
        self.tracekit
            .provider
            .force_flush(self.tracekit.shutdown_timeout)
    }

    /// Shut down now and report how it went (dropping the guard shuts
    /// down too, and prints the totals line on standard error if spans
    /// were lost). The guard of a second `init()` only flushes.
    pub fn shutdown(mut self) -> Result<(), ProcessorError> {
        self.shut_down = true;
        if self.owns_pipeline {
            self.tracekit.shutdown()
        } else {
            self.force_flush()
        }
    }
}

impl Drop for TracekitGuard {
    /// Shut down, then say on standard error what was lost, if anything
    /// was ([`SpanCounters::summary_line`]).
    fn drop(&mut self) {
        if self.owns_pipeline && !self.shut_down {
            if let Err(ProcessorError::Timeout) = self.tracekit.shutdown() {
                // An export still waiting for its answer (a collector that
                // accepts connections but does not reply): no failure line
                // names the endpoint, so this one does.
                eprintln!(
                    "tracekit: the final export did not finish within the shutdown timeout \
                     ({:?}; spans go to {}): spans not exported by then are dropped",
                    self.tracekit.shutdown_timeout, self.tracekit.export_summary
                );
            }
            if let Some(line) = self.tracekit.counters().summary_line() {
                eprintln!("{line}");
            }
        }
    }
}
