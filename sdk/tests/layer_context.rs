//! One trace across the `tracing` and OpenTelemetry APIs; remote parents;
//! unsampled traces; tracing-opentelemetry compatibility.

mod layer_support;

use layer_support::*;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::Context;
use tracekit::layer::{SetParentError, SpanExt};
use tracing::info_span;
use tracing_subscriber::layer::SubscriberExt;

fn remote(sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736_u128),
        SpanId::from(0x00f067aa0ba902b7_u64),
        flags,
        true,
        TraceState::NONE,
    ))
}

#[test]
fn otel_api_spans_inside_tracing_spans_are_their_children() {
    let (subscriber, provider, collect) = subscriber();
    let tracer = provider.tracer("otel-api");
    tracing::subscriber::with_default(subscriber, || {
        let outer = info_span!("tracing_outer");
        let _enter = outer.enter();
        tracer.in_span("otel_middle", |_cx| {
            // And a tracing span inside the OTel span: its child.
            info_span!("tracing_inner").in_scope(|| {
                tracer.in_span("otel_leaf", |_| {});
            });
        });
    });
    let outer = collect.span("tracing_outer");
    let middle = collect.span("otel_middle");
    let inner = collect.span("tracing_inner");
    let leaf = collect.span("otel_leaf");
    assert_root(&outer);
    assert_child_of(&middle, &outer);
    assert_child_of(&inner, &middle);
    assert_child_of(&leaf, &inner);
}

#[test]
fn tracing_spans_inside_otel_api_spans_are_their_children() {
    let (subscriber, provider, collect) = subscriber();
    let tracer = provider.tracer("otel-api");
    tracing::subscriber::with_default(subscriber, || {
        tracer.in_span("otel_root", |cx| {
            let span = info_span!("tracing_child");
            assert_eq!(span.trace_id(), cx.span().span_context().trace_id());
            span.in_scope(|| tracing::info!("inside"));
        });
    });
    let root = collect.span("otel_root");
    let child = collect.span("tracing_child");
    assert_root(&root);
    assert_child_of(&child, &root);
    assert_eq!(child.events.events[0].name, "inside");
}

#[test]
fn events_inside_an_otel_span_within_a_tracing_span_go_to_the_otel_span() {
    let (subscriber, provider, collect) = subscriber();
    let tracer = provider.tracer("otel-api");
    tracing::subscriber::with_default(subscriber, || {
        info_span!("outer").in_scope(|| {
            tracer.in_span("otel", |_| tracing::info!("in otel span"));
            tracing::info!("in tracing span");
        });
    });
    assert_eq!(collect.span("otel").events.events[0].name, "in otel span");
    let outer = collect.span("outer");
    assert_eq!(outer.events.events.len(), 1);
    assert_eq!(outer.events.events[0].name, "in tracing span");
}

#[test]
fn set_parent_honours_a_remote_parent() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("server", otel.kind = "server");
        span.set_parent(remote(true)).unwrap();
        span.in_scope(|| info_span!("work").in_scope(|| {}));
        // A started span can no longer be re-parented.
        assert_eq!(
            span.set_parent(remote(true)),
            Err(SetParentError::AlreadyStarted)
        );
    });
    let server = collect.span("server");
    assert_eq!(
        server.span_context.trace_id(),
        TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736_u128)
    );
    assert_eq!(server.parent_span_id, SpanId::from(0x00f067aa0ba902b7_u64));
    assert!(server.parent_span_is_remote);
    assert_child_of(&collect.span("work"), &server);
}

#[test]
fn an_attached_extracted_context_parents_root_spans() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let _guard = remote(true).attach();
        info_span!("handler").in_scope(|| {});
    });
    let handler = collect.span("handler");
    assert_eq!(handler.parent_span_id, SpanId::from(0x00f067aa0ba902b7_u64));
}

#[test]
fn spans_with_a_tracing_parent_cannot_be_reparented_but_explicit_roots_can() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let worker = info_span!("worker");
        let _enter = worker.enter();
        let child = info_span!("message");
        assert_eq!(
            child.set_parent(remote(true)),
            Err(SetParentError::AlreadyStarted)
        );
        let detached = info_span!(parent: None, "detached");
        detached.set_parent(remote(true)).unwrap();
    });
    assert_child_of(&collect.span("message"), &collect.span("worker"));
    assert_eq!(
        collect.span("detached").parent_span_id,
        SpanId::from(0x00f067aa0ba902b7_u64)
    );
    // Without a layer, nothing is tracked.
    let span =
        tracing::subscriber::with_default(tracing_subscriber::registry(), || info_span!("x"));
    assert_eq!(
        span.set_parent(remote(true)),
        Err(SetParentError::NotTracked)
    );
    assert_eq!(span.trace_id(), TraceId::INVALID);
}

#[test]
fn span_ext_ids_match_the_exported_span() {
    let (subscriber, _provider, collect) = subscriber();
    let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("ids");
        let ids = (span.trace_id(), span.span_id());
        assert_eq!(span.context().span().span_context().span_id(), ids.1);
        ids
    });
    let span = collect.span("ids");
    assert_eq!(span.span_context.trace_id(), trace_id);
    assert_eq!(span.span_context.span_id(), span_id);
}

