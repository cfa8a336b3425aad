//! The OTLP exporter against the in-process receiver: what arrives over
//! http/protobuf, http/json and gRPC, compression, headers, retries, and
//! failures — all exported from plain threads with no tokio runtime, as the
//! batch processor does.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::{span, status};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tracekit::export::otlp::{OtlpConfig, OtlpExporter, OtlpProtocol, RetryPolicy};
use tracekit::export::waterfall::WaterfallRenderer;
use tracekit::testing::receiver::{OtlpReceiver, ReceivedVia, ScriptedResponse};
use tracekit::testing::SpanDataBuilder;

mod support;
use support::protocols;

const WAIT: Duration = Duration::from_secs(5);

fn receiver() -> OtlpReceiver {
    OtlpReceiver::start().expect("receiver starts")
}

/// Fast retries so that tests stay short.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::recommended()
        .with_initial_delay(Duration::from_millis(10))
        .with_max_delay(Duration::from_millis(50))
        .with_max_jitter(Duration::from_millis(5))
}

fn config(env: &HashMap<String, String>) -> OtlpConfig {
    OtlpConfig::from_env(env)
        .with_timeout(Duration::from_secs(3))
        .with_retry_policy(quick_retries())
}

fn exporter(config: &OtlpConfig, service: &str) -> OtlpExporter {
    let mut exporter = config.build_exporter().expect("exporter builds");
    exporter.set_resource(
        &Resource::builder_empty()
            .with_service_name(service.to_string())
            .with_attribute(KeyValue::new("deployment.environment.name", "test"))
            .build(),
    );
    exporter
}

/// Export on a fresh std thread (no tokio runtime), like the batch
/// processor's worker.
fn export_from_plain_thread(
    exporter: OtlpExporter,
    batch: Vec<SpanData>,
) -> (OtlpExporter, OTelSdkResult) {
    std::thread::spawn(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let result = futures_executor::block_on(exporter.export(batch));
        (exporter, result)
    })
    .join()
    .expect("export thread does not panic")
}

/// A root server span, a client child with an event and an error, and a
/// remote-parented span.
fn sample_spans() -> Vec<SpanData> {
    let trace = TraceId::from(0x0af7651916cd43dd8448eb211c80319cu128);
    let root = SpanDataBuilder::new("GET /orders")
        .trace_id(trace)
        .span_id(SpanId::from(0xb7ad6b7169203331u64))
        .kind(SpanKind::Server)
        .duration(Duration::from_millis(40))
        .attribute(KeyValue::new("http.route", "/orders"))
        .attribute(KeyValue::new("http.response.status_code", 200))
        .status(Status::Ok)
        .build();
    let child = SpanDataBuilder::new("SELECT orders")
        .child_of(&root)
        .span_id(SpanId::from(0x00f067aa0ba902b7u64))
        .kind(SpanKind::Client)
        .offset(Duration::from_millis(5))
        .duration(Duration::from_millis(20))
        .attribute(KeyValue::new("db.system.name", "postgresql"))
        .attribute(KeyValue::new("rows", 3))
        .attribute(KeyValue::new("ratio", 0.5))
        .attribute(KeyValue::new("cached", false))
        .event(
            "exception",
            Duration::from_millis(10),
            vec![KeyValue::new("exception.type", "Timeout")],
        )
        .status(Status::error("query timed out"))
        .build();
    vec![child, root]
}

