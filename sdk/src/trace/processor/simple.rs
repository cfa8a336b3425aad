//! [`SimpleSpanProcessor`]: export each sampled span as it ends, on the
//! caller's thread. For tests and debugging, not production.

use super::{sink_for, ExportSink, ProcessorError, SpanProcessor};
use crate::sync::Mutex;
use crate::trace::counters::{ExportCounters, SpanCounters};
use crate::trace::finished_span::FinishedSpan;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Exports every sampled span synchronously when it ends.
pub struct SimpleSpanProcessor {
    exporter: Mutex<Box<dyn ExportSink>>,
    counters: ExportCounters,
    is_shutdown: AtomicBool,
}

impl std::fmt::Debug for SimpleSpanProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimpleSpanProcessor")
            .finish_non_exhaustive()
    }
}

impl SimpleSpanProcessor {
    /// A processor exporting to `exporter`.
    pub fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        SimpleSpanProcessor {
            exporter: Mutex::new(sink_for(exporter)),
            counters: ExportCounters::default(),
            is_shutdown: AtomicBool::new(false),
        }
    }
}

impl SpanProcessor for SimpleSpanProcessor {
    fn on_end(&self, span: FinishedSpan) {
        if !span.span_context().is_sampled() {
            return;
        }
        if self.is_shutdown.load(Ordering::Relaxed) {
            self.counters.dropped_queue_full.incr();
            return;
        }
        // The exporter's own telemetry must not feed back into the pipeline.
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let result = self.exporter.lock().export(&mut vec![span]);
        self.counters.record_export(1, result.is_ok());
    }

    fn force_flush(&self, _timeout: Duration) -> Result<(), ProcessorError> {
        self.exporter
            .lock()
            .force_flush()
            .map_err(|e| ProcessorError::Export(e.to_string()))
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), ProcessorError> {
        if self.is_shutdown.swap(true, Ordering::SeqCst) {
            return Err(ProcessorError::AlreadyShutdown);
        }
        self.exporter
            .lock()
            .shutdown(timeout)
            .map_err(|e| ProcessorError::Export(e.to_string()))
    }

    fn set_resource(&self, resource: &Resource) {
        self.exporter.lock().set_resource(resource);
    }

    fn add_counters(&self, counters: &mut SpanCounters) {
        self.counters.add_to(counters);
    }
}
