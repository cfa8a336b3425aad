//! [`TracerProvider`]: owns the pipeline (sampler, limits, processors,
//! resource) and hands out [`Tracer`]s.

use super::counters::{SpanCounters, StripedCounter};
use super::export_prep::ExportPrep;
use super::finished_span::FinishedSpan;
use super::id_generator::IdGenerator;
use super::limits::SpanLimits;
use super::processor::{
    BatchConfig, BatchSpanProcessor, ProcessorError, SimpleSpanProcessor, SpanProcessor,
};
use super::self_metrics;
use super::span::Span;
use super::span_transform::SpanTransform;
use super::tracer::Tracer;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracekit_samplers::Sampler;

/// How long dropping the last handle of a provider waits for its final
/// export.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct ProviderInner {
    pub(crate) processors: Vec<Box<dyn SpanProcessor>>,
    pub(crate) sampler: Box<dyn Sampler>,
    /// `None`: the built-in random generator, called without dynamic dispatch.
    pub(crate) id_generator: Option<Box<dyn IdGenerator>>,
    pub(crate) limits: SpanLimits,
    pub(crate) export_prep: Arc<ExportPrep>,
    pub(crate) resource: Resource,
    pub(crate) started: StripedCounter,
    pub(crate) ended: StripedCounter,
    /// Unsampled spans, counted for the SDK's own metrics (apart, so that
    /// the provider's hot fields keep their places).
    pub(crate) unsampled: Box<UnsampledCounts>,
    pub(crate) is_shutdown: AtomicBool,
    /// `OTEL_SDK_DISABLED`: spans never record, context still propagates.
    pub(crate) disabled: bool,
}

/// Spans started unsampled, counted only once the SDK's own metrics are
/// collected (see `self_metrics`).
#[derive(Debug, Default)]
pub(crate) struct UnsampledCounts {
    /// Whether counting is on.
    pub(crate) counting: AtomicBool,
    /// Spans not recorded (`DROP`).
    pub(crate) not_recorded: StripedCounter,
    /// Recording spans not sampled (`RECORD_ONLY`).
    pub(crate) record_only: StripedCounter,
}

impl UnsampledCounts {
    /// Count one unsampled span (`record_only`: recorded all the same);
    /// out of line, the check in front of it being all the usual path pays.
    #[cold]
    #[inline(never)]
    fn count(&self, record_only: bool) {
        if record_only {
            self.record_only.incr();
        } else {
            self.not_recorded.incr();
        }
    }
}

impl std::fmt::Debug for ProviderInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerProvider")
            .field("processors", &self.processors)
            .field("sampler", &self.sampler)
            .field("limits", &self.limits)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl ProviderInner {
    /// Hand a finished span to every processor: the last one gets it moved,
    /// the others a copy (chaining is for development setups; the usual
    /// single processor costs no copy).
    #[inline]
    pub(crate) fn on_end(&self, span: FinishedSpan) {
        self.ended.incr();
        match self.processors.split_last() {
            Some((last, rest)) => {
                for p in rest {
                    p.on_end(span.clone());
                }
                last.on_end(span);
            }
            None => drop(span),
        }
    }

    /// An unsampled span started (`record_only`: recorded all the same):
    /// counted only while the SDK's own metrics are collected, so that
    /// the check is all it costs otherwise.
    #[inline]
    pub(crate) fn note_unsampled(&self, record_only: bool) {
        if self.unsampled.counting.load(Ordering::Relaxed) {
            self.unsampled.count(record_only);
        }
    }

    #[inline]
    pub(crate) fn on_start(&self, span: &mut Span, parent: &Context) {
        self.started.incr();
        for p in &self.processors {
            p.on_start(span, parent);
        }
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), ProcessorError> {
        if self.is_shutdown.swap(true, Ordering::SeqCst) {
            return Err(ProcessorError::AlreadyShutdown);
        }
        let deadline = Instant::now() + timeout;
        let mut result = Ok(());
        for p in &self.processors {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Err(e) = p.shutdown(remaining) {
                result = Err(e);
            }
        }
        result
    }
}

