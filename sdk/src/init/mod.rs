//! [`init`] and [`TracekitBuilder`]: one call that reads the environment,
//! builds the pipeline and installs it globally.
//!
//! Precedence: what code sets explicitly (sampler, limits, processors)
//! wins; everything code leaves open comes from the standard `OTEL_*`
//! variables, then from the specification's defaults. The service name is
//! the exception the specification makes: `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` override the builder.

mod builder;
mod environment;
mod guard;
mod install;
mod pipeline;
#[cfg(test)]
mod tests;

pub use builder::{TracekitBuilder, DEFAULT_SHUTDOWN_TIMEOUT};
pub use environment::{parse_traces_exporter, ExporterKind, DEFAULT_TRACING_LEVEL, TRACING_SCOPE};
pub use guard::TracekitGuard;
pub use install::tracer;
pub use pipeline::Tracekit;

/// A builder for what code must decide; see [`init`] for the defaults.
pub fn builder() -> TracekitBuilder {
    TracekitBuilder::default()
}

/// Set tracekit up from the environment and install it globally: the
/// tracer provider (`opentelemetry::global::tracer(..)` then produces
/// tracekit spans; [`tracer()`] gives tracekit's tracer itself), the propagator (`OTEL_PROPAGATORS`, default
/// `tracecontext,baggage`) and a `tracing` subscriber whose layer turns
/// `tracing` spans (`#[instrument]`) into tracekit spans, with log lines
/// when `TRACEKIT_LOG_FORMAT` is `text` or `json`. One line on standard
/// error says where spans go and how to see them locally
/// (`TRACEKIT_QUIET=true` or [`TracekitBuilder::quiet`] silences it).
///
/// **Bind the guard to a named variable** for as long as the program runs:
/// `let _guard = tracekit::init();`. Dropping it flushes and shuts down,
/// waiting at most 10 seconds, and `let _ = tracekit::init();` drops it at
/// once: nothing is exported after that line.
///
/// ```
/// # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
/// let _guard = tracekit::init();
/// use opentelemetry::trace::Tracer as _;
/// tracekit::tracer("example").in_span("work", |_cx| {});
/// // `_guard` drops at the end of the scope: the spans are flushed.
/// ```
///
/// Call it once per process. A second call (or a second
/// [`install`](TracekitBuilder::install)) warns once on standard error and
/// installs nothing: the first pipeline stays the only one, and the second
/// guard gives access to it without shutting it down when dropped.
///
/// A server stopped by SIGTERM (`docker stop`, Kubernetes) must let `main`
/// return for the guard to drop: see [`shutdown_signal`](crate::shutdown_signal)
/// and [`TracekitBuilder::flush_on_signal`].
pub fn init() -> TracekitGuard {
    builder().install()
}
