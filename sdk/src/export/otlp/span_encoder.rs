//! [`SpanBatchEncoder`]: finished spans written straight into the bytes of
//! an OTLP `ExportTraceServiceRequest`.
//!
//! The usual road (`SpanData`, then opentelemetry-proto's message structs
//! with a `String` per key and value, then prost's encoder) allocates a
//! dozen times per span and copies every text twice. Here each field is
//! written once, from the span record where it already is, into one buffer
//! kept from batch to batch. Message and field numbers are those of
//! opentelemetry-proto (`opentelemetry/proto/trace/v1/trace.proto`,
//! `common/v1/common.proto`, `resource/v1/resource.proto`); keys, varints
//! and fixed-width values are written with prost's encoding functions.
//!
//! A nested message's length comes before its contents. The encoder leaves
//! room for the length it expects (one byte for an attribute, two for a
//! span), writes the contents, then writes the length, moving the contents
//! by a byte or two in the rare case the guess was wrong.
//!
//! The request carries one `ResourceSpans` (a batch processor serves one
//! provider, so one resource) with a `ScopeSpans` per distinct
//! instrumentation scope, in order of first appearance. Fields at their
//! default (zero counts, empty texts) are left out, as proto3 encoders do,
//! except the span's status, which the official conversion always sets.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use prost::encoding::{self, encode_key, encode_varint, encoded_len_varint, WireType};

use crate::trace::FinishedSpan;

/// `SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: the flags say whether
/// the parent was remote.
const HAS_IS_REMOTE: u32 = 0x100;
/// `SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: the parent was remote.
const IS_REMOTE: u32 = 0x200;

/// Field numbers, by message.
mod field {
    /// `ExportTraceServiceRequest`.
    pub const REQUEST_RESOURCE_SPANS: u32 = 1;
    /// `ResourceSpans`.
    pub const RESOURCE: u32 = 1;
    pub const SCOPE_SPANS: u32 = 2;
    pub const RESOURCE_SCHEMA_URL: u32 = 3;
    /// `Resource`.
    pub const RESOURCE_ATTRIBUTES: u32 = 1;
    /// `ScopeSpans`.
    pub const SCOPE: u32 = 1;
    pub const SPANS: u32 = 2;
    pub const SCOPE_SCHEMA_URL: u32 = 3;
    /// `InstrumentationScope`.
    pub const SCOPE_NAME: u32 = 1;
    pub const SCOPE_VERSION: u32 = 2;
    pub const SCOPE_ATTRIBUTES: u32 = 3;
    /// `Span`.
    pub const TRACE_ID: u32 = 1;
    pub const SPAN_ID: u32 = 2;
    pub const TRACE_STATE: u32 = 3;
    pub const PARENT_SPAN_ID: u32 = 4;
    pub const NAME: u32 = 5;
    pub const KIND: u32 = 6;
    pub const START_TIME: u32 = 7;
    pub const END_TIME: u32 = 8;
    pub const ATTRIBUTES: u32 = 9;
    pub const DROPPED_ATTRIBUTES: u32 = 10;
    pub const EVENTS: u32 = 11;
    pub const DROPPED_EVENTS: u32 = 12;
    pub const LINKS: u32 = 13;
    pub const DROPPED_LINKS: u32 = 14;
    pub const STATUS: u32 = 15;
    pub const FLAGS: u32 = 16;
    /// `Span.Event`.
    pub const EVENT_TIME: u32 = 1;
    pub const EVENT_NAME: u32 = 2;
    pub const EVENT_ATTRIBUTES: u32 = 3;
    pub const EVENT_DROPPED_ATTRIBUTES: u32 = 4;
    /// `Span.Link`.
    pub const LINK_TRACE_ID: u32 = 1;
    pub const LINK_SPAN_ID: u32 = 2;
    pub const LINK_TRACE_STATE: u32 = 3;
    pub const LINK_ATTRIBUTES: u32 = 4;
    pub const LINK_DROPPED_ATTRIBUTES: u32 = 5;
    pub const LINK_FLAGS: u32 = 6;
    /// `Status`.
    pub const STATUS_MESSAGE: u32 = 2;
    pub const STATUS_CODE: u32 = 3;
    /// `KeyValue`.
    pub const KEY: u32 = 1;
    pub const VALUE: u32 = 2;
    /// `AnyValue`.
    pub const STRING_VALUE: u32 = 1;
    pub const BOOL_VALUE: u32 = 2;
    pub const INT_VALUE: u32 = 3;
    pub const DOUBLE_VALUE: u32 = 4;
    pub const ARRAY_VALUE: u32 = 5;
    /// `ArrayValue`.
    pub const ARRAY_VALUES: u32 = 1;
}

