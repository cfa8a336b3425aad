//! [`InMemoryExporter`]: keeps finished spans in memory for tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::sync::Mutex;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::testing::Spans;

/// A [`SpanExporter`] that stores every exported span. Clones share the
/// storage: keep one handle, give the other to the pipeline, and read what
/// arrived.
///
/// ```
/// use opentelemetry_sdk::trace::SpanExporter;
/// use tracekit::export::memory::InMemoryExporter;
/// use tracekit::testing::SpanDataBuilder;
///
/// let exporter = InMemoryExporter::new();
/// let handle = exporter.clone();
/// futures_executor::block_on(exporter.export(vec![SpanDataBuilder::new("work").build()])).unwrap();
/// assert_eq!(handle.finished_spans().len(), 1);
/// assert_eq!(handle.spans().get("work").name, "work");
/// handle.reset();
/// assert!(handle.finished_spans().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryExporter {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    spans: Mutex<Vec<SpanData>>,
    resource: Mutex<Option<Resource>>,
    shut_down: AtomicBool,
}

impl InMemoryExporter {
    /// An empty exporter.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every span exported so far, in export order.
    pub fn finished_spans(&self) -> Vec<SpanData> {
        self.shared.spans.lock().clone()
    }

    /// The finished spans wrapped for assertions.
    pub fn spans(&self) -> Spans {
        Spans::new(self.finished_spans())
    }

    /// Forget the spans exported so far.
    pub fn reset(&self) {
        self.shared.spans.lock().clear();
    }

    /// The resource the pipeline gave this exporter, if any.
    pub fn resource(&self) -> Option<Resource> {
        self.shared.resource.lock().clone()
    }

    /// Whether the pipeline shut this exporter down.
    pub fn is_shut_down(&self) -> bool {
        self.shared.shut_down.load(Ordering::Acquire)
    }
}

impl SpanExporter for InMemoryExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.is_shut_down() {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        self.shared.spans.lock().extend(batch);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        if self.shared.shut_down.swap(true, Ordering::AcqRel) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            Ok(())
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        *self.shared.resource.lock() = Some(resource.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SpanDataBuilder;

    #[test]
    fn clones_share_storage_and_shutdown_stops_export() {
        let mut exporter = InMemoryExporter::new();
        let handle = exporter.clone();
        exporter.set_resource(&Resource::builder_empty().with_service_name("svc").build());
        futures_executor::block_on(exporter.export(vec![SpanDataBuilder::new("a").build()]))
            .unwrap();
        assert_eq!(handle.finished_spans().len(), 1);
        assert!(handle.resource().is_some());
        exporter.shutdown().unwrap();
        assert!(handle.is_shut_down());
        assert!(futures_executor::block_on(exporter.export(vec![])).is_err());
        assert!(exporter.shutdown().is_err());
        assert_eq!(handle.finished_spans().len(), 1);
        handle.reset();
        assert!(handle.finished_spans().is_empty());
    }
}
