//! An object-safe face for exporters, so processors can own any exporter
//! behind one pointer.

use crate::export::otlp::OtlpExporter;
use crate::trace::FinishedSpan;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use std::any::Any;
use std::time::Duration;

/// What processors need from an exporter, callable from a plain thread.
pub(crate) trait ExportSink: Send {
    /// Export the spans of `batch`, leaving it empty (its allocation is
    /// kept for the next batch).
    fn export(&mut self, batch: &mut Vec<FinishedSpan>) -> OTelSdkResult;
    fn force_flush(&mut self) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

/// Adapts any `SpanExporter`: spans are converted to `SpanData` and its
/// export future is driven to completion on the calling thread (the
/// processor's own thread), so no async runtime is required of the
/// application.
pub(crate) struct SinkExporter<E>(pub(crate) E);

impl<E: SpanExporter> ExportSink for SinkExporter<E> {
    fn export(&mut self, batch: &mut Vec<FinishedSpan>) -> OTelSdkResult {
        let data = batch.drain(..).map(FinishedSpan::into_span_data).collect();
        futures_executor::block_on(self.0.export(data))
    }
    fn force_flush(&mut self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource)
    }
}

/// The sink for `exporter`: tracekit's [`OtlpExporter`] takes finished
/// spans as they are (over http/protobuf it encodes them without building
/// `SpanData`); any other exporter gets `SpanData`.
pub(crate) fn sink_for<E: SpanExporter + 'static>(exporter: E) -> Box<dyn ExportSink> {
    let mut slot = Some(exporter);
    let otlp = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<OtlpExporter>>()
        .and_then(Option::take);
    match (otlp, slot) {
        (Some(otlp), _) => Box::new(otlp),
        (None, Some(exporter)) => Box::new(SinkExporter(exporter)),
        // The slot is emptied only when it held an OtlpExporter.
        (None, None) => unreachable!("an exporter is always there"),
    }
}
