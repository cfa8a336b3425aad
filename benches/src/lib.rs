//! Shared pieces for tracekit's side-by-side benchmarks: the counting
//! exporter both SDKs export to, and provider constructors configured alike.

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An exporter that only counts the spans it receives; both SDKs under test
/// export to it, so export cost is the same on each side.
#[derive(Clone, Debug, Default)]
pub struct CountingExporter {
    count: Arc<AtomicU64>,
}

impl CountingExporter {
    /// Spans received so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl SpanExporter for CountingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.count.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Which sampler both SDKs use in a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSampler {
    /// Sample everything.
    AlwaysOn,
    /// Drop everything.
    AlwaysOff,
}

/// A tracekit provider: the sampler, a batch processor with default
/// settings, and `exporter`.
pub fn tracekit_provider(
    sampler: SameSampler,
    exporter: CountingExporter,
) -> tracekit::TracerProvider {
    let builder = tracekit::TracerProvider::builder().with_batch_exporter(exporter);
    match sampler {
        SameSampler::AlwaysOn => builder.with_sampler(tracekit_samplers::AlwaysOn),
        SameSampler::AlwaysOff => builder.with_sampler(tracekit_samplers::AlwaysOff),
    }
    .build()
}

/// An opentelemetry_sdk provider configured the same way: the sampler, its
/// batch processor with default settings, and `exporter`.
pub fn otel_sdk_provider(
    sampler: SameSampler,
    exporter: CountingExporter,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
    let sampler = match sampler {
        SameSampler::AlwaysOn => Sampler::AlwaysOn,
        SameSampler::AlwaysOff => Sampler::AlwaysOff,
    };
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .build()
}
