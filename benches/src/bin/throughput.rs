//! Throughput: 2 threads create spans as fast as they can for 2 seconds,
//! first with tracekit, then with opentelemetry_sdk, each at its default
//! batch settings with the same counting exporter. Prints created, exported
//! and dropped spans per second for both, and the ratio of exported spans/s.
//!
//! `cargo run --release -p tracekit-benches --bin throughput`

use opentelemetry::trace::{Span as _, Tracer, TracerProvider as _};
use std::time::{Duration, Instant};
use tracekit_benches::{otel_sdk_provider, tracekit_provider, CountingExporter, SameSampler};

const THREADS: usize = 2;
const RUN_FOR: Duration = Duration::from_secs(2);

struct Outcome {
    created: u64,
    exported: u64,
    elapsed: Duration,
}

fn drive<T: Tracer + Sync>(tracer: &T) -> (u64, Duration) {
    let start = Instant::now();
    let created: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    let deadline = Instant::now() + RUN_FOR;
                    // Check the clock every 1024 spans; bounded by RUN_FOR.
                    while Instant::now() < deadline {
                        for _ in 0..1024 {
                            let mut span = tracer.start("operation");
                            span.end();
                        }
                        n += 1024;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    (created, start.elapsed())
}

fn run_tracekit() -> Outcome {
    let exporter = CountingExporter::default();
    let provider = tracekit_provider(SameSampler::AlwaysOn, exporter.clone());
    let tracer = provider.tracer("throughput");
    let (created, elapsed) = drive(&tracer);
    let _ = provider.shutdown(Duration::from_secs(30));
    Outcome {
        created,
        exported: exporter.count(),
        elapsed,
    }
}

fn run_otel_sdk() -> Outcome {
    let exporter = CountingExporter::default();
    let provider = otel_sdk_provider(SameSampler::AlwaysOn, exporter.clone());
    let tracer = provider.tracer("throughput");
    let (created, elapsed) = drive(&tracer);
    let _ = provider.shutdown();
    Outcome {
        created,
        exported: exporter.count(),
        elapsed,
    }
}

fn report(name: &str, o: &Outcome) -> f64 {
    let secs = o.elapsed.as_secs_f64();
    let exported = o.exported as f64 / secs;
    println!(
        "{name:<9} created {:>12.0}/s  exported {:>12.0}/s  dropped {:>12.0}/s",
        o.created as f64 / secs,
        exported,
        o.created.saturating_sub(o.exported) as f64 / secs,
    );
    exported
}

fn main() {
    println!(
        "{THREADS} threads, {} s each, default batch settings",
        RUN_FOR.as_secs()
    );
    let tk = run_tracekit();
    let ot = run_otel_sdk();
    let tk_rate = report("tracekit", &tk);
    let ot_rate = report("otel_sdk", &ot);
    println!(
        "tracekit exported spans/s = {:.2}x opentelemetry_sdk",
        tk_rate / ot_rate.max(1.0)
    );
}
