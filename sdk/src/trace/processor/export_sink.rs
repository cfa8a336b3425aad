//! An object-safe face for the official SDK's `SpanExporter`, so processors
//! can own any exporter behind one pointer.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// What processors need from an exporter, callable from a plain thread.
pub(crate) trait ExportSink: Send {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult;
    fn force_flush(&mut self) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

/// Adapts any `SpanExporter`: its export future is driven to completion on
/// the calling thread (the processor's own thread), so no async runtime is
/// required of the application.
pub(crate) struct SinkExporter<E>(pub(crate) E);

impl<E: SpanExporter> ExportSink for SinkExporter<E> {
    fn export(&mut self, batch: Vec<SpanData>) -> OTelSdkResult {
        futures_executor::block_on(self.0.export(batch))
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
