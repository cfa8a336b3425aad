//! [`FinishedSpan`]: a span that has ended, as processors receive it.
//!
//! It is the span's record (`span_record`), moved (not copied) from the
//! live span into the processors. Off the application's thread, in the
//! batch processor's worker, it is either encoded straight into an OTLP
//! request (tracekit's http/protobuf exporter) or converted to the
//! official SDK's [`SpanData`], the type other exporters take.

use super::origin::{self, SpanOrigin};
use super::record_pool;
use super::span_record::SpanRecord;
use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::borrow::Cow;
use std::time::{Duration, SystemTime};

/// A span that has ended, handed to each [`SpanProcessor`](crate::SpanProcessor).
///
/// Processors may read it, change it (a redaction processor does), and pass
/// it on; exporters receive it converted to [`SpanData`].
#[derive(Clone, Debug)]
pub struct FinishedSpan {
    pub(crate) span_context: SpanContext,
    pub(crate) record: Box<SpanRecord>,
}

/// The attributes to export. Small ones are copied (allocated on this, the
/// export thread, where the exporter frees them) and the originals stay in
/// the record, to be freed on the thread that allocated them when the
/// record is reused (and the record's buffer with them); larger ones are
/// moved out, buffer and all.
fn export_attributes(attributes: &mut Vec<KeyValue>) -> Vec<KeyValue> {
    if attributes.is_empty() {
        // No call into `clone` for nothing (30 instructions per span).
        Vec::new()
    } else if record_pool::value_bytes(attributes) <= record_pool::MAX_KEPT_VALUE_BYTES {
        attributes.clone()
    } else {
        std::mem::take(attributes)
    }
}