/// Writes batches of finished spans as OTLP request bodies, reusing its
/// buffer.
#[derive(Debug, Default)]
pub(crate) struct SpanBatchEncoder {
    /// The `resource` and `schema_url` fields of the `ResourceSpans`,
    /// encoded once per resource.
    resource_fields: Vec<u8>,
    /// The request being written.
    buf: Vec<u8>,
    /// Each span's scope group (index into the batch's distinct scopes).
    group_of: Vec<u32>,
}

impl SpanBatchEncoder {
    /// Use `resource` for the batches to come.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let buf = &mut self.resource_fields;
        buf.clear();
        put_message(buf, field::RESOURCE, 2, |buf| {
            for (key, value) in resource.iter() {
                put_message(buf, field::RESOURCE_ATTRIBUTES, 1, |buf| {
                    put_str(buf, field::KEY, key.as_str());
                    put_any_value(buf, field::VALUE, value);
                });
            }
        });
        if let Some(url) = resource.schema_url() {
            put_str(buf, field::RESOURCE_SCHEMA_URL, url);
        }
    }

    /// The request body for `spans` (already prepared for export: redacted
    /// and truncated), valid until the next call.
    pub(crate) fn encode(&mut self, spans: &[FinishedSpan]) -> &[u8] {
        let mut scopes: Vec<&InstrumentationScope> = Vec::new();
        self.group_of.clear();
        for span in spans {
            let scope = span.instrumentation_scope();
            let group = scopes
                .iter()
                .position(|known| std::ptr::eq(*known, scope))
                .or_else(|| scopes.iter().position(|known| *known == scope))
                .unwrap_or_else(|| {
                    scopes.push(scope);
                    scopes.len() - 1
                });
            self.group_of.push(group as u32);
        }
        let SpanBatchEncoder {
            resource_fields,
            buf,
            group_of,
        } = self;
        buf.clear();
        if spans.is_empty() {
            return buf;
        }
        put_message(buf, field::REQUEST_RESOURCE_SPANS, 3, |buf| {
            buf.extend_from_slice(resource_fields);
            for (group, scope) in scopes.iter().enumerate() {
                put_message(buf, field::SCOPE_SPANS, 3, |buf| {
                    put_scope(buf, scope);
                    for (span, _) in spans
                        .iter()
                        .zip(group_of.iter())
                        .filter(|(_, of)| **of as usize == group)
                    {
                        put_span(buf, span);
                    }
                    if let Some(url) = scope.schema_url() {
                        put_str(buf, field::SCOPE_SCHEMA_URL, url);
                    }
                });
            }
        });
        buf
    }
}

/// A length-delimited field whose contents `body` writes. `reserve` is the
/// number of bytes expected for the length.
#[inline]
fn put_message(buf: &mut Vec<u8>, tag: u32, reserve: usize, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.resize(at + reserve, 0);
    body(buf);
    let len = buf.len() - at - reserve;
    let needed = encoded_len_varint(len as u64);
    if needed != reserve {
        let contents = at + reserve..at + reserve + len;
        if needed > reserve {
            buf.resize(buf.len() + needed - reserve, 0);
            buf.copy_within(contents, at + needed);
        } else {
            buf.copy_within(contents, at + needed);
            buf.truncate(at + needed + len);
        }
    }
    let mut slot = &mut buf[at..at + needed];
    encode_varint(len as u64, &mut slot);
}