/// Check every decoded field of [`sample_spans`].
fn check_sample(receiver: &OtlpReceiver, via: ReceivedVia, service: &str) {
    assert!(receiver.wait_for_spans(2, WAIT), "spans did not arrive");
    let spans = receiver.spans();
    assert_eq!(spans.len(), 2);
    let expected = sample_spans();
    for (got, want) in spans.iter().zip(&expected) {
        assert_eq!(got.via, via);
        assert_eq!(got.span.trace_id, want.span_context.trace_id().to_bytes());
        assert_eq!(got.span.span_id, want.span_context.span_id().to_bytes());
        assert_eq!(got.span.name, want.name);
        let nanos =
            |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        assert_eq!(got.span.start_time_unix_nano, nanos(want.start_time));
        assert_eq!(got.span.end_time_unix_nano, nanos(want.end_time));
        assert_eq!(got.service_name(), service);
        assert_eq!(
            got.resource_attribute("deployment.environment.name")
                .as_deref(),
            Some("test")
        );
        assert_eq!(
            got.scope.as_ref().map(|s| s.name.as_str()),
            Some("tracekit-test")
        );
    }
    let (child, root) = (&spans[0], &spans[1]);
    assert!(root.span.parent_span_id.is_empty());
    assert_eq!(child.span.parent_span_id, root.span.span_id);
    assert_eq!(root.span.kind, span::SpanKind::Server as i32);
    assert_eq!(child.span.kind, span::SpanKind::Client as i32);
    assert_eq!(root.attribute("http.route").as_deref(), Some("/orders"));
    let typed = |key: &str| {
        child
            .span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    assert_eq!(typed("rows"), Some(any_value::Value::IntValue(3)));
    assert_eq!(typed("ratio"), Some(any_value::Value::DoubleValue(0.5)));
    assert_eq!(typed("cached"), Some(any_value::Value::BoolValue(false)));
    assert_eq!(
        typed("db.system.name"),
        Some(any_value::Value::StringValue("postgresql".into()))
    );
    assert_eq!(child.span.events.len(), 1);
    assert_eq!(child.span.events[0].name, "exception");
    assert_eq!(
        child.span.events[0].time_unix_nano,
        child.span.start_time_unix_nano + 10_000_000
    );
    let status = |s: &tracekit::testing::receiver::ReceivedSpan| {
        s.span.status.clone().map(|st| (st.code, st.message))
    };
    assert_eq!(
        status(child),
        Some((
            status::StatusCode::Error as i32,
            "query timed out".to_string()
        ))
    );
    assert_eq!(
        status(root).map(|s| s.0),
        Some(status::StatusCode::Ok as i32)
    );
}

fn round_trip(protocol: &str, via: ReceivedVia) {
    let receiver = receiver();
    let config = config(&receiver.env(protocol));
    let exporter = exporter(&config, "orders");
    let (_exporter, result) = export_from_plain_thread(exporter, sample_spans());
    result.expect("export succeeds");
    check_sample(&receiver, via, "orders");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert!(!requests[0].gzip);
}

#[test]
fn http_protobuf_round_trip() {
    round_trip("http/protobuf", ReceivedVia::HttpProtobuf);
}

#[cfg(feature = "http-json")]
#[test]
fn http_json_round_trip() {
    round_trip("http/json", ReceivedVia::HttpJson);
}

#[cfg(feature = "grpc")]
#[test]
fn grpc_round_trip() {
    round_trip("grpc", ReceivedVia::Grpc);
}

#[test]
fn per_signal_endpoint_is_used_as_is() {
    let receiver = receiver();
    let env = HashMap::from([
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            "http://127.0.0.1:1".to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT".to_string(),
            receiver.http_traces_url(),
        ),
    ]);
    let config = config(&env);
    assert_eq!(config.protocol(), OtlpProtocol::HttpProtobuf);
    let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
    result.expect("export succeeds");
    assert!(receiver.wait_for_spans(2, WAIT));
}

#[cfg(feature = "gzip")]
#[test]
fn gzip_and_headers_reach_the_receiver() {
    for protocol in protocols() {
        let receiver = receiver();
        let mut env = receiver.env(protocol);
        env.insert("OTEL_EXPORTER_OTLP_COMPRESSION".into(), "gzip".into());
        env.insert(
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS".into(),
            "x-api-key=secret%20value,x-tenant=acme".into(),
        );
        let config = config(&env);
        let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
        result.unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert!(receiver.wait_for_spans(2, WAIT), "{protocol}");
        let request = &receiver.requests()[0];
        assert!(request.gzip, "{protocol}: body not gzip");
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("x-api-key").as_deref(),
            Some("secret value"),
            "{protocol}"
        );
        assert_eq!(header("x-tenant").as_deref(), Some("acme"), "{protocol}");
    }
}

#[test]
fn retryable_failures_are_retried_and_spans_arrive_exactly_once() {
    for protocol in protocols() {
        let receiver = receiver();
        receiver.respond_with([503, 503]);
        let config = config(&receiver.env(protocol));
        let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
        result.unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(receiver.attempts(), 3, "{protocol}");
        assert_eq!(receiver.requests().len(), 1, "{protocol}");
        assert_eq!(receiver.span_count(), 2, "{protocol}");
    }
}

#[test]
fn throttling_with_retry_after_is_honoured() {
    for protocol in protocols() {
        let receiver = receiver();
        // The server's delay seeds the back-off (it doubles from there), so
        // one throttled attempt is what fits in the 3 s timeout.
        receiver
            .respond_with([ScriptedResponse::status(429).with_retry_after(Duration::from_secs(1))]);
        let config = config(&receiver.env(protocol));
        let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
        result.unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(receiver.attempts(), 2, "{protocol}");
        assert_eq!(receiver.span_count(), 2, "{protocol}");
    }
}

