//! [`B3Propagator`]: Zipkin B3, single `b3` header and multiple `X-B3-*`
//! headers.

use crate::hex::{parse_lower_hex_u128, parse_lower_hex_u64, write_lower_hex};
use crate::text::{split_byte, trim_ows};
use crate::traceparent::ascii_to_string;
use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use std::sync::OnceLock;

/// Name of the single B3 header.
pub const B3_SINGLE_HEADER: &str = "b3";
/// Name of the multi-header B3 trace id header.
pub const B3_TRACE_ID_HEADER: &str = "x-b3-traceid";
/// Name of the multi-header B3 span id header.
pub const B3_SPAN_ID_HEADER: &str = "x-b3-spanid";
/// Name of the multi-header B3 parent span id header (read never, sent never:
/// OpenTelemetry does not propagate it).
pub const B3_PARENT_SPAN_ID_HEADER: &str = "x-b3-parentspanid";
/// Name of the multi-header B3 sampling decision header.
pub const B3_SAMPLED_HEADER: &str = "x-b3-sampled";
/// Name of the multi-header B3 debug flag header.
pub const B3_FLAGS_HEADER: &str = "x-b3-flags";

/// Context marker: the B3 debug flag was received, so it is sent on.
#[derive(Clone, Copy, Debug)]
struct B3Debug;

/// Which B3 headers [`B3Propagator`] writes. Extraction always accepts both,
/// the single header taking precedence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum B3Encoding {
    /// One `b3: {trace}-{span}-{sampled}` header (the default).
    #[default]
    SingleHeader,
    /// `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled` / `X-B3-Flags`.
    MultipleHeader,
    /// Both forms.
    SingleAndMultiHeader,
}

/// B3 sampling state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sampling {
    Deferred,
    Accept,
    Deny,
    Debug,
}

/// A B3 trace id: 16 or 32 lowercase hex digits, not all zero; a 64-bit id
/// is left-padded to 128 bits.
fn parse_trace_id(s: &str) -> Option<TraceId> {
    if s.len() != 16 && s.len() != 32 {
        return None;
    }
    parse_lower_hex_u128(s.as_bytes())
        .filter(|&v| v != 0)
        .map(TraceId::from)
}

/// A B3 span id: 16 lowercase hex digits, not all zero.
fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 {
        return None;
    }
    parse_lower_hex_u64(s.as_bytes())
        .filter(|&v| v != 0)
        .map(SpanId::from)
}

fn parse_single_sampling(s: &str) -> Option<Sampling> {
    match s {
        "1" => Some(Sampling::Accept),
        "0" => Some(Sampling::Deny),
        "d" => Some(Sampling::Debug),
        _ => None,
    }
}

/// Parses a single `b3` header value carrying ids:
/// `{trace}-{span}[-{sampling}[-{parent}]]`.
fn parse_single(value: &str) -> Option<(TraceId, SpanId, Sampling)> {
    let mut parts = split_byte(trim_ows(value), b'-');
    let trace_id = parse_trace_id(parts.next()?)?;
    let span_id = parse_span_id(parts.next()?)?;
    let sampling = match parts.next() {
        None => Sampling::Deferred,
        Some(s) => parse_single_sampling(s)?,
    };
    if let Some(parent) = parts.next() {
        parse_span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((trace_id, span_id, sampling))
}

/// The only value of a header, `None` when absent or repeated.
fn single_value<'a>(extractor: &'a dyn Extractor, name: &str) -> Option<&'a str> {
    let values = extractor.get_all(name)?;
    match values.as_slice() {
        [value] => Some(trim_ows(value)),
        _ => None,
    }
}

fn parse_multi(extractor: &dyn Extractor) -> Option<(TraceId, SpanId, Sampling)> {
    let trace_id = parse_trace_id(single_value(extractor, B3_TRACE_ID_HEADER)?)?;
    let span_id = parse_span_id(single_value(extractor, B3_SPAN_ID_HEADER)?)?;
    if single_value(extractor, B3_FLAGS_HEADER) == Some("1") {
        return Some((trace_id, span_id, Sampling::Debug));
    }
    let sampling = match extractor.get_all(B3_SAMPLED_HEADER) {
        None => Sampling::Deferred,
        Some(_) => match single_value(extractor, B3_SAMPLED_HEADER)? {
            "1" | "true" => Sampling::Accept,
            "0" | "false" => Sampling::Deny,
            _ => return None,
        },
    };
    Some((trace_id, span_id, sampling))
}

fn b3_fields() -> &'static [String; 6] {
    static FIELDS: OnceLock<[String; 6]> = OnceLock::new();
    FIELDS.get_or_init(|| {
        [
            B3_SINGLE_HEADER.to_owned(),
            B3_TRACE_ID_HEADER.to_owned(),
            B3_SPAN_ID_HEADER.to_owned(),
            B3_PARENT_SPAN_ID_HEADER.to_owned(),
            B3_SAMPLED_HEADER.to_owned(),
            B3_FLAGS_HEADER.to_owned(),
        ]
    })
}

