//! A fixed-count loop of one span benchmark case, for instruction-level
//! profiling (`valgrind --tool=callgrind --toggle-collect=run_loop*`), which
//! is repeatable on a busy machine where wall-clock timings are not.
//!
//! `span_profile <tracekit|tracekit_documented|tracekit_global|otel_sdk> <start_end|start_end_5_attrs|unsampled> [iterations]`
//!
//! `tracekit_documented` is the form the README and crate docs show: a
//! pipeline like `tracekit`'s installed by `tracekit::builder().install()`
//! (what `tracekit::init()` does) and spans started with the tracer of
//! `tracekit::tracer(..)`. `tracekit_global` starts them through
//! `opentelemetry::global::tracer(..)` over the same installed pipeline:
//! the API's boxed tracer.
//!
//! With `--whole-queue` as a fourth argument, the batch queue holds every
//! span (tracekit's pipelines), so none is dropped and the export thread's count
//! (`--separate-threads=yes`) divided by the spans is its exact cost per
//! span.

use opentelemetry::trace::{Span as _, Tracer, TracerProvider as _};
use opentelemetry::KeyValue;
use std::hint::black_box;
use std::time::Duration;
use tracekit_benches::{
    otel_sdk_provider, tracekit_installed_with, tracekit_provider_with, CountingExporter,
    SameSampler,
};
use tracekit_samplers::{AlwaysOff, AlwaysOn};

#[inline(never)]
fn run_loop<T: Tracer>(tracer: &T, case: &str, n: u64) {
    for _ in 0..n {
        let mut span = match case {
            "start_end_5_attrs" => tracer
                .span_builder(black_box("operation"))
                .with_attributes(vec![
                    KeyValue::new("http.request.method", "GET"),
                    KeyValue::new("http.route", "/users/{id}"),
                    KeyValue::new("http.response.status_code", 200_i64),
                    KeyValue::new("user.id", 42_i64),
                    KeyValue::new("cache.hit", true),
                ])
                .start(tracer),
            _ => tracer.start(black_box("operation")),
        };
        span.end();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let imp = args.get(1).map(String::as_str).unwrap_or("tracekit");
    let case = args.get(2).map(String::as_str).unwrap_or("start_end");
    let n: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let sampler = if case == "unsampled" {
        SameSampler::AlwaysOff
    } else {
        SameSampler::AlwaysOn
    };
    let exporter = CountingExporter::default();
    let config = if args.get(4).map(String::as_str) == Some("--whole-queue") {
        tracekit::BatchConfig {
            max_queue_size: n as usize,
            ..tracekit::BatchConfig::default()
        }
    } else {
        tracekit::BatchConfig::default()
    };
    match imp {
        "otel_sdk" => {
            let provider = otel_sdk_provider(sampler, exporter.clone());
            run_loop(&provider.tracer("profile"), case, n);
            let _ = provider.shutdown();
        }
        "tracekit_documented" | "tracekit_global" => {
            let guard = match sampler {
                SameSampler::AlwaysOn => {
                    tracekit_installed_with(AlwaysOn, exporter.clone(), config)
                }
                SameSampler::AlwaysOff => {
                    tracekit_installed_with(AlwaysOff, exporter.clone(), config)
                }
            };
            if imp == "tracekit_documented" {
                run_loop(&tracekit::tracer("profile"), case, n);
            } else {
                run_loop(&opentelemetry::global::tracer("profile"), case, n);
            }
            let _ = guard.shutdown();
        }
        _ => {
            let provider = tracekit_provider_with(sampler, exporter.clone(), config);
            run_loop(&provider.tracer("profile"), case, n);
            let _ = provider.shutdown(Duration::from_secs(30));
        }
    }
    println!("{imp} {case}: {n} spans, {} exported", exporter.count());
}
