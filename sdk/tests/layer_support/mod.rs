//! Shared pieces of the layer integration tests: a collecting exporter and
//! a subscriber with the tracekit layer over it.

#![allow(dead_code)]

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::{Arc, Mutex};
use tracekit::layer::TracekitLayer;
use tracekit::TracerProvider;
use tracing_subscriber::layer::{Layered, SubscriberExt};
use tracing_subscriber::Registry;

/// Collects every exported span.
#[derive(Clone, Debug, Default)]
pub struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl Collect {
    pub fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }

    pub fn span(&self, name: &str) -> SpanData {
        let spans = self.spans();
        let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(
            found.len(),
            1,
            "expected one span named {name:?} in {spans:#?}"
        );
        found[0].clone()
    }
}

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

pub type Subscriber = Layered<TracekitLayer<Registry>, Registry>;

/// A provider exporting synchronously to a fresh collector.
pub fn provider() -> (TracerProvider, Collect) {
    let collect = Collect::default();
    let provider = TracerProvider::builder()
        .with_simple_exporter(collect.clone())
        .build();
    (provider, collect)
}

/// Registry + tracekit layer over a fresh provider.
pub fn subscriber() -> (Subscriber, TracerProvider, Collect) {
    let (provider, collect) = provider();
    let subscriber =
        tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("test")));
    (subscriber, provider, collect)
}

pub fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_string()))
        .map(|kv| kv.value.clone())
}

pub fn event_attr(event: &opentelemetry::trace::Event, key: &str) -> Option<Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_string()))
        .map(|kv| kv.value.clone())
}

/// Asserts `child` is a child of `parent` in the same trace.
pub fn assert_child_of(child: &SpanData, parent: &SpanData) {
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id(),
        "{} and {} are in different traces",
        child.name,
        parent.name
    );
    assert_eq!(
        child.parent_span_id,
        parent.span_context.span_id(),
        "{} is not a child of {}",
        child.name,
        parent.name
    );
}

pub fn assert_root(span: &SpanData) {
    assert_eq!(
        span.parent_span_id,
        SpanId::INVALID,
        "{} is not a root",
        span.name
    );
    assert_ne!(span.span_context.trace_id(), TraceId::INVALID);
}
