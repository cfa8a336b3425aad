//! Reading and updating the OpenTelemetry `ot` entry of a W3C `tracestate`
//! (specification "TraceState Handling"): a `;`-separated list of
//! `key:value` sub-keys such as `ot=th:c;rv:0123456789abcd`.
//!
//! Updates never lose other sub-keys or other vendors' entries, and the
//! modified `ot` entry moves to the front as W3C Trace Context requires of a
//! mutated list member. Functions return `None` when nothing changes, so the
//! common path (no `ot` entry to touch) allocates nothing.

use crate::threshold::{Randomness, Threshold};
use opentelemetry::trace::{SpanContext, TraceState};

/// The `tracestate` key of the OpenTelemetry entry.
pub const OT_KEY: &str = "ot";
/// The sub-key holding the rejection threshold.
pub const THRESHOLD_SUBKEY: &str = "th";
/// The sub-key holding explicit randomness.
pub const RANDOMNESS_SUBKEY: &str = "rv";
/// The maximum length of the `ot` entry's value.
const MAX_OT_VALUE_LEN: usize = 256;

/// A parsed view of an `ot` entry value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtEntry<'a> {
    value: &'a str,
}

impl<'a> OtEntry<'a> {
    /// The `ot` entry of a trace state, when present.
    #[inline]
    pub fn of(trace_state: &'a TraceState) -> Option<OtEntry<'a>> {
        trace_state.get(OT_KEY).map(|value| OtEntry { value })
    }

    /// View an `ot` value such as `th:8;rv:0123456789abcd`.
    pub fn new(value: &'a str) -> OtEntry<'a> {
        OtEntry { value }
    }

    /// The raw value.
    pub fn as_str(&self) -> &'a str {
        self.value
    }

    /// The `key:value` pairs in order; malformed members (no `:`) are
    /// skipped.
    pub fn sub_keys(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.value
            .split(';')
            .filter_map(|member| member.split_once(':'))
    }

    /// The value of one sub-key.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.sub_keys().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The raw `th` value, valid or not.
    pub fn raw_threshold(&self) -> Option<&'a str> {
        self.get(THRESHOLD_SUBKEY)
    }

    /// The threshold, when `th` is present and valid.
    pub fn threshold(&self) -> Option<Threshold> {
        self.raw_threshold().and_then(Threshold::parse)
    }

    /// The explicit randomness, when `rv` is present and valid.
    pub fn randomness(&self) -> Option<Randomness> {
        self.get(RANDOMNESS_SUBKEY).and_then(Randomness::parse)
    }
}

/// The randomness of a span: the explicit `rv` of the parent's `ot` entry
/// when valid, else the trace id's rightmost 56 bits.
#[inline]
pub fn randomness_of(
    trace_id: opentelemetry::trace::TraceId,
    ot: Option<OtEntry<'_>>,
) -> Randomness {
    ot.and_then(|ot| ot.randomness())
        .unwrap_or_else(|| Randomness::from_trace_id(trace_id))
}

/// `trace_state` with its `ot` entry carrying `th:<threshold>` (other
/// sub-keys kept, `ot` moved to the front), or `None` when `trace_state`
/// already is exactly that. A threshold that cannot be encoded
/// ([`Threshold::NEVER`]) or would overflow the entry's 256 characters
/// erases `th` instead.
pub fn with_threshold(trace_state: &TraceState, threshold: Threshold) -> Option<TraceState> {
    let Some(encoded) = threshold.encode() else {
        return without_threshold(trace_state);
    };
    let ot = OtEntry::of(trace_state);
    let mut value =
        String::with_capacity(3 + encoded.as_str().len() + ot.map_or(0, |o| o.as_str().len() + 1));
    value.push_str(THRESHOLD_SUBKEY);
    value.push(':');
    value.push_str(encoded.as_str());
    if let Some(ot) = ot {
        for member in ot.as_str().split(';') {
            if member.is_empty() || member_key(member) == THRESHOLD_SUBKEY {
                continue;
            }
            value.push(';');
            value.push_str(member);
        }
        if ot.as_str() == value && is_first_entry(trace_state, OT_KEY) {
            return None;
        }
    }
    if value.len() > MAX_OT_VALUE_LEN {
        return without_threshold(trace_state);
    }
    trace_state.insert(OT_KEY, value).ok()
}

/// `trace_state` without the `th` sub-key (the `ot` entry removed when it
/// holds nothing else), or `None` when there is no `th` to erase.
pub fn without_threshold(trace_state: &TraceState) -> Option<TraceState> {
    let ot = OtEntry::of(trace_state)?;
    ot.raw_threshold()?;
    let mut value = String::with_capacity(ot.as_str().len());
    for member in ot.as_str().split(';') {
        if member.is_empty() || member_key(member) == THRESHOLD_SUBKEY {
            continue;
        }
        if !value.is_empty() {
            value.push(';');
        }
        value.push_str(member);
    }
    if value.is_empty() {
        trace_state.delete(OT_KEY).ok()
    } else {
        trace_state.insert(OT_KEY, value).ok()
    }
}

/// For a span that keeps its parent's trace state: the parent's `th` must
/// agree with the span's sampled flag (`rv >= th` exactly when sampled),
/// otherwise it is erased, as the specification asks of parent-based
/// samplers. `None` when the parent's trace state can be kept unchanged.
#[inline]
pub fn consistent_parent_threshold(parent: &SpanContext, sampled: bool) -> Option<TraceState> {
    let trace_state = parent.trace_state();
    if *trace_state == TraceState::NONE {
        return None;
    }
    check_parent_threshold(parent, trace_state, sampled)
}

