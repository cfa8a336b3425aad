//! [`SpanTracer`]: the tracers the layers accept, and the default one.

use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::Tracer;
use opentelemetry::InstrumentationScope;

/// The instrumentation scope name of spans made by this crate's layers
/// when they use the global tracer provider.
pub const SCOPE_NAME: &str = "tracekit-tower";

/// Any OpenTelemetry tracer whose spans can live in a [`Context`]: the
/// global tracer (the default), a `tracekit::Tracer`, an
/// `opentelemetry_sdk` tracer.
///
/// [`Context`]: opentelemetry::Context
pub trait SpanTracer: Tracer<Span: Send + Sync + 'static> + Send + Sync + 'static {}

impl<T> SpanTracer for T
where
    T: Tracer + Send + Sync + 'static,
    T::Span: Send + Sync + 'static,
{
}

/// A tracer from the global tracer provider, scope [`SCOPE_NAME`] with
/// this crate's version. Take it after the provider is installed
/// (`tracekit::init()`): a tracer taken earlier stays a no-op.
pub fn global_tracer() -> BoxedTracer {
    global::tracer_with_scope(
        InstrumentationScope::builder(SCOPE_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    )
}
