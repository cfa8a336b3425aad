//! Spans, attributes, special fields and events recorded by the layer.

mod layer_support;

use layer_support::*;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::Value;
use tracekit::layer::TracekitLayer;
use tracing::level_filters::LevelFilter;
use tracing::{info, info_span, instrument, warn};
use tracing_subscriber::layer::SubscriberExt;

#[instrument]
fn outer_sync(order_id: u64, customer: &str) {
    info!(items = 3, "loading order");
    inner_sync(true);
}

#[instrument(fields(otel.kind = "client"))]
fn inner_sync(express: bool) {
    warn!(retries = 2_i64, "slow backend");
}

#[test]
fn nested_instrumented_functions_form_a_tree_with_attributes_and_events() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || outer_sync(7, "ada"));
    let outer = collect.span("outer_sync");
    let inner = collect.span("inner_sync");
    assert_root(&outer);
    assert_child_of(&inner, &outer);
    assert_eq!(attr(&outer, "order_id"), Some(Value::I64(7)));
    assert!(
        matches!(attr(&outer, "customer"), Some(Value::String(s)) if s.as_str().contains("ada"))
    );
    assert_eq!(attr(&inner, "express"), Some(Value::Bool(true)));
    assert_eq!(inner.span_kind, SpanKind::Client);
    assert_eq!(outer.span_kind, SpanKind::Internal);
    assert!(inner.end_time <= outer.end_time);

    let event = &outer.events.events[0];
    assert_eq!(event.name, "loading order");
    assert_eq!(event_attr(event, "items"), Some(Value::I64(3)));
    assert_eq!(event_attr(event, "level"), Some(Value::from("INFO")));
    assert_eq!(
        event_attr(event, "target"),
        Some(Value::from(module_path!()))
    );
    let event = &inner.events.events[0];
    assert_eq!(event.name, "slow backend");
    assert_eq!(event_attr(event, "level"), Some(Value::from("WARN")));
    assert_eq!(event_attr(event, "retries"), Some(Value::I64(2)));
}

#[instrument]
async fn outer_async(n: i64) -> i64 {
    info!("before await");
    tokio::task::yield_now().await;
    let a = inner_async(n).await;
    let b = inner_async(n + 1).await;
    a + b
}

#[instrument]
async fn inner_async(n: i64) -> i64 {
    tokio::task::yield_now().await;
    info!(n, "computed");
    n * 2
}

#[test]
fn nested_async_instrumented_functions_form_a_tree() {
    let (subscriber, _provider, collect) = subscriber();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    assert_eq!(runtime.block_on(outer_async(1)), 6);
    let spans = collect.spans();
    assert_eq!(spans.len(), 3);
    let outer = collect
        .spans()
        .into_iter()
        .find(|s| s.name == "outer_async")
        .unwrap();
    assert_root(&outer);
    let inners: Vec<_> = spans.iter().filter(|s| s.name == "inner_async").collect();
    assert_eq!(inners.len(), 2);
    for inner in &inners {
        assert_child_of(inner, &outer);
        assert_eq!(inner.events.events[0].name, "computed");
    }
    let ns: Vec<_> = inners.iter().map(|s| attr(s, "n")).collect();
    assert!(ns.contains(&Some(Value::I64(1))) && ns.contains(&Some(Value::I64(2))));
    assert_eq!(outer.events.events[0].name, "before await");
}

#[test]
fn field_values_keep_their_native_types() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let parent = info_span!("parent");
        let _enter = parent.enter();
        let span = info_span!(
            "typed",
            int = -5_i64,
            small = 9_u64,
            huge = u64::MAX,
            float = 1.5_f64,
            flag = false,
            text = "hello",
            shown = %"displayed",
            debugged = ?vec![1, 2],
        );
        drop(span);
    });
    let span = collect.span("typed");
    assert_eq!(attr(&span, "int"), Some(Value::I64(-5)));
    assert_eq!(attr(&span, "small"), Some(Value::I64(9)));
    assert_eq!(
        attr(&span, "huge"),
        Some(Value::from("18446744073709551615"))
    );
    assert_eq!(attr(&span, "float"), Some(Value::F64(1.5)));
    assert_eq!(attr(&span, "flag"), Some(Value::Bool(false)));
    assert_eq!(attr(&span, "text"), Some(Value::from("hello")));
    assert_eq!(attr(&span, "shown"), Some(Value::from("displayed")));
    assert_eq!(attr(&span, "debugged"), Some(Value::from("[1, 2]")));
}

