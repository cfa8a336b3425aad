//! End to end: tracekit's pipeline (tracer → batch processor → OTLP
//! exporter) against the in-process OTLP receiver, decoded on arrival.

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind as ProtoKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracekit::testing::receiver::OtlpReceiver;
use tracekit::{BatchConfig, Tracekit};

fn pipeline(env: HashMap<String, String>, batch: BatchConfig) -> Tracekit {
    let mut env = env;
    env.insert("OTEL_TRACES_EXPORTER".into(), "otlp".into());
    env.insert("OTEL_EXPORTER_OTLP_TIMEOUT".into(), "2000".into());
    tracekit::builder()
        .service_name("pipeline-test")
        .service_version("9.9.9")
        .batch_config(batch)
        .with_env(env)
        .shutdown_timeout(Duration::from_secs(30))
        .build()
}

fn round_trip(protocol: &str) {
    let receiver = OtlpReceiver::start().unwrap();
    let tk = pipeline(receiver.env(protocol), BatchConfig::default());
    let tracer = tk.tracer("round-trip");
    let before = std::time::SystemTime::now();
    let (trace_id, root_id) = tracer.in_span("GET /orders/{id}", |cx| {
        let root = cx.span();
        root.set_attribute(KeyValue::new("http.request.method", "GET"));
        root.set_attribute(KeyValue::new("http.response.status_code", 500_i64));
        root.set_status(Status::error("boom"));
        let mut child = tracer
            .span_builder("load order")
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("order.items.count", 3_i64)])
            .start(&tracer);
        child.add_event("cache_miss", vec![KeyValue::new("cache.key", "o-42")]);
        child.end();
        (
            root.span_context().trace_id(),
            root.span_context().span_id(),
        )
    });
    tk.shutdown().unwrap();
    assert!(receiver.wait_for_spans(2, Duration::from_secs(10)));

    let spans = receiver.spans();
    assert_eq!(spans.len(), 2);
    let root = spans
        .iter()
        .find(|s| s.span.name == "GET /orders/{id}")
        .unwrap();
    let child = spans.iter().find(|s| s.span.name == "load order").unwrap();
    assert_eq!(root.trace_id_hex(), format!("{trace_id}"));
    assert_eq!(child.trace_id_hex(), format!("{trace_id}"));
    assert_eq!(root.span_id_hex(), format!("{root_id}"));
    assert_eq!(child.span.parent_span_id, root.span.span_id);
    assert!(root.span.parent_span_id.is_empty());
    assert_eq!(root.span.kind, ProtoKind::Internal as i32);
    assert_eq!(child.span.kind, ProtoKind::Client as i32);
    let status = root.span.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "boom");
    let before_ns = before
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(root.span.start_time_unix_nano + 50_000_000 >= before_ns);
    assert!(root.span.end_time_unix_nano >= child.span.end_time_unix_nano);
    assert!(child.span.start_time_unix_nano >= root.span.start_time_unix_nano);
    assert_eq!(
        root.attribute("http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        root.attribute("http.response.status_code").as_deref(),
        Some("500")
    );
    assert_eq!(child.attribute("order.items.count").as_deref(), Some("3"));
    assert_eq!(child.span.events.len(), 1);
    assert_eq!(child.span.events[0].name, "cache_miss");
    assert_eq!(root.service_name(), "pipeline-test");
    assert_eq!(
        root.resource_attribute("service.version").as_deref(),
        Some("9.9.9")
    );
    assert_eq!(
        root.resource_attribute("telemetry.sdk.name").as_deref(),
        Some("tracekit")
    );
    assert_eq!(root.scope.as_ref().unwrap().name, "round-trip");
}

#[test]
fn round_trip_over_http_protobuf() {
    round_trip("http/protobuf");
}

#[cfg(feature = "grpc")]
#[test]
fn round_trip_over_grpc() {
    round_trip("grpc");
}

#[test]
fn no_span_lost_on_graceful_shutdown() {
    const N: usize = 100_000;
    let receiver = OtlpReceiver::start().unwrap();
    let tk = pipeline(
        receiver.env("http/protobuf"),
        BatchConfig {
            max_queue_size: N,
            max_export_batch_size: 4096,
            ..BatchConfig::default()
        },
    );
    let tracer = tk.tracer("volume");
    for _ in 0..N {
        tracer.start("unit").end();
    }
    let guard_like = tk;
    guard_like.shutdown().unwrap();
    assert_eq!(receiver.span_count(), N);
    let c = guard_like.counters();
    assert_eq!(c.exported, N as u64);
    assert_eq!(c.dropped(), 0);
}