fn check_parent_threshold(
    parent: &SpanContext,
    trace_state: &TraceState,
    sampled: bool,
) -> Option<TraceState> {
    let ot = OtEntry::of(trace_state)?;
    let raw = ot.raw_threshold()?;
    let consistent = match Threshold::parse(raw) {
        Some(threshold) => threshold.samples(randomness_of(parent.trace_id(), Some(ot))) == sampled,
        // A malformed threshold is never consistent.
        None => false,
    };
    if consistent {
        None
    } else {
        without_threshold(trace_state)
    }
}

fn member_key(member: &str) -> &str {
    member.split_once(':').map_or(member, |(k, _)| k)
}

fn is_first_entry(trace_state: &TraceState, key: &str) -> bool {
    trace_state
        .into_iter()
        .next()
        .is_some_and(|(k, _)| k == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn ts(header: &str) -> TraceState {
        TraceState::from_str(header).unwrap_or_default()
    }

    fn c() -> Threshold {
        Threshold::from_probability(0.25)
    }

    #[test]
    fn reads_sub_keys() {
        let state = ts("a=1,ot=th:c;rv:0123456789abcd;x:y,b=2");
        let ot = OtEntry::of(&state).expect("ot entry");
        assert_eq!(ot.threshold(), Some(c()));
        assert_eq!(ot.randomness().map(|r| r.value()), Some(0x0123456789abcd));
        assert_eq!(ot.get("x"), Some("y"));
        assert_eq!(ot.get("z"), None);
        assert!(OtEntry::of(&ts("a=1")).is_none());
        assert_eq!(OtEntry::new("garbage;th:zz").threshold(), None);
    }

    #[test]
    fn writes_threshold_in_front_keeping_others() {
        let out = with_threshold(&TraceState::NONE, c()).map(|t| t.header());
        assert_eq!(out.as_deref(), Some("ot=th:c"));

        let state = ts("a=1,ot=rv:0123456789abcd;th:8;x:y,b=2");
        let out = with_threshold(&state, c()).map(|t| t.header());
        assert_eq!(
            out.as_deref(),
            Some("ot=th:c;rv:0123456789abcd;x:y,a=1,b=2")
        );

        let state = ts("vendor=v");
        let out = with_threshold(&state, Threshold::ALWAYS).map(|t| t.header());
        assert_eq!(out.as_deref(), Some("ot=th:0,vendor=v"));
    }

    #[test]
    fn unchanged_state_is_not_rebuilt() {
        assert!(with_threshold(&ts("ot=th:c,a=1"), c()).is_none());
        // Same value but not leftmost: moved to the front.
        let out = with_threshold(&ts("a=1,ot=th:c"), c()).map(|t| t.header());
        assert_eq!(out.as_deref(), Some("ot=th:c,a=1"));
    }

    #[test]
    fn erases_threshold() {
        assert!(without_threshold(&ts("a=1")).is_none());
        assert!(without_threshold(&ts("ot=rv:0123456789abcd")).is_none());
        let out = without_threshold(&ts("a=1,ot=th:c;rv:0123456789abcd"));
        assert_eq!(
            out.map(|t| t.header()).as_deref(),
            Some("ot=rv:0123456789abcd,a=1")
        );
        let out = without_threshold(&ts("a=1,ot=th:c"));
        assert_eq!(out.map(|t| t.header()).as_deref(), Some("a=1"));
        // Never is not written; an existing th is erased.
        let out = with_threshold(&ts("ot=th:c;k:v"), Threshold::NEVER);
        assert_eq!(out.map(|t| t.header()).as_deref(), Some("ot=k:v"));
    }

    #[test]
    fn overlong_entry_erases_instead_of_growing() {
        let long = format!("ot=x:{}", "a".repeat(252));
        let out = with_threshold(&ts(&long), c());
        assert!(out.is_none(), "no th present, nothing to erase");
        let long = format!("ot=th:8;x:{}", "a".repeat(248));
        let out = with_threshold(&ts(&long), Threshold::from_probability(0.001));
        let header = out.map(|t| t.header()).unwrap_or_default();
        assert!(!header.contains("th:"), "{header}");
    }

    #[test]
    fn parent_threshold_consistency() {
        use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
        // Trace id randomness 0x80000000000000 (>= th:8, < th:c).
        let id = TraceId::from_bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0]);
        let parent = |state: &str, sampled: bool| {
            SpanContext::new(
                id,
                SpanId::from_bytes([1; 8]),
                TraceFlags::default().with_sampled(sampled),
                true,
                ts(state),
            )
        };
        assert!(consistent_parent_threshold(&parent("ot=th:8", true), true).is_none());
        assert!(consistent_parent_threshold(&parent("ot=th:c", false), false).is_none());
        assert!(consistent_parent_threshold(&parent("a=1", true), true).is_none());
        let erased = consistent_parent_threshold(&parent("ot=th:c;k:v", true), true);
        assert_eq!(erased.map(|t| t.header()).as_deref(), Some("ot=k:v"));
        let erased = consistent_parent_threshold(&parent("ot=th:8", true), false);
        assert_eq!(erased.map(|t| t.header()).as_deref(), Some(""));
        let erased = consistent_parent_threshold(&parent("ot=th:xyz", true), true);
        assert_eq!(erased.map(|t| t.header()).as_deref(), Some(""));
        // Explicit rv takes precedence over the trace id.
        let p = parent("ot=th:c;rv:f0000000000000", true);
        assert!(consistent_parent_threshold(&p, true).is_none());
    }
}
