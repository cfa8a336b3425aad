//! [`Propagation`]: which propagator a layer extracts or injects with.

use crate::carrier::{HeaderExtractor, HeaderInjector};
use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::{global, Context};
use std::fmt;
use std::sync::Arc;

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
}

impl fmt::Debug for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagation::Global => f.write_str("Global"),
            Propagation::Explicit(_) => f.write_str("Explicit(..)"),
        }
    }
}

impl Propagation {
    /// Use `propagator`.
    pub fn explicit(propagator: impl TextMapPropagator + Send + Sync + 'static) -> Self {
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
        }
    }
}
