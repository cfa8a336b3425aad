//! Log correlation: `tracing_subscriber::fmt` output carrying the
//! `trace_id` and `span_id` of the span each line was written in.
//!
//! The ids are those of the innermost span current when the event was
//! emitted — a `tracing` span recorded by the
//! [`TracekitLayer`](super::TracekitLayer) or a span started with the
//! OpenTelemetry API — or of the event's explicit parent: the same ids the
//! exported spans carry. Lines written outside any span carry none.
//!
//! * [`TraceIdsFormat`] wraps any text event formatter and appends
//!   ` trace_id=… span_id=…` to each line;
//! * [`JsonFormat`] writes one JSON object per line with `trace_id` and
//!   `span_id` keys;
//! * [`log_layer`] builds the `fmt` layer for a [`LogFormat`], which parses
//!   from the strings `text`, `json` and `off`.
//!
//! ```
//! use tracekit::layer::fmt::{log_layer, LogFormat};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let provider = tracekit::TracerProvider::builder().build();
//! let format: LogFormat = "json".parse().unwrap();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracekit::layer::layer(provider.tracer("app")))
//!     .with(log_layer(format, std::io::stderr));
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info_span!("work").in_scope(|| tracing::info!("inside a span"));
//! });
//! ```

use super::span_state::SpanState;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use serde_json::{Map, Number, Value};
use std::fmt;
use std::str::FromStr;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Key of the trace id in log lines.
pub const TRACE_ID_KEY: &str = "trace_id";
/// Key of the span id in log lines.
pub const SPAN_ID_KEY: &str = "span_id";

/// How logs are written: the value of a setting such as
/// `TRACEKIT_LOG_FORMAT` (`text`, `json` or `off`, case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines with ` trace_id=… span_id=…` appended.
    Text,
    /// One JSON object per line.
    Json,
    /// No log output.
    Off,
}

/// A log format name that is not `text`, `json` or `off`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLogFormatError(String);

impl fmt::Display for ParseLogFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log format {:?} (expected text, json or off)",
            self.0
        )
    }
}

impl std::error::Error for ParseLogFormatError {}

impl FromStr for LogFormat {
    type Err = ParseLogFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("text") {
            Ok(LogFormat::Text)
        } else if s.eq_ignore_ascii_case("json") {
            Ok(LogFormat::Json)
        } else if s.eq_ignore_ascii_case("off") {
            Ok(LogFormat::Off)
        } else {
            Err(ParseLogFormatError(s.to_string()))
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
            LogFormat::Off => "off",
        })
    }
}

/// A `fmt` layer writing to `make_writer` in `format` with trace
/// correlation; `None` (a layer that does nothing) for [`LogFormat::Off`].
pub fn log_layer<S, W>(format: LogFormat, make_writer: W) -> Option<Box<dyn Layer<S> + Send + Sync>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => Some(Box::new(
            tracing_subscriber::fmt::layer()
                .event_format(TraceIdsFormat::new(Format::default()))
                .with_writer(make_writer),
        )),
        LogFormat::Json => Some(Box::new(
            tracing_subscriber::fmt::layer()
                .event_format(JsonFormat::default())
                .with_writer(make_writer),
        )),
        LogFormat::Off => None,
    }
}

/// The span context an event was emitted in: its explicit parent's, or
/// the current OpenTelemetry context's (the innermost entered span).
fn event_span_context<S, N>(ctx: &FmtContext<'_, S, N>, event: &Event<'_>) -> Option<SpanContext>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let span_context = if let Some(parent) = event.parent() {
        let span = ctx.span(parent)?;
        span.scope().find_map(|ancestor| {
            let extensions = ancestor.extensions();
            match extensions.get::<SpanState>() {
                Some(SpanState::Started(started)) => Some(started.span_context()),
                // Not started: no ids yet (the TracekitLayer starts it when
                // it sees the event first; add it before this layer).
                Some(SpanState::Pending(_)) => Some(SpanContext::NONE),
                // Sharing its parent's context, or unknown to the layer:
                // the nearest ancestor's ids stand for it.
                None => None,
            }
        })?
    } else if event.is_contextual() {
        Context::map_current(|cx| cx.span().span_context().clone())
    } else {
        return None;
    };
    span_context.is_valid().then_some(span_context)
}

/// A text event formatter appending ` trace_id=<32 hex> span_id=<16 hex>`
/// to lines written inside a span; everything else is `inner`'s output.
#[derive(Clone, Debug, Default)]
pub struct TraceIdsFormat<F = Format<Full, SystemTime>> {
    inner: F,
}

