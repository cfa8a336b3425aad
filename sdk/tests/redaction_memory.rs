//! The redactor's key-decision caches stay bounded whatever keys it sees:
//! 1,000,000 distinct attribute keys (owned, shared `Arc<str>` keys that
//! the address and list caches pin, and keys too long for the text cache)
//! leave the memory in use where the first few thousand left it, and
//! dropping the redactor returns what its caches pinned.
//!
//! Its own test binary, with a counting global allocator, so the bytes
//! counted are this test's alone; one test function, so no other test
//! thread allocates during a measurement.

use opentelemetry::{Key, KeyValue};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::sync::Arc;
use tracekit::redaction::Redactor;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed by the whole process.
fn live_bytes() -> i128 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
}

/// Lists of four distinct keys, `lists` of them, numbered from `first`:
/// an owned key, two shared ones and one longer than the text cache
/// holds; each list redacted once and then dropped.
fn redact_distinct_keys(redactor: &Redactor, first: usize, lists: usize) {
    for i in first..first + lists {
        let mut attributes = vec![
            KeyValue::new(Key::from(format!("app.owned.{i}")), "value"),
            KeyValue::new(
                Key::from(Arc::<str>::from(format!("app.shared.{i}"))),
                "token=abc",
            ),
            KeyValue::new(
                Key::from(Arc::<str>::from(format!("app.{i}.password"))),
                "hunter2",
            ),
            KeyValue::new(
                Key::from(format!(
                    "app.a.rather.long.attribute.key.past.the.cache.{i}"
                )),
                "https://u:p@h/",
            ),
        ];
        redactor.redact_attributes(&mut attributes);
        assert_eq!(attributes[2].value.as_str(), "REDACTED");
    }
}

#[test]
fn a_million_distinct_keys_keep_the_caches_bounded() {
    let before = live_bytes();
    let redactor = Redactor::default();
    // Warm up: every cache slot has been written, pinned keys included.
    redact_distinct_keys(&redactor, 0, 10_000);
    let warm = live_bytes();
    redact_distinct_keys(&redactor, 10_000, 240_000);
    let after = live_bytes();
    assert!(
        after - warm < 64 * 1024,
        "1,000,000 distinct keys grew the memory in use by {} bytes",
        after - warm
    );
    drop(redactor);
    let dropped = live_bytes();
    assert!(
        dropped - before < 16 * 1024,
        "{} bytes still in use after the redactor was dropped",
        dropped - before
    );
}
