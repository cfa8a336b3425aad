//! A fixed-count loop of the redaction benchmark's cases, for
//! instruction-level profiling (`valgrind --tool=callgrind
//! --toggle-collect=run_*`), which is repeatable on a busy machine where
//! wall-clock timings are not.
//!
//! `redaction_profile <engine|span_on|span_off> <no_match|2_match|server_5> [iterations]`
//!
//! `server_5` is `otlp_export`'s 5-attribute server span, whose `url.path`
//! every value rule scans.
//!
//! `engine` redacts the same 8 attributes over and over (the no-match case
//! never changes them, so every pass does the full work); `span_on` and
//! `span_off` record, end, redact and convert a whole span, as the
//! `redaction/tracekit*/8_attrs_*` benchmarks do.

use opentelemetry::trace::Tracer;
use opentelemetry::KeyValue;
use std::hint::black_box;
use std::time::Duration;
use tracekit::redaction::Redactor;
use tracekit_benches::redaction::{
    no_match, provider, record_span, server_5, two_match, Attributes,
};

#[inline(never)]
fn run_engine(redactor: &Redactor, attrs: fn() -> Vec<KeyValue>, n: u64) {
    let mut kept = attrs();
    for _ in 0..n {
        redactor.redact_attributes(black_box(&mut kept));
    }
    black_box(kept);
}

#[inline(never)]
fn run_span<T: Tracer>(tracer: &T, attrs: Attributes, n: u64) {
    for _ in 0..n {
        record_span(tracer, attrs);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("engine");
    let case = args.get(2).map(String::as_str).unwrap_or("no_match");
    let n: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let attrs = match case {
        "2_match" => two_match as fn() -> Vec<KeyValue>,
        "server_5" => server_5,
        _ => no_match,
    };
    match mode {
        "span_on" | "span_off" => {
            let redactor = if mode == "span_on" {
                Redactor::default()
            } else {
                Redactor::disabled()
            };
            let provider = provider(redactor);
            let tracer = provider.tracer("profile");
            run_span(&tracer, attrs, n);
            let _ = provider.shutdown(Duration::from_secs(1));
        }
        _ => run_engine(&Redactor::default(), attrs, n),
    }
}
