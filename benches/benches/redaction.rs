//! Redaction cost per span: a typical HTTP server span with 8 attributes
//! (string and integer), recorded through the OpenTelemetry `Tracer` API,
//! ended, then (as the export path does, off the application's thread)
//! redacted and converted to `SpanData`. Measured on one thread so the
//! whole cost is counted.
//!
//! Ids: `redaction/<impl>/<case>`:
//! - `<impl>`: `tracekit` (default rules), `tracekit_off` (a redactor with
//!   no rules), `otel_sdk` (the official SDK, which has no redaction; its
//!   processor receives the span already converted to `SpanData`), the
//!   anchor;
//! - `<case>`: `8_attrs_no_match` (nothing to redact) and `8_attrs_2_match`
//!   (an `Authorization` header and a `?access_token=` URL);
//! - plus `redaction/tracekit/redact_only_<case>`: the engine alone on the
//!   same 8 attributes (set-up excluded).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use opentelemetry::trace::TracerProvider as _;
use std::hint::black_box;
use std::time::Duration;
use tracekit::redaction::Redactor;
use tracekit_benches::redaction::{provider, record_span, CASES};

/// The official SDK's counterpart: its processors receive `SpanData`.
#[derive(Debug)]
struct DropSpanData;

impl opentelemetry_sdk::trace::SpanProcessor for DropSpanData {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        black_box(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

fn span_cases<T: opentelemetry::trace::Tracer>(c: &mut Criterion, imp: &str, tracer: &T) {
    let mut group = c.benchmark_group("redaction");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (case, attrs) in CASES {
        group.bench_function(format!("{imp}/{case}"), |b| {
            b.iter(|| record_span(tracer, attrs))
        });
    }
    group.finish();
}

fn tracekit_tracer(redactor: Redactor) -> (tracekit::TracerProvider, tracekit::Tracer) {
    let provider = provider(redactor);
    let tracer = provider.tracer("bench");
    (provider, tracer)
}

fn bench(c: &mut Criterion) {
    let (on, on_tracer) = tracekit_tracer(Redactor::default());
    span_cases(c, "tracekit", &on_tracer);
    let (off, off_tracer) = tracekit_tracer(Redactor::disabled());
    span_cases(c, "tracekit_off", &off_tracer);
    let _ = on.shutdown(Duration::from_secs(1));
    let _ = off.shutdown(Duration::from_secs(1));

    let ot = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOn)
        .with_span_processor(DropSpanData)
        .build();
    span_cases(c, "otel_sdk", &ot.tracer("bench"));
    let _ = ot.shutdown();

    let redactor = Redactor::default();
    let mut group = c.benchmark_group("redaction");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (case, attrs) in CASES {
        group.bench_function(format!("tracekit/redact_only_{case}"), |b| {
            b.iter_batched_ref(
                attrs,
                |attrs| redactor.redact_parts(attrs, &mut [], &mut []),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
