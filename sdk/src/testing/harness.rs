//! [`TestProvider`]: a tracer provider wired to an in-memory exporter, for
//! users' own tests.

use super::Spans;
use crate::export::memory::InMemoryExporter;
use crate::trace::{Tracer, TracerProvider, TracerProviderBuilder};
use std::borrow::Cow;

/// A [`TracerProvider`] that exports synchronously into an
/// [`InMemoryExporter`], so spans are readable as soon as they end.
///
/// ```
/// use opentelemetry::trace::{Span as _, Tracer as _};
/// use opentelemetry::KeyValue;
/// use tracekit::testing::TestProvider;
///
/// let test = TestProvider::new();
/// let tracer = test.tracer("orders");
/// tracer.in_span("checkout", |_cx| {
///     let mut span = tracer.start("charge");
///     span.set_attribute(KeyValue::new("payment.method", "card"));
///     span.end();
/// });
/// let spans = test.spans();
/// spans.assert_parent("charge", "checkout");
/// spans.assert_attribute("charge", "payment.method", "card");
/// ```
#[derive(Clone, Debug)]
pub struct TestProvider {
    provider: TracerProvider,
    exporter: InMemoryExporter,
}

impl Default for TestProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl TestProvider {
    /// A provider with the default sampler and limits.
    pub fn new() -> Self {
        Self::with_builder(TracerProvider::builder())
    }

    /// A provider from `builder` (sampler, limits, resource...), with the
    /// in-memory exporter added behind a simple processor.
    pub fn with_builder(builder: TracerProviderBuilder) -> Self {
        let exporter = InMemoryExporter::new();
        let provider = builder.with_simple_exporter(exporter.clone()).build();
        TestProvider { provider, exporter }
    }

    /// A tracer of the provider.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.provider.tracer(name)
    }

    /// The provider itself.
    pub fn provider(&self) -> &TracerProvider {
        &self.provider
    }

    /// The exporter.
    pub fn exporter(&self) -> &InMemoryExporter {
        &self.exporter
    }

    /// Every span finished so far.
    pub fn spans(&self) -> Spans {
        self.exporter.spans()
    }

    /// Forget the spans finished so far.
    pub fn reset(&self) {
        self.exporter.reset()
    }
}
