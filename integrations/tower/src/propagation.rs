//! [`Propagation`]: which propagator a layer extracts or injects with.

use crate::carrier::{HeaderExtractor, HeaderInjector};
use crate::trace_context_headers::TraceContextFields;
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::{global, Context};
use std::fmt;
use std::sync::Arc;
use tracekit_propagators::{BaggagePropagator, W3cPropagation};

/// The propagator a layer uses: the global one (what
/// `tracekit::init()` installs from `OTEL_PROPAGATORS`), read at each
/// request, or one given explicitly.
///
/// The W3C propagators (Trace Context, and Trace Context then Baggage, the
/// default) are applied by reading and writing the headers directly, with
/// the propagator's result: given explicitly
/// ([`Propagation::explicit`]), or as the global propagator installed
/// through `tracekit_propagators::global` (what `tracekit::init()` does)
/// for as long as no other global propagator replaces it.
#[derive(Clone, Default)]
pub enum Propagation {
    /// `opentelemetry::global`'s text-map propagator.
    #[default]
    Global,
    /// This propagator.
    Explicit(Arc<dyn TextMapPropagator + Send + Sync>),
    /// W3C Trace Context alone (`traceparent` and `tracestate`), exactly
    /// what `Explicit` with a `tracekit_propagators::TraceContextPropagator`
    /// does, read straight from the header map; what
    /// [`Propagation::explicit`] makes of that propagator.
    TraceContext,
    /// W3C Trace Context then W3C Baggage, exactly what `Explicit` with
    /// `tracekit_propagators::CompositePropagator::default()` does, read
    /// straight from the header map; what [`Propagation::explicit`] makes
    /// of that propagator.
    TraceContextAndBaggage,
}

impl fmt::Debug for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagation::Global => f.write_str("Global"),
            Propagation::Explicit(_) => f.write_str("Explicit(..)"),
            Propagation::TraceContext => f.write_str("TraceContext"),
            Propagation::TraceContextAndBaggage => f.write_str("TraceContextAndBaggage"),
        }
    }
}

/// The propagator to use for one request: a W3C one applied directly, or
/// any other through its trait.
enum Resolved<'a> {
    W3c(W3cPropagation),
    Dyn(&'a (dyn TextMapPropagator + Send + Sync)),
    Global,
}

impl Propagation {
    /// Use `propagator` ([`Propagation::TraceContext`] for a
    /// `tracekit_propagators::TraceContextPropagator`,
    /// [`Propagation::TraceContextAndBaggage`] for the default
    /// `CompositePropagator`).
    pub fn explicit(propagator: impl TextMapPropagator + Send + Sync + 'static) -> Self {
        match W3cPropagation::of(&propagator) {
            Some(W3cPropagation::TraceContext) => Propagation::TraceContext,
            Some(W3cPropagation::TraceContextAndBaggage) => Propagation::TraceContextAndBaggage,
            None => Propagation::Explicit(Arc::new(propagator)),
        }
    }