/// Propagates the span context in Zipkin's B3 format.
///
/// Extraction tries the single `b3` header first and falls back to the
/// `X-B3-*` headers. Trace ids may be 64-bit (left-padded with zeros to 128
/// bits) or 128-bit; ids must be lowercase hex and not all zero. Sampling
/// state `1` / `true` means sampled, `0` / `false` not sampled, `d` (or
/// `X-B3-Flags: 1`) debug, which is sampled and remembered in the context so
/// that it is sent on; no sampling state means a deferred decision (not
/// sampled). The parent span id is validated but not used. A `b3` header
/// carrying only a sampling state has no ids and yields no span context.
///
/// Injection writes the encoding chosen at construction, always with 128-bit
/// trace ids.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
/// use tracekit_propagators::{B3Encoding, B3Propagator};
///
/// let mut inbound = HashMap::new();
/// inbound.insert("b3".to_string(), "a3ce929d0e0e4736-00f067aa0ba902b7-1".to_string());
/// let cx = B3Propagator::new().extract(&inbound);
/// assert_eq!(cx.span().span_context().trace_id().to_string(), "0000000000000000a3ce929d0e0e4736");
///
/// let mut outbound = HashMap::new();
/// B3Propagator::with_encoding(B3Encoding::MultipleHeader).inject_context(&cx, &mut outbound);
/// assert_eq!(outbound["x-b3-spanid"], "00f067aa0ba902b7");
/// assert_eq!(outbound["x-b3-sampled"], "1");
/// ```
#[derive(Clone, Debug, Default)]
pub struct B3Propagator {
    encoding: B3Encoding,
}

impl B3Propagator {
    /// Creates a propagator that injects the single `b3` header.
    pub const fn new() -> Self {
        B3Propagator {
            encoding: B3Encoding::SingleHeader,
        }
    }

    /// Creates a propagator that injects the given encoding.
    pub const fn with_encoding(encoding: B3Encoding) -> Self {
        B3Propagator { encoding }
    }

    /// The encoding this propagator injects.
    pub const fn encoding(&self) -> B3Encoding {
        self.encoding
    }

