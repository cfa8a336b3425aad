//! [`TraceContextPropagator`]: W3C Trace Context (`traceparent` and
//! `tracestate`), Level 1 plus the Level 2 `random` trace flag.

use crate::traceparent::{ascii_to_string, format_traceparent, parse_traceparent, TraceParent};
use crate::tracestate::{format_tracestate, ForwardedTraceState};
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use std::sync::OnceLock;

/// Name of the W3C `traceparent` header.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Name of the W3C `tracestate` header.
pub const TRACESTATE_HEADER: &str = "tracestate";

fn trace_context_fields() -> &'static [String; 2] {
    static FIELDS: OnceLock<[String; 2]> = OnceLock::new();
    FIELDS.get_or_init(|| [TRACEPARENT_HEADER.to_owned(), TRACESTATE_HEADER.to_owned()])
}

/// Propagates the span context in the W3C Trace Context headers.
///
/// Extraction reads **every** field of each header through
/// [`Extractor::get_all`]:
/// - exactly one `traceparent` field must be present; two or more make it
///   invalid. Version `00` must be exactly 55 characters; higher versions
///   are parsed forward-compatibly (at least 55 characters, `-` after the
///   flags, anything beyond ignored); version `ff`, all-zero ids and
///   uppercase or non-hex digits are rejected; spaces and tabs around the
///   value are ignored. The `sampled` (0x01) and `random` (0x02) flags are
///   kept, other bits cleared.
/// - an invalid or absent `traceparent` leaves the context untouched (a new
///   trace starts) and `tracestate` is not even read.
/// - all `tracestate` fields are combined in order and read with the key
///   grammar of the current editor's draft (`@` allowed anywhere after the
///   first character, keys of up to 256 characters); the whole list is
///   dropped when a member is invalid or there are more than 32 members.
///   Of a repeated key the first (leftmost) member is kept, the later ones
///   are dropped. Empty members are allowed. Order and values are kept byte
///   for byte.
/// - members that are valid on the wire but that
///   `opentelemetry::trace::TraceState` cannot hold (keys with a second `@`,
///   or more than 13 characters after the `@`) are not lost: the extracted
///   context keeps the whole list beside the span context, and injection
///   sends it on for every span of that trace. When the span's trace state
///   was changed on the way (a sampler writing its `ot` entry, say), the
///   changed entries go leftmost and the members `TraceState` could not
///   hold keep their places among the others.
///
/// Injection always writes a version `00` `traceparent` for a valid span
/// context, sampled or not, with its `sampled` and `random` flags, and a
/// `tracestate` when the span's trace state (with the forwarded members
/// above) is not empty.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
/// use tracekit_propagators::TraceContextPropagator;
///
/// let propagator = TraceContextPropagator::new();
/// let mut inbound = HashMap::new();
/// inbound.insert("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".to_string());
/// inbound.insert("tracestate".to_string(), "congo=t61rcWkgMzE".to_string());
///
/// let cx = propagator.extract(&inbound);
/// let remote = cx.span().span_context().clone();
/// assert!(remote.is_remote() && remote.is_sampled());
///
/// let mut outbound = HashMap::new();
/// propagator.inject_context(&cx, &mut outbound);
/// assert_eq!(outbound["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
/// assert_eq!(outbound["tracestate"], "congo=t61rcWkgMzE");
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceContextPropagator {
    _private: (),
}

impl TraceContextPropagator {
    /// Creates the propagator.
    pub const fn new() -> Self {
        TraceContextPropagator { _private: () }
    }

    /// Extracts the remote span context carried by `extractor`, or `None`
    /// when there is no valid `traceparent`. Members of `tracestate` that
    /// `TraceState` cannot hold are left out; the context that
    /// [`TextMapPropagator::extract_with_context`] returns keeps them.
    pub fn extract_span_context(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let parent = extract_parent(extractor)?;
        Some(match extractor.get_all(TRACESTATE_HEADER) {
            Some(fields) => parent.into_remote_span_context(&fields),
            None => parent.into_remote_span_context(&[]),
        })
    }

    /// Writes the `traceparent` (and `tracestate` if any) of `span_context`
    /// into `injector`; does nothing for an invalid span context.
    pub fn inject_span_context(&self, span_context: &SpanContext, injector: &mut dyn Injector) {
        if inject_traceparent(span_context, injector) {
            if let Some(trace_state) = format_tracestate(span_context.trace_state()) {
                injector.set(TRACESTATE_HEADER, trace_state);
            }
        }
    }
}

/// The one valid `traceparent` of `extractor`, if any.
fn extract_parent(extractor: &dyn Extractor) -> Option<TraceParent> {
    let parents = extractor.get_all(TRACEPARENT_HEADER)?;
    let [traceparent] = parents.as_slice() else {
        return None;
    };
    parse_traceparent(traceparent)
}

