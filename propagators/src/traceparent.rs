//! The W3C `traceparent` header value: parsing (version `00` exactly, higher
//! versions forward-compatibly) and formatting (always version `00`).

use crate::hex::{parse_lower_hex_u128, parse_lower_hex_u64, parse_lower_hex_u8, write_lower_hex};
use crate::text::trim_ows_bytes;
use crate::tracestate::{parse_tracestate, ForwardedTraceState};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

/// Length of a version `00` `traceparent` value, and the minimum length of
/// any higher version.
pub(crate) const TRACEPARENT_LEN: usize = 55;

/// The `random` trace-flag of W3C Trace Context Level 2: the trace id's
/// rightmost 7 bytes were generated randomly.
pub const TRACE_FLAG_RANDOM: TraceFlags = TraceFlags::new(0x02);

/// The trace flags this crate knows and propagates (`sampled` and
/// `random`); every other bit is reserved and sent as zero.
pub(crate) const KNOWN_TRACE_FLAGS: u8 = 0x03;

/// The three values carried by a valid `traceparent` field: the remote
/// parent of a trace, before its `tracestate` is known.
///
/// ```
/// use tracekit_propagators::TraceParent;
///
/// let parent = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
///     .expect("valid");
/// let remote = parent.into_remote_span_context(&["congo=t61rcWkgMzE"]);
/// assert!(remote.is_remote() && remote.is_sampled());
/// assert_eq!(remote.trace_state().header(), "congo=t61rcWkgMzE");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    pub(crate) trace_id: TraceId,
    pub(crate) parent_id: SpanId,
    pub(crate) flags: TraceFlags,
}

impl TraceParent {
    /// Parses one `traceparent` field value, as
    /// [`TraceContextPropagator`](crate::TraceContextPropagator) does: `None`
    /// for anything the recommendation says must be ignored (see the
    /// propagator's documentation).
    #[inline]
    pub fn parse(value: &str) -> Option<Self> {
        parse_traceparent(value)
    }

    /// Parses one raw field value (the bytes of an HTTP header), with the
    /// rules of [`TraceParent::parse`]; a value holding any byte that is not
    /// visible ASCII, space or tab (a value that is not a string) is
    /// invalid, wherever that byte is.
    #[inline]
    pub fn parse_field(value: &[u8]) -> Option<Self> {
        let b = trim_ows_bytes(value);
        let parent = parse_trimmed(b)?;
        // The first 55 bytes passed the parser (digits and dashes); what a
        // higher version may add after them must still be text.
        if b[TRACEPARENT_LEN..].iter().all(|&c| is_field_text(c)) {
            Some(parent)
        } else {
            None
        }
    }

    /// The trace id.
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The parent span id.
    #[inline]
    pub fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// The trace flags (`sampled` and `random` kept, other bits cleared).
    #[inline]
    pub fn flags(&self) -> TraceFlags {
        self.flags
    }

    /// The remote span context of this parent with the trace state of the
    /// carrier's `tracestate` field values (in order; none gives an empty
    /// trace state, an invalid combined list is dropped as a whole).
    ///
    /// Members that are valid on the wire but that
    /// `opentelemetry::trace::TraceState` cannot hold (keys with a second
    /// `@`, or more than 13 characters after the `@`) are left out; use
    /// [`TraceParent::into_context`] to forward them.
    pub fn into_remote_span_context(self, tracestate_fields: &[&str]) -> SpanContext {
        let trace_state = parse_tracestate(tracestate_fields).map(|parsed| parsed.trace_state);
        self.span_context(trace_state.unwrap_or(TraceState::NONE))
    }