#[test]
fn unsampled_traces_export_nothing_but_still_propagate() {
    // A remote unsampled parent with the default ParentBased-like sampling
    // of tracekit_samplers::AlwaysOn does sample; use AlwaysOff here.
    let collect = Collect::default();
    let provider = tracekit::TracerProvider::builder()
        .with_simple_exporter(collect.clone())
        .with_sampler(tracekit_samplers::AlwaysOff)
        .build();
    let subscriber =
        tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("t")));
    let tracer = provider.tracer("otel-api");
    tracing::subscriber::with_default(subscriber, || {
        let root = info_span!("root", user = "u1");
        let _enter = root.enter();
        let root_trace = root.trace_id();
        assert_ne!(root_trace, TraceId::INVALID);
        assert!(!root.span_context().is_sampled());
        let child = info_span!("child", n = 1);
        child.in_scope(|| {
            // The current context carries the trace, unsampled, for
            // propagation and for OpenTelemetry API children.
            let current = Context::current();
            let sc = current.span().span_context().clone();
            assert_eq!(sc.trace_id(), root_trace);
            assert!(!sc.is_sampled());
            tracer.in_span("otel_child", |cx| {
                assert_eq!(cx.span().span_context().trace_id(), root_trace);
            });
            tracing::info!("not recorded");
        });
        assert_eq!(child.trace_id(), root_trace);
    });
    assert!(collect.spans().is_empty());
}

#[test]
fn an_unsampled_remote_parent_yields_no_spans() {
    let collect = Collect::default();
    let provider = tracekit::TracerProvider::builder()
        .with_simple_exporter(collect.clone())
        .with_sampler(ParentOrOn)
        .build();
    let subscriber =
        tracing_subscriber::registry().with(tracekit::layer::layer(provider.tracer("t")));
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("server");
        span.set_parent(remote(false)).unwrap();
        span.in_scope(|| info_span!("child").in_scope(|| {}));
    });
    assert!(collect.spans().is_empty());
}

/// Follows a valid parent's sampled flag, samples roots.
#[derive(Debug)]
struct ParentOrOn;

impl tracekit_samplers::Sampler for ParentOrOn {
    fn should_sample(
        &self,
        params: &tracekit_samplers::SamplingParameters<'_>,
    ) -> tracekit_samplers::SamplingResult {
        let decision = match params.parent_span_context {
            Some(parent) if !parent.is_sampled() => tracekit_samplers::SamplingDecision::Drop,
            _ => tracekit_samplers::SamplingDecision::RecordAndSample,
        };
        tracekit_samplers::SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: None,
        }
    }

    fn description(&self) -> String {
        "ParentOrOn".into()
    }
}

#[test]
fn telemetry_suppressed_work_creates_no_spans() {
    let (subscriber, _provider, collect) = subscriber();
    tracing::subscriber::with_default(subscriber, || {
        let _suppressed = Context::enter_telemetry_suppressed_scope();
        info_span!("exporter_internal").in_scope(|| tracing::info!("sending"));
    });
    assert!(collect.spans().is_empty());
}

#[test]
fn tracing_opentelemetry_layer_exports_through_tracekit() {
    let (provider, collect) = provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("compat")));
    tracing::subscriber::with_default(subscriber, || {
        info_span!("compat_parent").in_scope(|| {
            info_span!("compat_child").in_scope(|| tracing::info!("hello"));
        });
    });
    let parent = collect.span("compat_parent");
    let child = collect.span("compat_child");
    assert_root(&parent);
    assert_child_of(&child, &parent);
    assert_eq!(child.instrumentation_scope.name(), "compat");
}

#[test]
fn spans_hidden_from_the_layer_by_a_per_layer_filter_are_skipped_as_parents() {
    use tracing_subscriber::filter::filter_fn;
    use tracing_subscriber::Layer as _;

    let (provider, collect) = provider();
    let layer = tracekit::layer::layer(provider.tracer("test"))
        .with_filter(filter_fn(|meta| meta.name() != "hidden"));
    // Another layer sees every span, so the `hidden` spans exist (a span
    // that every per-layer filter refuses is never created, and `parent:
    // &hidden` would then make a root).
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(tracing_subscriber::layer::Identity::new());
    tracing::subscriber::with_default(subscriber, || {
        info_span!("outer").in_scope(|| {
            info_span!("hidden").in_scope(|| {
                // Contextual: its parent is the innermost span the layer sees.
                info_span!("contextual").in_scope(|| {});
            });
            let hidden = info_span!("hidden");
            // Explicit: the hidden parent's nearest visible ancestor.
            info_span!(parent: &hidden, "explicit").in_scope(|| {});
        });
        // A root below only hidden spans stays a root.
        info_span!(parent: None, "hidden").in_scope(|| {
            info_span!("lonely").in_scope(|| {});
        });
    });
    let outer = collect.span("outer");
    assert_root(&outer);
    assert_child_of(&collect.span("contextual"), &outer);
    assert_child_of(&collect.span("explicit"), &outer);
    assert_root(&collect.span("lonely"));
    assert!(collect.spans().iter().all(|s| s.name != "hidden"));
}
