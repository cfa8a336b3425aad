//! Log lines carry the trace and span ids of the exported spans.

mod layer_support;

use layer_support::*;
use opentelemetry::trace::Tracer as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracekit::layer::fmt::{log_layer, LogFormat};
use tracing::info_span;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Captures everything written.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

fn run(format: LogFormat) -> (Vec<String>, Collect) {
    let (provider, collect) = provider();
    let buffer = Buffer::default();
    let tracer = provider.tracer("otel-api");
    let subscriber = tracing_subscriber::registry()
        .with(tracekit::layer::layer(provider.tracer("test")))
        .with(log_layer(format, buffer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside any span");
        info_span!("outer").in_scope(|| {
            tracing::info!(answer = 42, "in outer");
            info_span!("inner").in_scope(|| tracing::warn!("in inner"));
            tracer.in_span("otel_span", |_| tracing::info!("in otel span"));
        });
    });
    (buffer.lines(), collect)
}

fn ids(span: &opentelemetry_sdk::trace::SpanData) -> (String, String) {
    (
        span.span_context.trace_id().to_string(),
        span.span_context.span_id().to_string(),
    )
}

#[test]
fn text_lines_end_with_the_ids_of_their_span() {
    let (lines, collect) = run(LogFormat::Text);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines[0].contains("outside any span") && !lines[0].contains("trace_id="));
    for (line, span) in [(1, "outer"), (2, "inner"), (3, "otel_span")] {
        let (trace_id, span_id) = ids(&collect.span(span));
        let suffix = format!(" trace_id={trace_id} span_id={span_id}");
        assert!(
            lines[line].ends_with(&suffix),
            "{:?} should end with {suffix:?}",
            lines[line]
        );
    }
    assert!(lines[1].contains("in outer") && lines[1].contains("answer=42"));
}

#[test]
fn json_lines_carry_the_ids_of_their_span() {
    let (lines, collect) = run(LogFormat::Json);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert!(parsed[0].get("trace_id").is_none());
    assert_eq!(parsed[0]["fields"]["message"], "outside any span");
    for (line, span) in [(1, "outer"), (2, "inner"), (3, "otel_span")] {
        let (trace_id, span_id) = ids(&collect.span(span));
        assert_eq!(parsed[line]["trace_id"], trace_id.as_str());
        assert_eq!(parsed[line]["span_id"], span_id.as_str());
    }
    assert_eq!(parsed[1]["fields"]["answer"], 42);
    assert_eq!(parsed[1]["level"], "INFO");
    assert_eq!(parsed[2]["level"], "WARN");
    assert_eq!(parsed[2]["span"], "inner");
    assert_eq!(parsed[1]["target"], module_path!());
    assert!(parsed[1]["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

#[test]
fn json_fields_of_128_bit_integers_are_numbers_when_they_fit() {
    let buffer = Buffer::default();
    let subscriber =
        tracing_subscriber::registry().with(log_layer(LogFormat::Json, buffer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            small_u128 = 5_u128,
            small_i128 = -5_i128,
            huge_u128 = u128::MAX,
            huge_i128 = i128::MIN,
            "wide"
        );
    });
    let lines = buffer.lines();
    let parsed: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let fields = &parsed["fields"];
    assert_eq!(fields["small_u128"], 5);
    assert_eq!(fields["small_i128"], -5);
    assert_eq!(fields["huge_u128"], u128::MAX.to_string());
    assert_eq!(fields["huge_i128"], i128::MIN.to_string());
}

#[test]
fn the_off_format_writes_nothing() {
    let (lines, collect) = run(LogFormat::Off);
    assert!(lines.is_empty());
    assert_eq!(collect.spans().len(), 3);
}
