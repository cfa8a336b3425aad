//! [`SpanTransform`]: a step the export path applies to every finished
//! span (redaction is one), before the value-length limit.

use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::KeyValue;
use std::fmt::Debug;

/// A step applied to every finished span before it is exported (e.g.
/// redaction). Both methods run for every span, on the export path.
/// Span names are not passed: they are left alone.
pub trait SpanTransform: Send + Sync + Debug {
    /// Rewrite the span's attributes, and its events (names included) and
    /// links, in place.
    fn transform(&self, attributes: &mut Vec<KeyValue>, events: &mut [Event], links: &mut [Link]);

    /// Rewrite the span's status (an error description may repeat a
    /// secret). Does nothing unless overridden.
    fn transform_status(&self, _status: &mut Status) {}
}
