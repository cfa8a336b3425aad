//! An `#[instrument] async fn` gets the OpenTelemetry context (remote
//! parent and baggage) it is run under: its span is created when its
//! future is first polled, so the context must be current *then*:
//! `fut.with_context(cx)`, not a guard attached around the call only.

mod layer_support;

use layer_support::*;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use tracing::instrument;

const TRACE_ID: TraceId = TraceId::from_bytes([0x4b; 16]);
const PARENT_ID: SpanId = SpanId::from_bytes([0x17; 8]);

/// A context as an HTTP server layer extracts it: a remote parent and
/// baggage.
fn incoming() -> Context {
    let parent = SpanContext::new(
        TRACE_ID,
        PARENT_ID,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Context::new()
        .with_remote_span_context(parent)
        .with_baggage([KeyValue::new("tenant", "acme")])
}

#[instrument]
async fn handler() -> Option<String> {
    tokio::task::yield_now().await;
    Context::current()
        .baggage()
        .get("tenant")
        .map(|value| value.to_string())
}

fn assert_child_of_incoming(collect: &Collect) {
    let span = collect.span("handler");
    assert_eq!(span.span_context.trace_id(), TRACE_ID);
    assert_eq!(span.parent_span_id, PARENT_ID);
}

async fn with_context_gives_the_span_its_parent_and_baggage() {
    let (subscriber, _provider, collect) = subscriber();
    let _default = tracing::subscriber::set_default(subscriber);
    let tenant = handler().with_context(incoming()).await;
    assert_eq!(tenant.as_deref(), Some("acme"));
    assert_child_of_incoming(&collect);
}

#[tokio::test(flavor = "current_thread")]
async fn with_context_current_thread() {
    with_context_gives_the_span_its_parent_and_baggage().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_context_multi_thread() {
    with_context_gives_the_span_its_parent_and_baggage().await;
}

/// The pattern the docs used to show: the guard is gone before the first
/// poll, so the span is a new root and the baggage is lost. Kept as a test
/// so that the documentation cannot claim otherwise again.
#[tokio::test(flavor = "current_thread")]
async fn a_guard_around_the_call_only_is_gone_before_the_span_exists() {
    let (subscriber, _provider, collect) = subscriber();
    let _default = tracing::subscriber::set_default(subscriber);
    let fut = {
        let _attached = incoming().attach();
        handler()
    };
    assert_eq!(fut.await, None);
    let span = collect.span("handler");
    assert_ne!(span.span_context.trace_id(), TRACE_ID);
    assert_eq!(span.parent_span_id, SpanId::INVALID);
}

/// A spawned task: `with_context` travels with the future to whichever
/// worker polls it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_with_context_keeps_parent_and_baggage() {
    let (subscriber, _provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let task = tracing::instrument::WithSubscriber::with_subscriber(
        handler().with_context(incoming()),
        dispatch,
    );
    let tenant = tokio::spawn(task).await.unwrap();
    assert_eq!(tenant.as_deref(), Some("acme"));
    assert_child_of_incoming(&collect);
}