/// Writes the `traceparent` of a valid `span_context`; `false` (nothing
/// written) for an invalid one.
fn inject_traceparent(span_context: &SpanContext, injector: &mut dyn Injector) -> bool {
    if !span_context.is_valid() {
        return false;
    }
    let buf = format_traceparent(
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags(),
    );
    injector.set(TRACEPARENT_HEADER, ascii_to_string(&buf));
    true
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let span_context = span.span_context();
        let Some(forwarded) = cx.get::<ForwardedTraceState>() else {
            return self.inject_span_context(span_context, injector);
        };
        if inject_traceparent(span_context, injector) {
            let header = forwarded
                .header_for(span_context.trace_id(), span_context.trace_state())
                .or_else(|| format_tracestate(span_context.trace_state()));
            if let Some(header) = header {
                injector.set(TRACESTATE_HEADER, header);
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extract_parent(extractor) {
            Some(parent) => match extractor.get_all(TRACESTATE_HEADER) {
                Some(fields) => parent.into_context(cx, &fields),
                None => parent.into_context(cx, &[]),
            },
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(trace_context_fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldCarrier;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
    use std::collections::HashMap;

    const TRACE: u128 = 0x1234_5678_9012_3456_7890_1234_5678_9012;
    const TP: &str = "00-12345678901234567890123456789012-1234567890123456-01";

    fn extract(headers: &[(&str, &str)]) -> Option<SpanContext> {
        TraceContextPropagator::new()
            .extract_span_context(&FieldCarrier::from_pairs(headers.iter().copied()))
    }

    fn state(headers: &[(&str, &str)]) -> String {
        extract(headers)
            .map(|sc| sc.trace_state().header())
            .unwrap_or_default()
    }

    #[test]
    fn both_missing() {
        assert!(extract(&[]).is_none());
        let cx = TraceContextPropagator::new()
            .extract_with_context(&Context::new(), &FieldCarrier::new());
        assert!(!cx.has_active_span());
    }

    #[test]
    fn traceparent_without_tracestate() {
        let sc = extract(&[("traceparent", TP)]).expect("valid");
        assert_eq!(sc.trace_id(), TraceId::from(TRACE));
        assert_eq!(sc.span_id(), SpanId::from(0x1234_5678_9012_3456));
        assert!(sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_state(), &TraceState::NONE);
    }

    #[test]
    fn duplicated_traceparent_is_invalid() {
        assert!(extract(&[
            (
                "traceparent",
                "00-12345678901234567890123456789011-1234567890123456-01"
            ),
            (
                "traceparent",
                "00-12345678901234567890123456789012-1234567890123456-01"
            ),
        ])
        .is_none());
        assert!(extract(&[("traceparent", TP), ("traceparent", TP)]).is_none());
    }

    #[test]
    fn header_names() {
        assert!(extract(&[("trace-parent", TP)]).is_none());
        assert!(extract(&[("trace.parent", TP)]).is_none());
        for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
            assert!(extract(&[(name, TP)]).is_some(), "{name}");
        }
        assert_eq!(state(&[("traceparent", TP), ("trace-state", "foo=1")]), "");
        assert_eq!(state(&[("traceparent", TP), ("trace.state", "foo=1")]), "");
        for name in ["TraceState", "TrAcEsTaTe", "TRACESTATE"] {
            assert_eq!(state(&[("traceparent", TP), (name, "foo=1")]), "foo=1");
        }
    }

    #[test]
    fn tracestate_without_traceparent_is_discarded() {
        assert!(extract(&[("tracestate", "foo=1,bar=2")]).is_none());
    }

    #[test]
    fn invalid_traceparent_discards_tracestate() {
        let p = TraceContextPropagator::new();
        let carrier = FieldCarrier::from_pairs([
            (
                "traceparent",
                "00-00000000000000000000000000000000-1234567890123456-01",
            ),
            ("tracestate", "foo=1"),
        ]);
        let cx = p.extract_with_context(&Context::new(), &carrier);
        assert!(!cx.span().span_context().is_valid());
    }

    #[test]
    fn tracestate_inherited_and_combined() {
        assert_eq!(
            state(&[("traceparent", TP), ("tracestate", "foo=1,bar=2")]),
            "foo=1,bar=2"
        );
        assert_eq!(
            state(&[
                ("traceparent", TP),
                ("tracestate", "foo=1,bar=2"),
                ("tracestate", "rojo=1,congo=2"),
                ("tracestate", "baz=3"),
            ]),
            "foo=1,bar=2,rojo=1,congo=2,baz=3"
        );
        assert_eq!(
            state(&[
                ("traceparent", TP),
                ("tracestate", ""),
                ("tracestate", "foo=1")
            ]),
            "foo=1"
        );
        assert_eq!(
            state(&[
                ("traceparent", TP),
                ("tracestate", "foo=1"),
                ("tracestate", "foo=2")
            ]),
            "foo=1",
            "the first of a repeated key is kept"
        );
        // An invalid tracestate never invalidates traceparent.
        assert!(extract(&[("traceparent", TP), ("tracestate", "FOO=1")]).is_some());
    }

    /// What `propagator` sends on for a child of the context extracted
    /// from `headers` whose span context is `child` (`None`: the parent's
    /// own).
    fn forwarded(headers: &[(&str, &str)], child: Option<SpanContext>) -> Option<String> {
        let p = TraceContextPropagator::new();
        let cx = p.extract_with_context(
            &Context::new(),
            &FieldCarrier::from_pairs(headers.iter().copied()),
        );
        let cx = match child {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx,
        };
        let mut out = HashMap::new();
        p.inject_context(&cx, &mut out);
        out.remove("tracestate")
    }

    #[test]
    fn members_the_api_type_refuses_are_forwarded() {
        let received = "foo@@bar=1,a=2,t@vvvvvvvvvvvvvvv=3";
        let headers = [("traceparent", TP), ("tracestate", received)];
        let cx_state = extract(&headers).expect("valid").trace_state().header();
        assert_eq!(cx_state, "a=2", "the API type holds only this one");
        assert_eq!(forwarded(&headers, None).as_deref(), Some(received));
        // A child in the same trace, its trace state changed by a sampler.
        let changed = TraceState::from_key_value([("a", "2")])
            .unwrap()
            .insert("ot", "th:8")
            .unwrap();
        let child = SpanContext::new(
            TraceId::from(TRACE),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            false,
            changed.clone(),
        );
        assert_eq!(
            forwarded(&headers, Some(child)).as_deref(),
            Some("ot=th:8,foo@@bar=1,a=2,t@vvvvvvvvvvvvvvv=3")
        );
        // A span of another trace under the same context sends its own.
        let other = SpanContext::new(
            TraceId::from(TRACE + 1),
            SpanId::from(9),
            TraceFlags::SAMPLED,
            false,
            changed,
        );
        assert_eq!(
            forwarded(&headers, Some(other)).as_deref(),
            Some("ot=th:8,a=2")
        );
    }

    #[test]
    fn inject_always_version_00_with_flags() {
        let p = TraceContextPropagator::new();
        for (flags, expected) in [
            (0x00, "00"),
            (0x01, "01"),
            (0x02, "02"),
            (0x03, "03"),
            (0xff, "03"),
        ] {
            let sc = SpanContext::new(
                TraceId::from(TRACE),
                SpanId::from(0xabcd),
                TraceFlags::new(flags),
                false,
                TraceState::NONE,
            );
            let mut out = HashMap::new();
            p.inject_context(&Context::new().with_remote_span_context(sc), &mut out);
            assert_eq!(
                out.get("traceparent").map(String::as_str),
                Some(
                    format!("00-12345678901234567890123456789012-000000000000abcd-{expected}")
                        .as_str()
                )
            );
            assert!(!out.contains_key("tracestate"));
        }
    }

    #[test]
    fn inject_tracestate_when_present_and_nothing_when_invalid() {
        let p = TraceContextPropagator::new();
        let ts =
            TraceState::from_key_value([("ot", "th:8"), ("rojo", "00f067aa0ba902b7")]).unwrap();
        let sc = SpanContext::new(
            TraceId::from(TRACE),
            SpanId::from(1),
            TraceFlags::SAMPLED,
            false,
            ts,
        );
        let mut out = HashMap::new();
        p.inject_context(&Context::new().with_remote_span_context(sc), &mut out);
        assert_eq!(out["tracestate"], "ot=th:8,rojo=00f067aa0ba902b7");

        let mut out = HashMap::new();
        p.inject_context(&Context::new(), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn higher_version_downgraded_on_inject() {
        let p = TraceContextPropagator::new();
        let cx = p.extract_with_context(
            &Context::new(),
            &FieldCarrier::from_pairs([(
                "traceparent",
                "cc-12345678901234567890123456789012-1234567890123456-01-future",
            )]),
        );
        let mut out = HashMap::new();
        p.inject_context(&cx, &mut out);
        assert_eq!(out["traceparent"], TP);
    }

    #[test]
    fn fields_lists_both_headers() {
        let p = TraceContextPropagator::new();
        assert_eq!(
            p.fields().collect::<Vec<_>>(),
            vec!["traceparent", "tracestate"]
        );
    }
}
