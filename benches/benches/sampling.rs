//! Sampling decisions: tracekit samplers against the official SDK's.
//!
//! Ids: `sampling/<impl>/<case>` with `<impl>` = `tracekit` | `otel_sdk`.
//! - `ratio`: root spans at ratio 0.1 over a pool of pseudo-random trace ids
//!   (tracekit writes `ot=th:e666` on the ~10% it samples, as the
//!   specification asks, which costs three small allocations per sampled
//!   span; the SDK's sampler writes nothing).
//! - `ratio_1pct`: the same at ratio 0.01, where the decision itself dominates.
//! - `parent_based`: `ParentBased(TraceIdRatioBased(0.1))` for a child of a
//!   sampled remote parent.
//! - `rate_limiting_2threads` (tracekit only): two threads deciding at the
//!   same time against one limiter (10 000 traces/s, so nearly every decision
//!   is a refusal); the figure is the wall time per decision of each thread.

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler as SdkSampler, ShouldSample};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};
use tracekit_benches::sampling::{remote_sampled_parents, trace_ids, POOL};
use tracekit_samplers::{ratio, ParentBased, RateLimiting, Sampler, SamplingParameters};

fn ratio_case(c: &mut Criterion, ids: &[TraceId], case: &str, probability: f64) {
    let mut group = c.benchmark_group("sampling");
    let kind = SpanKind::Server;
    // The SDK always passes the current context; for a root span it holds no span.
    let empty = Context::new();

    let tracekit = ratio(probability);
    let mut i = 0usize;
    group.bench_function(format!("tracekit/{case}"), |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let params = SamplingParameters {
                parent_context: Some(&empty),
                ..SamplingParameters::root(ids[i], "GET /", &kind)
            };
            let result = tracekit.should_sample(black_box(&params));
            black_box(&result);
        })
    });

    let sdk = SdkSampler::TraceIdRatioBased(probability);
    let mut i = 0usize;
    group.bench_function(format!("otel_sdk/{case}"), |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let result =
                sdk.should_sample(Some(&empty), black_box(ids[i]), "GET /", &kind, &[], &[]);
            black_box(&result);
        })
    });
    group.finish();
}

fn parent_based_case(c: &mut Criterion, ids: &[TraceId]) {
    let mut group = c.benchmark_group("sampling");
    let kind = SpanKind::Server;
    let parents = remote_sampled_parents(ids);

    let tracekit = ParentBased::new(ratio(0.1));
    let mut i = 0usize;
    group.bench_function("tracekit/parent_based", |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let (sc, cx) = &parents[i];
            let params = SamplingParameters {
                parent_context: Some(cx),
                ..SamplingParameters::child(sc, "GET /", &kind)
            };
            let result = tracekit.should_sample(black_box(&params));
            black_box(&result);
        })
    });

    let sdk = SdkSampler::ParentBased(Box::new(SdkSampler::TraceIdRatioBased(0.1)));
    let mut i = 0usize;
    group.bench_function("otel_sdk/parent_based", |b| {
        b.iter(|| {
            i = (i + 1) % POOL;
            let (sc, cx) = &parents[i];
            let result =
                sdk.should_sample(Some(black_box(cx)), sc.trace_id(), "GET /", &kind, &[], &[]);
            black_box(&result);
        })
    });
    group.finish();
}

fn rate_limiting_case(c: &mut Criterion, ids: &[TraceId]) {
    let mut group = c.benchmark_group("sampling");
    let limiter = RateLimiting::new(10_000.0);
    let kind = SpanKind::Server;
    group.bench_function("tracekit/rate_limiting_2threads", |b| {
        b.iter_custom(|iters| {
            let barrier = Barrier::new(2);
            let per_thread: Vec<Duration> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..2)
                    .map(|t| {
                        let (barrier, limiter, kind) = (&barrier, &limiter, &kind);
                        scope.spawn(move || {
                            barrier.wait();
                            let start = Instant::now();
                            for n in 0..iters as usize {
                                let id = ids[(n + t * 7) % POOL];
                                let params = SamplingParameters::root(id, "GET /", kind);
                                let result = limiter.should_sample(black_box(&params));
                                black_box(&result);
                            }
                            start.elapsed()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            per_thread.into_iter().max().unwrap_or_default()
        })
    });
    group.finish();
}

fn sampling(c: &mut Criterion) {
    let ids = trace_ids();
    ratio_case(c, &ids, "ratio", 0.1);
    ratio_case(c, &ids, "ratio_1pct", 0.01);
    parent_based_case(c, &ids);
    rate_limiting_case(c, &ids);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = sampling
}
criterion_main!(benches);
