//! Field conversion: `tracing` field values to OpenTelemetry attributes with
//! their native types, and the special `otel.*` and `error` fields.

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Key, KeyValue, StringValue, Value};
use opentelemetry_semantic_conventions::attribute::{EXCEPTION_MESSAGE, EXCEPTION_TYPE};
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use tracing::field::{Field, Visit};

/// Field overriding the span name.
pub(crate) const OTEL_NAME: &str = "otel.name";
/// Field setting the span kind (`server`, `client`, `producer`, `consumer`,
/// `internal`).
pub(crate) const OTEL_KIND: &str = "otel.kind";
/// Field setting the status code (`ok`, `error`, `unset`).
pub(crate) const OTEL_STATUS_CODE: &str = "otel.status_code";
/// Field setting the status description (used with an Error status).
pub(crate) const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";
/// A field of this name marks the span as failed.
pub(crate) const ERROR_FIELD: &str = "error";
/// The field holding an event's message.
pub(crate) const MESSAGE_FIELD: &str = "message";

/// An exception to record as an `exception` event.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exception {
    pub(crate) exception_type: Option<String>,
    pub(crate) message: String,
}

impl Exception {
    /// From an error: the type from its `Debug` output, the message from its
    /// `Display` output followed by the chain of sources.
    pub(crate) fn from_error(err: &(dyn Error + 'static)) -> Self {
        Exception {
            exception_type: error_type_name(err),
            message: error_chain_message(err),
        }
    }

    /// The attributes of the exception event, per the semantic conventions.
    pub(crate) fn into_attributes(self) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(2);
        if let Some(ty) = self.exception_type {
            attributes.push(KeyValue::new(EXCEPTION_TYPE, ty));
        }
        attributes.push(KeyValue::new(EXCEPTION_MESSAGE, self.message));
        attributes
    }
}

pub(crate) use crate::trace::span::error_chain_message;

/// The type name an error's `Debug` output starts with (`ParseIntError {
/// kind: .. }` gives `ParseIntError`), when it starts with an identifier.
pub(crate) fn error_type_name(err: &(dyn Error + 'static)) -> Option<String> {
    let debug = format!("{err:?}");
    let end = debug
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(debug.len());
    let ident = &debug[..end];
    let starts_ok = ident
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    (starts_ok && ident.len() < 128).then(|| ident.to_string())
}

/// Parse an `otel.kind` value (case-insensitive).
pub(crate) fn parse_span_kind(value: &str) -> Option<SpanKind> {
    const KINDS: [(&str, SpanKind); 5] = [
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
    ];
    KINDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value.trim()))
        .map(|(_, kind)| kind.clone())
}

/// An `otel.status_code` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatusCode {
    Unset,
    Ok,
    Error,
}

/// Parse an `otel.status_code` value (case-insensitive).
pub(crate) fn parse_status_code(value: &str) -> Option<StatusCode> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("ok") {
        Some(StatusCode::Ok)
    } else if value.eq_ignore_ascii_case("error") {
        Some(StatusCode::Error)
    } else if value.eq_ignore_ascii_case("unset") {
        Some(StatusCode::Unset)
    } else {
        None
    }
}

/// The native OpenTelemetry value of an unsigned integer: `i64` when it
/// fits, its decimal string otherwise.
#[inline]
pub(crate) fn u64_value(value: u64) -> Value {
    match i64::try_from(value) {
        Ok(v) => Value::I64(v),
        Err(_) => Value::String(value.to_string().into()),
    }
}

/// The native value of a 128-bit signed integer: `i64` when it fits, its
/// decimal string otherwise.
fn i128_value(value: i128) -> Value {
    match i64::try_from(value) {
        Ok(v) => Value::I64(v),
        Err(_) => Value::String(value.to_string().into()),
    }
}

/// The native value of a 128-bit unsigned integer: `i64` when it fits, its
/// decimal string otherwise.
fn u128_value(value: u128) -> Value {
    match i64::try_from(value) {
        Ok(v) => Value::I64(v),
        Err(_) => Value::String(value.to_string().into()),
    }
}

/// The string form of a `Debug` value (a `Display` value recorded with `%`
/// arrives here too, and prints its `Display` output).
#[inline]
fn debug_value(value: &dyn fmt::Debug) -> Value {
    Value::String(StringValue::from(format!("{value:?}")))
}