impl Drop for ProviderInner {
    fn drop(&mut self) {
        if !self.is_shutdown.load(Ordering::SeqCst) {
            let _ = self.shutdown(DROP_SHUTDOWN_TIMEOUT);
        }
        // No span of this provider is left; recycled span records may still
        // hold its tracers' scopes.
        super::record_pool::release_origins(&self.export_prep);
    }
}

/// Creates tracers and owns the span pipeline. Cheap to clone (one `Arc`).
///
/// ```
/// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
/// use tracekit::testing::InMemoryExporter;
/// use tracekit::TracerProvider;
///
/// let exporter = InMemoryExporter::default();
/// let provider = TracerProvider::builder()
///     .with_simple_exporter(exporter.clone())
///     .build();
/// provider.tracer("example").in_span("work", |_cx| {});
/// assert_eq!(exporter.finished_spans()[0].name, "work");
/// ```
#[derive(Clone, Debug)]
pub struct TracerProvider {
    pub(crate) inner: Arc<ProviderInner>,
}

impl TracerProvider {
    /// A builder with the defaults: `ParentBased(AlwaysOn)`, default limits,
    /// no processors, an empty resource.
    pub fn builder() -> TracerProviderBuilder {
        TracerProviderBuilder::default()
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.tracer_with_scope(InstrumentationScope::builder(name).build())
    }

    /// A tracer for a full instrumentation scope (name, version, schema URL,
    /// attributes).
    pub fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        Tracer::new(self.inner.clone(), scope)
    }

    /// Export everything ended so far, waiting at most `timeout` in all.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), ProcessorError> {
        let deadline = Instant::now() + timeout;
        let mut result = Ok(());
        for p in &self.inner.processors {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if let Err(e) = p.force_flush(remaining) {
                result = Err(e);
            }
        }
        result
    }

    /// Flush and shut every processor down, waiting at most `timeout` in all.
    /// Spans started afterwards don't record. Calling it twice returns
    /// [`ProcessorError::AlreadyShutdown`].
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ProcessorError> {
        self.inner.shutdown(timeout)
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.inner.is_shutdown.load(Ordering::SeqCst)
    }

    /// The resource describing this process.
    pub fn resource(&self) -> &Resource {
        &self.inner.resource
    }

    /// The span limits in force.
    pub fn span_limits(&self) -> &SpanLimits {
        &self.inner.limits
    }

    /// The sampler's description.
    pub fn sampler_description(&self) -> String {
        self.inner.sampler.description()
    }

    /// Record the SDK's own metrics through `meter_provider`, as the
    /// semantic conventions define them: `otel.sdk.span.started` and
    /// `otel.sdk.span.live`, and for each batch processor
    /// `otel.sdk.processor.span.queue.size`, `…queue.capacity`,
    /// `…processed` and the exporter's `otel.sdk.exporter.span.inflight`,
    /// `…span.exported` and `otel.sdk.exporter.operation.duration`.
    /// [`init`](crate::init) does this with the global meter provider (or
    /// the one given to the builder). The instruments read counters tracekit
    /// keeps anyway; a meter provider that never collects costs nothing.
    ///
    /// ```
    /// use opentelemetry::global;
    /// use tracekit::TracerProvider;
    ///
    /// let provider = TracerProvider::builder().build();
    /// provider.register_self_metrics(&*global::meter_provider());
    /// ```
    pub fn register_self_metrics(&self, meter_provider: &dyn MeterProvider) {
        let meter = self_metrics::meter(meter_provider);
        self_metrics::register_span_instruments(&meter, Arc::downgrade(&self.inner));
        for (index, processor) in self.inner.processors.iter().enumerate() {
            processor.register_metrics(&meter, index);
        }
    }

    /// A snapshot of the span counters, summed over all processors.
    pub fn counters(&self) -> SpanCounters {
        let mut counters = SpanCounters {
            started: self.inner.started.get(),
            ended: self.inner.ended.get(),
            ..SpanCounters::default()
        };
        for p in &self.inner.processors {
            p.add_counters(&mut counters);
        }
        counters
    }
}

