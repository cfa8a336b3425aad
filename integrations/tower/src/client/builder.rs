//! [`HttpClientLayerBuilder`]: the client layer's options.

use super::describe::origin_prefix;
use super::layer::{ClientSettings, HttpClientLayer};
use crate::capture::{HeaderCapture, HeaderSide};
use crate::propagation::Propagation;
use crate::tracer::{global_tracer, SpanTracer};
use http::Uri;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use std::sync::Arc;

/// Options of a [`HttpClientLayer`]; obtain one with
/// [`HttpClientLayer::builder`].
#[derive(Debug)]
pub struct HttpClientLayerBuilder<T = BoxedTracer> {
    tracer: T,
    propagation: Propagation,
    request_headers: HeaderCapture,
    response_headers: HeaderCapture,
    origin: Option<String>,
}

impl HttpClientLayerBuilder {
    pub(crate) fn new() -> Self {
        HttpClientLayerBuilder {
            tracer: global_tracer(),
            propagation: Propagation::Global,
            request_headers: HeaderCapture::default(),
            response_headers: HeaderCapture::default(),
            origin: None,
        }
    }
}

impl<T: SpanTracer> HttpClientLayerBuilder<T> {
    /// Start spans with `tracer` instead of the global tracer provider's.
    pub fn tracer<T2: SpanTracer>(self, tracer: T2) -> HttpClientLayerBuilder<T2> {
        HttpClientLayerBuilder {
            tracer,
            propagation: self.propagation,
            request_headers: self.request_headers,
            response_headers: self.response_headers,
            origin: self.origin,
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

    /// The server this client talks to, for requests whose URI carries
    /// no authority: a tonic [`Channel`] hands its layers path-only URIs
    /// (`/demo.v1.Greeter/SayHello`) and adds the endpoint's scheme and
    /// authority further down, out of the layer's sight. Give the layer
    /// the endpoint's URI and client spans get `server.address` and
    /// `server.port` (the scheme's default port when none is written) and,
    /// for plain HTTP, a full `url.full`.
    ///
    /// Only the scheme and authority of `origin` are used (`http` when no
    /// scheme is written); a URI without an authority sets nothing. A
    /// request whose own URI has an authority keeps it. Without an origin,
    /// a path-only request's `Host` header gives `server.address` (and
    /// `server.port` when written).
    ///
    /// ```
    /// use tonic::transport::Endpoint;
    /// use tower::ServiceBuilder;
    /// use tracekit_tower::HttpClientLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let _guard = tracekit::builder().default_exporters(&[]).install();
    /// let endpoint = Endpoint::from_static("http://127.0.0.1:50051");
    /// let channel = endpoint.connect_lazy();
    /// let traced = ServiceBuilder::new()
    ///     .layer(HttpClientLayer::builder().origin(endpoint.uri()).build())
    ///     .service(channel);
    /// // Any generated client takes it: `GreeterClient::new(traced)`.
    /// let grpc = tonic::client::Grpc::new(traced);
    /// # drop(grpc);
    /// # }
    /// ```
    ///
    /// [`Channel`]: https://docs.rs/tonic/latest/tonic/transport/struct.Channel.html
    pub fn origin(mut self, origin: &Uri) -> Self {
        self.origin = origin_prefix(origin);
        self
    }

    /// The layer.
    pub fn build(self) -> HttpClientLayer<T> {
        HttpClientLayer::from_settings(Arc::new(ClientSettings {
            tracer: self.tracer,
            propagation: self.propagation,
            request_headers: self.request_headers,
            response_headers: if self.response_headers.is_empty() {
                None
            } else {
                Some(Arc::new(self.response_headers))
            },
            origin: self.origin,
        }))
    }
}
