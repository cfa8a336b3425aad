//! [`SpanDataBuilder`]: finished spans made by hand, for tests of exporters
//! and processors.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

/// Span ids handed out by [`SpanDataBuilder::new`]: unique in the process.
static NEXT_SPAN_ID: AtomicU64 = AtomicU64::new(1);

/// Builds a finished, sampled [`SpanData`].
///
/// Defaults: trace id `1`, a fresh span id, no parent, kind internal, start
/// at 2024-01-01T00:00:00Z, 1 ms long, status unset, scope `tracekit-test`.
///
/// ```
/// use std::time::Duration;
/// use opentelemetry::KeyValue;
/// use opentelemetry::trace::{SpanKind, Status};
/// use tracekit::testing::SpanDataBuilder;
///
/// let root = SpanDataBuilder::new("GET /orders").kind(SpanKind::Server).build();
/// let child = SpanDataBuilder::new("load")
///     .child_of(&root)
///     .offset(Duration::from_millis(2))
///     .duration(Duration::from_millis(5))
///     .attribute(KeyValue::new("rows", 3))
///     .event("cache miss", Duration::from_millis(1), vec![])
///     .status(Status::error("timeout"))
///     .build();
/// assert_eq!(child.parent_span_id, root.span_context.span_id());
/// assert_eq!(child.span_context.trace_id(), root.span_context.trace_id());
/// ```
#[derive(Clone, Debug)]
pub struct SpanDataBuilder {
    data: SpanData,
    events: Vec<Event>,
}

/// 2024-01-01T00:00:00Z, the default start time.
fn default_start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

impl SpanDataBuilder {
    /// A span named `name` with the defaults above.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        let span_id = SpanId::from(NEXT_SPAN_ID.fetch_add(1, Ordering::Relaxed));
        let start = default_start();
        Self {
            data: SpanData {
                span_context: SpanContext::new(
                    TraceId::from(1u128),
                    span_id,
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::default(),
                ),
                parent_span_id: SpanId::INVALID,
                parent_span_is_remote: false,
                span_kind: SpanKind::Internal,
                name: name.into(),
                start_time: start,
                end_time: start + Duration::from_millis(1),
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                events: SpanEvents::default(),
                links: SpanLinks::default(),
                status: Status::Unset,
                instrumentation_scope: InstrumentationScope::builder("tracekit-test").build(),
            },
            events: Vec::new(),
        }
    }

    /// Set the trace id.
    pub fn trace_id(mut self, trace_id: TraceId) -> Self {
        self.data.span_context = SpanContext::new(
            trace_id,
            self.data.span_context.span_id(),
            self.data.span_context.trace_flags(),
            false,
            TraceState::default(),
        );
        self
    }

    /// Set the span id.
    pub fn span_id(mut self, span_id: SpanId) -> Self {
        self.data.span_context = SpanContext::new(
            self.data.span_context.trace_id(),
            span_id,
            self.data.span_context.trace_flags(),
            false,
            TraceState::default(),
        );
        self
    }

    /// Make it a child of `parent`: same trace, parent id set, starting
    /// when the parent starts (adjust with [`offset`](Self::offset)).
    pub fn child_of(self, parent: &SpanData) -> Self {
        let mut this = self.trace_id(parent.span_context.trace_id());
        this.data.parent_span_id = parent.span_context.span_id();
        this.data.parent_span_is_remote = false;
        let length = this.length();
        this.data.start_time = parent.start_time;
        this.data.end_time = parent.start_time + length;
        this
    }

    /// Set the parent id directly; `remote` marks a parent from another
    /// process.
    pub fn parent(mut self, parent_span_id: SpanId, remote: bool) -> Self {
        self.data.parent_span_id = parent_span_id;
        self.data.parent_span_is_remote = remote;
        self
    }

    /// Set the kind.
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.data.span_kind = kind;
        self
    }

    /// Set the start time, keeping the duration.
    pub fn start(mut self, start: SystemTime) -> Self {
        let length = self.length();
        self.data.start_time = start;
        self.data.end_time = start + length;
        self
    }

    /// Move the span later by `by`, keeping the duration.
    pub fn offset(self, by: Duration) -> Self {
        let start = self.data.start_time + by;
        self.start(start)
    }

    /// Set the duration.
    pub fn duration(mut self, duration: Duration) -> Self {
        self.data.end_time = self.data.start_time + duration;
        self
    }

    /// Add an attribute.
    pub fn attribute(mut self, attribute: KeyValue) -> Self {
        self.data.attributes.push(attribute);
        self
    }

    /// Add an event `after` the span's start.
    pub fn event(
        mut self,
        name: impl Into<Cow<'static, str>>,
        after: Duration,
        attributes: Vec<KeyValue>,
    ) -> Self {
        let time = self.data.start_time + after;
        self.events.push(Event::new(name, time, attributes, 0));
        self
    }

    /// Set the status.
    pub fn status(mut self, status: Status) -> Self {
        self.data.status = status;
        self
    }

    /// Set the instrumentation scope name.
    pub fn scope(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.data.instrumentation_scope = InstrumentationScope::builder(name).build();
        self
    }

    /// The finished span.
    pub fn build(mut self) -> SpanData {
        let mut events = SpanEvents::default();
        events.events = self.events;
        self.data.events = events;
        self.data
    }

    fn length(&self) -> Duration {
        self.data
            .end_time
            .duration_since(self.data.start_time)
            .unwrap_or_default()
    }
}
