//! Helpers for testing code instrumented with tracekit.
//!
//! - [`Spans`]: finished spans with lookups by name and assertions on parent
//!   links and attributes (pair it with
//!   [`InMemoryExporter`]).
//! - [`TestProvider`]: a provider exporting into an [`InMemoryExporter`].
//! - [`SpanDataBuilder`]: finished spans made by hand.
//! - `receiver` (cargo feature `receiver`): an in-process OTLP receiver.

mod harness;
mod span_data;
mod spans;

#[cfg(feature = "receiver")]
pub mod receiver;

pub use crate::export::memory::InMemoryExporter;
pub use harness::TestProvider;
pub use span_data::SpanDataBuilder;
pub use spans::{assert_attribute, attribute, Spans};
