//! Memory returns when tracers and providers go away: instrumentation
//! scopes and a provider's export preparation are owned by the tracers,
//! spans and providers that use them, not kept for the life of the
//! process.
//!
//! Its own test binary, with a counting global allocator, so the bytes
//! counted are this test's alone; one test function, so no other test
//! thread allocates during a measurement.

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::time::Duration;
use tracekit::{SpanLimits, TracerProvider};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, by the whole process (the counter
/// adds a reallocation's growth to the bytes allocated, and its shrinking
/// to the bytes freed).
fn live_bytes() -> i128 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
}

/// Drops every span it is given.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

/// A provider with an export preparation of its own (a value-length
/// limit), exporting through the batch processor and dropping the spans.
fn provider() -> TracerProvider {
    TracerProvider::builder()
        .with_span_limits(SpanLimits {
            max_attribute_value_length: Some(256),
            ..SpanLimits::default()
        })
        .with_batch_exporter(Discard)
        .build()
}

/// One provider; `tracers` distinct tracer names (`{prefix}{i}`: names
/// never used before, so no cache or interner could already hold them),
/// one span each; then shut down and dropped.
fn spans_on_distinct_tracers(prefix: &str, tracers: usize) {
    let provider = provider();
    for i in 0..tracers {
        let mut span = provider.tracer(format!("{prefix}{i}")).start("op");
        span.end();
    }
    provider.shutdown(Duration::from_secs(30)).unwrap();
}

/// `providers` providers, each built, given one span, and dropped.
fn providers_one_span_each(providers: usize) {
    for _ in 0..providers {
        let provider = provider();
        let mut span = provider.tracer("t").start("op");
        span.end();
        provider.shutdown(Duration::from_secs(30)).unwrap();
    }
}

/// Run `round`, and check that it leaves fewer than `limit` more bytes
/// allocated than before it.
fn assert_keeps_less_than(limit: i128, what: &str, round: impl FnOnce()) {
    let before = live_bytes();
    round();
    let kept = live_bytes() - before;
    println!("{what}: {kept} bytes kept");
    assert!(kept < limit, "{what} kept {kept} bytes once dropped");
}

#[test]
fn tracer_scopes_and_providers_are_freed_when_dropped() {
    // A first round of each sets up what the process keeps by design (the
    // span clock, thread-local state, and the bounded pool of recycled span
    // records, filled as far as this pattern fills it).
    spans_on_distinct_tracers("warm-up-", 200_000);
    providers_one_span_each(10);

    // Before: about 23 MB (every scope interned for good).
    assert_keeps_less_than(2 << 20, "200,000 tracer names", || {
        spans_on_distinct_tracers("t", 200_000)
    });
    // Before: 400,000 bytes (each provider's export preparation leaked).
    assert_keeps_less_than(64 << 10, "10,000 providers", || {
        providers_one_span_each(10_000)
    });
}