impl opentelemetry::trace::TracerProvider for TracerProvider {
    type Tracer = Tracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> Tracer {
        TracerProvider::tracer_with_scope(self, scope)
    }
}

/// Builds a [`TracerProvider`].
#[derive(Debug)]
pub struct TracerProviderBuilder {
    processors: Vec<Box<dyn SpanProcessor>>,
    sampler: Box<dyn Sampler>,
    id_generator: Option<Box<dyn IdGenerator>>,
    limits: SpanLimits,
    transforms: Vec<Arc<dyn SpanTransform>>,
    resource: Resource,
    disabled: bool,
}

impl Default for TracerProviderBuilder {
    fn default() -> Self {
        TracerProviderBuilder {
            processors: Vec::new(),
            sampler: Box::new(tracekit_samplers::ParentBased::always_on()),
            id_generator: None,
            limits: SpanLimits::default(),
            transforms: Vec::new(),
            resource: Resource::builder_empty().build(),
            disabled: false,
        }
    }
}

impl TracerProviderBuilder {
    /// Add a processor; processors run in the order they were added.
    pub fn with_span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.processors.push(Box::new(processor));
        self
    }

    /// Add a processor already boxed.
    pub fn with_boxed_span_processor(mut self, processor: Box<dyn SpanProcessor>) -> Self {
        self.processors.push(processor);
        self
    }

    /// Export through a [`SimpleSpanProcessor`] (synchronous; tests and
    /// debugging).
    pub fn with_simple_exporter<E: SpanExporter + 'static>(self, exporter: E) -> Self {
        self.with_span_processor(SimpleSpanProcessor::new(exporter))
    }

    /// Export through a [`BatchSpanProcessor`] with the default settings.
    pub fn with_batch_exporter<E: SpanExporter + 'static>(self, exporter: E) -> Self {
        self.with_span_processor(BatchSpanProcessor::new(exporter))
    }

    /// Export through a [`BatchSpanProcessor`] with `config`.
    pub fn with_batch_exporter_config<E: SpanExporter + 'static>(
        self,
        exporter: E,
        config: BatchConfig,
    ) -> Self {
        self.with_span_processor(BatchSpanProcessor::with_config(exporter, config))
    }

    /// The head sampler (default `ParentBased(AlwaysOn)`).
    pub fn with_sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Box::new(sampler);
        self
    }

    /// The head sampler, already boxed.
    pub fn with_boxed_sampler(mut self, sampler: Box<dyn Sampler>) -> Self {
        self.sampler = sampler;
        self
    }

    /// The id generator (default random).
    pub fn with_id_generator(mut self, generator: impl IdGenerator + 'static) -> Self {
        self.id_generator = Some(Box::new(generator));
        self
    }

    /// The span limits.
    pub fn with_span_limits(mut self, limits: SpanLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Add a step applied to every finished span in the export path, before
    /// attribute values are truncated to the limit and the span reaches any
    /// exporter (redaction is one). Steps run in the order added.
    pub fn with_span_transform(mut self, transform: Arc<dyn SpanTransform>) -> Self {
        self.transforms.push(transform);
        self
    }

    /// The resource describing this process.
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = resource;
        self
    }

    /// Disable the SDK: spans never record, context still propagates.
    pub fn disabled(mut self, disabled: bool) -> Self {
        self.disabled = disabled;
        self
    }

    /// Build the provider and give every processor the resource.
    pub fn build(self) -> TracerProvider {
        super::clock::warm_up();
        for p in &self.processors {
            p.set_resource(&self.resource);
        }
        TracerProvider {
            inner: Arc::new(ProviderInner {
                processors: self.processors,
                sampler: self.sampler,
                id_generator: self.id_generator,
                limits: self.limits,
                export_prep: ExportPrep::for_provider(
                    self.transforms,
                    self.limits.max_attribute_value_length,
                ),
                resource: self.resource,
                started: StripedCounter::default(),
                ended: StripedCounter::default(),
                unsampled: Box::default(),
                is_shutdown: AtomicBool::new(false),
                disabled: self.disabled,
            }),
        }
    }
}