#[test]
fn bad_request_is_not_retried() {
    for protocol in protocols() {
        let receiver = receiver();
        receiver.respond_with([400]);
        let config = config(&receiver.env(protocol));
        let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
        assert!(result.is_err(), "{protocol}: 400 must fail the export");
        assert_eq!(receiver.attempts(), 1, "{protocol}");
        assert_eq!(receiver.span_count(), 0, "{protocol}");
    }
}

#[test]
fn retries_can_be_turned_off() {
    let receiver = receiver();
    receiver.respond_with([503]);
    let config = config(&receiver.env("http/protobuf")).without_retry();
    let (_e, result) = export_from_plain_thread(exporter(&config, "svc"), sample_spans());
    assert!(result.is_err());
    assert_eq!(receiver.attempts(), 1);
}

/// A 127.0.0.1 port with nothing listening.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn unreachable_collector_fails_the_export_without_panicking() {
    for protocol in protocols() {
        let env = HashMap::from([
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL".to_string(),
                protocol.to_string(),
            ),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
                format!("http://127.0.0.1:{}", closed_port()),
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT".to_string(), "1000".to_string()),
        ]);
        let config = OtlpConfig::from_env(&env).with_retry_policy(quick_retries());
        let exporter = exporter(&config, "svc");
        let endpoint = exporter.endpoint().to_string();
        let (exporter, result) = export_from_plain_thread(exporter, sample_spans());
        let error = result
            .expect_err("export to a closed port succeeded")
            .to_string();
        // The message names the endpoint and the cause.
        assert!(error.contains(&endpoint), "{protocol}: {error}");
        if protocol != "grpc" {
            assert!(error.contains("connection refused"), "{protocol}: {error}");
        }
        exporter.shutdown().expect("shutdown");
    }
}

#[test]
fn export_after_shutdown_fails() {
    for protocol in protocols() {
        let receiver = receiver();
        let exporter = exporter(&config(&receiver.env(protocol)), "svc");
        exporter.shutdown().expect("first shutdown");
        assert!(exporter.shutdown().is_err(), "{protocol}: second shutdown");
        let (_e, result) = export_from_plain_thread(exporter, sample_spans());
        assert!(result.is_err(), "{protocol}");
        assert_eq!(receiver.attempts(), 0, "{protocol}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn export_works_inside_a_current_thread_runtime() {
    for protocol in protocols() {
        let receiver = receiver();
        receiver.respond_with([503]);
        let exporter = exporter(&config(&receiver.env(protocol)), "svc");
        exporter
            .export(sample_spans())
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(receiver.span_count(), 2, "{protocol}");
        drop(exporter);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_works_inside_a_multi_thread_runtime() {
    let receiver = receiver();
    let protocol = protocols().pop().expect("one protocol at least");
    let exporter = exporter(&config(&receiver.env(protocol)), "svc");
    exporter.export(sample_spans()).await.expect("export");
    assert!(receiver.wait_for_spans(2, WAIT));
    drop(exporter);
}

#[test]
fn receiver_renders_traces_from_several_services() {
    let receiver = receiver();
    let root = SpanDataBuilder::new("POST /checkout")
        .trace_id(TraceId::from(42u128))
        .kind(SpanKind::Server)
        .duration(Duration::from_millis(50))
        .build();
    let downstream = SpanDataBuilder::new("charge")
        .child_of(&root)
        .parent(root.span_context.span_id(), true)
        .kind(SpanKind::Server)
        .offset(Duration::from_millis(10))
        .duration(Duration::from_millis(30))
        .build();
    let gateway_config = config(&receiver.env("http/protobuf"));
    // The second service over another protocol when this build has one.
    let payment_config = config(&receiver.env(protocols().pop().expect("one protocol")));
    let (_a, a) = export_from_plain_thread(exporter(&gateway_config, "gateway"), vec![root]);
    let (_b, b) = export_from_plain_thread(exporter(&payment_config, "payment"), vec![downstream]);
    a.expect("gateway export");
    b.expect("payment export");
    assert!(receiver.wait_for_spans(2, WAIT));
    let mut out = Vec::new();
    receiver
        .render_waterfall(&WaterfallRenderer::new(), &mut out)
        .expect("render");
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("2 spans · 2 services"), "{text}");
    assert!(
        lines[1].starts_with(" gateway  POST /checkout (server)"),
        "{text}"
    );
    assert!(
        lines[2].starts_with(" payment  └─ charge (server)"),
        "{text}"
    );
}
