//! `tracing` spans recorded three ways: tracekit's layer over a tracekit
//! provider, tracing-opentelemetry over opentelemetry_sdk (same counting
//! exporter behind each SDK's batch processor), and a bare registry.
//!
//! Ids: `tracing_layer/<impl>/<case>`, impl = `tracekit`, `tracing_otel`,
//! `registry`; cases `span_in_scope`, `span_5_fields`, `instrument_fn`,
//! `unsampled` (AlwaysOff for both SDKs; the registry has no sampler).

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use std::hint::black_box;
use std::time::Duration;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;

use tracekit_benches::{
    otel_sdk_provider, tracekit_provider, tracing_spans, CountingExporter, SameSampler,
};

#[tracing::instrument]
fn handle(user_id: u64, path: &str) -> usize {
    black_box(user_id as usize + path.len())
}

#[derive(Clone, Copy)]
enum Case {
    SpanInScope,
    Span5Fields,
    InstrumentFn,
    Unsampled,
}

impl Case {
    const ALL: [Case; 4] = [
        Case::SpanInScope,
        Case::Span5Fields,
        Case::InstrumentFn,
        Case::Unsampled,
    ];

    fn id(self) -> &'static str {
        match self {
            Case::SpanInScope => "span_in_scope",
            Case::Span5Fields => "span_5_fields",
            Case::InstrumentFn => "instrument_fn",
            Case::Unsampled => "unsampled",
        }
    }

    fn sampler(self) -> SameSampler {
        match self {
            Case::Unsampled => SameSampler::AlwaysOff,
            _ => SameSampler::AlwaysOn,
        }
    }

    /// One iteration: create, enter, exit and close a span.
    #[inline(always)]
    fn run(self) {
        match self {
            Case::SpanInScope | Case::Unsampled => tracing_spans::span_in_scope(),
            Case::Span5Fields => tracing_spans::span_5_fields(),
            Case::InstrumentFn => {
                black_box(handle(black_box(42), black_box("/checkout")));
            }
        }
    }
}

fn bench_with<S>(c: &mut Criterion, id: String, subscriber: S, case: Case)
where
    S: Subscriber + Send + Sync + 'static,
{
    let mut group = c.benchmark_group("tracing_layer");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function(id, |b| b.iter(|| case.run()));
    });
    group.finish();
}

fn tracing_layer(c: &mut Criterion) {
    for case in Case::ALL {
        let provider = tracekit_provider(case.sampler(), CountingExporter::default());
        let subscriber =
            tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("bench")));
        bench_with(c, format!("tracekit/{}", case.id()), subscriber, case);
        let _ = provider.shutdown(Duration::from_secs(5));

        let provider = otel_sdk_provider(case.sampler(), CountingExporter::default());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
        bench_with(c, format!("tracing_otel/{}", case.id()), subscriber, case);
        let _ = provider.shutdown();

        bench_with(
            c,
            format!("registry/{}", case.id()),
            tracing_subscriber::registry(),
            case,
        );
    }
}

criterion_group!(benches, tracing_layer);
criterion_main!(benches);