/// Where span attributes go: a buffer before the span starts, or the span.
pub(crate) trait AttributeSink {
    /// Set (or overwrite) one attribute.
    fn set_attribute(&mut self, attribute: KeyValue);
}

impl AttributeSink for Vec<KeyValue> {
    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        // Duplicates are resolved at span start: the later value wins.
        self.push(attribute);
    }
}

impl AttributeSink for crate::Span {
    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        opentelemetry::trace::Span::set_attribute(self, attribute);
    }
}

/// A started span reached through its OpenTelemetry `Context`.
pub(crate) struct ContextSpanSink<'a>(pub(crate) opentelemetry::trace::SpanRef<'a>);

impl AttributeSink for ContextSpanSink<'_> {
    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        self.0.set_attribute(attribute);
    }
}

/// What the special fields of one `new_span` or `record` call asked for.
#[derive(Debug, Default)]
pub(crate) struct SpecialFields {
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<SpanKind>,
    pub(crate) status_code: Option<StatusCode>,
    pub(crate) status_description: Option<String>,
    /// The error field or a recorded error marked the span as failed.
    pub(crate) failed: bool,
    /// Description derived from an error field, used when no explicit
    /// `otel.status_description` was given.
    pub(crate) error_description: Option<String>,
    pub(crate) exceptions: Vec<Exception>,
}

impl SpecialFields {
    /// Whether no special field was seen.
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.kind.is_none()
            && self.status_code.is_none()
            && self.status_description.is_none()
            && !self.failed
            && self.error_description.is_none()
            && self.exceptions.is_empty()
    }

    /// The status these fields ask for, if any, given an earlier explicit
    /// description (`otel.status_description` recorded before).
    pub(crate) fn status(&self, earlier_description: Option<&str>) -> Option<Status> {
        let description = || -> Cow<'static, str> {
            match (
                &self.status_description,
                earlier_description,
                &self.error_description,
            ) {
                (Some(d), _, _) => d.clone().into(),
                (None, Some(d), _) => d.to_string().into(),
                (None, None, Some(d)) => d.clone().into(),
                (None, None, None) => Cow::Borrowed(""),
            }
        };
        match self.status_code {
            Some(StatusCode::Ok) => Some(Status::Ok),
            Some(StatusCode::Error) => Some(Status::error(description())),
            Some(StatusCode::Unset) | None if self.failed => Some(Status::error(description())),
            Some(StatusCode::Unset) | None => None,
        }
    }
}

/// Visits the fields of a span (at creation or on `record`), sending plain
/// fields to `sink` and collecting the special ones.
pub(crate) struct SpanFieldVisitor<'a, S: AttributeSink> {
    pub(crate) sink: &'a mut S,
    pub(crate) special: &'a mut SpecialFields,
}

impl<S: AttributeSink> SpanFieldVisitor<'_, S> {
    #[inline]
    fn plain(&mut self, field: &Field, value: Value) {
        self.sink
            .set_attribute(KeyValue::new(Key::from_static_str(field.name()), value));
    }

    /// A string-like value: special fields first, then a plain attribute.
    fn string(&mut self, field: &Field, value: Cow<'_, str>) {
        match field.name() {
            OTEL_NAME => self.special.name = Some(value.into_owned()),
            OTEL_KIND => {
                if let Some(kind) = parse_span_kind(&value) {
                    self.special.kind = Some(kind);
                }
            }
            OTEL_STATUS_CODE => {
                if let Some(code) = parse_status_code(&value) {
                    self.special.status_code = Some(code);
                }
            }
            OTEL_STATUS_DESCRIPTION => self.special.status_description = Some(value.into_owned()),
            ERROR_FIELD => {
                let message = value.into_owned();
                self.special.failed = true;
                self.special.error_description = Some(message.clone());
                self.special.exceptions.push(Exception {
                    exception_type: None,
                    message: message.clone(),
                });
                self.plain(field, Value::String(message.into()));
            }
            _ => self.plain(field, Value::String(value.into_owned().into())),
        }
    }
}

