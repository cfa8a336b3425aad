//! Side-by-side propagation benchmarks: tracekit's propagators against the
//! official `opentelemetry_sdk` ones, both through the same `http::HeaderMap`
//! carriers: `tracekit_tower::{HeaderInjector, HeaderExtractor}`, the ones
//! tracekit's HTTP integrations use. Unlike `opentelemetry_http`'s, they
//! copy neither the header name nor the value (about 770 instructions per
//! inject less for either propagator), so what is compared is the
//! propagators' own work.
//!
//! Ids: `propagation/<impl>/<case>` with `<impl>` = `tracekit` | `otel_sdk`
//! and `<case>` = `tracecontext_inject` | `tracecontext_extract` |
//! `baggage_inject` | `baggage_extract`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::Context;
use std::hint::black_box;
use std::time::Duration;
use tracekit_benches::propagation::{baggage_cx, baggage_headers, span_context_cx, trace_headers};
use tracekit_tower::{HeaderExtractor, HeaderInjector};

fn bench_impl(
    c: &mut Criterion,
    name: &str,
    trace: &dyn TextMapPropagator,
    baggage: &dyn TextMapPropagator,
) {
    let mut group = c.benchmark_group("propagation");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));

    let cx = span_context_cx();
    let mut out = HeaderMap::with_capacity(4);
    group.bench_function(BenchmarkId::new(name, "tracecontext_inject"), |b| {
        b.iter(|| {
            out.clear();
            trace.inject_context(black_box(&cx), &mut HeaderInjector(&mut out));
            black_box(&out);
        })
    });

    let headers = trace_headers();
    group.bench_function(BenchmarkId::new(name, "tracecontext_extract"), |b| {
        b.iter(|| {
            black_box(
                trace.extract_with_context(&Context::new(), &HeaderExtractor(black_box(&headers))),
            )
        })
    });

    let cx = baggage_cx();
    group.bench_function(BenchmarkId::new(name, "baggage_inject"), |b| {
        b.iter(|| {
            out.clear();
            baggage.inject_context(black_box(&cx), &mut HeaderInjector(&mut out));
            black_box(&out);
        })
    });

    let headers = baggage_headers();
    group.bench_function(BenchmarkId::new(name, "baggage_extract"), |b| {
        b.iter(|| {
            black_box(
                baggage
                    .extract_with_context(&Context::new(), &HeaderExtractor(black_box(&headers))),
            )
        })
    });
    group.finish();
}

fn propagation(c: &mut Criterion) {
    bench_impl(
        c,
        "tracekit",
        &tracekit_propagators::TraceContextPropagator::new(),
        &tracekit_propagators::BaggagePropagator::new(),
    );
    bench_impl(
        c,
        "otel_sdk",
        &opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        &opentelemetry_sdk::propagation::BaggagePropagator::new(),
    );
}

criterion_group!(benches, propagation);
criterion_main!(benches);
