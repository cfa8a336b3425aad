//! The W3C Trace Context read straight from request headers: what
//! `TraceContextPropagator` extracts through a
//! [`HeaderExtractor`](crate::HeaderExtractor), without building a vector
//! of field values per header.

use crate::carrier::{field_text, WELL_KNOWN};
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::trace::SpanContext;
use tracekit_propagators::TraceParent;

/// The `traceparent` header name.
pub(crate) fn traceparent_name() -> &'static HeaderName {
    &WELL_KNOWN[0]
}

/// The `tracestate` header name.
pub(crate) fn tracestate_name() -> &'static HeaderName {
    &WELL_KNOWN[1]
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
        fields
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

    /// The remote span context these fields carry: exactly one valid
    /// `traceparent` field (two or more make it invalid), with the trace
    /// state of every `tracestate` field in order (read again from
    /// `headers`, the map the fields come from, when there are several);
    /// `None` without a valid parent, and then `tracestate` is not read.
    pub(crate) fn remote_span_context(&self, headers: &HeaderMap) -> Option<SpanContext> {
        if self.traceparent_repeated {
            return None;
        }
        // Parsing the raw bytes rejects what `field_text` would turn into
        // an empty (invalid) value, without scanning the value twice.
        let parent = TraceParent::parse_field(self.traceparent?.as_bytes())?;
        Some(match self.tracestate {
            None => parent.into_remote_span_context(&[]),
            Some(one) if !self.tracestate_repeated => {
                parent.into_remote_span_context(&[field_text(one)])
            }
            Some(_) => {
                let fields: Vec<&str> = headers
                    .get_all(tracestate_name())
                    .iter()
                    .map(field_text)
                    .collect();
                parent.into_remote_span_context(&fields)
            }
        })
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

/// The remote span context `headers` carry (see
/// [`TraceContextFields::remote_span_context`]).
pub(crate) fn remote_span_context(headers: &HeaderMap) -> Option<SpanContext> {
    TraceContextFields::lookup(headers).remote_span_context(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeaderExtractor;
    use http::HeaderValue;
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
        ];
        let propagator = TraceContextPropagator::new();
        for case in cases {
            let headers = headers(&case);
            assert_eq!(
                remote_span_context(&headers),
                propagator.extract_span_context(&HeaderExtractor(&headers)),
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
        let sc = remote_span_context(&headers).expect("valid parent");
        assert!(sc.is_remote() && sc.is_sampled());
        assert_eq!(sc.trace_state().header(), "a=1,b=2");
        let doubled = self::headers(&[("traceparent", TP), ("traceparent", TP)]);
        assert_eq!(remote_span_context(&doubled), None);
    }
}
