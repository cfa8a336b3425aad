//! [`TracekitClientLayerBuilder`]: the client layer's options.

use super::layer::{ClientSettings, TracekitClientLayer};
use crate::capture::{HeaderCapture, HeaderSide};
use crate::propagation::Propagation;
use crate::tracer::{global_tracer, SpanTracer};
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use std::sync::Arc;

/// Options of a [`TracekitClientLayer`]; obtain one with
/// [`TracekitClientLayer::builder`].
#[derive(Debug)]
pub struct TracekitClientLayerBuilder<T = BoxedTracer> {
    tracer: T,
    propagation: Propagation,
    request_headers: HeaderCapture,
    response_headers: HeaderCapture,
}

impl TracekitClientLayerBuilder {
    pub(crate) fn new() -> Self {
        TracekitClientLayerBuilder {
            tracer: global_tracer(),
            propagation: Propagation::Global,
            request_headers: HeaderCapture::default(),
            response_headers: HeaderCapture::default(),
        }
    }
}

impl<T: SpanTracer> TracekitClientLayerBuilder<T> {
    /// Start spans with `tracer` instead of the global tracer provider's.
    pub fn tracer<T2: SpanTracer>(self, tracer: T2) -> TracekitClientLayerBuilder<T2> {
        TracekitClientLayerBuilder {
            tracer,
            propagation: self.propagation,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
        }
    }

    /// Inject with `propagator` instead of the global propagator.
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagation = Propagation::explicit(propagator);
        self
    }

    /// Inject with this [`Propagation`].
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = propagation;
        self
    }

    /// Record these request headers (never credentials).
    pub fn capture_request_headers<N, S>(mut self, names: N) -> Self
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.request_headers = HeaderCapture::new(HeaderSide::Request, names);
        self
    }

    /// Record these response headers (never credentials).
    pub fn capture_response_headers<N, S>(mut self, names: N) -> Self
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.response_headers = HeaderCapture::new(HeaderSide::Response, names);
        self
    }

    /// The layer.
    pub fn build(self) -> TracekitClientLayer<T> {
        TracekitClientLayer::from_settings(Arc::new(ClientSettings {
            tracer: self.tracer,
            propagation: self.propagation,
            request_headers: self.request_headers,
            response_headers: if self.response_headers.is_empty() {
                None
            } else {
                Some(Arc::new(self.response_headers))
            },
        }))
    }
}