#[test]
fn retried_exports_deliver_every_span_exactly_once() {
    let receiver = OtlpReceiver::start().unwrap();
    receiver.respond_with([503, 503]);
    let tk = pipeline(receiver.env("http/protobuf"), BatchConfig::default());
    let tracer = tk.tracer("retry");
    for i in 0..10 {
        let mut span = tracer.start("attempt");
        span.set_attribute(KeyValue::new("i", i as i64));
        span.end();
    }
    tk.shutdown().unwrap();
    assert_eq!(receiver.span_count(), 10);
    assert_eq!(receiver.attempts(), 3);
    let mut seen: Vec<String> = receiver
        .spans()
        .iter()
        .map(|s| s.attribute("i").unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 10);
}

#[test]
fn unreachable_collector_leaves_the_application_alone() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = HashMap::from([(
        "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
        format!("http://127.0.0.1:{port}"),
    )]);
    let tk = tracekit::builder()
        .with_env({
            let mut env = env;
            env.insert("OTEL_EXPORTER_OTLP_TIMEOUT".into(), "500".into());
            env
        })
        .shutdown_timeout(Duration::from_secs(5))
        .build();
    let tracer = tk.tracer("offline");
    let mut work = 0u64;
    for i in 0..1_000u64 {
        tracer.in_span("work", |_cx| work += i);
    }
    assert_eq!(work, 499_500);
    let started = Instant::now();
    let _ = tk.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5));
    let c = tk.counters();
    assert_eq!(c.exported, 0);
    assert_eq!(c.ended, 1_000);
    assert_eq!(c.exported + c.dropped(), c.ended);
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_completes_inside_a_current_thread_runtime() {
    let receiver = OtlpReceiver::start().unwrap();
    let tk = pipeline(receiver.env("http/protobuf"), BatchConfig::default());
    let tracer = tk.tracer("async");
    tracer.in_span("inside-runtime", |_cx| {});
    tokio::task::yield_now().await;
    tk.shutdown().unwrap();
    assert_eq!(receiver.span_count(), 1);
}

/// Spans reach OTLP http/protobuf encoded straight from tracekit's span
/// records: redaction still sees every field a user writes (attributes,
/// event attributes, link attributes, the status description), and sees
/// each value whole before the length limit cuts it.
#[test]
fn secrets_are_redacted_before_values_are_cut_on_the_way_out() {
    use opentelemetry::trace::{Link, SpanContext, SpanId, TraceFlags, TraceId, TraceState};
    const CARD: &str = "4111 1111 1111 1111";
    let receiver = OtlpReceiver::start().unwrap();
    let mut env = receiver.env("http/protobuf");
    env.insert("OTEL_TRACES_EXPORTER".into(), "otlp".into());
    let tk = tracekit::builder()
        .service_name("redaction-on-the-wire")
        .span_limits(tracekit::SpanLimits {
            max_attribute_value_length: Some(30),
            ..tracekit::SpanLimits::default()
        })
        .with_env(env)
        .build();
    let tracer = tk.tracer("secrets");
    let linked = SpanContext::new(
        TraceId::from(7),
        SpanId::from(9),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let mut span = tracer
        .span_builder("pay")
        .with_links(vec![Link::new(
            linked,
            vec![KeyValue::new("card", CARD)],
            0,
        )])
        .start(&tracer);
    // The card number straddles the 30-character limit: cutting first
    // would leave an unrecognisable "4111 111" behind.
    span.set_attribute(KeyValue::new(
        "note",
        format!("customer paid with {CARD} today"),
    ));
    span.add_event("charge", vec![KeyValue::new("card", CARD)]);
    span.set_status(Status::error(format!("card {CARD} declined")));
    span.end();
    tk.shutdown().unwrap();

    let spans = receiver.spans();
    assert_eq!(spans.len(), 1);
    let span = &spans[0].span;
    let text = |v: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>| format!("{v:?}");
    let note = spans[0].attribute("note").unwrap();
    assert!(note.chars().count() <= 30, "{note}");
    assert!(!note.contains("4111"), "{note}");
    let event_value = text(&span.events[0].attributes[0].value);
    assert!(!event_value.contains("4111"), "{event_value}");
    let link_value = text(&span.links[0].attributes[0].value);
    assert!(!link_value.contains("4111"), "{link_value}");
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.message, "card REDACTED declined");
    assert!(tk.redaction_counters().total() >= 4);
}
