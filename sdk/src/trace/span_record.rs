//! [`SpanRecord`]: everything a recording span holds, boxed once when it
//! starts and moved, box and all, to the processors and the export thread.

use super::clock;
use super::origin::SpanOrigin;
use opentelemetry::trace::{Event, Link, SpanId, SpanKind, Status};
use opentelemetry::KeyValue;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Everything a recording span holds; boxed once when the span starts and
/// moved, box and all, into the processors and the export thread.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    /// The tracer's scope and what the export path does to this span
    /// (redaction, truncation). Always set in a span's record; a recycled
    /// record keeps its last span's (see `record_pool`) until it is
    /// reused or its provider is dropped.
    pub(crate) origin: Option<Arc<SpanOrigin>>,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) start_time: SystemTime,
    /// Monotonic start (span clock counter), when the start time was not
    /// given explicitly.
    pub(crate) start_raw: Option<u64>,
    pub(crate) end_time: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) dropped_attributes: u32,
    pub(crate) events: Vec<Event>,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<Link>,
    pub(crate) dropped_links: u32,
    pub(crate) status: Status,
}

impl SpanRecord {
    /// The current time on the span's clock: wall-clock start plus the
    /// monotonic time elapsed, so durations never go negative when the wall
    /// clock jumps.
    #[inline]
    pub(crate) fn now(&self) -> SystemTime {
        match self.start_raw {
            Some(start) => {
                self.start_time
                    + Duration::from_nanos(clock::nanos_between(start, clock::now_raw()))
            }
            None => SystemTime::now(),
        }
    }
}
