//! [`Tracekit`]: a built pipeline, its provider and propagator.

use crate::redaction::{RedactionCounters, Redactor};
use crate::trace::{ProcessorError, SpanCounters, Tracer, TracerProvider};
use opentelemetry::propagation::TextMapPropagator;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tracekit_propagators::SharedPropagator;

/// A built pipeline: the provider and the propagator chosen for it.
pub struct Tracekit {
    pub(super) provider: TracerProvider,
    pub(super) propagator: SharedPropagator,
    pub(super) redactor: Arc<Redactor>,
    pub(super) shutdown_timeout: Duration,
    pub(super) export_summary: Arc<str>,
}

impl std::fmt::Debug for Tracekit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracekit")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Tracekit {
    /// The same pipeline, shared.
    pub(super) fn share(&self) -> Tracekit {
        Tracekit {
            provider: self.provider.clone(),
            propagator: self.propagator.clone(),
            redactor: Arc::clone(&self.redactor),
            shutdown_timeout: self.shutdown_timeout,
            export_summary: Arc::clone(&self.export_summary),
        }
    }

    /// Where spans go, in words: `OTLP (http/protobuf) at
    /// http://localhost:4318/v1/traces`, `the console waterfall on standard
    /// output`, exporters and processors of your own, or `nowhere: ...`.
    /// [`TracekitBuilder::install`](crate::TracekitBuilder::install)'s start-up line shows it.
    ///
    /// ```
    /// let tk = tracekit::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "console")])
    ///     .build();
    /// assert_eq!(tk.export_summary(), "the console waterfall on standard output");
    /// ```
    pub fn export_summary(&self) -> &str {
        &self.export_summary
    }

    /// The tracer provider.
    pub fn provider(&self) -> &TracerProvider {
        &self.provider
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.provider.tracer(name)
    }

    /// The propagator (from `OTEL_PROPAGATORS` unless code chose one).
    pub fn propagator(&self) -> &(dyn TextMapPropagator + Send + Sync) {
        &self.propagator
    }

    /// The span counters.
    pub fn counters(&self) -> SpanCounters {
        self.provider.counters()
    }

    /// How many values each redaction rule has redacted so far.
    pub fn redaction_counters(&self) -> RedactionCounters {
        self.redactor.counters()
    }

    /// Flush and shut down, waiting at most the configured timeout.
    pub fn shutdown(&self) -> Result<(), ProcessorError> {
        self.provider.shutdown(self.shutdown_timeout)
    }
}
