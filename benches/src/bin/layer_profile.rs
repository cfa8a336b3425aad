//! A fixed-count loop of `tracing` spans through tracekit's layer, for
//! instruction-level profiling with callgrind
//! (`--toggle-collect=layer_profile::run_loop*`).
//!
//! `layer_profile <sampled|unsampled|fields> [iterations]` (`fields`: the
//! criterion `span_5_fields` case, sampled)

use std::time::Duration;
use tracekit_benches::{tracekit_provider, tracing_spans, CountingExporter, SameSampler};
use tracing_subscriber::layer::SubscriberExt;

#[inline(never)]
fn run_loop(n: u64) {
    for _ in 0..n {
        tracing_spans::span_in_scope();
    }
}

#[inline(never)]
fn run_loop_fields(n: u64) {
    for _ in 0..n {
        tracing_spans::span_5_fields();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sampler = match args.get(1).map(String::as_str) {
        Some("unsampled") => SameSampler::AlwaysOff,
        _ => SameSampler::AlwaysOn,
    };
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let provider = tracekit_provider(sampler, CountingExporter::default());
    let subscriber =
        tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("profile")));
    let fields = args.get(1).map(String::as_str) == Some("fields");
    tracing::subscriber::with_default(subscriber, || {
        if fields {
            run_loop_fields(n)
        } else {
            run_loop(n)
        }
    });
    let _ = provider.shutdown(Duration::from_secs(10));
}
