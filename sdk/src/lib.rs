//! tracekit: a fast, spec-exact OpenTelemetry tracing SDK.

pub mod env;
pub mod export;
mod init;
pub mod layer;
pub mod resource;
pub mod testing;
pub mod trace;

pub use init::{
    builder, init, parse_traces_exporter, ExporterKind, Tracekit, TracekitBuilder, TracekitGuard,
    DEFAULT_SHUTDOWN_TIMEOUT, TRACING_SCOPE,
};
pub use layer::fmt::LogFormat;
pub use trace::{
    BatchConfig, BatchSpanProcessor, FinishedSpan, ProcessorError, SimpleSpanProcessor, Span,
    SpanCounters, SpanLimits, SpanProcessor, Tracer, TracerProvider, TracerProviderBuilder,
};