impl FinishedSpan {
    /// The span's own context (trace id, span id, flags, trace state).
    pub fn span_context(&self) -> &SpanContext {
        &self.span_context
    }
    /// The parent span's id, or `SpanId::INVALID` for a root span.
    pub fn parent_span_id(&self) -> SpanId {
        self.record.parent_span_id
    }
    /// Whether the parent came from another process.
    pub fn parent_is_remote(&self) -> bool {
        self.record.parent_is_remote
    }
    /// The span's name.
    pub fn name(&self) -> &str {
        &self.record.name
    }
    /// The span's kind.
    pub fn kind(&self) -> &SpanKind {
        &self.record.kind
    }
    /// Wall-clock start time.
    pub fn start_time(&self) -> SystemTime {
        self.record.start_time
    }
    /// Wall-clock end time (start plus the monotonic duration).
    pub fn end_time(&self) -> SystemTime {
        self.record.end_time
    }
    /// The span's duration.
    pub fn duration(&self) -> Duration {
        self.record
            .end_time
            .duration_since(self.record.start_time)
            .unwrap_or_default()
    }
    /// The span's attributes.
    pub fn attributes(&self) -> &[KeyValue] {
        &self.record.attributes
    }
    /// The span's attributes, for processors that rewrite them.
    pub fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
        &mut self.record.attributes
    }
    /// The span's events.
    pub fn events(&self) -> &[Event] {
        &self.record.events
    }
    /// The span's events, for processors that rewrite them.
    pub fn events_mut(&mut self) -> &mut Vec<Event> {
        &mut self.record.events
    }
    /// The span's links.
    pub fn links(&self) -> &[Link] {
        &self.record.links
    }
    /// The span's links, for processors that rewrite them.
    pub fn links_mut(&mut self) -> &mut Vec<Link> {
        &mut self.record.links
    }
    /// The span's status.
    pub fn status(&self) -> &Status {
        &self.record.status
    }
    /// The instrumentation scope of the tracer that created the span.
    pub fn instrumentation_scope(&self) -> &InstrumentationScope {
        match &self.record.origin {
            Some(origin) => &origin.scope,
            None => origin::no_scope(),
        }
    }
    /// Attributes dropped because of the span limits.
    pub fn dropped_attributes_count(&self) -> u32 {
        self.record.dropped_attributes
    }
    /// Events dropped because of the span limits.
    pub fn dropped_events_count(&self) -> u32 {
        self.record.dropped_events
    }
    /// Links dropped because of the span limits.
    pub fn dropped_links_count(&self) -> u32 {
        self.record.dropped_links
    }

    /// Discard the span, returning its allocation for reuse by later spans
    /// (cheaper than freeing it when spans are dropped in bulk, e.g. from a
    /// full queue).
    pub fn discard(self) {
        let mut record = self.record;
        record.attributes.clear();
        record.events = Vec::new();
        record.links = Vec::new();
        record.name = Cow::Borrowed("");
        record.status = Status::Unset;
        record_pool::recycle_here(record);
    }

    /// Apply the provider's export preparation (transforms such as
    /// redaction, then the attribute value-length limit) in place. The
    /// direct OTLP encoder calls it once per span before encoding.
    pub(crate) fn prepare_for_export(&mut self) {
        // Moved out and back (the count is not touched) while the record
        // is borrowed.
        if let Some(origin) = self.record.origin.take() {
            origin.prep.apply(&mut self.record);
            self.record.origin = Some(origin);
        }
    }

    /// Give the record back for reuse once the span has been encoded.
    /// Its events, links, name and status are freed here; its attributes
    /// stay in the record, to be freed on the application's thread when
    /// the record is reused, unless they are large (`record_pool` trims
    /// them).
    pub(crate) fn recycle_after_export(self) {
        let mut record = self.record;
        record.events = Vec::new();
        record.links = Vec::new();
        record.name = Cow::Borrowed("");
        record.status = Status::Unset;
        record_pool::recycle(record);
    }

    /// Convert into the official SDK's export type, after the provider's
    /// export transforms (redaction) and attribute value-length limit have
    /// been applied.
    // Always inlined: at the batch worker's call site the span data is then
    // built straight into the batch, without an extra 400-byte move per
    // span (callgrind: 681 -> 620 instructions per exported span).
    #[inline(always)]
    pub fn into_span_data(self) -> SpanData {
        let FinishedSpan {
            span_context,
            mut record,
        } = self;
        // Moved out and back (the count is not touched) while the record is
        // borrowed.
        let origin = record.origin.take();
        if let Some(origin) = &origin {
            origin.prep.apply(&mut record);
        }
        let mut events = SpanEvents::default();
        events.events = std::mem::take(&mut record.events);
        events.dropped_count = record.dropped_events;
        let mut links = SpanLinks::default();
        links.links = std::mem::take(&mut record.links);
        links.dropped_count = record.dropped_links;
        let parent_span_id = record.parent_span_id;
        let parent_span_is_remote = record.parent_is_remote;
        let span_kind = record.kind.clone();
        let name = std::mem::replace(&mut record.name, Cow::Borrowed(""));
        let (start_time, end_time) = (record.start_time, record.end_time);
        let attributes = export_attributes(&mut record.attributes);
        let dropped_attributes_count = record.dropped_attributes;
        let status = std::mem::replace(&mut record.status, Status::Unset);
        let instrumentation_scope = origin
            .as_deref()
            .map_or_else(InstrumentationScope::default, SpanOrigin::export_scope);
        // The origin goes back with the record (it is released on the
        // application's thread when the record is reused for another
        // tracer's span).
        record.origin = origin;
        // The record goes back before the span data is built, so the
        // span data can be built where the caller stores it.
        record_pool::recycle(record);
        SpanData {
            span_context,
            parent_span_id,
            parent_span_is_remote,
            span_kind,
            name,
            start_time,
            end_time,
            attributes,
            dropped_attributes_count,
            events,
            links,
            status,
            instrumentation_scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_attributes_are_exported_as_copies_and_kept_in_the_record() {
        let mut attributes = vec![
            KeyValue::new("url.path", String::from("/users/42")),
            KeyValue::new("http.response.status_code", 200),
        ];
        let exported = export_attributes(&mut attributes);
        assert_eq!(exported, attributes);
        assert_eq!(attributes.len(), 2);
    }

    #[test]
    fn large_attributes_are_moved_out() {
        let large = "x".repeat(record_pool::MAX_KEPT_VALUE_BYTES + 1);
        let mut attributes = vec![KeyValue::new("big", large.clone())];
        let exported = export_attributes(&mut attributes);
        assert_eq!(exported, vec![KeyValue::new("big", large)]);
        assert!(attributes.is_empty());
    }
}
