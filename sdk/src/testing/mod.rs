//! Helpers for testing code instrumented with tracekit.
//!
//! - [`Spans`]: finished spans with lookups by name and assertions on parent
//!   links and attributes (pair it with
//!   [`InMemoryExporter`]).
//! - [`TestProvider`]: a provider exporting into an [`InMemoryExporter`].
//! - [`TestTracing`]: a per-test collector of `#[instrument]`/`tracing`
//!   spans and OpenTelemetry API spans, in the same traces, without
//!   globals (a thread-local default `tracing` subscriber over a
//!   [`TestProvider`]); for `#[tokio::test]` of both flavours.
//! - [`SpanDataBuilder`]: finished spans made by hand.
//! - `receiver` (cargo feature `receiver`): an in-process OTLP receiver.

mod harness;
mod span_data;
mod spans;
mod tracing_capture;

#[cfg(feature = "receiver")]
pub mod receiver;

pub use crate::export::memory::InMemoryExporter;
pub use harness::TestProvider;
pub use span_data::SpanDataBuilder;
pub use spans::{assert_attribute, attribute, Spans};
pub use tracing_capture::TestTracing;
