//! [`TracekitLayer`]: the tower layer producing traced services.

use super::builder::TracekitLayerBuilder;
use super::service::TracekitService;
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
/// use tracekit_tower::TracekitLayer;
///
/// # let _guard = tracekit::builder().default_exporters(&[]).install();
/// let layer = TracekitLayer::builder()
///     .skip_path("/health")
///     .capture_request_headers(["x-request-id"])
///     .build();
/// let service = ServiceBuilder::new().layer(layer).service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// # drop(service);
/// ```
pub struct TracekitLayer<I = NoRequestInfo, T = BoxedTracer> {
    settings: Arc<ServerSettings<T>>,
    info: I,
}

impl<I: Clone, T> Clone for TracekitLayer<I, T> {
    fn clone(&self) -> Self {
        TracekitLayer {
            settings: Arc::clone(&self.settings),
            info: self.info.clone(),
        }
    }
}

impl<I: fmt::Debug, T> fmt::Debug for TracekitLayer<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracekitLayer")
            .field("info", &self.info)
            .field("propagation", &self.settings.propagation)
            .field("skip", &self.settings.skip)
            .finish_non_exhaustive()
    }
}

impl TracekitLayer {
    /// A layer with the defaults: the global tracer provider and
    /// propagator, nothing skipped, no headers captured. Build it after
    /// `tracekit::init()`.
    pub fn new() -> Self {
        TracekitLayerBuilder::new().build()
    }

    /// Options for a layer.
    pub fn builder() -> TracekitLayerBuilder {
        TracekitLayerBuilder::new()
    }
}

impl Default for TracekitLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<I, T> TracekitLayer<I, T> {
    pub(crate) fn from_settings(settings: Arc<ServerSettings<T>>, info: I) -> Self {
        TracekitLayer { settings, info }
    }
}

impl<S, I: Clone, T> Layer<S> for TracekitLayer<I, T> {
    type Service = TracekitService<S, I, T>;

    fn layer(&self, inner: S) -> Self::Service {
        TracekitService::new(inner, Arc::clone(&self.settings), self.info.clone())
    }
}