    /// `cx` with this parent as its remote span context and the trace state
    /// of the carrier's `tracestate` field values, as
    /// [`TraceContextPropagator`](crate::TraceContextPropagator) extracts
    /// it: when the list has members `TraceState` cannot hold, the whole
    /// list is kept in the context too, and the propagator's injection
    /// sends it on for every span of this trace.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use opentelemetry::trace::TraceContextExt;
    /// use opentelemetry::Context;
    /// use std::collections::HashMap;
    /// use tracekit_propagators::{TraceContextPropagator, TraceParent};
    ///
    /// let parent = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .expect("valid");
    /// let cx = parent.into_context(&Context::new(), &["foo@@bar=1,congo=t61rcWkgMzE"]);
    /// assert_eq!(cx.span().span_context().trace_state().header(), "congo=t61rcWkgMzE");
    ///
    /// let mut outbound = HashMap::new();
    /// TraceContextPropagator::new().inject_context(&cx, &mut outbound);
    /// assert_eq!(outbound["tracestate"], "foo@@bar=1,congo=t61rcWkgMzE");
    /// ```
    pub fn into_context(self, cx: &Context, tracestate_fields: &[&str]) -> Context {
        let (trace_state, unheld) = match parse_tracestate(tracestate_fields) {
            Some(parsed) => (parsed.trace_state, parsed.unheld),
            None => (TraceState::NONE, None),
        };
        let cx = cx.with_remote_span_context(self.span_context(trace_state));
        match unheld {
            Some(members) => cx.with_value(ForwardedTraceState::new(self.trace_id, members)),
            None => cx,
        }
    }

    /// The remote span context of this parent with `trace_state`.
    #[inline]
    fn span_context(self, trace_state: TraceState) -> SpanContext {
        SpanContext::new(self.trace_id, self.parent_id, self.flags, true, trace_state)
    }
}

/// Whether `b` may appear in a field value read as a string: visible ASCII,
/// space or horizontal tab.
#[inline]
fn is_field_text(b: u8) -> bool {
    (b' '..=b'~').contains(&b) || b == b'\t'
}

/// Parses one `traceparent` field value.
///
/// Returns `None` for anything the recommendation says must be ignored:
/// a version that is not two lowercase hex digits followed by `-`, version
/// `ff`, a version `00` value that is not exactly 55 characters, a higher
/// version shorter than 55 characters or whose flags are followed by
/// something else than `-`, non-lowercase-hex ids or flags, and all-zero ids.
/// Unknown flag bits are cleared.
pub(crate) fn parse_traceparent(value: &str) -> Option<TraceParent> {
    parse_trimmed(trim_ows_bytes(value.as_bytes()))
}

/// [`parse_traceparent`] of a value without surrounding whitespace.
#[inline]
fn parse_trimmed(b: &[u8]) -> Option<TraceParent> {
    if b.len() < TRACEPARENT_LEN || b[2] != b'-' {
        return None;
    }
    let version = parse_lower_hex_u8(&b[0..2])?;
    match version {
        0xff => return None,
        0x00 if b.len() != TRACEPARENT_LEN => return None,
        // A higher version: whatever follows the flags must start with '-'.
        _ if b.len() > TRACEPARENT_LEN && b[TRACEPARENT_LEN] != b'-' => return None,
        _ => {}
    }
    if b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let trace_id = parse_lower_hex_u128(&b[3..35])?;
    let parent_id = parse_lower_hex_u64(&b[36..52])?;
    let flags = parse_lower_hex_u8(&b[53..55])?;
    if trace_id == 0 || parent_id == 0 {
        return None;
    }
    Some(TraceParent {
        trace_id: TraceId::from(trace_id),
        parent_id: SpanId::from(parent_id),
        flags: TraceFlags::new(flags & KNOWN_TRACE_FLAGS),
    })
}

/// Formats a version `00` `traceparent` value into a stack buffer.
#[inline]
pub(crate) fn format_traceparent(
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
) -> [u8; TRACEPARENT_LEN] {
    let mut buf = [b'-'; TRACEPARENT_LEN];
    buf[0] = b'0';
    buf[1] = b'0';
    write_lower_hex(&trace_id.to_bytes(), &mut buf[3..35]);
    write_lower_hex(&span_id.to_bytes(), &mut buf[36..52]);
    write_lower_hex(&[flags.to_u8() & KNOWN_TRACE_FLAGS], &mut buf[53..55]);
    buf
}

