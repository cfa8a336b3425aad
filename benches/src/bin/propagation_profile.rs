//! A fixed-count loop of one propagation benchmark case, for
//! instruction-level profiling (`valgrind --tool=callgrind
//! --toggle-collect='*run_loop*'`), repeatable on a busy machine where
//! wall-clock timings are not.
//!
//! `propagation_profile <tracekit|otel_sdk> <tracecontext_inject|tracecontext_extract|baggage_inject|baggage_extract> [iterations]`

use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::Context;
use std::hint::black_box;
use tracekit_benches::propagation::{baggage_cx, baggage_headers, span_context_cx, trace_headers};
use tracekit_tower::{HeaderExtractor, HeaderInjector};

/// Inject `cx` into a cleared header map `n` times.
#[inline(never)]
fn run_loop_inject(propagator: &dyn TextMapPropagator, cx: &Context, n: u64) -> usize {
    let mut out = HeaderMap::with_capacity(4);
    for _ in 0..n {
        out.clear();
        propagator.inject_context(black_box(cx), &mut HeaderInjector(&mut out));
        black_box(&out);
    }
    out.len()
}

/// Extract from `headers` `n` times.
#[inline(never)]
fn run_loop_extract(propagator: &dyn TextMapPropagator, headers: &HeaderMap, n: u64) {
    for _ in 0..n {
        black_box(
            propagator.extract_with_context(&Context::new(), &HeaderExtractor(black_box(headers))),
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let imp = args.get(1).map(String::as_str).unwrap_or("tracekit");
    let case = args
        .get(2)
        .map(String::as_str)
        .unwrap_or("tracecontext_extract");
    let n: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let (trace, baggage): (Box<dyn TextMapPropagator>, Box<dyn TextMapPropagator>) =
        if imp == "otel_sdk" {
            (
                Box::new(opentelemetry_sdk::propagation::TraceContextPropagator::new()),
                Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
            )
        } else {
            (
                Box::new(tracekit_propagators::TraceContextPropagator::new()),
                Box::new(tracekit_propagators::BaggagePropagator::new()),
            )
        };
    match case {
        "tracecontext_inject" => {
            black_box(run_loop_inject(&*trace, &span_context_cx(), n));
        }
        "baggage_inject" => {
            black_box(run_loop_inject(&*baggage, &baggage_cx(), n));
        }
        "baggage_extract" => run_loop_extract(&*baggage, &baggage_headers(), n),
        _ => run_loop_extract(&*trace, &trace_headers(), n),
    }
    println!("{imp} {case}: {n} iterations");
}
