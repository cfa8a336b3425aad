//! [`Propagation`]: which propagator a layer extracts or injects with.

use crate::carrier::{HeaderExtractor, HeaderInjector};
use crate::trace_context_headers::{remote_context, TraceContextFields};
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::{global, Context};
use std::any::Any;
use std::fmt;
use std::sync::Arc;
use tracekit_propagators::TraceContextPropagator;

/// The propagator a layer uses: the global one (what
/// `tracekit::init()` installs from `OTEL_PROPAGATORS`), read at each
/// request, or one given explicitly.
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
}

impl fmt::Debug for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagation::Global => f.write_str("Global"),
            Propagation::Explicit(_) => f.write_str("Explicit(..)"),
            Propagation::TraceContext => f.write_str("TraceContext"),
        }
    }
}

impl Propagation {
    /// Use `propagator` ([`Propagation::TraceContext`] for a
    /// `tracekit_propagators::TraceContextPropagator`).
    pub fn explicit(propagator: impl TextMapPropagator + Send + Sync + 'static) -> Self {
        if (&propagator as &dyn Any).is::<TraceContextPropagator>() {
            return Propagation::TraceContext;
        }
        Propagation::Explicit(Arc::new(propagator))
    }

    /// The context `headers` carry, on top of an empty context.
    pub fn extract(&self, headers: &HeaderMap) -> Context {
        let extractor = HeaderExtractor(headers);
        match self {
            Propagation::Global => global::get_text_map_propagator(|p| {
                p.extract_with_context(&Context::new(), &extractor)
            }),
            Propagation::Explicit(p) => p.extract_with_context(&Context::new(), &extractor),
            Propagation::TraceContext => remote_context(headers),
        }
    }

    /// [`Propagation::extract`] with the W3C fields of `headers` already
    /// found, when they were.
    pub(crate) fn extract_with_fields(
        &self,
        headers: &HeaderMap,
        fields: Option<&TraceContextFields<'_>>,
    ) -> Context {
        match self {
            Propagation::TraceContext => fields
                .copied()
                .unwrap_or_else(|| TraceContextFields::lookup(headers))
                .remote_context(headers),
            _ => self.extract(headers),
        }
    }

    /// Write `cx` into `headers`.
    pub fn inject(&self, cx: &Context, headers: &mut HeaderMap) {
        let mut injector = HeaderInjector(headers);
        match self {
            Propagation::Global => {
                global::get_text_map_propagator(|p| p.inject_context(cx, &mut injector))
            }
            Propagation::Explicit(p) => p.inject_context(cx, &mut injector),
            Propagation::TraceContext => {
                TraceContextPropagator::new().inject_context(cx, &mut injector)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use opentelemetry::trace::TraceContextExt;

    #[test]
    fn the_w3c_propagator_takes_the_direct_path_and_others_do_not() {
        assert!(matches!(
            Propagation::explicit(TraceContextPropagator::new()),
            Propagation::TraceContext
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
}
