//! [`Span`]: tracekit's implementation of the OpenTelemetry `Span` API.

use super::finished_span::FinishedSpan;
use super::limits::{limit_attribute_list, upsert_attribute};
use super::origin::SpanOrigin;
use super::provider::ProviderInner;
use super::record_pool;
use super::span_record::SpanRecord;
use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};
use std::borrow::Cow;
use std::error::Error;
use std::mem::ManuallyDrop;
use std::sync::Arc;
use std::time::SystemTime;

/// The name of exception events, per the semantic conventions (one
/// constant, shared with the tower integration).
pub use tracekit_propagators::EXCEPTION_EVENT_NAME;

/// A span: recording (it collects data and reaches the processors when it
/// ends) or non-recording (it only carries a [`SpanContext`] so that context
/// keeps propagating, and costs no allocation).
///
/// A span ends when [`end`](opentelemetry::trace::Span::end) is called or,
/// failing that, when it is dropped.
#[derive(Debug)]
pub struct Span {
    span_context: SpanContext,
    /// What a recording span holds until it ends; `None` for a
    /// non-recording span and once ended. One option for both parts, so
    /// that ending (and dropping) a span checks and clears one field. Never
    /// dropped in place: `Drop` takes it (ending the span), which leaves
    /// `None`, so the drop glue has nothing left to check.
    recording: ManuallyDrop<Option<Recording>>,
}

/// The data of a recording span and the provider it goes to when it ends.
#[derive(Debug)]
struct Recording {
    record: Box<SpanRecord>,
    provider: Arc<ProviderInner>,
}

impl Span {
    pub(crate) fn recording(
        span_context: SpanContext,
        record: SpanRecord,
        provider: Arc<ProviderInner>,
        origin: &Arc<SpanOrigin>,
    ) -> Self {
        Span {
            span_context,
            recording: ManuallyDrop::new(Some(Recording {
                record: record_pool::boxed(record, origin),
                provider,
            })),
        }
    }

    /// A span that records nothing and only carries `span_context`.
    #[inline]
    pub fn non_recording(span_context: SpanContext) -> Self {
        Span {
            span_context,
            recording: ManuallyDrop::new(None),
        }
    }

    /// The record of a recording span.
    #[inline]
    fn record(&self) -> Option<&SpanRecord> {
        self.recording.as_ref().map(|r| &*r.record)
    }

    /// The record of a recording span, and its provider.
    #[inline]
    fn record_mut(&mut self) -> Option<(&mut SpanRecord, &ProviderInner)> {
        self.recording
            .as_mut()
            .map(|r| (&mut *r.record, &*r.provider))
    }

    /// Where a recording span timed on the span clock started: its counter
    /// value and wall-clock start time (for
    /// `Tracer::clock_time_since`).
    #[inline]
    pub(crate) fn clock_start(&self) -> Option<(u64, SystemTime)> {
        let record = self.record()?;
        Some((record.start_raw?, record.start_time))
    }

    /// Record an exception event with explicit type, message and optional
    /// stack trace (`exception.type`, `exception.message`,
    /// `exception.stacktrace`). The status is left to the caller.
    pub fn record_exception(
        &mut self,
        exception_type: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
        stacktrace: Option<String>,
    ) {
        let Some(record) = self.record() else {
            return;
        };
        let timestamp = record.now();
        let mut attributes = vec![
            KeyValue::new(EXCEPTION_TYPE, exception_type.into()),
            KeyValue::new(EXCEPTION_MESSAGE, message.into()),
        ];
        if let Some(stacktrace) = stacktrace {
            attributes.push(KeyValue::new(EXCEPTION_STACKTRACE, stacktrace));
        }
        self.push_event(Event::new(EXCEPTION_EVENT_NAME, timestamp, attributes, 0));
    }

