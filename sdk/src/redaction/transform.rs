//! The [`Redactor`] as a step of the export path: every finished span is
//! redacted there, off the application's thread, before attribute values
//! are truncated to the span limits and before any exporter sees it.

use super::Redactor;
use crate::trace::SpanTransform;
use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::KeyValue;

impl SpanTransform for Redactor {
    fn transform(&self, attributes: &mut Vec<KeyValue>, events: &mut [Event], links: &mut [Link]) {
        self.redact_parts(attributes, events, links);
    }

    fn transform_status(&self, status: &mut Status) {
        self.redact_status(status);
    }
}
