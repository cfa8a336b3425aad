//! The W3C Trace Context read straight from request headers: what
//! `TraceContextPropagator` extracts through a
//! [`HeaderExtractor`](crate::HeaderExtractor), without building a vector
//! of field values per header.

use crate::carrier::{field_text, WELL_KNOWN};
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::Context;
use tracekit_propagators::TraceParent;

/// The `traceparent` header name.
pub(crate) fn traceparent_name() -> &'static HeaderName {
    &WELL_KNOWN[0]
}

/// The `tracestate` header name.
pub(crate) fn tracestate_name() -> &'static HeaderName {
    &WELL_KNOWN[1]
}

/// The `baggage` header name.
pub(crate) fn baggage_name() -> &'static HeaderName {
    &WELL_KNOWN[2]
}

/// The first value of `traceparent` and `tracestate` in a request and
/// whether more follow, found by a lookup or noted during a pass over the
/// headers.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TraceContextFields<'a> {
    traceparent: Option<&'a HeaderValue>,
    traceparent_repeated: bool,
    tracestate: Option<&'a HeaderValue>,
    tracestate_repeated: bool,
    baggage: BaggageSeen,
}

/// Whether a `baggage` field was seen: a pass over every header knows,
/// a lookup of the W3C fields leaves it to be looked up when needed.
#[derive(Clone, Copy, Debug, Default)]
enum BaggageSeen {
    /// Noted during a pass over the headers.
    Yes,
    /// None in a pass over the headers.
    #[default]
    No,
    /// Not looked for.
    Unknown,
}

impl<'a> TraceContextFields<'a> {
    /// Look both headers up in `headers`.
    pub(crate) fn lookup(headers: &'a HeaderMap) -> Self {
        let mut fields = TraceContextFields::default();
        for value in headers.get_all(traceparent_name()) {
            fields.note_traceparent(value);
        }
        for value in headers.get_all(tracestate_name()) {
            fields.note_tracestate(value);
        }
        fields.baggage = BaggageSeen::Unknown;
        fields
    }

    /// A `baggage` field was seen.
    #[inline]
    pub(crate) fn note_baggage(&mut self) {
        self.baggage = BaggageSeen::Yes;
    }

    /// Whether the request `headers` (the map the fields come from) has a
    /// `baggage` field: only then is there baggage to extract.
    pub(crate) fn has_baggage(&self, headers: &HeaderMap) -> bool {
        match self.baggage {
            BaggageSeen::Yes => true,
            BaggageSeen::No => false,
            BaggageSeen::Unknown => headers.contains_key(baggage_name()),
        }
    }

    /// A `traceparent` value, in header order.
    #[inline]
    pub(crate) fn note_traceparent(&mut self, value: &'a HeaderValue) {
        note(&mut self.traceparent, &mut self.traceparent_repeated, value);
    }

    /// A `tracestate` value, in header order.
    #[inline]
    pub(crate) fn note_tracestate(&mut self, value: &'a HeaderValue) {
        note(&mut self.tracestate, &mut self.tracestate_repeated, value);
    }

    /// The context these fields carry, on top of an empty one: exactly one
    /// valid `traceparent` field (two or more make it invalid) as the
    /// remote parent, with the trace state of every `tracestate` field in
    /// order (read again from `headers`, the map the fields come from, when
    /// there are several), as
    /// [`TraceParent::into_context`] builds it; an empty context without a
    /// valid parent, and then `tracestate` is not read.
    pub(crate) fn remote_context(&self, headers: &HeaderMap) -> Context {
        let parent = (!self.traceparent_repeated)
            .then_some(self.traceparent)
            .flatten()
            // Parsing the raw bytes rejects what `field_text` would turn
            // into an empty (invalid) value, without scanning it twice.
            .and_then(|value| TraceParent::parse_field(value.as_bytes()));
        let Some(parent) = parent else {
            return Context::new();
        };
        let cx = Context::new();
        match self.tracestate {
            None => parent.into_context(&cx, &[]),
            Some(one) if !self.tracestate_repeated => parent.into_context(&cx, &[field_text(one)]),
            Some(_) => {
                let fields: Vec<&str> = headers
                    .get_all(tracestate_name())
                    .iter()
                    .map(field_text)
                    .collect();
                parent.into_context(&cx, &fields)
            }
        }
    }
}