    fn push_event(&mut self, mut event: Event) {
        let Some((record, provider)) = self.record_mut() else {
            return;
        };
        let limits = &provider.limits;
        if record.events.len() >= limits.max_events_per_span as usize {
            record.dropped_events = record.dropped_events.saturating_add(1);
            return;
        }
        event.dropped_attributes_count +=
            limit_attribute_list(&mut event.attributes, limits.max_attributes_per_event);
        record.events.push(event);
    }

    /// End the span if it is recording and has not ended yet. Inlined, so
    /// that ending or dropping a non-recording span is one check.
    #[inline(always)]
    fn finish(&mut self, end_time: Option<SystemTime>) {
        if let Some(recording) = self.recording.take() {
            self.finish_recording(recording, end_time);
        }
    }

    fn finish_recording(&self, recording: Recording, end_time: Option<SystemTime>) {
        let Recording {
            mut record,
            provider,
        } = recording;
        record.end_time = end_time.unwrap_or_else(|| record.now());
        let finished = FinishedSpan {
            span_context: self.span_context.clone(),
            record,
        };
        provider.on_end(finished);
    }
}

/// `Display` of the error followed by `": "` and each source in turn.
pub(crate) fn error_chain_message(err: &dyn Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// `exception.type` and `exception.message` for `err`: its type name
/// (`"error"` when unknown) and its message followed by its sources'.
fn exception_type_and_message(err: &dyn Error) -> (String, String) {
    let message = error_chain_message(err);
    let exception_type = error_type_name(err).unwrap_or_else(|| "error".to_string());
    (exception_type, message)
}

/// Record `err` as an exception event on the span in a `Context`
/// (`cx.span()`), with `exception.type` and `exception.message`.
///
/// `SpanRef::record_error` of the OpenTelemetry API goes through a boxed
/// span that only records the message; this records the type too.
///
/// ```
/// use opentelemetry::trace::{TraceContextExt, Tracer as _};
/// let test = tracekit::testing::TestProvider::new();
/// test.tracer("t").in_span("parse", |cx| {
///     let err = "x".parse::<u8>().unwrap_err();
///     tracekit::trace::record_exception(&cx.span(), &err);
/// });
/// let spans = test.spans();
/// let event = &spans.get("parse").events.events[0];
/// assert_eq!(event.name, "exception");
/// assert!(event.attributes.iter().any(|kv| kv.key.as_str() == "exception.type"
///     && kv.value.as_str() == "ParseIntError"));
/// ```
pub fn record_exception(span: &opentelemetry::trace::SpanRef<'_>, err: &dyn Error) {
    if !span.is_recording() {
        return;
    }
    let (exception_type, message) = exception_type_and_message(err);
    span.add_event(
        EXCEPTION_EVENT_NAME,
        vec![
            KeyValue::new(EXCEPTION_TYPE, exception_type),
            KeyValue::new(EXCEPTION_MESSAGE, message),
        ],
    );
}

/// The exception type of an error: the type name that its `Debug` output
/// starts with (`ParseIntError { .. }` gives `ParseIntError`), or `None`
/// when that output doesn't start with an identifier.
fn error_type_name(err: &dyn Error) -> Option<String> {
    let debug = format!("{err:?}");
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let starts_ok = ident
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    (starts_ok && ident.len() < 128).then_some(ident)
}

impl opentelemetry::trace::Span for Span {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if self.recording.is_some() {
            self.push_event(Event::new(name, timestamp, attributes, 0));
        }
    }

    fn add_event<T>(&mut self, name: T, attributes: Vec<KeyValue>)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = self.record() {
            let timestamp = record.now();
            self.push_event(Event::new(name, timestamp, attributes, 0));
        }
    }

    /// Records an exception event with `exception.type` (from the error's
    /// `Debug` output) and `exception.message` (its `Display` output, with the
    /// chain of sources appended); the status is left to the caller, as the
    /// specification asks.
    fn record_error(&mut self, err: &dyn Error) {
        if self.recording.is_none() {
            return;
        }
        let (exception_type, message) = exception_type_and_message(err);
        self.record_exception(exception_type, message, None);
    }

    #[inline]
    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    #[inline]
    fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some((record, provider)) = self.record_mut() {
            let limits = &provider.limits;
            if upsert_attribute(
                &mut record.attributes,
                attribute,
                limits.max_attributes_per_span,
            ) {
                record.dropped_attributes = record.dropped_attributes.saturating_add(1);
            }
        }
    }

    /// Status rules of the specification: `Ok` is final, `Unset` is
    /// ignored, `Error` replaces `Unset` or an earlier `Error`.
    fn set_status(&mut self, status: Status) {
        let Some((record, _)) = self.record_mut() else {
            return;
        };
        match (&record.status, &status) {
            (Status::Ok, _) | (_, Status::Unset) => {}
            _ => record.status = status,
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some((record, _)) = self.record_mut() {
            record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let Some((record, provider)) = self.record_mut() else {
            return;
        };
        if !span_context.is_valid() {
            return;
        }
        let limits = &provider.limits;
        if record.links.len() >= limits.max_links_per_span as usize {
            record.dropped_links = record.dropped_links.saturating_add(1);
            return;
        }
        let dropped = limit_attribute_list(&mut attributes, limits.max_attributes_per_link);
        record
            .links
            .push(Link::new(span_context, attributes, dropped));
    }

    #[inline]
    fn end(&mut self) {
        self.finish(None);
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.finish(Some(timestamp));
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        self.finish(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_set_later_overwrite_start_attributes_and_earlier_sets() {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let test = crate::testing::TestProvider::new();
        let tracer = test.tracer("upsert");
        let mut span = tracer
            .span_builder("s")
            .with_attributes([KeyValue::new("a", 1), KeyValue::new("b", 2)])
            .start(&tracer);
        span.set_attribute(KeyValue::new("a", 3));
        span.set_attribute(KeyValue::new("c", 4));
        span.set_attribute(KeyValue::new(String::from("c"), 5));
        span.set_attributes([KeyValue::new("b", 6), KeyValue::new("d", 7)]);
        span.end();
        assert_eq!(
            test.spans().get("s").attributes,
            vec![
                KeyValue::new("a", 3),
                KeyValue::new("b", 6),
                KeyValue::new("c", 5),
                KeyValue::new("d", 7),
            ]
        );
    }

    #[test]
    fn a_span_reaches_the_processors_once_whether_ended_dropped_or_both() {
        use opentelemetry::trace::{Span as _, Tracer as _};
        let test = crate::testing::TestProvider::new();
        let tracer = test.tracer("once");
        let mut ended = tracer.start("ended");
        assert!(ended.is_recording());
        ended.end();
        assert!(!ended.is_recording());
        ended.end();
        drop(ended);
        drop(tracer.start("dropped"));
        let unsampled = Span::non_recording(SpanContext::empty_context());
        assert!(!unsampled.is_recording());
        drop(unsampled);
        let spans = test.spans();
        assert_eq!(spans.names(), vec!["ended", "dropped"]);
    }

    #[derive(Debug)]
    struct MyError;
    impl std::fmt::Display for MyError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("it broke")
        }
    }
    impl Error for MyError {}

    #[test]
    fn error_type_names_come_from_debug_output() {
        assert_eq!(error_type_name(&MyError).as_deref(), Some("MyError"));
        let parse = "x".parse::<i32>().unwrap_err();
        assert_eq!(error_type_name(&parse).as_deref(), Some("ParseIntError"));
        let io = std::io::Error::other("boom");
        assert_eq!(error_type_name(&io).as_deref(), Some("Custom"));
    }

    #[test]
    fn non_recording_spans_ignore_everything() {
        use opentelemetry::trace::Span as _;
        let mut span = Span::non_recording(SpanContext::empty_context());
        span.set_attribute(KeyValue::new("a", 1));
        span.add_event("e", vec![]);
        span.set_status(Status::error("x"));
        span.record_error(&MyError);
        assert!(!span.is_recording());
        span.end();
    }
}
