//! [`JaegerPropagator`]: Jaeger's `uber-trace-id` header and `uberctx-`
//! baggage headers.

use crate::baggage::is_token;
use crate::hex::{parse_lower_hex_u128, parse_lower_hex_u64, parse_lower_hex_u8, write_lower_hex};
use crate::percent;
use crate::text::{split_byte, trim_ows};
use crate::traceparent::ascii_to_string;
use opentelemetry::baggage::{Baggage, BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use std::sync::OnceLock;

/// Name of the Jaeger trace context header.
pub const JAEGER_HEADER: &str = "uber-trace-id";
/// Prefix of the Jaeger baggage headers (`uberctx-{key}: {value}`).
pub const JAEGER_BAGGAGE_PREFIX: &str = "uberctx-";

const JAEGER_FLAG_SAMPLED: u8 = 0x01;
const JAEGER_FLAG_DEBUG: u8 = 0x02;

fn jaeger_fields() -> &'static [String; 1] {
    static FIELDS: OnceLock<[String; 1]> = OnceLock::new();
    FIELDS.get_or_init(|| [JAEGER_HEADER.to_owned()])
}

/// Parses `{trace-id}:{span-id}:{parent-span-id}:{flags}`; ids are 1 to 32
/// (trace) or 1 to 16 (span, parent) lowercase hex digits with leading zeros
/// optional, flags 1 or 2 hex digits. `%3A` is accepted for `:`.
fn parse_uber_trace_id(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let decoded = percent::decode(trim_ows(value));
    let mut parts = split_byte(&decoded, b':');
    let trace_id = parse_lower_hex_u128(parts.next()?.as_bytes()).filter(|&v| v != 0)?;
    let span_id = parse_lower_hex_u64(parts.next()?.as_bytes()).filter(|&v| v != 0)?;
    parse_lower_hex_u64(parts.next()?.as_bytes())?;
    let flags = parts.next()?.as_bytes();
    let flags = match flags.len() {
        1 => parse_lower_hex_u8(&[b'0', flags[0]])?,
        2 => parse_lower_hex_u8(flags)?,
        _ => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    let sampled = flags & (JAEGER_FLAG_SAMPLED | JAEGER_FLAG_DEBUG) != 0;
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::NOT_SAMPLED
    };
    Some((TraceId::from(trace_id), SpanId::from(span_id), flags))
}

/// Propagates the span context in Jaeger's `uber-trace-id` header and
/// baggage in `uberctx-{key}` headers.
///
/// Extraction accepts the plain and the URL-encoded (`%3A`) form, 64- or
/// 128-bit trace ids with or without leading zeros; flag `0x01` (sampled) or
/// `0x02` (debug) makes the span sampled; a repeated or invalid header yields
/// no span context. Every `uberctx-` header becomes a baggage entry
/// (percent-decoded value) merged into the context's baggage.
///
/// Injection writes `{trace-id:032x}:{span-id:016x}:0:{1|0}` and one
/// `uberctx-{key}` header per baggage entry whose key is a token
/// (percent-encoded value).
///
/// ```
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
/// use tracekit_propagators::JaegerPropagator;
///
/// let mut inbound = HashMap::new();
/// inbound.insert("uber-trace-id".to_string(), "a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1".to_string());
/// inbound.insert("uberctx-user".to_string(), "alice".to_string());
/// let cx = JaegerPropagator::new().extract(&inbound);
/// assert!(cx.span().span_context().is_sampled());
/// assert_eq!(cx.baggage().get("user").map(|v| v.as_str()), Some("alice"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct JaegerPropagator {
    _private: (),
}

impl JaegerPropagator {
    /// Creates the propagator.
    pub const fn new() -> Self {
        JaegerPropagator { _private: () }
    }