    fn extract_ids(&self, extractor: &dyn Extractor) -> Option<(TraceId, SpanId, Sampling)> {
        single_value(extractor, B3_SINGLE_HEADER)
            .and_then(parse_single)
            .or_else(|| parse_multi(extractor))
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let debug = sc.is_sampled() && cx.get::<B3Debug>().is_some();
        let mut trace_hex = [0u8; 32];
        write_lower_hex(&sc.trace_id().to_bytes(), &mut trace_hex);
        let mut span_hex = [0u8; 16];
        write_lower_hex(&sc.span_id().to_bytes(), &mut span_hex);

        if matches!(
            self.encoding,
            B3Encoding::SingleHeader | B3Encoding::SingleAndMultiHeader
        ) {
            let mut buf = [b'-'; 51];
            buf[..32].copy_from_slice(&trace_hex);
            buf[33..49].copy_from_slice(&span_hex);
            buf[50] = match (debug, sc.is_sampled()) {
                (true, _) => b'd',
                (false, true) => b'1',
                (false, false) => b'0',
            };
            injector.set(B3_SINGLE_HEADER, ascii_to_string(&buf));
        }
        if matches!(
            self.encoding,
            B3Encoding::MultipleHeader | B3Encoding::SingleAndMultiHeader
        ) {
            injector.set(B3_TRACE_ID_HEADER, ascii_to_string(&trace_hex));
            injector.set(B3_SPAN_ID_HEADER, ascii_to_string(&span_hex));
            if debug {
                injector.set(B3_FLAGS_HEADER, "1".to_owned());
            } else {
                let sampled = if sc.is_sampled() { "1" } else { "0" };
                injector.set(B3_SAMPLED_HEADER, sampled.to_owned());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((trace_id, span_id, sampling)) = self.extract_ids(extractor) else {
            return cx.clone();
        };
        let flags = match sampling {
            Sampling::Accept | Sampling::Debug => TraceFlags::SAMPLED,
            Sampling::Deny | Sampling::Deferred => TraceFlags::NOT_SAMPLED,
        };
        let sc = SpanContext::new(trace_id, span_id, flags, true, TraceState::NONE);
        let cx = cx.with_remote_span_context(sc);
        if sampling == Sampling::Debug {
            cx.with_value(B3Debug)
        } else {
            cx
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(b3_fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ids;
    use crate::FieldCarrier;
    use std::collections::HashMap;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn extract(headers: &[(&str, &str)]) -> Context {
        B3Propagator::new().extract_with_context(
            &Context::new(),
            &FieldCarrier::from_pairs(headers.iter().copied()),
        )
    }

    fn inject(encoding: B3Encoding, cx: &Context) -> HashMap<String, String> {
        let mut out = HashMap::new();
        B3Propagator::with_encoding(encoding).inject_context(cx, &mut out);
        out
    }

    #[test]
    fn single_header_examples() {
        let full = format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90");
        assert_eq!(
            ids(&extract(&[("b3", &full)])),
            Some((TRACE.into(), SPAN.into(), true))
        );
        let denied = format!("{TRACE}-{SPAN}-0");
        assert_eq!(
            ids(&extract(&[("b3", &denied)])),
            Some((TRACE.into(), SPAN.into(), false))
        );
        let deferred = format!("{TRACE}-{SPAN}");
        assert_eq!(
            ids(&extract(&[("B3", &deferred)])),
            Some((TRACE.into(), SPAN.into(), false))
        );
        let debug = extract(&[("b3", &format!("{TRACE}-{SPAN}-d"))]);
        assert_eq!(ids(&debug), Some((TRACE.into(), SPAN.into(), true)));
        assert_eq!(
            inject(B3Encoding::SingleHeader, &debug)["b3"],
            format!("{TRACE}-{SPAN}-d")
        );
    }

    #[test]
    fn sixty_four_bit_trace_ids_are_padded() {
        let cx = extract(&[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-1")]);
        assert_eq!(
            ids(&cx).map(|i| i.0),
            Some("0000000000000000a3ce929d0e0e4736".into())
        );
        let cx = extract(&[
            ("x-b3-traceid", "a3ce929d0e0e4736"),
            ("x-b3-spanid", "00f067aa0ba902b7"),
        ]);
        assert_eq!(
            ids(&cx).map(|i| i.0),
            Some("0000000000000000a3ce929d0e0e4736".into())
        );
    }

    #[test]
    fn invalid_single_headers() {
        for bad in [
            "0",
            "1",
            "d",
            "",
            "80f198ee56343ba864fe8b2a57d3eff-e457b5a2e4d86bd1-1",
            "80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-1",
            "00000000000000000000000000000000-e457b5a2e4d86bd1-1",
            "80f198ee56343ba864fe8b2a57d3eff7-0000000000000000-1",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-2",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-bad",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-x",
            "80f198ee56343ba864fe8b2a57d3eff7",
        ] {
            assert_eq!(ids(&extract(&[("b3", bad)])), None, "{bad:?}");
        }
    }

    #[test]
    fn multi_header_examples() {
        let cx = extract(&[
            ("X-B3-TraceId", TRACE),
            ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
            ("X-B3-SpanId", SPAN),
            ("X-B3-Sampled", "1"),
        ]);
        assert_eq!(ids(&cx), Some((TRACE.into(), SPAN.into(), true)));
        let cx = extract(&[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-Sampled", "false"),
        ]);
        assert_eq!(ids(&cx), Some((TRACE.into(), SPAN.into(), false)));
        let cx = extract(&[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-Flags", "1"),
        ]);
        assert_eq!(ids(&cx), Some((TRACE.into(), SPAN.into(), true)));
        let out = inject(B3Encoding::MultipleHeader, &cx);
        assert_eq!(out.get("x-b3-flags").map(String::as_str), Some("1"));
        assert!(!out.contains_key("x-b3-sampled"));
        assert_eq!(
            ids(&extract(&[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "yes")
            ])),
            None
        );
        assert_eq!(ids(&extract(&[("X-B3-TraceId", TRACE)])), None);
        assert_eq!(
            ids(&extract(&[
                ("X-B3-TraceId", TRACE),
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN)
            ])),
            None
        );
    }

    #[test]
    fn single_header_takes_precedence_and_falls_back() {
        let other = "0af7651916cd43dd8448eb211c80319c";
        let cx = extract(&[
            ("b3", &format!("{other}-{SPAN}-1")),
            ("x-b3-traceid", TRACE),
            ("x-b3-spanid", SPAN),
        ]);
        assert_eq!(ids(&cx).map(|i| i.0), Some(other.into()));
        let cx = extract(&[("b3", "1"), ("x-b3-traceid", TRACE), ("x-b3-spanid", SPAN)]);
        assert_eq!(ids(&cx).map(|i| i.0), Some(TRACE.into()));
    }

    #[test]
    fn inject_encodings() {
        let cx = extract(&[("b3", &format!("{TRACE}-{SPAN}-1"))]);
        let single = inject(B3Encoding::SingleHeader, &cx);
        assert_eq!(single.len(), 1);
        assert_eq!(single["b3"], format!("{TRACE}-{SPAN}-1"));
        let multi = inject(B3Encoding::MultipleHeader, &cx);
        assert_eq!(multi["x-b3-traceid"], TRACE);
        assert_eq!(multi["x-b3-spanid"], SPAN);
        assert_eq!(multi["x-b3-sampled"], "1");
        assert!(!multi.contains_key("b3"));
        assert_eq!(inject(B3Encoding::SingleAndMultiHeader, &cx).len(), 4);
        let unsampled = extract(&[("b3", &format!("{TRACE}-{SPAN}-0"))]);
        assert_eq!(
            inject(B3Encoding::SingleHeader, &unsampled)["b3"],
            format!("{TRACE}-{SPAN}-0")
        );
        assert!(inject(B3Encoding::SingleHeader, &Context::new()).is_empty());
    }
}
