//! [`HttpServerLayer`]: the tower layer producing traced services.

use super::builder::HttpServerLayerBuilder;
use super::service::HttpServerService;
use crate::capture::HeaderCapture;
use crate::propagation::Propagation;
use crate::request_info::NoRequestInfo;
use crate::skip::SkipPaths;
use opentelemetry::global::BoxedTracer;
use std::fmt;
use std::sync::Arc;
use tower_layer::Layer;

/// What every service of one layer shares.
pub(crate) struct ServerSettings<T> {
    pub(crate) tracer: T,
    pub(crate) propagation: Propagation,
    pub(crate) skip: SkipPaths,
    pub(crate) request_headers: HeaderCapture,
    pub(crate) response_headers: Option<Arc<HeaderCapture>>,
    pub(crate) traceparent_response: bool,
}

/// A tower layer tracing each HTTP (or gRPC) request with a SERVER span:
/// the incoming context is extracted (global propagator by default), the
/// span is a child of the remote parent or a new root, it is current
/// while the inner service runs, and it ends when the response body has
/// been sent or dropped. See the [crate documentation](crate) for the
/// attributes and status rules.
///
/// ```
/// use tower::ServiceBuilder;
/// use tracekit_tower::HttpServerLayer;
///
/// # let _guard = tracekit::builder().default_exporters(&[]).install();
/// let layer = HttpServerLayer::builder()
///     .skip_path("/health")
///     .capture_request_headers(["x-request-id"])
///     .build();
/// let service = ServiceBuilder::new().layer(layer).service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// # drop(service);
/// ```
pub struct HttpServerLayer<I = NoRequestInfo, T = BoxedTracer> {
    settings: Arc<ServerSettings<T>>,
    info: I,
}

impl<I: Clone, T> Clone for HttpServerLayer<I, T> {
    fn clone(&self) -> Self {
        HttpServerLayer {
            settings: Arc::clone(&self.settings),
            info: self.info.clone(),
        }
    }
}

impl<I: fmt::Debug, T> fmt::Debug for HttpServerLayer<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerLayer")
            .field("info", &self.info)
            .field("propagation", &self.settings.propagation)
            .field("skip", &self.settings.skip)
            .finish_non_exhaustive()
    }
}

impl HttpServerLayer {
    /// A layer with the defaults: the global tracer provider and
    /// propagator, nothing skipped, no headers captured. Build it after
    /// `tracekit::init()`.
    pub fn new() -> Self {
        HttpServerLayerBuilder::new().build()
    }

    /// Options for a layer.
    pub fn builder() -> HttpServerLayerBuilder {
        HttpServerLayerBuilder::new()
    }
}

impl Default for HttpServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<I, T> HttpServerLayer<I, T> {
    pub(crate) fn from_settings(settings: Arc<ServerSettings<T>>, info: I) -> Self {
        HttpServerLayer { settings, info }
    }
}

impl<S, I: Clone, T> Layer<S> for HttpServerLayer<I, T> {
    type Service = HttpServerService<S, I, T>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpServerService::new(inner, Arc::clone(&self.settings), self.info.clone())
    }
}