impl<S: AttributeSink> Visit for SpanFieldVisitor<'_, S> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.plain(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.plain(field, u64_value(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.plain(field, i128_value(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.plain(field, u128_value(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.plain(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == ERROR_FIELD && value {
            self.special.failed = true;
        }
        self.plain(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.string(field, Cow::Borrowed(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let exception = Exception::from_error(value);
        self.special.failed = true;
        self.special.error_description = Some(exception.message.clone());
        self.plain(field, Value::String(exception.message.clone().into()));
        self.special.exceptions.push(exception);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            OTEL_NAME | OTEL_KIND | OTEL_STATUS_CODE | OTEL_STATUS_DESCRIPTION | ERROR_FIELD => {
                self.string(field, Cow::Owned(format!("{value:?}")))
            }
            _ => self.plain(field, debug_value(value)),
        }
    }
}

/// Visits the fields of a `tracing` event that becomes a span event.
#[derive(Default)]
pub(crate) struct EventFieldVisitor {
    pub(crate) message: Option<String>,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) exception: Option<Exception>,
}

impl EventFieldVisitor {
    #[inline]
    fn plain(&mut self, field: &Field, value: Value) {
        self.attributes
            .push(KeyValue::new(Key::from_static_str(field.name()), value));
    }
}

impl Visit for EventFieldVisitor {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.plain(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.plain(field, u64_value(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.plain(field, i128_value(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.plain(field, u128_value(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.plain(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.plain(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == MESSAGE_FIELD {
            self.message = Some(value.to_string());
        } else {
            self.plain(field, Value::String(value.to_string().into()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let exception = Exception::from_error(value);
        self.plain(field, Value::String(exception.message.clone().into()));
        self.exception = Some(exception);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == MESSAGE_FIELD {
            self.message = Some(format!("{value:?}"));
        } else {
            self.plain(field, debug_value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_fields_are_empty_until_one_is_set() {
        assert!(SpecialFields::default().is_empty());
        let kind = SpecialFields {
            kind: Some(SpanKind::Client),
            ..SpecialFields::default()
        };
        assert!(!kind.is_empty());
        let failed = SpecialFields {
            failed: true,
            ..SpecialFields::default()
        };
        assert!(!failed.is_empty());
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("request failed")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn unsigned_values_stay_integers_when_they_fit() {
        assert_eq!(u64_value(7), Value::I64(7));
        assert_eq!(u64_value(i64::MAX as u64), Value::I64(i64::MAX));
        assert_eq!(
            u64_value(u64::MAX),
            Value::String("18446744073709551615".into())
        );
    }

    #[test]
    fn kinds_and_status_codes_parse_case_insensitively() {
        assert_eq!(parse_span_kind("SERVER"), Some(SpanKind::Server));
        assert_eq!(parse_span_kind(" client "), Some(SpanKind::Client));
        assert_eq!(parse_span_kind("Consumer"), Some(SpanKind::Consumer));
        assert_eq!(parse_span_kind("bogus"), None);
        assert_eq!(parse_status_code("Error"), Some(StatusCode::Error));
        assert_eq!(parse_status_code("OK"), Some(StatusCode::Ok));
        assert_eq!(parse_status_code("unset"), Some(StatusCode::Unset));
        assert_eq!(parse_status_code("fine"), None);
    }

    #[test]
    fn exceptions_carry_type_and_the_source_chain() {
        let err = Outer(std::io::Error::other("connection reset"));
        let exception = Exception::from_error(&err);
        assert_eq!(exception.exception_type.as_deref(), Some("Outer"));
        assert_eq!(exception.message, "request failed: connection reset");
        let attrs = exception.into_attributes();
        assert_eq!(attrs[0], KeyValue::new(EXCEPTION_TYPE, "Outer"));
        assert_eq!(
            attrs[1],
            KeyValue::new(EXCEPTION_MESSAGE, "request failed: connection reset")
        );
    }

    #[test]
    fn explicit_status_description_wins_over_the_error_message() {
        let special = SpecialFields {
            failed: true,
            error_description: Some("boom".into()),
            status_description: Some("upstream down".into()),
            ..SpecialFields::default()
        };
        assert_eq!(special.status(None), Some(Status::error("upstream down")));
        let special = SpecialFields {
            failed: true,
            error_description: Some("boom".into()),
            ..SpecialFields::default()
        };
        assert_eq!(special.status(None), Some(Status::error("boom")));
        assert_eq!(
            special.status(Some("earlier")),
            Some(Status::error("earlier"))
        );
        let ok = SpecialFields {
            status_code: Some(StatusCode::Ok),
            ..SpecialFields::default()
        };
        assert_eq!(ok.status(None), Some(Status::Ok));
        assert_eq!(SpecialFields::default().status(None), None);
    }
}
