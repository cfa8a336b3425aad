//! Interoperability with the official `opentelemetry_sdk` propagators:
//! what one side injects, the other extracts, through `http::HeaderMap`
//! carriers.

use http::{HeaderMap, HeaderValue};
use opentelemetry::baggage::{BaggageExt, BaggageMetadata};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation as sdk;
use tracekit_propagators as ours;

fn span_cx(flags: u8, entries: &[(&str, &str)]) -> Context {
    let trace_state =
        TraceState::from_key_value(entries.iter().copied()).expect("valid trace state");
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::new(flags),
        false,
        trace_state,
    ))
}

fn inject(p: &dyn TextMapPropagator, cx: &Context) -> HeaderMap {
    let mut headers = HeaderMap::new();
    p.inject_context(cx, &mut HeaderInjector(&mut headers));
    headers
}

fn extract(p: &dyn TextMapPropagator, headers: &HeaderMap) -> Context {
    p.extract_with_context(&Context::new(), &HeaderExtractor(headers))
}

fn remote(cx: &Context) -> SpanContext {
    cx.span().span_context().clone()
}

#[test]
fn trace_context_sdk_to_ours() {
    for (flags, entries) in [
        (
            0x01,
            &[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")][..],
        ),
        (0x00, &[][..]),
        (
            0x01,
            &[("ot", "th:8;rv:1a2b3c4d5e6f70"), ("a@b", " spaced value")][..],
        ),
    ] {
        let headers = inject(
            &sdk::TraceContextPropagator::new(),
            &span_cx(flags, entries),
        );
        let sc = remote(&extract(&ours::TraceContextPropagator::new(), &headers));
        assert!(sc.is_valid() && sc.is_remote());
        assert_eq!(
            sc.trace_id(),
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(sc.span_id(), SpanId::from(0x00f0_67aa_0ba9_02b7));
        assert_eq!(sc.trace_flags(), TraceFlags::new(flags));
        assert_eq!(sc.trace_state().into_iter().collect::<Vec<_>>(), entries);
    }
}

#[test]
fn trace_context_ours_to_sdk() {
    for (flags, entries) in [
        (
            0x01,
            &[("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")][..],
        ),
        (0x00, &[][..]),
    ] {
        let headers = inject(
            &ours::TraceContextPropagator::new(),
            &span_cx(flags, entries),
        );
        let sc = remote(&extract(&sdk::TraceContextPropagator::new(), &headers));
        assert!(sc.is_valid() && sc.is_remote());
        assert_eq!(
            sc.trace_id(),
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(sc.is_sampled(), flags & 1 == 1);
        assert_eq!(sc.trace_state().into_iter().collect::<Vec<_>>(), entries);
    }
    // The Level 2 random flag is kept by us (the SDK keeps only `sampled`).
    let headers = inject(&ours::TraceContextPropagator::new(), &span_cx(0x03, &[]));
    assert_eq!(
        headers["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"
    );
    assert!(remote(&extract(&sdk::TraceContextPropagator::new(), &headers)).is_sampled());
}

#[test]
fn header_map_every_field_is_seen() {
    let mut headers = HeaderMap::new();
    let tp = "00-12345678901234567890123456789012-1234567890123456-01";
    headers.append("TraceParent", HeaderValue::from_static(tp));
    headers.append("tracestate", HeaderValue::from_static("foo=1,bar=2"));
    headers.append("TRACESTATE", HeaderValue::from_static("baz=3"));
    let sc = remote(&extract(&ours::TraceContextPropagator::new(), &headers));
    assert_eq!(sc.trace_state().header(), "foo=1,bar=2,baz=3");

    headers.append("traceparent", HeaderValue::from_static(tp));
    assert!(!remote(&extract(&ours::TraceContextPropagator::new(), &headers)).is_valid());
}

fn baggage_cx() -> Context {
    let mut baggage = opentelemetry::baggage::Baggage::new();
    baggage.insert("userId", "alice");
    baggage.insert("serverNode", "DF 28");
    baggage.insert("unicode", "ünï😊");
    baggage.insert_with_metadata("withMeta", "v", BaggageMetadata::from("ttl=30;secret"));
    Context::new().with_baggage(baggage)
}

fn sorted(cx: &Context) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = cx
        .baggage()
        .iter()
        .map(|(k, (v, m))| (k.to_string(), v.to_string(), m.as_str().to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn baggage_sdk_to_ours() {
    let headers = inject(&sdk::BaggagePropagator::new(), &baggage_cx());
    let cx = extract(&ours::BaggagePropagator::new(), &headers);
    assert_eq!(sorted(&cx), sorted(&baggage_cx()));
}

#[test]
fn baggage_ours_to_sdk() {
    let headers = inject(&ours::BaggagePropagator::new(), &baggage_cx());
    let cx = extract(&sdk::BaggagePropagator::new(), &headers);
    assert_eq!(sorted(&cx), sorted(&baggage_cx()));
    // Values with '=' survive the SDK's parser because we encode it.
    let cx = Context::new().with_baggage([KeyValue::new("expr", "a=b")]);
    let headers = inject(&ours::BaggagePropagator::new(), &cx);
    let back = extract(&sdk::BaggagePropagator::new(), &headers);
    assert_eq!(back.baggage().get("expr").map(|v| v.as_str()), Some("a=b"));
}

#[test]
fn composite_from_env_with_header_map() {
    let (p, warnings) = ours::from_env_value(Some("tracecontext,baggage"));
    assert!(warnings.is_empty());
    let mut cx = span_cx(0x01, &[("rojo", "1")]);
    cx = cx.with_baggage([KeyValue::new("k", "v")]);
    let headers = inject(&p, &cx);
    assert_eq!(headers.len(), 3);
    let back = extract(&sdk::TraceContextPropagator::new(), &headers);
    assert!(back.span().span_context().is_valid());
    let back = extract(&p, &headers);
    assert_eq!(back.baggage().get("k").map(|v| v.as_str()), Some("v"));
    opentelemetry::global::set_text_map_propagator(p);
}
