//! Decoded OTLP spans turned into the waterfall's format-neutral spans.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue as ProtoKeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, status, Span};
use opentelemetry_semantic_conventions::attribute::SERVICE_NAME;

use crate::export::waterfall::{WaterfallEvent, WaterfallSpan};

/// `service.name` of a resource, or `unknown_service` when it has none.
pub(crate) fn service_name(resource: Option<&Resource>) -> String {
    resource
        .and_then(|r| r.attributes.iter().find(|kv| kv.key == SERVICE_NAME))
        .and_then(|kv| kv.value.as_ref())
        .map(any_value_text)
        .unwrap_or_else(|| "unknown_service".to_string())
}

/// One decoded span as a waterfall span. Malformed ids become invalid ids
/// rather than errors.
pub(crate) fn waterfall_span(span: &Span, service_name: &str) -> WaterfallSpan {
    WaterfallSpan {
        trace_id: trace_id(&span.trace_id),
        span_id: span_id(&span.span_id),
        parent_span_id: span_id(&span.parent_span_id),
        service_name: service_name.to_string(),
        name: span.name.clone(),
        kind: kind(span.kind),
        start: time(span.start_time_unix_nano),
        end: time(span.end_time_unix_nano),
        status: match &span.status {
            Some(s) if s.code == status::StatusCode::Error as i32 => Status::Error {
                description: s.message.clone().into(),
            },
            Some(s) if s.code == status::StatusCode::Ok as i32 => Status::Ok,
            _ => Status::Unset,
        },
        attributes: attributes(&span.attributes),
        events: span.events.iter().map(event).collect(),
    }
}

fn event(event: &span::Event) -> WaterfallEvent {
    WaterfallEvent {
        name: event.name.clone(),
        time: time(event.time_unix_nano),
        attributes: attributes(&event.attributes),
    }
}

/// Convert an OTLP trace id (16 bytes).
pub(crate) fn trace_id(bytes: &[u8]) -> TraceId {
    <[u8; 16]>::try_from(bytes)
        .map(TraceId::from_bytes)
        .unwrap_or(TraceId::INVALID)
}

/// Convert an OTLP span id (8 bytes; empty for no parent).
pub(crate) fn span_id(bytes: &[u8]) -> SpanId {
    <[u8; 8]>::try_from(bytes)
        .map(SpanId::from_bytes)
        .unwrap_or(SpanId::INVALID)
}

fn kind(kind: i32) -> SpanKind {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn time(unix_nanos: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(unix_nanos)
}

fn attributes(kvs: &[ProtoKeyValue]) -> Vec<KeyValue> {
    kvs.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => Value::from(s.clone()),
                Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
                Some(any_value::Value::IntValue(i)) => Value::I64(*i),
                Some(any_value::Value::DoubleValue(d)) => Value::F64(*d),
                _ => Value::from(kv.value.as_ref().map(any_value_text).unwrap_or_default()),
            };
            KeyValue::new(kv.key.clone(), value)
        })
        .collect()
}

/// Any OTLP value as display text.
pub(crate) fn any_value_text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::ArrayValue(array)) => format!(
            "[{}]",
            array
                .values
                .iter()
                .map(any_value_text)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(any_value::Value::KvlistValue(list)) => format!(
            "{{{}}}",
            list.values
                .iter()
                .map(|kv| format!(
                    "{}: {}",
                    kv.key,
                    kv.value.as_ref().map(any_value_text).unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(any_value::Value::BytesValue(bytes)) => hex(bytes),
        _ => String::new(),
    }
}

/// Bytes as lowercase hex, two digits each.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string_kv(key: &str, value: &str) -> ProtoKeyValue {
        ProtoKeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn converts_ids_kind_status_and_times() {
        let span = Span {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            parent_span_id: vec![],
            name: "op".into(),
            kind: span::SpanKind::Server as i32,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 3_000,
            status: Some(opentelemetry_proto::tonic::trace::v1::Status {
                message: "bad".into(),
                code: status::StatusCode::Error as i32,
            }),
            attributes: vec![string_kv("k", "v")],
            ..Default::default()
        };
        let w = waterfall_span(&span, "svc");
        assert_eq!(w.trace_id, TraceId::from_bytes([1; 16]));
        assert_eq!(w.parent_span_id, SpanId::INVALID);
        assert_eq!(w.kind, SpanKind::Server);
        assert_eq!(w.duration(), Duration::from_nanos(2_000));
        assert_eq!(w.status, Status::error("bad"));
        assert_eq!(w.attributes, vec![KeyValue::new("k", "v")]);
        // Malformed ids do not panic.
        assert_eq!(trace_id(&[1, 2, 3]), TraceId::INVALID);
    }

    #[test]
    fn service_name_comes_from_the_resource() {
        let resource = Resource {
            attributes: vec![string_kv(SERVICE_NAME, "payments")],
            ..Default::default()
        };
        assert_eq!(service_name(Some(&resource)), "payments");
        assert_eq!(service_name(None), "unknown_service");
    }
}
