//! Span start+end cost, tracekit against opentelemetry_sdk, both through the
//! OpenTelemetry `Tracer` API with the same sampler and the same counting
//! exporter behind each SDK's batch processor.
//!
//! Ids: `span/<impl>/<case>`, cases `start_end`, `start_end_5_attrs`,
//! `unsampled`.

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{Span as _, Tracer, TracerProvider as _};
use opentelemetry::KeyValue;
use std::hint::black_box;
use std::time::Duration;
use tracekit_benches::{otel_sdk_provider, tracekit_provider, CountingExporter, SameSampler};

fn five_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/users/{id}"),
        KeyValue::new("http.response.status_code", 200_i64),
        KeyValue::new("user.id", 42_i64),
        KeyValue::new("cache.hit", true),
    ]
}

fn cases<T: Tracer>(c: &mut Criterion, imp: &str, sampled: &T, unsampled: &T) {
    let mut group = c.benchmark_group("span");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function(format!("{imp}/start_end"), |b| {
        b.iter(|| {
            let mut span = sampled.start(black_box("operation"));
            span.end();
        })
    });
    group.bench_function(format!("{imp}/start_end_5_attrs"), |b| {
        b.iter(|| {
            let mut span = sampled
                .span_builder(black_box("operation"))
                .with_attributes(five_attributes())
                .start(sampled);
            span.end();
        })
    });
    group.bench_function(format!("{imp}/unsampled"), |b| {
        b.iter(|| {
            let mut span = unsampled.start(black_box("operation"));
            span.end();
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let tk_on = tracekit_provider(SameSampler::AlwaysOn, CountingExporter::default());
    let tk_off = tracekit_provider(SameSampler::AlwaysOff, CountingExporter::default());
    cases(
        c,
        "tracekit",
        &tk_on.tracer("bench"),
        &tk_off.tracer("bench"),
    );
    let _ = tk_on.shutdown(Duration::from_secs(5));
    let _ = tk_off.shutdown(Duration::from_secs(5));

    let ot_on = otel_sdk_provider(SameSampler::AlwaysOn, CountingExporter::default());
    let ot_off = otel_sdk_provider(SameSampler::AlwaysOff, CountingExporter::default());
    cases(
        c,
        "otel_sdk",
        &ot_on.tracer("bench"),
        &ot_off.tracer("bench"),
    );
    let _ = ot_on.shutdown();
    let _ = ot_off.shutdown();
}

criterion_group!(benches, bench);
criterion_main!(benches);