/// Copies an ASCII stack buffer into a `String` (one allocation).
#[inline]
pub(crate) fn ascii_to_string(buf: &[u8]) -> String {
    match std::str::from_utf8(buf) {
        Ok(s) => {
            let mut out = String::with_capacity(s.len());
            out.push_str(s);
            out
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: u128 = 0x1234_5678_9012_3456_7890_1234_5678_9012;
    const SPAN: u64 = 0x1234_5678_9012_3456;

    fn ok(value: &str) -> TraceParent {
        parse_traceparent(value).unwrap_or_else(|| panic!("{value:?} should parse"))
    }

    fn rejected(value: &str) {
        assert_eq!(parse_traceparent(value), None, "{value:?} must be rejected");
    }

    #[test]
    fn w3c_examples() {
        let sampled = ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            sampled.trace_id,
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(sampled.parent_id, SpanId::from(0x00f0_67aa_0ba9_02b7));
        assert_eq!(sampled.flags, TraceFlags::SAMPLED);
        let not_sampled = ok("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert_eq!(not_sampled.flags, TraceFlags::NOT_SAMPLED);
    }

    #[test]
    fn level2_random_flag_kept_and_unknown_bits_cleared() {
        assert_eq!(
            ok("00-12345678901234567890123456789012-1234567890123456-02")
                .flags
                .to_u8(),
            0x02
        );
        assert_eq!(
            ok("00-12345678901234567890123456789012-1234567890123456-03")
                .flags
                .to_u8(),
            0x03
        );
        assert_eq!(
            ok("00-12345678901234567890123456789012-1234567890123456-ff")
                .flags
                .to_u8(),
            0x03
        );
        assert_eq!(
            ok("00-12345678901234567890123456789012-1234567890123456-08")
                .flags
                .to_u8(),
            0x00
        );
    }

    #[test]
    fn version_00_exact_length() {
        rejected("00-12345678901234567890123456789012-1234567890123456-01.");
        rejected(
            "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
        );
        rejected("00-12345678901234567890123456789012-1234567890123456-01-");
    }

    #[test]
    fn future_versions_parsed_forward_compatibly() {
        let p = ok("cc-12345678901234567890123456789012-1234567890123456-01");
        assert_eq!(p.trace_id, TraceId::from(TRACE));
        assert_eq!(p.parent_id, SpanId::from(SPAN));
        assert!(p.flags.is_sampled());
        ok("cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like");
        ok("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-");
        rejected(
            "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
        );
        rejected("cc-12345678901234567890123456789012-1234567890123456-0");
        rejected("cc-1234567890123456789012345678901-1234567890123456-01-ab");
    }

    #[test]
    fn version_rules() {
        rejected("ff-12345678901234567890123456789012-1234567890123456-01");
        rejected(".0-12345678901234567890123456789012-1234567890123456-01");
        rejected("0.-12345678901234567890123456789012-1234567890123456-01");
        rejected("000-12345678901234567890123456789012-1234567890123456-01");
        rejected("0000-12345678901234567890123456789012-1234567890123456-01");
        rejected("0-12345678901234567890123456789012-1234567890123456-01");
        rejected("0A-12345678901234567890123456789012-1234567890123456-01");
    }

    #[test]
    fn trace_id_rules() {
        rejected("00-00000000000000000000000000000000-1234567890123456-01");
        rejected("00-.2345678901234567890123456789012-1234567890123456-01");
        rejected("00-1234567890123456789012345678901.-1234567890123456-01");
        rejected("00-123456789012345678901234567890123-1234567890123456-01");
        rejected("00-1234567890123456789012345678901-1234567890123456-01");
        rejected("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
    }

    #[test]
    fn parent_id_rules() {
        rejected("00-12345678901234567890123456789012-0000000000000000-01");
        rejected("00-12345678901234567890123456789012-.234567890123456-01");
        rejected("00-12345678901234567890123456789012-123456789012345.-01");
        rejected("00-12345678901234567890123456789012-12345678901234567-01");
        rejected("00-12345678901234567890123456789012-123456789012345-01");
        rejected("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01");
    }

    #[test]
    fn flags_rules() {
        rejected("00-12345678901234567890123456789012-1234567890123456-.0");
        rejected("00-12345678901234567890123456789012-1234567890123456-0.");
        rejected("00-12345678901234567890123456789012-1234567890123456-001");
        rejected("00-12345678901234567890123456789012-1234567890123456-1");
        rejected("00-12345678901234567890123456789012-1234567890123456-0A");
    }

    #[test]
    fn ows_is_trimmed() {
        for v in [
            " 00-12345678901234567890123456789012-1234567890123456-01",
            "\t00-12345678901234567890123456789012-1234567890123456-01",
            "00-12345678901234567890123456789012-1234567890123456-01 ",
            "00-12345678901234567890123456789012-1234567890123456-01\t",
            "\t 00-12345678901234567890123456789012-1234567890123456-01 \t",
        ] {
            assert_eq!(ok(v).trace_id, TraceId::from(TRACE));
        }
        rejected("00-12345678901234567890123456789012-1234567890123456-01\n");
        rejected("00-12345678901234567890123456789012 -1234567890123456-01");
    }

    #[test]
    fn malformed_never_panics() {
        for v in [
            "",
            "-",
            "00",
            "00-",
            "é",
            "00-ééééééééééééééééééééééééééééééé-1234567890123456-01",
            "\u{0}",
        ] {
            rejected(v);
        }
    }

    #[test]
    fn formats_version_00() {
        let buf = format_traceparent(
            TraceId::from(TRACE),
            SpanId::from(SPAN),
            TraceFlags::new(0x03),
        );
        assert_eq!(
            &buf[..],
            b"00-12345678901234567890123456789012-1234567890123456-03"
        );
        let buf = format_traceparent(TraceId::from(1), SpanId::from(2), TraceFlags::new(0x81));
        assert_eq!(
            &buf[..],
            b"00-00000000000000000000000000000001-0000000000000002-01"
        );
        assert_eq!(ascii_to_string(&buf).len(), TRACEPARENT_LEN);
    }

    #[test]
    fn raw_fields_parse_like_strings_unless_they_hold_non_text_bytes() {
        const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        for value in [
            TP,
            " \t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t ",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future~ok",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "",
            "   ",
            "00",
        ] {
            assert_eq!(
                TraceParent::parse_field(value.as_bytes()),
                TraceParent::parse(value),
                "{value:?}"
            );
        }
        assert!(TraceParent::parse_field(TP.as_bytes()).is_some());
        // A byte that is not text anywhere makes the whole field invalid,
        // even in the part a higher version may add.
        for bad in [
            &b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\xff"[..],
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\x7f",
            b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-\n",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\xff",
            b"\x0000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse_field(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn accessors_and_remote_span_context() {
        let parent = ok("00-12345678901234567890123456789012-1234567890123456-03");
        assert_eq!(parent.trace_id(), TraceId::from(TRACE));
        assert_eq!(parent.parent_id(), SpanId::from(SPAN));
        assert_eq!(parent.flags().to_u8(), 0x03);
        let sc = parent.into_remote_span_context(&[]);
        assert!(sc.is_remote() && sc.is_sampled() && sc.is_valid());
        assert_eq!(sc.trace_state(), &TraceState::NONE);
        let sc = parent.into_remote_span_context(&["a=1", "b=2"]);
        assert_eq!(sc.trace_state().header(), "a=1,b=2");
        // An invalid combined list is dropped as a whole.
        let sc = parent.into_remote_span_context(&["a=1", "A=2"]);
        assert_eq!(sc.trace_state(), &TraceState::NONE);
        // Of a repeated key the first member is kept.
        let sc = parent.into_remote_span_context(&["a=1", "a=2"]);
        assert_eq!(sc.trace_state().header(), "a=1");
    }
}