#[test]
fn event_fields_keep_their_native_types_as_span_fields_do() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        info_span!("parent").in_scope(|| {
            info!(
                small_u128 = 5_u128,
                small_i128 = -5_i128,
                huge_u128 = u128::MAX,
                huge_i128 = i128::MIN,
                "wide integers"
            );
        });
    });
    let span = collect.span("parent");
    let event = &span.events.events[0];
    assert_eq!(event_attr(event, "small_u128"), Some(Value::I64(5)));
    assert_eq!(event_attr(event, "small_i128"), Some(Value::I64(-5)));
    assert_eq!(
        event_attr(event, "huge_u128"),
        Some(Value::from(u128::MAX.to_string()))
    );
    assert_eq!(
        event_attr(event, "huge_i128"),
        Some(Value::from(i128::MIN.to_string()))
    );
}

#[test]
fn record_updates_attributes_of_root_and_child_spans() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!("root", status = tracing::field::Empty, step = 1_i64);
        root.record("step", 2_i64);
        let _enter = root.enter();
        root.record("status", 200_u64);
        let child = info_span!("child", done = false);
        child.record("done", true);
    });
    let root = collect.span("root");
    assert_eq!(attr(&root, "step"), Some(Value::I64(2)));
    assert_eq!(attr(&root, "status"), Some(Value::I64(200)));
    assert_eq!(
        root.attributes
            .iter()
            .filter(|kv| kv.key.as_str() == "step")
            .count(),
        1
    );
    assert_eq!(
        attr(&collect.span("child"), "done"),
        Some(Value::Bool(true))
    );
}

#[test]
fn special_fields_set_name_kind_and_status() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!(
            "GET",
            otel.name = "GET /users/{id}",
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
        );
        let _enter = root.enter();
        root.record("otel.status_code", "ok");
        let child = info_span!(
            "query",
            otel.kind = "client",
            otel.name = tracing::field::Empty,
            otel.status_code = "error",
            otel.status_description = "timeout",
        );
        child.record("otel.name", "SELECT users");
    });
    let root = collect.span("GET /users/{id}");
    assert_eq!(root.span_kind, SpanKind::Server);
    assert_eq!(root.status, Status::Ok);
    assert!(attr(&root, "otel.name").is_none() && attr(&root, "otel.kind").is_none());
    let child = collect.span("SELECT users");
    assert_eq!(child.span_kind, SpanKind::Client);
    assert_eq!(child.status, Status::error("timeout"));
    assert_child_of(&child, &root);
}

#[test]
fn a_status_description_recorded_after_the_error_status_is_kept() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!("root");
        let _enter = root.enter();
        let late = info_span!(
            "late",
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
        );
        late.record("otel.status_code", "error");
        late.record("otel.status_description", "upstream timed out");
        let ok = info_span!(
            "ok_then_description",
            otel.status_code = "ok",
            otel.status_description = tracing::field::Empty,
        );
        // Ok is final, and a description only describes an error.
        ok.record("otel.status_description", "ignored");
    });
    assert_eq!(
        collect.span("late").status,
        Status::error("upstream timed out")
    );
    assert_eq!(collect.span("ok_then_description").status, Status::Ok);
}

#[derive(Debug)]
struct PaymentDeclined;
impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}
impl std::error::Error for PaymentDeclined {}

