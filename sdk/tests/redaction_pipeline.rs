//! Redaction inside the pipeline that `init`/`builder` set up: on by
//! default, applied before value-length truncation, counted.

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use tracekit::testing::InMemoryExporter;
use tracekit::SpanLimits;

fn pipeline(
    exporter: &InMemoryExporter,
    env: &[(&'static str, &'static str)],
) -> tracekit::Tracekit {
    let mut map: std::collections::HashMap<&'static str, &'static str> =
        [("OTEL_TRACES_EXPORTER", "none")].into_iter().collect();
    map.extend(env.iter().copied());
    tracekit::builder()
        .span_limits(SpanLimits {
            max_attribute_value_length: Some(30),
            ..SpanLimits::default()
        })
        .with_exporter(exporter.clone())
        .with_env(map)
        .build()
}

#[test]
fn a_secret_cut_by_the_length_limit_is_still_redacted() {
    let exporter = InMemoryExporter::new();
    let tk = pipeline(&exporter, &[]);
    let mut span = tk.tracer("t").start("pay");
    // The card number straddles the 30-character limit: truncating first
    // would leave "4111111" behind, unrecognisable as a card.
    span.set_attribute(KeyValue::new(
        "note",
        "customer paid with 4111111111111111 today",
    ));
    span.end();
    tk.shutdown().unwrap();
    let spans = exporter.finished_spans();
    let value = spans[0].attributes[0].value.as_str().into_owned();
    assert!(value.chars().count() <= 30, "{value}");
    assert!(!value.contains("4111"), "{value}");
    let counted: u64 = tk.redaction_counters().total();
    assert_eq!(counted, 1);
}

#[test]
fn defaults_can_be_turned_off_from_the_environment() {
    let exporter = InMemoryExporter::new();
    let tk = pipeline(&exporter, &[("TRACEKIT_REDACT_DEFAULTS", "false")]);
    let mut span = tk.tracer("t").start("pay");
    span.set_attribute(KeyValue::new("card", "4111111111111111"));
    span.end();
    tk.shutdown().unwrap();
    assert_eq!(
        exporter.finished_spans()[0].attributes[0].value.as_str(),
        "4111111111111111"
    );
}
