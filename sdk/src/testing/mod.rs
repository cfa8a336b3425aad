//! Helpers for testing code instrumented with tracekit.
//!
//! - [`Spans`]: finished spans with lookups by name and assertions on parent
//!   links and attributes (pair it with
//!   [`InMemoryExporter`](crate::export::memory::InMemoryExporter)).
//! - [`SpanDataBuilder`]: finished spans made by hand.
//! - `receiver` (cargo feature `receiver`): an in-process OTLP receiver.

mod span_data;
mod spans;

#[cfg(feature = "receiver")]
pub mod receiver;

pub use span_data::SpanDataBuilder;
pub use spans::{assert_attribute, attribute, Spans};