impl<F> TraceIdsFormat<F> {
    /// Wrap `inner` (for instance `Format::default().compact()`).
    pub fn new(inner: F) -> Self {
        TraceIdsFormat { inner }
    }
}

/// Passes everything through except a final newline, held back so that the
/// ids can go before it.
struct HoldFinalNewline<'a, 'w> {
    out: &'a mut Writer<'w>,
    held: bool,
}

impl fmt::Write for HoldFinalNewline<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.is_empty() {
            return Ok(());
        }
        if self.held {
            self.out.write_char('\n')?;
            self.held = false;
        }
        match s.strip_suffix('\n') {
            Some(body) => {
                self.held = true;
                self.out.write_str(body)
            }
            None => self.out.write_str(s),
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for TraceIdsFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(span_context) = event_span_context(ctx, event) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut hold = HoldFinalNewline {
            out: &mut writer,
            held: false,
        };
        self.inner
            .format_event(ctx, Writer::new(&mut hold), event)?;
        let held = hold.held;
        write!(
            writer,
            " {TRACE_ID_KEY}={} {SPAN_ID_KEY}={}",
            span_context.trace_id(),
            span_context.span_id()
        )?;
        if held {
            writer.write_char('\n')?;
        }
        Ok(())
    }
}

/// A JSON event formatter: one object per line with `timestamp` (RFC 3339),
/// `level`, `target`, `fields` (the message and the event's fields with
/// their native JSON types), `span` (the current span's name) and, inside a
/// span, `trace_id` and `span_id`.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonFormat {
    _private: (),
}

impl<S, N> FormatEvent<S, N> for JsonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut object = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        object.insert("timestamp".into(), Value::String(timestamp));
        object.insert("level".into(), Value::String(meta.level().as_str().into()));
        object.insert("target".into(), Value::String(meta.target().into()));
        let mut fields = JsonFields(Map::new());
        event.record(&mut fields);
        object.insert("fields".into(), Value::Object(fields.0));
        let span = match event.parent() {
            Some(parent) => ctx.span(parent),
            None if event.is_contextual() => ctx.lookup_current(),
            None => None,
        };
        if let Some(span) = span {
            object.insert("span".into(), Value::String(span.name().into()));
        }
        if let Some(span_context) = event_span_context(ctx, event) {
            object.insert(
                TRACE_ID_KEY.into(),
                Value::String(span_context.trace_id().to_string()),
            );
            object.insert(
                SPAN_ID_KEY.into(),
                Value::String(span_context.span_id().to_string()),
            );
        }
        let line = serde_json::to_string(&Value::Object(object)).map_err(|_| fmt::Error)?;
        writer.write_str(&line)?;
        writer.write_char('\n')
    }
}

/// Collects event fields as JSON values.
struct JsonFields(Map<String, Value>);

impl JsonFields {
    fn insert(&mut self, field: &Field, value: Value) {
        self.0.insert(field.name().to_string(), value);
    }
}

impl Visit for JsonFields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::Number(value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::Number(value.into()));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        // A JSON number when it fits in 64 bits, as the span attribute is.
        let value = match (u64::try_from(value), i64::try_from(value)) {
            (Ok(v), _) => Value::Number(v.into()),
            (_, Ok(v)) => Value::Number(v.into()),
            _ => Value::String(value.to_string()),
        };
        self.insert(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = match u64::try_from(value) {
            Ok(v) => Value::Number(v.into()),
            Err(_) => Value::String(value.to_string()),
        };
        self.insert(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // NaN and infinities have no JSON number: written as strings.
        let value = Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_string()));
        self.insert(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, Value::String(value.to_string()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(
            field,
            Value::String(super::fields::error_chain_message(value)),
        );
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn log_formats_parse_case_insensitively_and_round_trip() {
        assert_eq!("text".parse(), Ok(LogFormat::Text));
        assert_eq!(" JSON ".parse(), Ok(LogFormat::Json));
        assert_eq!("Off".parse(), Ok(LogFormat::Off));
        assert!("yaml".parse::<LogFormat>().is_err());
        assert!("".parse::<LogFormat>().is_err());
        for format in [LogFormat::Text, LogFormat::Json, LogFormat::Off] {
            assert_eq!(format.to_string().parse(), Ok(format));
        }
    }

    #[test]
    fn the_final_newline_is_held_back() {
        let mut out = String::new();
        let mut writer = Writer::new(&mut out);
        let mut hold = HoldFinalNewline {
            out: &mut writer,
            held: false,
        };
        hold.write_str("a\n").unwrap();
        hold.write_str("b").unwrap();
        hold.write_str("c\n").unwrap();
        assert!(hold.held);
        assert_eq!(out, "a\nbc");
    }
}