    /// The propagator this request uses: the global one is tracekit's
    /// installed propagator while it stays in the global slot.
    #[inline]
    fn resolve(&self) -> Resolved<'_> {
        match self {
            Propagation::Global => match tracekit_propagators::global::installed() {
                Some(installed) => match installed.w3c() {
                    Some(w3c) => Resolved::W3c(w3c),
                    None => Resolved::Dyn(installed),
                },
                None => Resolved::Global,
            },
            Propagation::Explicit(p) => Resolved::Dyn(&**p),
            Propagation::TraceContext => Resolved::W3c(W3cPropagation::TraceContext),
            Propagation::TraceContextAndBaggage => {
                Resolved::W3c(W3cPropagation::TraceContextAndBaggage)
            }
        }
    }

    /// The context `headers` carry, on top of an empty context.
    pub fn extract(&self, headers: &HeaderMap) -> Context {
        self.extract_with_fields(headers, None)
    }

    /// [`Propagation::extract`] with the W3C fields of `headers` already
    /// found, when they were.
    pub(crate) fn extract_with_fields(
        &self,
        headers: &HeaderMap,
        fields: Option<&TraceContextFields<'_>>,
    ) -> Context {
        let extractor = HeaderExtractor(headers);
        match self.resolve() {
            Resolved::W3c(w3c) => {
                let fields = fields
                    .copied()
                    .unwrap_or_else(|| TraceContextFields::lookup(headers));
                let cx = fields.remote_context(headers);
                if w3c.has_baggage() && fields.has_baggage(headers) {
                    BaggagePropagator::new().extract_with_context(&cx, &extractor)
                } else {
                    cx
                }
            }
            Resolved::Dyn(p) => p.extract_with_context(&Context::new(), &extractor),
            Resolved::Global => global::get_text_map_propagator(|p| {
                p.extract_with_context(&Context::new(), &extractor)
            }),
        }
    }

    /// Write `cx` into `headers`.
    pub fn inject(&self, cx: &Context, headers: &mut HeaderMap) {
        let mut injector = HeaderInjector(headers);
        match self.resolve() {
            Resolved::W3c(w3c) => w3c.inject_context(cx, &mut injector),
            Resolved::Dyn(p) => p.inject_context(cx, &mut injector),
            Resolved::Global => {
                global::get_text_map_propagator(|p| p.inject_context(cx, &mut injector))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::TraceContextExt;
    use tracekit_propagators::{CompositePropagator, TraceContextPropagator};

    #[test]
    fn the_w3c_propagators_take_the_direct_path_and_others_do_not() {
        assert!(matches!(
            Propagation::explicit(TraceContextPropagator::new()),
            Propagation::TraceContext
        ));
        assert!(matches!(
            Propagation::explicit(CompositePropagator::default()),
            Propagation::TraceContextAndBaggage
        ));
        assert!(matches!(
            Propagation::explicit(CompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ])),
            Propagation::Explicit(_)
        ));
        assert!(matches!(
            Propagation::explicit(tracekit_propagators::BaggagePropagator::new()),
            Propagation::Explicit(_)
        ));
    }

    #[test]
    fn direct_path_extracts_and_injects_like_the_propagator() {
        let generic = Propagation::Explicit(Arc::new(TraceContextPropagator::new()));
        let direct = Propagation::TraceContext;
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        headers.insert("tracestate", HeaderValue::from_static("congo=t61rcWkgMzE"));
        let (a, b) = (generic.extract(&headers), direct.extract(&headers));
        assert_eq!(a.span().span_context(), b.span().span_context());
        assert!(b.span().span_context().is_remote());
        assert!(!direct.extract(&HeaderMap::new()).has_active_span());

        // Fields found beforehand, or looked up when they were not.
        let scanned = crate::trace_context_headers::TraceContextFields::lookup(&headers);
        for fields in [Some(&scanned), None] {
            let c = direct.extract_with_fields(&headers, fields);
            assert_eq!(c.span().span_context(), b.span().span_context());
        }

        let (mut out_a, mut out_b) = (HeaderMap::new(), HeaderMap::new());
        generic.inject(&b, &mut out_a);
        direct.inject(&b, &mut out_b);
        assert_eq!(out_a, out_b);
        assert_eq!(out_b["tracestate"], "congo=t61rcWkgMzE");
    }

    #[test]
    fn direct_path_with_baggage_extracts_and_injects_like_the_composite() {
        let generic = Propagation::Explicit(Arc::new(CompositePropagator::default()));
        let direct = Propagation::TraceContextAndBaggage;
        let cases: [&[(&str, &str)]; 4] = [
            &[
                (
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                ),
                ("baggage", "tenant=acme;p=1"),
                ("baggage", "region=eu"),
            ],
            &[("baggage", "tenant=acme")],
            &[(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )],
            &[("baggage", "not a member")],
        ];
        for case in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in case {
                headers.append(*name, HeaderValue::from_static(value));
            }
            let (a, b) = (generic.extract(&headers), direct.extract(&headers));
            assert_eq!(a.span().span_context(), b.span().span_context(), "{case:?}");
            let entries = |cx: &Context| {
                let mut all: Vec<String> = cx
                    .baggage()
                    .iter()
                    .map(|(k, (v, m))| format!("{k}={v};{}", m.as_str()))
                    .collect();
                all.sort();
                all
            };
            assert_eq!(entries(&a), entries(&b), "{case:?}");
            // The one pass over the headers notes the baggage as a lookup does.
            let scanned = crate::server::scanned_trace_context(&headers);
            let c = direct.extract_with_fields(&headers, Some(&scanned));
            assert_eq!(entries(&c), entries(&b), "{case:?}");
            let (mut out_a, mut out_b) = (HeaderMap::new(), HeaderMap::new());
            generic.inject(&b, &mut out_a);
            direct.inject(&b, &mut out_b);
            assert_eq!(out_a, out_b, "{case:?}");
        }
    }
}
