//! [`HttpServerLayerBuilder`]: the server layer's options.

use super::layer::{HttpServerLayer, ServerSettings};
use crate::capture::{HeaderCapture, HeaderSide};
use crate::propagation::Propagation;
use crate::request_info::{NoRequestInfo, RequestInfo};
use crate::skip::SkipPaths;
use crate::tracer::{global_tracer, SpanTracer};
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use std::sync::Arc;

/// Options of a [`HttpServerLayer`]; obtain one with
/// [`HttpServerLayer::builder`].
#[derive(Debug)]
pub struct HttpServerLayerBuilder<I = NoRequestInfo, T = BoxedTracer> {
    tracer: T,
    info: I,
    propagation: Propagation,
    skip: SkipPaths,
    request_headers: HeaderCapture,
    response_headers: HeaderCapture,
    traceparent_response: bool,
}

impl HttpServerLayerBuilder {
    pub(crate) fn new() -> Self {
        HttpServerLayerBuilder {
            tracer: global_tracer(),
            info: NoRequestInfo,
            propagation: Propagation::Global,
            skip: SkipPaths::default(),
            request_headers: HeaderCapture::default(),
            response_headers: HeaderCapture::default(),
            traceparent_response: false,
        }
    }
}

impl<I: RequestInfo, T: SpanTracer> HttpServerLayerBuilder<I, T> {
    /// Start spans with `tracer` instead of the global tracer provider's.
    pub fn tracer<T2: SpanTracer>(self, tracer: T2) -> HttpServerLayerBuilder<I, T2> {
        HttpServerLayerBuilder {
            tracer,
            info: self.info,
            propagation: self.propagation,
            skip: self.skip,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            traceparent_response: self.traceparent_response,
        }
    }

    /// Framework knowledge (route template, peer address); `tracekit-axum`
    /// provides it for axum.
    pub fn request_info<I2: RequestInfo>(self, info: I2) -> HttpServerLayerBuilder<I2, T> {
        HttpServerLayerBuilder {
            tracer: self.tracer,
            info,
            propagation: self.propagation,
            skip: self.skip,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            traceparent_response: self.traceparent_response,
        }
    }

    /// Extract with `propagator` instead of the global propagator.
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagation = Propagation::explicit(propagator);
        self
    }

    /// Extract with this [`Propagation`].
    pub fn propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = propagation;
        self
    }

    /// Serve `path` (exactly) without a span; the incoming context is
    /// still made current.
    pub fn skip_path(mut self, path: impl Into<String>) -> Self {
        self.skip.add_path(path);
        self
    }

    /// Serve every path starting with `prefix` without a span.
    pub fn skip_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.skip.add_prefix(prefix);
        self
    }

    /// Record these request headers as `http.request.header.<name>`.
    /// Credential headers (`authorization`, `cookie`, API keys...) are
    /// never recorded, even when listed.
    pub fn capture_request_headers<N, S>(mut self, names: N) -> Self
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.request_headers = HeaderCapture::new(HeaderSide::Request, names);
        self
    }

    /// Record these response headers as `http.response.header.<name>`
    /// (`set-cookie` and other credentials never).
    pub fn capture_response_headers<N, S>(mut self, names: N) -> Self
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.response_headers = HeaderCapture::new(HeaderSide::Response, names);
        self
    }

    /// Send the server span's `traceparent` back as a response header,
    /// exposed to browser scripts with `Access-Control-Expose-Headers`, so
    /// a page can link its own telemetry to the server trace. Off by
    /// default: it reveals trace ids to clients.
    pub fn traceparent_response_header(mut self, enabled: bool) -> Self {
        self.traceparent_response = enabled;
        self
    }

    /// The layer.
    pub fn build(self) -> HttpServerLayer<I, T> {
        HttpServerLayer::from_settings(
            Arc::new(ServerSettings {
                tracer: self.tracer,
                propagation: self.propagation,
                skip: self.skip,
                request_headers: self.request_headers,
                response_headers: if self.response_headers.is_empty() {
                    None
                } else {
                    Some(Arc::new(self.response_headers))
                },
                traceparent_response: self.traceparent_response,
            }),
            self.info,
        )
    }
}
