//! [`Span`]: tracekit's implementation of the OpenTelemetry `Span` API.

use super::finished_span::{FinishedSpan, SpanRecord};
use super::limits::{limit_attribute_list, upsert_attribute};
use super::provider::ProviderInner;
use super::record_pool;
use opentelemetry::trace::{Event, Link, SpanContext, Status};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    EXCEPTION_MESSAGE, EXCEPTION_STACKTRACE, EXCEPTION_TYPE,
};
use std::borrow::Cow;
use std::error::Error;
use std::sync::Arc;
use std::time::SystemTime;

/// The name of exception events, per the semantic conventions.
pub const EXCEPTION_EVENT_NAME: &str = "exception";

/// A span: recording (it collects data and reaches the processors when it
/// ends) or non-recording (it only carries a [`SpanContext`] so that context
/// keeps propagating, and costs no allocation).
///
/// A span ends when [`end`](opentelemetry::trace::Span::end) is called or,
/// failing that, when it is dropped.
#[derive(Debug)]
pub struct Span {
    span_context: SpanContext,
    record: Option<Box<SpanRecord>>,
    provider: Option<Arc<ProviderInner>>,
}

impl Span {
    pub(crate) fn recording(
        span_context: SpanContext,
        record: SpanRecord,
        provider: Arc<ProviderInner>,
    ) -> Self {
        Span {
            span_context,
            record: Some(record_pool::boxed(record)),
            provider: Some(provider),
        }
    }

    /// A span that records nothing and only carries `span_context`.
    #[inline]
    pub fn non_recording(span_context: SpanContext) -> Self {
        Span {
            span_context,
            record: None,
            provider: None,
        }
    }

    /// Where a recording span timed on the span clock started: its counter
    /// value and wall-clock start time (for
    /// `Tracer::clock_time_since`).
    #[inline]
    pub(crate) fn clock_start(&self) -> Option<(u64, SystemTime)> {
        let record = self.record.as_deref()?;
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
        let Some(record) = self.record.as_deref() else {
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
        let (Some(record), Some(provider)) = (self.record.as_deref_mut(), &self.provider) else {
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

    #[inline]
    fn finish(&mut self, end_time: Option<SystemTime>) {
        let (Some(record), Some(provider)) = (self.record.take(), self.provider.take()) else {
            return;
        };
        let mut record = record;
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
        if self.record.is_some() {
            self.push_event(Event::new(name, timestamp, attributes, 0));
        }
    }

    fn add_event<T>(&mut self, name: T, attributes: Vec<KeyValue>)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = self.record.as_deref() {
            let timestamp = record.now();
            self.push_event(Event::new(name, timestamp, attributes, 0));
        }
    }

    /// Records an exception event with `exception.type` (from the error's
    /// `Debug` output) and `exception.message` (its `Display` output, with the
    /// chain of sources appended); the status is left to the caller, as the
    /// specification asks.
    fn record_error(&mut self, err: &dyn Error) {
        if self.record.is_none() {
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
        self.record.is_some()
    }

    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        if let (Some(record), Some(provider)) = (self.record.as_deref_mut(), &self.provider) {
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
        let Some(record) = self.record.as_deref_mut() else {
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
        if let Some(record) = self.record.as_deref_mut() {
            record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let (Some(record), Some(provider)) = (self.record.as_deref_mut(), &self.provider) else {
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
