//! The renderer's input: one span, independent of where it came from (the
//! SDK's `SpanData`, or a decoded OTLP request).

use std::time::SystemTime;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;

/// A span as the waterfall shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaterfallSpan {
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// Its own id.
    pub span_id: SpanId,
    /// Its parent's id; [`SpanId::INVALID`] for a root.
    pub parent_span_id: SpanId,
    /// `service.name` of the resource that produced it.
    pub service_name: String,
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Start time.
    pub start: SystemTime,
    /// End time.
    pub end: SystemTime,
    /// Status.
    pub status: Status,
    /// Attributes, in recorded order.
    pub attributes: Vec<KeyValue>,
    /// Events, in recorded order.
    pub events: Vec<WaterfallEvent>,
}

/// An event on a span.
#[derive(Clone, Debug, PartialEq)]
pub struct WaterfallEvent {
    /// Event name (`exception` for recorded errors).
    pub name: String,
    /// When it happened.
    pub time: SystemTime,
    /// Its attributes.
    pub attributes: Vec<KeyValue>,
}

impl WaterfallSpan {
    /// Convert a finished SDK span produced by `service_name`.
    pub fn from_span_data(span: &SpanData, service_name: &str) -> Self {
        Self {
            trace_id: span.span_context.trace_id(),
            span_id: span.span_context.span_id(),
            parent_span_id: span.parent_span_id,
            service_name: service_name.to_string(),
            name: span.name.to_string(),
            kind: span.span_kind.clone(),
            start: span.start_time,
            end: span.end_time,
            status: span.status.clone(),
            attributes: span.attributes.clone(),
            events: span
                .events
                .events
                .iter()
                .map(|event| WaterfallEvent {
                    name: event.name.to_string(),
                    time: event.timestamp,
                    attributes: event.attributes.clone(),
                })
                .collect(),
        }
    }

    /// The span's duration; zero when its end precedes its start.
    pub fn duration(&self) -> std::time::Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }
}
