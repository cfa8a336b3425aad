//! Redaction inside the pipeline that `init`/`builder` set up: on by
//! default, applied before value-length truncation, counted.

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::KeyValue;
use tracekit::testing::InMemoryExporter;
use tracekit::SpanLimits;

fn pipeline(
    exporter: &InMemoryExporter,
    env: &[(&'static str, &'static str)],
) -> tracekit::Tracekit {
    pipeline_limited(exporter, env, Some(30))
}

/// The pipeline with attribute values cut to `max_length` characters.
fn pipeline_limited(
    exporter: &InMemoryExporter,
    env: &[(&'static str, &'static str)],
    max_length: Option<u32>,
) -> tracekit::Tracekit {
    let mut map: std::collections::HashMap<&'static str, &'static str> =
        [("OTEL_TRACES_EXPORTER", "none")].into_iter().collect();
    map.extend(env.iter().copied());
    tracekit::builder()
        .span_limits(SpanLimits {
            max_attribute_value_length: max_length,
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

/// One card number, grouped as people type it.
const CARD: &str = "4111 1111 1111 1111";

/// The default pipeline (batch processor, redaction from the defaults, no
/// length limit) with the in-memory exporter; `f` records one span.
fn export_one(f: impl FnOnce(&tracekit::Tracer)) -> opentelemetry_sdk::trace::SpanData {
    let exporter = InMemoryExporter::new();
    let tk = pipeline_limited(&exporter, &[], None);
    f(&tk.tracer("t"));
    tk.shutdown().unwrap();
    let mut spans = exporter.finished_spans();
    assert_eq!(spans.len(), 1);
    spans.remove(0)
}

#[test]
fn an_error_status_description_is_redacted_on_export() {
    let span = export_one(|tracer| {
        let mut span = tracer.start("pay");
        span.set_status(Status::error(format!("card {CARD} declined")));
        span.end();
    });
    assert_eq!(span.status, Status::error("card REDACTED declined"));
}

#[test]
fn event_names_are_redacted_on_export() {
    let span = export_one(|tracer| {
        let mut span = tracer.start("pay");
        span.add_event(format!("charging card {CARD}"), vec![]);
        span.add_event("retrying", vec![]);
        span.end();
    });
    let names: Vec<&str> = span.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(names, ["charging card REDACTED", "retrying"]);
}

#[derive(Debug)]
struct Declined;

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "declined: Authorization: Bearer sk_live_0123456789abcdef"
        )
    }
}

impl std::error::Error for Declined {}

#[test]
fn exception_messages_and_stack_traces_are_redacted_on_export() {
    let span = export_one(|tracer| {
        let mut span = tracer.start("pay");
        span.record_error(&Declined);
        span.record_exception(
            "Declined",
            Declined.to_string(),
            Some(format!("at charge(card={CARD})\nat main")),
        );
        span.end();
    });
    let values: Vec<String> = span
        .events
        .iter()
        .flat_map(|e| e.attributes.iter())
        .filter(|kv| kv.key.as_str() != "exception.type")
        .map(|kv| format!("{}={}", kv.key, kv.value))
        .collect();
    assert_eq!(
        values,
        [
            "exception.message=declined: Authorization: Bearer REDACTED",
            "exception.message=declined: Authorization: Bearer REDACTED",
            "exception.stacktrace=at charge(card=REDACTED)\nat main",
        ]
    );
}

#[test]
fn link_attributes_are_redacted_on_export() {
    let span = export_one(|tracer| {
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
                vec![
                    KeyValue::new("note", format!("retry of {CARD}")),
                    KeyValue::new("session.token", "abc"),
                ],
                0,
            )])
            .start(tracer);
        span.end();
    });
    let link = &span.links.links[0];
    assert_eq!(link.attributes[0].value.as_str(), "retry of REDACTED");
    assert_eq!(link.attributes[1].value.as_str(), "REDACTED");
}

#[test]
fn a_logged_error_is_redacted_as_event_name_and_status_through_the_layer() {
    use tracing_subscriber::layer::SubscriberExt;
    let exporter = InMemoryExporter::new();
    let tk = pipeline_limited(&exporter, &[], None);
    let layer = tracekit::layer::layer(tk.tracer("t")).with_error_events_as_status(true);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("pay").in_scope(|| tracing::error!("card {CARD} declined"));
    });
    tk.shutdown().unwrap();
    let spans = exporter.finished_spans();
    assert_eq!(spans[0].events.events[0].name, "card REDACTED declined");
    assert_eq!(spans[0].status, Status::error("card REDACTED declined"));
}
