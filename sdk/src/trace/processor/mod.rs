//! Span processors: what happens to spans when they start and end.
//!
//! The provider calls every processor in order. [`SimpleSpanProcessor`]
//! exports each sampled span synchronously (tests, debugging);
//! [`BatchSpanProcessor`] queues them without blocking and exports batches
//! from its own thread. Both pass only sampled spans to their exporter:
//! `RecordOnly` spans reach processors but never exporters.

mod batch;
mod export_sink;
pub(crate) mod loss_report;
mod simple;

pub use batch::{BatchConfig, BatchSpanProcessor};
pub(crate) use export_sink::{sink_for, ExportSink};
pub use simple::SimpleSpanProcessor;

use super::counters::SpanCounters;
use super::finished_span::FinishedSpan;
use super::span::Span;
use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use std::fmt::Debug;
use std::time::Duration;

/// Why a flush or shutdown did not complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessorError {
    /// The deadline passed before the work was done; it continues in the
    /// background.
    Timeout,
    /// The processor was already shut down.
    AlreadyShutdown,
    /// The exporter reported a failure.
    Export(String),
}

impl std::fmt::Display for ProcessorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessorError::Timeout => f.write_str("timed out"),
            ProcessorError::AlreadyShutdown => f.write_str("already shut down"),
            ProcessorError::Export(e) => write!(f, "export failed: {e}"),
        }
    }
}

impl std::error::Error for ProcessorError {}

/// Receives spans as they start and end.
///
/// `on_start` and `on_end` run on the application's thread: they must not
/// block. `force_flush` and `shutdown` may wait, but never longer than the
/// timeout they are given.
pub trait SpanProcessor: Send + Sync + Debug {
    /// Called when a recording span starts; it may add attributes.
    fn on_start(&self, _span: &mut Span, _parent: &Context) {}

    /// Called when a recording span ends, with the span moved in. Sampled
    /// spans (`span.span_context().is_sampled()`) may be exported;
    /// `RecordOnly` spans must not be.
    fn on_end(&self, span: FinishedSpan);

    /// Export everything ended before this call, waiting at most `timeout`.
    fn force_flush(&self, timeout: Duration) -> Result<(), ProcessorError>;

    /// Flush, then release the exporter; later spans are dropped.
    fn shutdown(&self, timeout: Duration) -> Result<(), ProcessorError>;

    /// Called once by the provider with its resource, before any span.
    fn set_resource(&self, _resource: &Resource) {}

    /// Add this processor's counters (exported, dropped, failures).
    fn add_counters(&self, _counters: &mut SpanCounters) {}

    /// Register this processor's own metrics on `meter` (see
    /// [`TracerProvider::register_self_metrics`](crate::TracerProvider::register_self_metrics));
    /// `index` is its place among the provider's processors, for its
    /// `otel.component.name`. Nothing by default.
    fn register_metrics(&self, _meter: &opentelemetry::metrics::Meter, _index: usize) {}
}
