//! The export path's preparation of a finished span: transforms (such as
//! redaction) first, then value-length truncation, then conversion to
//! `SpanData`.
//!
//! It runs wherever a [`FinishedSpan`](super::FinishedSpan) is converted for
//! export — on the batch processor's own thread in production — so it costs
//! the application's threads nothing, and a secret is always seen whole
//! before a length limit could cut it in half.

use super::limits::truncate_values;
use super::span_record::SpanRecord;
use super::span_transform::SpanTransform;
use std::sync::Arc;

/// What the export path does to every span of one provider.
#[derive(Debug, Default)]
pub(crate) struct ExportPrep {
    transforms: Vec<Arc<dyn SpanTransform>>,
    value_length_limit: Option<usize>,
}

impl ExportPrep {
    /// The preparation for a provider (its settings are fixed once built).
    /// The provider holds it, and its tracers and their spans share it
    /// (through their [`SpanOrigin`](super::origin::SpanOrigin)): it is
    /// freed with the last of them.
    pub(crate) fn for_provider(
        transforms: Vec<Arc<dyn SpanTransform>>,
        value_length_limit: Option<u32>,
    ) -> Arc<ExportPrep> {
        Arc::new(ExportPrep {
            transforms,
            value_length_limit: value_length_limit.map(|v| v as usize),
        })
    }

    /// Transform (the parts, then the status), then truncate.
    pub(crate) fn apply(&self, record: &mut SpanRecord) {
        for t in &self.transforms {
            t.transform(
                &mut record.attributes,
                &mut record.events,
                &mut record.links,
            );
            t.transform_status(&mut record.status);
        }
        if let Some(limit) = self.value_length_limit {
            truncate_values(&mut record.attributes, limit);
            for event in &mut record.events {
                truncate_values(&mut event.attributes, limit);
            }
            for link in &mut record.links {
                truncate_values(&mut link.attributes, limit);
            }
        }
    }
}
