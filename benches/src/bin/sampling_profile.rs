//! A fixed-count loop of one sampling benchmark case, for instruction-level
//! profiling (`valgrind --tool=callgrind --toggle-collect='*run_loop*'`),
//! repeatable on a busy machine where wall-clock timings are not.
//!
//! `sampling_profile <tracekit|otel_sdk> <ratio|ratio_1pct|parent_based> [iterations]`
//!
//! `sampling_profile tracekit <rate_limiting|reservoir> [iterations]`: root
//! decisions of `RateLimiting::new(1000.0)` and `ReservoirThenRatio::new(100,
//! 0.1)`, the samplers that read a clock on every decision (tracekit only;
//! the nanoseconds per decision are printed too).

use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler as SdkSampler, ShouldSample};
use std::hint::black_box;
use tracekit_benches::sampling::{remote_sampled_parents, trace_ids, POOL};
use tracekit_samplers::{
    ratio, ParentBased, RateLimiting, ReservoirThenRatio, Sampler, SamplingParameters,
};

/// Root decisions at `probability`, as the criterion `ratio` cases make them.
#[inline(never)]
fn run_loop_root(imp: &str, probability: f64, ids: &[TraceId], n: usize) -> usize {
    let kind = SpanKind::Server;
    let empty = Context::new();
    let mut sampled = 0;
    if imp == "otel_sdk" {
        let sdk = SdkSampler::TraceIdRatioBased(probability);
        for i in 0..n {
            let result = sdk.should_sample(
                Some(&empty),
                black_box(ids[i % POOL]),
                "GET /",
                &kind,
                &[],
                &[],
            );
            sampled += usize::from(
                black_box(&result).decision
                    == opentelemetry_sdk::trace::SamplingDecision::RecordAndSample,
            );
        }
    } else {
        sampled = root_decisions(&ratio(probability), ids, n);
    }
    sampled
}

/// `ParentBased(ratio(0.1))` decisions for children of sampled remote
/// parents, as the criterion `parent_based` case makes them.
#[inline(never)]
fn run_loop_parent_based(imp: &str, ids: &[TraceId], n: usize) -> usize {
    let kind = SpanKind::Server;
    let parents = remote_sampled_parents(ids);
    let mut sampled = 0;
    if imp == "otel_sdk" {
        let sdk = SdkSampler::ParentBased(Box::new(SdkSampler::TraceIdRatioBased(0.1)));
        for i in 0..n {
            let (sc, cx) = &parents[i % POOL];
            let result =
                sdk.should_sample(Some(black_box(cx)), sc.trace_id(), "GET /", &kind, &[], &[]);
            sampled += usize::from(
                black_box(&result).decision
                    == opentelemetry_sdk::trace::SamplingDecision::RecordAndSample,
            );
        }
    } else {
        let tracekit = ParentBased::new(ratio(0.1));
        for i in 0..n {
            let (sc, cx) = &parents[i % POOL];
            let params = SamplingParameters {
                parent_context: Some(cx),
                ..SamplingParameters::child(sc, "GET /", &kind)
            };
            let result = tracekit.should_sample(black_box(&params));
            sampled += usize::from(black_box(&result).decision.is_sampled());
        }
    }
    sampled
}

/// Root decisions of a tracekit sampler (inlined into each `run_loop_*`,
/// so that callgrind's toggle sees one function).
#[inline(always)]
fn root_decisions<S: Sampler + ?Sized>(sampler: &S, ids: &[TraceId], n: usize) -> usize {
    let kind = SpanKind::Server;
    let empty = Context::new();
    let mut sampled = 0;
    for i in 0..n {
        let params = SamplingParameters {
            parent_context: Some(&empty),
            ..SamplingParameters::root(ids[i % POOL], "GET /", &kind)
        };
        let result = sampler.should_sample(black_box(&params));
        sampled += usize::from(black_box(&result).decision.is_sampled());
    }
    sampled
}

/// Root decisions of a sampler that reads its clock on every decision.
#[inline(never)]
fn run_loop_clocked<S: Sampler>(sampler: &S, ids: &[TraceId], n: usize) -> usize {
    root_decisions(sampler, ids, n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let imp = args.get(1).map(String::as_str).unwrap_or("tracekit");
    let case = args.get(2).map(String::as_str).unwrap_or("ratio");
    let n: usize = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let ids = trace_ids();
    let start = std::time::Instant::now();
    let sampled = match case {
        "rate_limiting" => run_loop_clocked(&RateLimiting::new(1000.0), &ids, n),
        "reservoir" => run_loop_clocked(&ReservoirThenRatio::new(100, 0.1), &ids, n),
        "ratio_1pct" => run_loop_root(imp, 0.01, &ids, n),
        "parent_based" => run_loop_parent_based(imp, &ids, n),
        _ => run_loop_root(imp, 0.1, &ids, n),
    };
    let nanos = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{imp} {case}: {n} decisions, {sampled} sampled, {nanos:.1} ns each");
}