#[inline]
fn put_bytes(buf: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

#[inline]
fn put_str(buf: &mut Vec<u8>, tag: u32, text: &str) {
    put_bytes(buf, tag, text.as_bytes());
}

/// A text field, left out when empty (its default).
#[inline]
fn put_nonempty_str(buf: &mut Vec<u8>, tag: u32, text: &str) {
    if !text.is_empty() {
        put_str(buf, tag, text);
    }
}

/// A count, left out when zero (its default).
#[inline]
fn put_count(buf: &mut Vec<u8>, tag: u32, count: u32) {
    if count != 0 {
        encoding::uint32::encode(tag, &count, buf);
    }
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn put_scope(buf: &mut Vec<u8>, scope: &InstrumentationScope) {
    put_message(buf, field::SCOPE, 1, |buf| {
        put_nonempty_str(buf, field::SCOPE_NAME, scope.name());
        put_nonempty_str(
            buf,
            field::SCOPE_VERSION,
            scope.version().unwrap_or_default(),
        );
        for kv in scope.attributes() {
            put_key_value(buf, field::SCOPE_ATTRIBUTES, kv);
        }
    });
}

fn put_span(buf: &mut Vec<u8>, span: &FinishedSpan) {
    let context = &span.span_context;
    let record = &*span.record;
    put_message(buf, field::SPANS, 2, |buf| {
        put_bytes(buf, field::TRACE_ID, &context.trace_id().to_bytes());
        put_bytes(buf, field::SPAN_ID, &context.span_id().to_bytes());
        put_trace_state(buf, field::TRACE_STATE, context);
        if record.parent_span_id != opentelemetry::trace::SpanId::INVALID {
            put_bytes(
                buf,
                field::PARENT_SPAN_ID,
                &record.parent_span_id.to_bytes(),
            );
        }
        put_nonempty_str(buf, field::NAME, &record.name);
        encoding::int32::encode(field::KIND, &kind_number(&record.kind), buf);
        encoding::fixed64::encode(field::START_TIME, &nanos(record.start_time), buf);
        encoding::fixed64::encode(field::END_TIME, &nanos(record.end_time), buf);
        put_attributes(buf, field::ATTRIBUTES, &record.attributes);
        put_count(buf, field::DROPPED_ATTRIBUTES, record.dropped_attributes);
        for event in &record.events {
            put_event(buf, event);
        }
        put_count(buf, field::DROPPED_EVENTS, record.dropped_events);
        for link in &record.links {
            put_link(buf, link);
        }
        put_count(buf, field::DROPPED_LINKS, record.dropped_links);
        put_status(buf, &record.status);
        let flags = flags(context, record.parent_is_remote);
        encoding::fixed32::encode(field::FLAGS, &flags, buf);
    });
}

/// The span's trace flags with the "is remote" bits of its parent.
fn flags(context: &SpanContext, remote: bool) -> u32 {
    let mut flags = u32::from(context.trace_flags().to_u8()) | HAS_IS_REMOTE;
    if remote {
        flags |= IS_REMOTE;
    }
    flags
}

fn put_trace_state(buf: &mut Vec<u8>, tag: u32, context: &SpanContext) {
    let state = context.trace_state();
    if *state != opentelemetry::trace::TraceState::NONE {
        put_nonempty_str(buf, tag, &state.header());
    }
}

/// `Span.SpanKind`'s numbers.
fn kind_number(kind: &SpanKind) -> i32 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn put_event(buf: &mut Vec<u8>, event: &Event) {
    put_message(buf, field::EVENTS, 1, |buf| {
        encoding::fixed64::encode(field::EVENT_TIME, &nanos(event.timestamp), buf);
        put_nonempty_str(buf, field::EVENT_NAME, &event.name);
        put_attributes(buf, field::EVENT_ATTRIBUTES, &event.attributes);
        let dropped = event.dropped_attributes_count;
        put_count(buf, field::EVENT_DROPPED_ATTRIBUTES, dropped);
    });
}

fn put_link(buf: &mut Vec<u8>, link: &Link) {
    let context = &link.span_context;
    put_message(buf, field::LINKS, 1, |buf| {
        put_bytes(buf, field::LINK_TRACE_ID, &context.trace_id().to_bytes());
        put_bytes(buf, field::LINK_SPAN_ID, &context.span_id().to_bytes());
        put_trace_state(buf, field::LINK_TRACE_STATE, context);
        put_attributes(buf, field::LINK_ATTRIBUTES, &link.attributes);
        let dropped = link.dropped_attributes_count;
        put_count(buf, field::LINK_DROPPED_ATTRIBUTES, dropped);
        let flags = flags(context, context.is_remote());
        encoding::fixed32::encode(field::LINK_FLAGS, &flags, buf);
    });
}

/// Always written, even unset (as the official conversion does).
fn put_status(buf: &mut Vec<u8>, status: &Status) {
    put_message(buf, field::STATUS, 1, |buf| {
        let code = match status {
            Status::Unset => 0,
            Status::Ok => 1,
            Status::Error { description } => {
                put_nonempty_str(buf, field::STATUS_MESSAGE, description);
                2
            }
        };
        if code != 0 {
            encoding::int32::encode(field::STATUS_CODE, &code, buf);
        }
    });
}

/// Each of `attributes` as a repeated `KeyValue` field.
fn put_attributes(buf: &mut Vec<u8>, tag: u32, attributes: &[KeyValue]) {
    for kv in attributes {
        put_key_value(buf, tag, kv);
    }
}

fn put_key_value(buf: &mut Vec<u8>, tag: u32, kv: &KeyValue) {
    put_message(buf, tag, 1, |buf| {
        put_nonempty_str(buf, field::KEY, kv.key.as_str());
        put_any_value(buf, field::VALUE, &kv.value);
    });
}

/// An `AnyValue`. A value kind this encoder does not know (the API's enum
/// may grow) is sent as an empty value rather than failing the batch.
fn put_any_value(buf: &mut Vec<u8>, tag: u32, value: &Value) {
    put_message(buf, tag, 1, |buf| match value {
        Value::Bool(v) => encoding::bool::encode(field::BOOL_VALUE, v, buf),
        Value::I64(v) => encoding::int64::encode(field::INT_VALUE, v, buf),
        Value::F64(v) => encoding::double::encode(field::DOUBLE_VALUE, v, buf),
        Value::String(v) => put_str(buf, field::STRING_VALUE, v.as_str()),
        Value::Array(array) => put_message(buf, field::ARRAY_VALUE, 1, |buf| {
            put_array(buf, array);
        }),
        _ => {}
    });
}

fn put_array(buf: &mut Vec<u8>, array: &Array) {
    let element = |buf: &mut Vec<u8>, write: &dyn Fn(&mut Vec<u8>)| {
        put_message(buf, field::ARRAY_VALUES, 1, |buf| write(buf));
    };
    match array {
        Array::Bool(values) => values.iter().for_each(|v| {
            element(buf, &|buf| {
                encoding::bool::encode(field::BOOL_VALUE, v, buf)
            })
        }),
        Array::I64(values) => values.iter().for_each(|v| {
            element(buf, &|buf| {
                encoding::int64::encode(field::INT_VALUE, v, buf)
            })
        }),
        Array::F64(values) => values.iter().for_each(|v| {
            element(buf, &|buf| {
                encoding::double::encode(field::DOUBLE_VALUE, v, buf)
            })
        }),
        Array::String(values) => values
            .iter()
            .for_each(|v| element(buf, &|buf| put_str(buf, field::STRING_VALUE, v.as_str()))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::export_prep::ExportPrep;
    use crate::trace::origin::SpanOrigin;
    use crate::trace::span_record::SpanRecord;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
    use opentelemetry::StringValue;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
    use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use prost::Message;
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::time::Duration;

    /// Texts with the awkward cases: empty, non-ASCII, long.
    fn text(rng: &mut fastrand::Rng) -> String {
        match rng.u8(0..6) {
            0 => String::new(),
            1 => "grüße, 世界 🚀".to_string(),
            2 => "x".repeat(rng.usize(100..400)),
            _ => (0..rng.usize(1..20)).map(|_| rng.alphanumeric()).collect(),
        }
    }

    fn value(rng: &mut fastrand::Rng) -> Value {
        match rng.u8(0..9) {
            0 => Value::Bool(rng.bool()),
            1 => Value::I64(rng.i64(..)),
            2 => Value::F64(rng.f64() * 1e6 - 5e5),
            3 => Value::Array(Array::Bool(
                (0..rng.usize(0..4)).map(|_| rng.bool()).collect(),
            )),
            4 => Value::Array(Array::I64(
                (0..rng.usize(0..4)).map(|_| rng.i64(..)).collect(),
            )),
            5 => Value::Array(Array::F64(
                (0..rng.usize(0..4)).map(|_| rng.f64()).collect(),
            )),
            6 => Value::Array(Array::String(
                (0..rng.usize(0..4))
                    .map(|_| StringValue::from(text(rng)))
                    .collect(),
            )),
            _ => Value::String(text(rng).into()),
        }
    }

    fn attributes(rng: &mut fastrand::Rng, max: usize) -> Vec<KeyValue> {
        (0..rng.usize(0..=max))
            .map(|_| KeyValue::new(text(rng), value(rng)))
            .collect()
    }

    fn context(rng: &mut fastrand::Rng) -> SpanContext {
        let state = match rng.u8(0..3) {
            0 => TraceState::NONE,
            _ => TraceState::from_key_value([("vendor", "a1"), ("other@sys", "b-2")]).unwrap(),
        };
        SpanContext::new(
            TraceId::from(rng.u128(1..)),
            SpanId::from(rng.u64(1..)),
            TraceFlags::new(rng.u8(..)),
            rng.bool(),
            state,
        )
    }

    fn origin(name: &str, version: Option<&str>, schema: Option<&str>) -> Arc<SpanOrigin> {
        let mut scope = InstrumentationScope::builder(name.to_string());
        if let Some(version) = version {
            scope = scope.with_version(version.to_string());
        }
        if let Some(schema) = schema {
            scope = scope.with_schema_url(schema.to_string());
        }
        Arc::new(SpanOrigin {
            scope: scope
                .with_attributes([KeyValue::new("scope.attr", 7)])
                .build(),
            prep: ExportPrep::for_provider(Vec::new(), None),
        })
    }

    fn span(rng: &mut fastrand::Rng, origins: &[Arc<SpanOrigin>]) -> FinishedSpan {
        let start = UNIX_EPOCH + Duration::from_nanos(rng.u64(1..u64::MAX / 4));
        let kind = [
            SpanKind::Internal,
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
        ][rng.usize(0..5)]
        .clone();
        let status = match rng.u8(0..4) {
            0 => Status::Unset,
            1 => Status::Ok,
            2 => Status::error(""),
            _ => Status::error(text(rng)),
        };
        let events = (0..rng.usize(0..5))
            .map(|_| {
                let mut event = Event::new(
                    text(rng),
                    start + Duration::from_nanos(rng.u64(0..1_000_000)),
                    attributes(rng, 3),
                    0,
                );
                event.dropped_attributes_count = rng.u32(0..3);
                event
            })
            .collect();
        let links = (0..rng.usize(0..4))
            .map(|_| {
                let mut link = Link::with_context(context(rng));
                link.attributes = attributes(rng, 3);
                link.dropped_attributes_count = rng.u32(0..3);
                link
            })
            .collect();
        let name: Cow<'static, str> = match rng.bool() {
            true => Cow::Borrowed("GET /static"),
            false => Cow::Owned(text(rng)),
        };
        FinishedSpan {
            span_context: context(rng),
            record: Box::new(SpanRecord {
                origin: Some(origins[rng.usize(0..origins.len())].clone()),
                parent_span_id: match rng.bool() {
                    true => SpanId::INVALID,
                    false => SpanId::from(rng.u64(1..)),
                },
                parent_is_remote: rng.bool(),
                name,
                kind,
                start_time: start,
                start_raw: None,
                end_time: start + Duration::from_nanos(rng.u64(0..10_000_000_000)),
                attributes: attributes(rng, 8),
                dropped_attributes: rng.u32(0..3),
                events,
                dropped_events: rng.u32(0..3),
                links,
                dropped_links: rng.u32(0..3),
                status,
            }),
        }
    }

    fn resource(rng: &mut fastrand::Rng) -> Resource {
        let builder = Resource::builder_empty()
            .with_service_name(text(rng))
            .with_attributes(attributes(rng, 4));
        match rng.bool() {
            true => builder.with_schema_url([], "https://opentelemetry.io/schemas/1.30.0"),
            false => builder,
        }
        .build()
    }

    /// What the official conversion (SpanData, then opentelemetry-proto's
    /// messages) makes of the same spans.
    fn official(spans: Vec<FinishedSpan>, resource: &Resource) -> Vec<ResourceSpans> {
        let data = spans
            .into_iter()
            .map(FinishedSpan::into_span_data)
            .collect();
        group_spans_by_resource_and_scope(data, &ResourceAttributesWithSchema::from(resource))
    }

    fn decoded(bytes: &[u8]) -> Vec<ResourceSpans> {
        ExportTraceServiceRequest::decode(bytes)
            .expect("the encoder writes a valid request")
            .resource_spans
    }

    #[test]
    fn random_batches_decode_to_what_the_official_conversion_makes() {
        let origins = [
            origin(
                "checkout",
                Some("1.2.3"),
                Some("https://opentelemetry.io/schemas/1.30.0"),
            ),
            origin("", None, None),
            origin("db 世界", Some(""), None),
            // Equal to the first, from another tracer: one scope group.
            origin(
                "checkout",
                Some("1.2.3"),
                Some("https://opentelemetry.io/schemas/1.30.0"),
            ),
        ];
        let mut encoder = SpanBatchEncoder::default();
        for seed in 0..300 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let resource = resource(&mut rng);
            encoder.set_resource(&resource);
            let spans: Vec<FinishedSpan> = (0..rng.usize(1..40))
                .map(|_| span(&mut rng, &origins))
                .collect();
            let ours = decoded(encoder.encode(&spans));
            assert_eq!(ours, official(spans, &resource), "seed {seed}");
        }
    }

    #[test]
    fn a_batch_split_anywhere_decodes_to_the_same_spans() {
        let origins = [origin("a", None, None), origin("b", Some("2"), None)];
        let mut rng = fastrand::Rng::with_seed(7);
        let resource = resource(&mut rng);
        let spans: Vec<FinishedSpan> = (0..50).map(|_| span(&mut rng, &origins)).collect();
        let flat = |requests: Vec<ResourceSpans>| {
            let mut spans = Vec::new();
            for rs in requests {
                for ss in rs.scope_spans {
                    let scope = ss.scope.clone().unwrap().name;
                    spans.extend(ss.spans.into_iter().map(|s| (scope.clone(), s)));
                }
            }
            spans.sort_by(|a, b| a.1.span_id.cmp(&b.1.span_id));
            spans
        };
        let mut encoder = SpanBatchEncoder::default();
        encoder.set_resource(&resource);
        let whole = flat(decoded(encoder.encode(&spans)));
        assert_eq!(whole.len(), 50);
        for size in [1, 2, 3, 7, 16, 49, 50] {
            let mut parts = Vec::new();
            for chunk in spans.chunks(size) {
                parts.extend(decoded(encoder.encode(chunk)));
            }
            assert_eq!(flat(parts), whole, "chunks of {size}");
        }
        assert!(encoder.encode(&[]).is_empty(), "no spans, no request");
    }

    #[test]
    fn a_length_guessed_wrong_either_way_is_fixed() {
        for (reserve, len) in [(1, 0), (1, 127), (1, 128), (1, 20_000), (2, 5), (3, 300)] {
            let mut buf = vec![0xAA];
            put_message(&mut buf, 7, reserve, |buf| buf.extend(vec![0x55; len]));
            let mut expected = vec![0xAA];
            encode_key(7, WireType::LengthDelimited, &mut expected);
            encode_varint(len as u64, &mut expected);
            expected.extend(vec![0x55; len]);
            assert_eq!(buf, expected, "reserve {reserve}, len {len}");
        }
    }
}
