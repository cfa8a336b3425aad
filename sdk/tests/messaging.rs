//! Messaging spans through a real provider: producer and consumer in one
//! trace, baggage through the message headers, batch links, the
//! conventions' attributes and names, and `tracing` spans nesting under
//! the process span.

use std::collections::HashMap;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{global, Context, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use tracekit::export::memory::InMemoryExporter;
use tracekit::messaging::{record_error, Messaging};
use tracekit::propagators::{BaggagePropagator, CompositePropagator, TraceContextPropagator};
use tracekit::TracerProvider;

fn setup() -> (TracerProvider, InMemoryExporter) {
    global::set_text_map_propagator(CompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
    let exporter = InMemoryExporter::new();
    let provider = TracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

#[test]
fn one_message_from_producer_to_consumer() {
    let (provider, exporter) = setup();
    let tracer = provider.tracer("queue-test");

    let mut headers: HashMap<String, String> = HashMap::new();
    let outer = Context::current_with_baggage([KeyValue::new("tenant", "acme")]);
    let send = {
        let _attached = outer.attach();
        Messaging::new("nats", "orders")
            .send_operation_name("publish")
            .message_id("m-1")
            .body_size(42)
            .server("127.0.0.1", 4222)
            .send(&tracer, &mut headers)
    };
    send.span().end();
    assert!(headers.contains_key("traceparent"), "{headers:?}");
    assert!(headers["baggage"].contains("tenant=acme"), "{headers:?}");

    let process = Messaging::new("nats", "orders")
        .message_id("m-1")
        .process(&tracer, &headers);
    assert_eq!(
        process.baggage().get("tenant").map(|v| v.as_str()),
        Some("acme")
    );
    // A `tracing` span (what `#[instrument]` makes) started while the
    // process context is attached nests below the process span.
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber =
            tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("tracing")));
        let _attached = process.clone().attach();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("handle order").in_scope(|| {});
        });
    }
    process.span().end();

    let spans = exporter.finished_spans();
    let producer = named(&spans, "publish orders");
    let consumer = named(&spans, "process orders");
    let handler = named(&spans, "handle order");
    assert_eq!(producer.span_kind, SpanKind::Producer);
    assert_eq!(consumer.span_kind, SpanKind::Consumer);
    assert_eq!(
        consumer.span_context.trace_id(),
        producer.span_context.trace_id()
    );
    assert_eq!(consumer.parent_span_id, producer.span_context.span_id());
    assert_eq!(handler.parent_span_id, consumer.span_context.span_id());
    assert_eq!(attribute(producer, "messaging.system"), Some("nats".into()));
    assert_eq!(
        attribute(producer, "messaging.destination.name"),
        Some("orders".into())
    );
    assert_eq!(
        attribute(producer, "messaging.operation.type"),
        Some("send".into())
    );
    assert_eq!(
        attribute(producer, "messaging.operation.name"),
        Some("publish".into())
    );
    assert_eq!(
        attribute(producer, "messaging.message.id"),
        Some("m-1".into())
    );
    assert_eq!(
        attribute(producer, "messaging.message.body.size"),
        Some(42i64.into())
    );
    assert_eq!(
        attribute(producer, "server.address"),
        Some("127.0.0.1".into())
    );
    assert_eq!(attribute(producer, "server.port"), Some(4222i64.into()));
    assert_eq!(
        attribute(consumer, "messaging.operation.type"),
        Some("process".into())
    );
    assert_eq!(
        attribute(consumer, "messaging.message.id"),
        Some("m-1".into())
    );
}

#[test]
fn a_batch_links_every_message_and_failures_are_marked() {
    let (provider, exporter) = setup();
    let tracer = provider.tracer("queue-test");
    let mut messages: Vec<HashMap<String, String>> = Vec::new();
    for i in 0..3 {
        let mut headers = HashMap::new();
        Messaging::new("nats", "orders")
            .message_id(format!("m-{i}"))
            .send(&tracer, &mut headers)
            .span()
            .end();
        messages.push(headers);
    }
    // One message without any context: counted, not linked.
    messages.push(HashMap::new());
    let extractors: Vec<&dyn Extractor> = messages.iter().map(|m| m as &dyn Extractor).collect();
    let batch = Messaging::new("nats", "orders")
        .message_id("ignored for a batch")
        .process_batch(&tracer, &extractors);
    record_error(&batch, "timeout");
    batch.span().end();

    let spans = exporter.finished_spans();
    let producers: Vec<&SpanData> = spans.iter().filter(|s| s.name == "send orders").collect();
    let consumer = named(&spans, "process orders");
    assert_eq!(producers.len(), 3);
    assert_eq!(consumer.links.len(), 3);
    for (link, producer) in consumer.links.iter().zip(&producers) {
        assert_eq!(link.span_context.span_id(), producer.span_context.span_id());
        assert_eq!(
            link.span_context.trace_id(),
            producer.span_context.trace_id()
        );
        assert!(link.span_context.is_remote(), "read from the message");
    }
    assert_eq!(
        attribute(consumer, "messaging.batch.message_count"),
        Some(4i64.into())
    );
    assert_eq!(attribute(consumer, "messaging.message.id"), None);
    assert_eq!(attribute(consumer, "error.type"), Some("timeout".into()));
    assert!(matches!(consumer.status, Status::Error { .. }));
}
