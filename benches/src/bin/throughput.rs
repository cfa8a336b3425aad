//! Throughput: 2 threads create spans as fast as they can for 2 seconds,
//! with tracekit and with opentelemetry_sdk, each at its default batch
//! settings with the same counting exporter. The two alternate for
//! [`ROUNDS`] rounds (the host's speed drifts; alternating exposes both to
//! the same drift). Prints created, exported and dropped spans per second
//! for each run, the medians, and the median of the per-round ratios of
//! exported spans/s on the last line.
//!
//! `cargo run --release -p tracekit-benches --bin throughput`

use opentelemetry::trace::{Span as _, Tracer, TracerProvider as _};
use std::time::{Duration, Instant};
use tracekit_benches::{otel_sdk_provider, tracekit_provider, CountingExporter, SameSampler};

const THREADS: usize = 2;
const RUN_FOR: Duration = Duration::from_secs(2);
/// Rounds of one tracekit run and one opentelemetry_sdk run each.
const ROUNDS: usize = 5;

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

/// Created, exported and dropped spans per second.
fn rates(o: &Outcome) -> [f64; 3] {
    let secs = o.elapsed.as_secs_f64();
    [
        o.created as f64 / secs,
        o.exported as f64 / secs,
        o.created.saturating_sub(o.exported) as f64 / secs,
    ]
}

fn print_rates(label: &str, [created, exported, dropped]: [f64; 3]) {
    println!(
        "{label:<20} created {created:>12.0}/s  exported {exported:>12.0}/s  dropped {dropped:>12.0}/s"
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    println!(
        "{THREADS} threads, {} s each, default batch settings, {ROUNDS} alternating rounds",
        RUN_FOR.as_secs()
    );
    let mut tracekit = Vec::new();
    let mut otel_sdk = Vec::new();
    for round in 1..=ROUNDS {
        let tk = rates(&run_tracekit());
        let ot = rates(&run_otel_sdk());
        print_rates(&format!("round {round} tracekit"), tk);
        print_rates(&format!("round {round} otel_sdk"), ot);
        tracekit.push(tk);
        otel_sdk.push(ot);
    }
    let column = |runs: &[[f64; 3]], i: usize| median(runs.iter().map(|r| r[i]).collect());
    let medians = |runs: &[[f64; 3]]| [column(runs, 0), column(runs, 1), column(runs, 2)];
    print_rates("median tracekit", medians(&tracekit));
    print_rates("median otel_sdk", medians(&otel_sdk));
    let ratios = tracekit
        .iter()
        .zip(&otel_sdk)
        .map(|(tk, ot)| tk[1] / ot[1].max(1.0))
        .collect::<Vec<_>>();
    let listed = ratios
        .iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("per-round ratios of exported spans/s: {listed}");
    println!(
        "tracekit exported spans/s = {:.2}x opentelemetry_sdk (median of {ROUNDS} rounds)",
        median(ratios)
    );
}