#[test]
fn errors_set_the_status_and_add_exception_events() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!("pay", error = tracing::field::Empty);
        let _enter = root.enter();
        let err: &(dyn std::error::Error + 'static) = &PaymentDeclined;
        root.record("error", err);
        let _child = info_span!("flagged", error = %"no stock");
        let _plain = info_span!("explicit", error = true);
    });
    let pay = collect.span("pay");
    assert_eq!(pay.status, Status::error("card declined"));
    let exception = &pay.events.events[0];
    assert_eq!(exception.name, "exception");
    assert_eq!(
        event_attr(exception, "exception.type"),
        Some(Value::from("PaymentDeclined"))
    );
    assert_eq!(
        event_attr(exception, "exception.message"),
        Some(Value::from("card declined"))
    );

    let flagged = collect.span("flagged");
    assert_eq!(flagged.status, Status::error("no stock"));
    assert_eq!(
        event_attr(&flagged.events.events[0], "exception.message"),
        Some(Value::from("no stock"))
    );
    let explicit = collect.span("explicit");
    assert!(matches!(explicit.status, Status::Error { .. }));
    assert!(explicit.events.events.is_empty());
}

#[test]
fn error_events_mark_the_span_only_when_configured() {
    for as_status in [false, true] {
        let (provider, collect) = provider();
        let layer =
            TracekitLayer::new(provider.tracer("test")).with_error_events_as_status(as_status);
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            info_span!("work").in_scope(|| tracing::error!("lost connection"));
        });
        let span = collect.span("work");
        assert_eq!(span.events.events[0].name, "lost connection");
        if as_status {
            assert_eq!(span.status, Status::error("lost connection"));
        } else {
            assert_eq!(span.status, Status::Unset);
        }
    }
}

#[test]
fn events_can_be_filtered_by_level_or_switched_off() {
    let (provider, collect) = provider();
    let layer = TracekitLayer::new(provider.tracer("test")).with_event_level(LevelFilter::WARN);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        info_span!("filtered").in_scope(|| {
            tracing::debug!("dropped");
            info!("dropped too");
            warn!("kept");
            tracing::error!("kept too");
        });
    });
    let names: Vec<_> = collect
        .span("filtered")
        .events
        .events
        .iter()
        .map(|e| e.name.to_string())
        .collect();
    assert_eq!(names, ["kept", "kept too"]);

    let (quiet_provider, collect) = layer_support::provider();
    let layer = TracekitLayer::new(quiet_provider.tracer("test")).with_events(false);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        info_span!("quiet").in_scope(|| warn!("not recorded"));
    });
    assert!(collect.span("quiet").events.events.is_empty());
}

#[test]
fn events_with_explicit_parents_and_errors() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!("root");
        let err: &(dyn std::error::Error + 'static) = &PaymentDeclined;
        tracing::warn!(parent: &root, error = err);
    });
    let root = collect.span("root");
    let event = &root.events.events[0];
    assert_eq!(event.name, "exception");
    assert_eq!(
        event_attr(event, "exception.message"),
        Some(Value::from("card declined"))
    );
    assert_eq!(root.status, Status::Unset);
}

#[test]
fn follows_from_and_add_link_become_links_and_location_is_optional() {
    use tracekit::layer::SpanExt;
    let (provider, collect) = provider();
    let layer = TracekitLayer::new(provider.tracer("test")).with_location(true);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let cause = info_span!("cause");
        let cause_sc = cause.span_context();
        let effect = info_span!("effect");
        effect.follows_from(&cause);
        let other = info_span!("other");
        effect.add_link(other.span_context());
        drop(effect);
        assert!(cause_sc.is_valid());
    });
    let cause = collect.span("cause");
    let other = collect.span("other");
    let effect = collect.span("effect");
    let linked: Vec<_> = effect
        .links
        .links
        .iter()
        .map(|l| l.span_context.span_id())
        .collect();
    assert_eq!(
        linked,
        [cause.span_context.span_id(), other.span_context.span_id()]
    );
    assert_eq!(attr(&effect, "code.file.path"), Some(Value::from(file!())));
    assert!(matches!(
        attr(&effect, "code.line.number"),
        Some(Value::I64(_))
    ));
}