    fn extract_baggage(&self, cx: &Context, extractor: &dyn Extractor) -> Option<Baggage> {
        let mut added: Vec<(&str, &str)> = Vec::new();
        for key in extractor.keys() {
            let Some(prefix) = key.get(..JAEGER_BAGGAGE_PREFIX.len()) else {
                continue;
            };
            if !prefix.eq_ignore_ascii_case(JAEGER_BAGGAGE_PREFIX) {
                continue;
            }
            let name = &key[JAEGER_BAGGAGE_PREFIX.len()..];
            if !is_token(name) {
                continue;
            }
            if let Some(value) = extractor.get(key) {
                added.push((name, value));
            }
        }
        if added.is_empty() {
            return None;
        }
        let existing = cx.baggage();
        let mut merged: Baggage = existing
            .iter()
            .map(|(k, (v, m))| KeyValueMetadata::new(k.clone(), v.clone(), m.clone()))
            .collect();
        for (name, value) in added {
            merged.insert(
                name.to_owned(),
                percent::decode(trim_ows(value)).into_owned(),
            );
        }
        Some(merged)
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            let mut buf = [b':'; 53];
            write_lower_hex(&sc.trace_id().to_bytes(), &mut buf[..32]);
            write_lower_hex(&sc.span_id().to_bytes(), &mut buf[33..49]);
            // buf[49] and buf[51] stay ':'; the deprecated parent id is "0".
            buf[50] = b'0';
            buf[52] = if sc.is_sampled() { b'1' } else { b'0' };
            injector.set(JAEGER_HEADER, ascii_to_string(&buf));
        }
        for (key, (value, _)) in cx.baggage() {
            if !is_token(key.as_str()) {
                continue;
            }
            let mut name = String::with_capacity(JAEGER_BAGGAGE_PREFIX.len() + key.as_str().len());
            name.push_str(JAEGER_BAGGAGE_PREFIX);
            name.push_str(key.as_str());
            let mut encoded = String::with_capacity(percent::encoded_len(value.as_str()));
            percent::encode_into(value.as_str(), &mut encoded);
            injector.set(&name, encoded);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let span_context =
            extractor
                .get_all(JAEGER_HEADER)
                .and_then(|values| match values.as_slice() {
                    [value] => parse_uber_trace_id(value),
                    _ => None,
                });
        let baggage = self.extract_baggage(cx, extractor);
        let cx = match span_context {
            Some((trace_id, span_id, flags)) => cx.with_remote_span_context(SpanContext::new(
                trace_id,
                span_id,
                flags,
                true,
                TraceState::NONE,
            )),
            None => cx.clone(),
        };
        match baggage {
            Some(baggage) => cx.with_baggage(baggage),
            None => cx,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(jaeger_fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ids;
    use crate::FieldCarrier;
    use opentelemetry::KeyValue;
    use std::collections::HashMap;

    fn extract(headers: &[(&str, &str)]) -> Context {
        JaegerPropagator::new().extract_with_context(
            &Context::new(),
            &FieldCarrier::from_pairs(headers.iter().copied()),
        )
    }

    #[test]
    fn trace_header_forms() {
        let expected = Some((
            "0000000000000000a3ce929d0e0e4736".to_string(),
            "00f067aa0ba902b7".to_string(),
            true,
        ));
        assert_eq!(
            ids(&extract(&[(
                "uber-trace-id",
                "a3ce929d0e0e4736:00f067aa0ba902b7:0:1"
            )])),
            expected
        );
        assert_eq!(
            ids(&extract(&[(
                "Uber-Trace-Id",
                "a3ce929d0e0e4736%3A00f067aa0ba902b7%3A0%3A1"
            )])),
            expected
        );
        assert_eq!(
            ids(&extract(&[(
                "uber-trace-id",
                "a3ce929d0e0e4736%3a00f067aa0ba902b7%3a0%3a01"
            )])),
            expected
        );
        // Leading zeros omitted, debug flag, 128-bit id.
        let cx = extract(&[("uber-trace-id", "1:f067aa0ba902b7:0:2")]);
        assert_eq!(
            ids(&cx),
            Some((
                "00000000000000000000000000000001".into(),
                "00f067aa0ba902b7".into(),
                true
            ))
        );
        let cx = extract(&[(
            "uber-trace-id",
            "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:b7ad6b7169203331:0",
        )]);
        assert_eq!(
            ids(&cx).map(|i| (i.0, i.2)),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736".into(), false))
        );
    }

    #[test]
    fn invalid_trace_headers() {
        for bad in [
            "",
            "a3ce929d0e0e4736:00f067aa0ba902b7:0",
            "a3ce929d0e0e4736:00f067aa0ba902b7:0:1:9",
            "0:00f067aa0ba902b7:0:1",
            "a3ce929d0e0e4736:0:0:1",
            "a3ce929d0e0e4736:00f067aa0ba902b7::1",
            "a3ce929d0e0e4736:00f067aa0ba902b7:0:",
            "a3ce929d0e0e4736:00f067aa0ba902b7:0:100",
            "g3ce929d0e0e4736:00f067aa0ba902b7:0:1",
            "4bf92f3577b34da6a3ce929d0e0e47360:00f067aa0ba902b7:0:1",
        ] {
            assert_eq!(ids(&extract(&[("uber-trace-id", bad)])), None, "{bad:?}");
        }
        let v = "a3ce929d0e0e4736:00f067aa0ba902b7:0:1";
        assert_eq!(
            ids(&extract(&[("uber-trace-id", v), ("uber-trace-id", v)])),
            None
        );
    }

    #[test]
    fn baggage_both_ways() {
        let cx = extract(&[
            ("uberctx-user", "alice"),
            ("UberCtx-Node", "DF%2028"),
            ("uberctx-", "x"),
        ]);
        assert_eq!(cx.baggage().get("user").map(|v| v.as_str()), Some("alice"));
        assert_eq!(cx.baggage().get("node").map(|v| v.as_str()), Some("DF 28"));
        assert_eq!(cx.baggage().len(), 2);
        assert!(!cx.span().span_context().is_valid());

        // Merged into existing baggage.
        let base = Context::new().with_baggage([KeyValue::new("local", "1")]);
        let merged = JaegerPropagator::new()
            .extract_with_context(&base, &FieldCarrier::from_pairs([("uberctx-user", "bob")]));
        assert_eq!(merged.baggage().len(), 2);

        let mut out = HashMap::new();
        JaegerPropagator::new().inject_context(
            &Context::new().with_baggage([KeyValue::new("node", "DF 28")]),
            &mut out,
        );
        assert_eq!(out["uberctx-node"], "DF%2028");
        assert!(!out.contains_key("uber-trace-id"));
    }

    #[test]
    fn inject_trace_header() {
        let cx = extract(&[("uber-trace-id", "a3ce929d0e0e4736:00f067aa0ba902b7:0:1")]);
        let mut out = HashMap::new();
        JaegerPropagator::new().inject_context(&cx, &mut out);
        assert_eq!(
            out["uber-trace-id"],
            "0000000000000000a3ce929d0e0e4736:00f067aa0ba902b7:0:1"
        );
        let cx = extract(&[("uber-trace-id", "a3ce929d0e0e4736:00f067aa0ba902b7:0:0")]);
        let mut out = HashMap::new();
        JaegerPropagator::new().inject_context(&cx, &mut out);
        assert_eq!(
            out["uber-trace-id"],
            "0000000000000000a3ce929d0e0e4736:00f067aa0ba902b7:0:0"
        );
    }
}
