//! `TestTracing`: two tests of one binary, running at the same time, each
//! see exactly their own `tracing` and OpenTelemetry API spans.

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::Context;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tracekit::testing::TestTracing;
use tracing::Instrument as _;

/// How many of the two tests have made their spans: each waits (bounded)
/// for the other before reading its own, so that a leak would show.
static MADE: AtomicUsize = AtomicUsize::new(0);

async fn wait_for_the_other_test() {
    MADE.fetch_add(1, Ordering::SeqCst);
    for _ in 0..500 {
        if MADE.load(Ordering::SeqCst) >= 2 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tracing::instrument]
async fn step(who: &'static str) {
    tokio::task::yield_now().await;
    tracing::info!(who, "step");
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_test_sees_its_own_spans() {
    let test = TestTracing::start();
    let tracer = test.tracer("a");
    // An OpenTelemetry API span, parent of an `#[instrument]` one.
    let cx = Context::current_with_span(tracer.start("a_request"));
    step("a").with_context(cx.clone()).await;
    cx.span().end();
    wait_for_the_other_test().await;
    let spans = test.spans();
    let mut names = spans.names();
    names.sort();
    assert_eq!(names, ["a_request", "step"]);
    spans.assert_parent("step", "a_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_test_sees_its_own_spans_spawned_tasks_included() {
    let test = TestTracing::start();
    async {
        step("b").await;
        // Onto a worker thread: bound to the test's subscriber, and in the
        // current span's trace.
        tokio::spawn(test.bind(tracekit::layer::CurrentContext::capture().wrap(step("b"))))
            .await
            .unwrap();
    }
    .instrument(tracing::info_span!("b_request"))
    .await;
    wait_for_the_other_test().await;
    let spans = test.spans();
    let mut names = spans.names();
    names.sort();
    assert_eq!(names, ["b_request", "step", "step"]);
    assert_eq!(spans.trace_ids().len(), 1);
    for step in spans.all_named("step") {
        assert_eq!(
            step.parent_span_id,
            spans.get("b_request").span_context.span_id()
        );
    }
}