/// Keep the first of a header's values in `first`; any later one sets
/// `repeated`.
#[inline]
fn note<'a>(first: &mut Option<&'a HeaderValue>, repeated: &mut bool, value: &'a HeaderValue) {
    if first.is_some() {
        *repeated = true;
    } else {
        *first = Some(value);
    }
}

/// The context `headers` carry (see [`TraceContextFields::remote_context`]).
#[cfg(test)]
pub(crate) fn remote_context(headers: &HeaderMap) -> Context {
    TraceContextFields::lookup(headers).remote_context(headers)
}

/// What a context propagates: its remote parent, if valid, and the W3C
/// headers `TraceContextPropagator` injects for it (the forwarded
/// `tracestate` members included).
#[cfg(test)]
pub(crate) fn propagated(
    cx: &Context,
) -> (
    Option<opentelemetry::trace::SpanContext>,
    std::collections::BTreeMap<String, String>,
) {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    let span = cx.span();
    let sc = span.span_context();
    let mut injected = std::collections::HashMap::new();
    tracekit_propagators::TraceContextPropagator::new().inject_context(cx, &mut injected);
    (
        sc.is_valid().then(|| sc.clone()),
        injected.into_iter().collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderExtractor;
    use http::HeaderValue;
    use opentelemetry::propagation::TextMapPropagator;
    use tracekit_propagators::TraceContextPropagator;

    const TP: &[u8] = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(fields: &[(&str, &[u8])]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        headers
    }

    /// The direct read agrees with the propagator reading through the
    /// generic carrier, field for field.
    #[test]
    fn agrees_with_the_propagator_through_the_carrier() {
        let cases: Vec<Vec<(&str, &[u8])>> = vec![
            vec![],
            vec![("traceparent", TP)],
            vec![("TraceParent", TP), ("tracestate", b"a=1")],
            vec![("traceparent", TP), ("traceparent", TP)],
            vec![("traceparent", b"00-4bf92f35")],
            vec![(
                "traceparent",
                b" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t",
            )],
            vec![(
                "traceparent",
                b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\xff",
            )],
            vec![(
                "traceparent",
                b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-next",
            )],
            vec![
                ("traceparent", TP),
                ("tracestate", b"a=1"),
                ("tracestate", b"b=2"),
            ],
            vec![
                ("traceparent", TP),
                ("tracestate", b"a=1"),
                ("tracestate", b"b=2"),
                ("tracestate", b"c=3"),
            ],
            vec![
                ("traceparent", TP),
                ("tracestate", b"a=1"),
                ("tracestate", b"a=2"),
            ],
            vec![("traceparent", TP), ("tracestate", b"a=\xff")],
            vec![
                ("traceparent", TP),
                ("tracestate", b"a=1"),
                ("tracestate", b"\xff"),
            ],
            vec![("tracestate", b"a=1")],
            vec![
                ("traceparent", TP),
                ("tracestate", b"foo@@bar=1"),
                ("tracestate", b"b=2"),
            ],
        ];
        let propagator = TraceContextPropagator::new();
        for case in cases {
            let headers = headers(&case);
            assert_eq!(
                propagated(&remote_context(&headers)),
                propagated(
                    &propagator.extract_with_context(&Context::new(), &HeaderExtractor(&headers))
                ),
                "{case:?}"
            );
        }
    }

    #[test]
    fn reads_the_parent_and_every_tracestate_field() {
        let headers = headers(&[
            ("traceparent", TP),
            ("tracestate", b"a=1"),
            ("tracestate", b"b=2"),
        ]);
        let (sc, _) = propagated(&remote_context(&headers));
        let sc = sc.expect("valid parent");
        assert!(sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_state().header(), "a=1,b=2");
        let doubled = self::headers(&[("traceparent", TP), ("traceparent", TP)]);
        assert_eq!(propagated(&remote_context(&doubled)).0, None);
    }
}
