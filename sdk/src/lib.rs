//! tracekit: a fast, spec-exact OpenTelemetry tracing SDK.

pub mod env;
pub mod export;
pub mod layer;
pub mod resource;
pub mod testing;
pub mod trace;

pub use trace::{
    BatchConfig, BatchSpanProcessor, FinishedSpan, ProcessorError, SimpleSpanProcessor, Span,
    SpanCounters, SpanLimits, SpanProcessor, Tracer, TracerProvider, TracerProviderBuilder,
};
