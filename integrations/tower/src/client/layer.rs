//! [`TracekitClientLayer`]: the tower layer for HTTP clients.

use super::builder::TracekitClientLayerBuilder;
use super::service::TracekitClientService;
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
    /// ([`TracekitClientLayerBuilder::origin`]).
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
/// use tracekit_tower::TracekitClientLayer;
///
/// # let _guard = tracekit::builder().default_exporters(&[]).install();
/// let client = ServiceBuilder::new()
///     .layer(TracekitClientLayer::new())
///     .service_fn(|req: http::Request<String>| async move {
///         // The injected context travels with the request.
///         assert!(req.headers().contains_key("traceparent"));
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     });
/// # drop(client);
/// ```
pub struct TracekitClientLayer<T = BoxedTracer> {
    settings: Arc<ClientSettings<T>>,
}

impl<T> Clone for TracekitClientLayer<T> {
    fn clone(&self) -> Self {
        TracekitClientLayer {
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<T> fmt::Debug for TracekitClientLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracekitClientLayer")
            .field("propagation", &self.settings.propagation)
            .finish_non_exhaustive()
    }
}

impl TracekitClientLayer {
    /// A layer with the global tracer provider and propagator. Build it
    /// after `tracekit::init()`.
    pub fn new() -> Self {
        TracekitClientLayerBuilder::new().build()
    }

    /// Options for a layer.
    pub fn builder() -> TracekitClientLayerBuilder {
        TracekitClientLayerBuilder::new()
    }
}

impl Default for TracekitClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> TracekitClientLayer<T> {
    pub(crate) fn from_settings(settings: Arc<ClientSettings<T>>) -> Self {
        TracekitClientLayer { settings }
    }
}

impl<S, T> Layer<S> for TracekitClientLayer<T> {
    type Service = TracekitClientService<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        TracekitClientService::new(inner, Arc::clone(&self.settings))
    }
}
