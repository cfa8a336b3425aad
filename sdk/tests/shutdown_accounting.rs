//! Shutdown against a collector that accepts connections and never
//! answers: the shutdown timeout ends the wait, and every span is still
//! accounted for once it returns (exported + dropped == ended).

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _};
use tracekit::ProcessorError;

/// A 127.0.0.1 address that accepts TCP connections and never answers on
/// them (it keeps them open until the process ends).
fn silent_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("http://{address}")
}

#[test]
fn spans_are_accounted_for_when_shutdown_times_out() {
    let env: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", silent_collector().as_str()),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "30000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let tracekit = tracekit::builder()
        .with_env(env)
        .tracing_subscriber(false)
        .shutdown_timeout(Duration::from_millis(300))
        .build();
    let tracer = tracekit.tracer("accounting");
    for i in 0..4_400 {
        let mut span = tracer.start(format!("span {i}"));
        span.end();
    }
    let result = tracekit.shutdown();
    assert!(
        matches!(result, Err(ProcessorError::Timeout)),
        "the silent collector should make shutdown time out: {result:?}"
    );
    let counters = tracekit.counters();
    assert_eq!(counters.ended, 4_400);
    assert_eq!(
        counters.exported + counters.dropped(),
        counters.ended,
        "{counters:?}"
    );
    assert!(counters.dropped_at_shutdown > 0, "{counters:?}");
    let line = counters.summary_line().expect("spans were lost");
    assert!(line.contains("4400 spans ended"), "{line}");
}
