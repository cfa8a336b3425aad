//! The trace pipeline: provider, tracer, spans, limits, ids, processors.

mod clock;
pub mod counters;
pub(crate) mod export_prep;
pub(crate) mod finished_span;
mod id_generator;
mod limits;
pub(crate) mod origin;
pub mod processor;
mod provider;
mod record_pool;
mod self_metrics;
pub(crate) mod span;
pub(crate) mod span_record;
mod span_transform;
mod tracer;

pub use counters::SpanCounters;
pub use finished_span::FinishedSpan;
pub use id_generator::{IdGenerator, RandomIdGenerator};
pub use limits::SpanLimits;
pub use processor::{
    BatchConfig, BatchSpanProcessor, ProcessorError, SimpleSpanProcessor, SpanProcessor,
};
pub use provider::{TracerProvider, TracerProviderBuilder};
pub use span::{record_exception, Span, EXCEPTION_EVENT_NAME};
pub use span_transform::SpanTransform;
pub use tracer::{Tracer, TRACE_FLAG_RANDOM};

#[cfg(test)]
mod tests;
