//! [`HttpClientLayer`]: the tower layer for HTTP clients.

use super::builder::HttpClientLayerBuilder;
use super::service::HttpClientService;
use crate::capture::HeaderCapture;
use crate::propagation::Propagation;
use opentelemetry::global::BoxedTracer;
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;

/// What every service of one client layer shares.
pub(crate) struct ClientSettings<T> {
    pub(crate) tracer: T,
    pub(crate) propagation: Propagation,
    pub(crate) request_headers: HeaderCapture,
    pub(crate) response_headers: Option<Arc<HeaderCapture>>,
    /// `scheme://authority` for requests whose URI has no authority
    /// ([`HttpClientLayerBuilder::origin`]).
    pub(crate) origin: Option<String>,
}

/// A tower layer for HTTP clients: each request gets a CLIENT span, child
/// of the current context, whose context is injected into the request
/// headers (global propagator by default). The span ends when the response
/// body has been read or dropped; a status ≥ 400 or a transport error
/// makes it an Error.
///
/// ```
/// use tower::ServiceBuilder;
/// use tracekit_tower::HttpClientLayer;
///
/// # let _guard = tracekit::builder().default_exporters(&[]).install();
/// let client = ServiceBuilder::new()
///     .layer(HttpClientLayer::new())
///     .service_fn(|req: http::Request<String>| async move {
///         // The injected context travels with the request.
///         assert!(req.headers().contains_key("traceparent"));
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// # drop(client);
/// ```
pub struct HttpClientLayer<T = BoxedTracer> {
    settings: Arc<ClientSettings<T>>,
}

impl<T> Clone for HttpClientLayer<T> {
    fn clone(&self) -> Self {
        HttpClientLayer {
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<T> fmt::Debug for HttpClientLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientLayer")
            .field("propagation", &self.settings.propagation)
            .finish_non_exhaustive()
    }
}

impl HttpClientLayer {
    /// A layer with the global tracer provider and propagator. Build it
    /// after `tracekit::init()`.
    pub fn new() -> Self {
        HttpClientLayerBuilder::new().build()
    }

    /// Options for a layer.
    pub fn builder() -> HttpClientLayerBuilder {
        HttpClientLayerBuilder::new()
    }
}

impl Default for HttpClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> HttpClientLayer<T> {
    pub(crate) fn from_settings(settings: Arc<ClientSettings<T>>) -> Self {
        HttpClientLayer { settings }
    }
}

impl<S, T> Layer<S> for HttpClientLayer<T> {
    type Service = HttpClientService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpClientService::new(inner, Arc::clone(&self.settings))
    }
}
