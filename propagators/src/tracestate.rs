//! The W3C `tracestate` header value: list parsing with the current key and
//! value grammar (the Trace Context Level 2 editor's draft), formatting, the
//! helper that puts an entry leftmost, and the members forwarded although
//! `opentelemetry::trace::TraceState` cannot hold them.

use crate::text::trim_ows;
use opentelemetry::trace::{TraceId, TraceState};

/// Maximum number of list members a `tracestate` may hold.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Longest key and longest value.
const MAX_KEY_OR_VALUE_LEN: usize = 256;

/// Longest text after the `@` of a key that `TraceState` (0.33) accepts.
const MAX_TRACE_STATE_SYSTEM_LEN: usize = 13;

/// Byte classes of the `tracestate` grammar, one table lookup per byte.
const LCALPHA: u8 = 1;
const DIGIT: u8 = 1 << 1;
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
const KEY_CHAR: u8 = 1 << 2;
/// `%x20-2B / %x2D-3C / %x3E-7E`: printable ASCII but `,` and `=`.
const VALUE_CHAR: u8 = 1 << 3;

static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_lowercase() {
            class |= LCALPHA | KEY_CHAR;
        }
        if c.is_ascii_digit() {
            class |= DIGIT | KEY_CHAR;
        }
        if matches!(c, b'_' | b'-' | b'*' | b'/' | b'@') {
            class |= KEY_CHAR;
        }
        if c >= 0x20 && c <= 0x7e && c != b',' && c != b'=' {
            class |= VALUE_CHAR;
        }
        table[b] = class;
        b += 1;
    }
    table
};

#[inline]
fn class(b: u8) -> u8 {
    CLASSES[b as usize]
}

/// Whether `key` is a key by the grammar of [`is_valid_tracestate_key`].
#[inline]
fn check_key(key: &[u8]) -> bool {
    matches!(key.first(), Some(&first) if class(first) & (LCALPHA | DIGIT) != 0)
        && key.len() <= MAX_KEY_OR_VALUE_LEN
        && key.iter().all(|&b| class(b) & KEY_CHAR != 0)
}

/// Checks a `tracestate` key against the W3C grammar of the current
/// editor's draft: a lowercase letter or a digit, then up to 255 lowercase
/// letters, digits, `_`, `-`, `*`, `/` and `@`, anywhere and any number of
/// times.
///
/// ```text
/// key     = ( lcalpha / DIGIT ) 0*255 ( keychar )
/// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
/// ```
///
/// ```
/// use tracekit_propagators::is_valid_tracestate_key;
///
/// assert!(is_valid_tracestate_key("rojo"));
/// assert!(is_valid_tracestate_key("0tenant@system"));
/// assert!(is_valid_tracestate_key("foo@@bar"));
/// assert!(!is_valid_tracestate_key("@foo"));
/// assert!(!is_valid_tracestate_key("Foo"));
/// ```
pub fn is_valid_tracestate_key(key: &str) -> bool {
    check_key(key.as_bytes())
}

/// Checks a `tracestate` value against the W3C grammar: 1 to 256 printable
/// ASCII characters except `,` and `=`, the last one not a space.
///
/// ```text
/// value    = 0*255(chr) nblk-chr
/// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
/// chr      = %x20 / nblk-chr
/// ```
pub fn is_valid_tracestate_value(value: &str) -> bool {
    let value = value.as_bytes();
    matches!(value.last(), Some(&last) if last != b' ')
        && value.len() <= MAX_KEY_OR_VALUE_LEN
        && value.iter().all(|&b| class(b) & VALUE_CHAR != 0)
}

/// Whether `opentelemetry::trace::TraceState` (0.33) accepts a key that is
/// valid by the grammar. It still checks the older multi-tenant form
/// (`tenant@system`), and refuses a second `@`, more than 13 characters
/// after the `@` and a first system character other than a lowercase letter
/// or a digit. The test `trace_state_acceptance_matches_the_api` keeps this
/// in step with the API crate.
#[inline]
fn held_by_trace_state(key: &str) -> bool {
    let key = key.as_bytes();
    let Some(at) = key.iter().position(|&b| b == b'@') else {
        return true;
    };
    let system = &key[at + 1..];
    system.len() <= MAX_TRACE_STATE_SYSTEM_LEN
        && !system.contains(&b'@')
        && system
            .first()
            .is_none_or(|&b| class(b) & (LCALPHA | DIGIT) != 0)
}

/// Splits a trimmed, non-empty list member into a valid key and value;
/// `None` when it is not `key=value` by the grammar.
#[inline]
fn split_member(member: &str) -> Option<(&str, &str)> {
    let bytes = member.as_bytes();
    let eq = bytes.iter().position(|&b| b == b'=')?;
    if !check_key(&bytes[..eq]) {
        return None;
    }
    // `eq` is an ASCII byte: both sides are char boundaries.
    let (key, value) = (member.get(..eq)?, member.get(eq + 1..)?);
    is_valid_tracestate_value(value).then_some((key, value))
}

/// One valid member of a parsed list, borrowed from the fields.
#[derive(Clone, Copy)]
struct Member<'a> {
    key: &'a str,
    value: &'a str,
    /// Whether `TraceState` can hold the key.
    held: bool,
}

/// A parsed `tracestate`: what `TraceState` holds, and the whole list when
/// it has members `TraceState` cannot hold.
pub(crate) struct ParsedTraceState {
    pub(crate) trace_state: TraceState,
    pub(crate) unheld: Option<Vec<ForwardedMember>>,
}

/// Parses the `tracestate` header fields of one carrier, as if they were
/// joined with `,` (RFC 9110 field order).
///
/// Returns `None` when the combined list is invalid and must be discarded as
/// a whole: a member that is not `key=value` with a valid key and value, or
/// more than 32 members (a repeated key counts each time). Empty and
/// whitespace-only members are allowed and do not count. Of a repeated key
/// the first (leftmost) member is kept and the later ones are dropped, as
/// the recommendation allows. Member order and values are kept byte for
/// byte. No field at all gives an empty `TraceState`.
pub(crate) fn parse_tracestate(fields: &[&str]) -> Option<ParsedTraceState> {
    if fields.is_empty() {
        return Some(ParsedTraceState {
            trace_state: TraceState::NONE,
            unheld: None,
        });
    }
    let mut members = [Member {
        key: "",
        value: "",
        held: true,
    }; MAX_TRACESTATE_MEMBERS];
    let mut kept = 0;
    let mut count = 0;
    // The raw members (between commas) of all fields, as if joined by `,`.
    for raw in fields.iter().flat_map(|field| field.split(',')) {
        let member = trim_ows(raw);
        if member.is_empty() {
            continue;
        }
        let (key, value) = split_member(member)?;
        count += 1;
        if count > MAX_TRACESTATE_MEMBERS {
            return None;
        }
        if members[..kept].iter().any(|m| m.key == key) {
            continue;
        }
        members[kept] = Member {
            key,
            value,
            held: held_by_trace_state(key),
        };
        kept += 1;
    }
    let members = &members[..kept];
    let held = members.iter().filter(|m| m.held).map(|m| (m.key, m.value));
    // Every held member passed a stricter check than TraceState's own, so
    // this cannot fail; an error would still only drop the list.
    let trace_state = TraceState::from_key_value(held).ok()?;
    let unheld = members.iter().any(|m| !m.held).then(|| {
        members
            .iter()
            .map(|m| ForwardedMember {
                key: m.key.to_owned(),
                value: m.value.to_owned(),
                held: m.held,
            })
            .collect()
    });
    Some(ParsedTraceState {
        trace_state,
        unheld,
    })
}

/// Appends `key=value` to a header value being built.
fn push_member(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(key);
    out.push('=');
    out.push_str(value);
}

/// Formats a `TraceState` as a `tracestate` header value (one allocation),
/// or `None` when it is empty.
pub(crate) fn format_tracestate(trace_state: &TraceState) -> Option<String> {
    let len: usize = trace_state
        .into_iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum();
    if len == 0 {
        return None;
    }
    let mut out = String::with_capacity(len - 1);
    for (k, v) in trace_state {
        push_member(&mut out, k, v);
    }
    Some(out)
}

/// One member of a forwarded list.
#[derive(Debug)]
pub(crate) struct ForwardedMember {
    key: String,
    value: String,
    /// Whether `TraceState` holds it (then the span's trace state decides
    /// whether it is still sent).
    held: bool,
}

/// The `tracestate` of a remote parent whose list has members that are
/// valid on the wire but that `opentelemetry::trace::TraceState` cannot
/// hold. The extracted context carries it beside the span context, so that
/// a service forwarding the trace sends every member on
/// ([`TraceContextPropagator`](crate::TraceContextPropagator) reads it on
/// inject).
#[derive(Debug)]
pub(crate) struct ForwardedTraceState {
    trace_id: TraceId,
    members: Vec<ForwardedMember>,
}

impl ForwardedTraceState {
    pub(crate) fn new(trace_id: TraceId, members: Vec<ForwardedMember>) -> Self {
        ForwardedTraceState { trace_id, members }
    }

    /// The list to send for a span whose trace state is `current`, or
    /// `None` when the span belongs to another trace (the list is not
    /// its to forward) or nothing is left to send.
    ///
    /// `current` derives from the extracted trace state by `TraceState`'s
    /// own operations: entries inserted or updated (moved leftmost) and
    /// entries deleted. The result is the entries that are new or changed,
    /// in `current`'s order, then the received list in its order with the
    /// held members `current` no longer has left out, at most 32 members
    /// (the rightmost ones dropped, as the recommendation allows).
    pub(crate) fn header_for(&self, trace_id: TraceId, current: &TraceState) -> Option<String> {
        if trace_id != self.trace_id {
            return None;
        }
        let mut out = String::new();
        let mut count = 0;
        let mut add = |out: &mut String, key: &str, value: &str| {
            if count < MAX_TRACESTATE_MEMBERS {
                push_member(out, key, value);
                count += 1;
            }
        };
        for (key, value) in current {
            let received = self
                .members
                .iter()
                .any(|m| m.held && m.key == key && m.value == value);
            if !received {
                add(&mut out, key, value);
            }
        }
        for m in &self.members {
            if !m.held || current.get(&m.key) == Some(m.value.as_str()) {
                add(&mut out, &m.key, &m.value);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

/// Returns `trace_state` with `key=value` as its leftmost entry and no other
/// entry for `key`, as the W3C recommendation requires when a vendor updates
/// its own entry (for example the `ot` entry of the OpenTelemetry
/// probability sampler).
///
/// This is what [`TraceState::insert`] already does: it removes any existing
/// entry for the key, pushes the new one to the front, and drops the
/// rightmost entry when the list already holds 32. This helper additionally
/// checks the key and value against the W3C grammar of this crate and
/// returns `None` when either is invalid or when `TraceState` refuses the
/// key (it still applies the older `tenant@system` rules: a second `@` or
/// more than 13 characters after it); the input is never modified.
///
/// ```
/// use opentelemetry::trace::TraceState;
/// use tracekit_propagators::with_leftmost_entry;
///
/// let received = TraceState::from_key_value([("rojo", "00f067aa0ba902b7"), ("ot", "th:8")]).unwrap();
/// let updated = with_leftmost_entry(&received, "ot", "th:c").unwrap();
/// assert_eq!(updated.header(), "ot=th:c,rojo=00f067aa0ba902b7");
/// assert!(with_leftmost_entry(&received, "Bad Key", "x").is_none());
/// ```
pub fn with_leftmost_entry(trace_state: &TraceState, key: &str, value: &str) -> Option<TraceState> {
    if !is_valid_tracestate_key(key) || !is_valid_tracestate_value(value) {
        return None;
    }
    trace_state.insert(key, value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(fields: &[&str]) -> Option<TraceState> {
        parse_tracestate(fields).map(|p| p.trace_state)
    }

    fn header(fields: &[&str]) -> Option<String> {
        parse(fields).map(|ts| ts.header())
    }

    /// The whole list as it would be forwarded unmodified.
    fn forwarded(fields: &[&str]) -> Option<String> {
        let parsed = parse_tracestate(fields)?;
        Some(match parsed.unheld {
            Some(members) => ForwardedTraceState::new(TraceId::from(1), members)
                .header_for(TraceId::from(1), &parsed.trace_state)
                .expect("same trace"),
            None => parsed.trace_state.header(),
        })
    }

    #[test]
    fn keys() {
        for key in [
            "foo",
            "a",
            "0",
            "0simple",
            "abcdefghijklmnopqrstuvwxyz0123456789_-*/",
            "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/",
            "0tenant@system",
            "foo@",
            "foo@@bar",
            "foo@bar@baz",
            "t@0sys",
            "t@_sys",
            "rojo",
            "congo",
        ] {
            assert!(is_valid_tracestate_key(key), "{key}");
        }
        assert!(is_valid_tracestate_key(&"z".repeat(256)));
        assert!(!is_valid_tracestate_key(&"z".repeat(257)));
        for key in [
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            format!("{}@v", "t".repeat(242)),
            format!("t@{}", "v".repeat(15)),
            format!("t@{}", "v".repeat(254)),
        ] {
            assert!(is_valid_tracestate_key(&key), "{key}");
        }
        assert!(!is_valid_tracestate_key(&format!("t@{}", "v".repeat(255))));
        for key in [
            "", "foo ", " foo", "FOO", "foo.bar", "@foo", "_x", "*x", "t@Sys", "fóo", "foo=",
        ] {
            assert!(!is_valid_tracestate_key(key), "{key:?}");
        }
    }

    #[test]
    fn trace_state_acceptance_matches_the_api() {
        let keys = [
            "foo".to_string(),
            "0tenant@system".into(),
            "foo@".into(),
            "foo@@bar".into(),
            "foo@bar@baz".into(),
            "t@0sys".into(),
            "t@_sys".into(),
            "t@-".into(),
            format!("t@{}", "v".repeat(13)),
            format!("t@{}", "v".repeat(14)),
            format!("{}@{}", "t".repeat(241), "v".repeat(13)),
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            format!("{}@v", "t".repeat(242)),
            "z".repeat(256),
        ];
        for key in keys {
            assert!(is_valid_tracestate_key(&key));
            assert_eq!(
                held_by_trace_state(&key),
                TraceState::from_key_value([(key.as_str(), "1")]).is_ok(),
                "{key}"
            );
        }
    }

    #[test]
    fn values() {
        let all: String = (0x20u8..=0x7e)
            .filter(|b| *b != b',' && *b != b'=')
            .map(char::from)
            .collect();
        assert!(is_valid_tracestate_value(&all));
        assert!(is_valid_tracestate_value(" leading"));
        assert!(is_valid_tracestate_value(&"v".repeat(256)));
        for value in [
            "",
            "trailing ",
            "a,b",
            "a=b",
            "tab\t",
            "\u{7f}",
            "é",
            &"v".repeat(257),
        ] {
            assert!(!is_valid_tracestate_value(value), "{value:?}");
        }
    }

    #[test]
    fn multiple_fields_are_joined_in_order() {
        assert_eq!(
            header(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]).as_deref(),
            Some("foo=1,bar=2,rojo=1,congo=2,baz=3")
        );
    }

    #[test]
    fn empty_members_and_headers_are_tolerated() {
        assert_eq!(parse(&[""]), Some(TraceState::NONE));
        assert_eq!(header(&["foo=1", ""]).as_deref(), Some("foo=1"));
        assert_eq!(header(&["", "foo=1"]).as_deref(), Some("foo=1"));
        assert_eq!(
            header(&["foo=1,,bar=2, ,\t"]).as_deref(),
            Some("foo=1,bar=2")
        );
    }

    #[test]
    fn ows_around_members() {
        assert_eq!(
            header(&["foo=1 \t , \t bar=2, \t baz=3"]).as_deref(),
            Some("foo=1,bar=2,baz=3")
        );
        assert_eq!(
            header(&["foo=1\t \t,\t \tbar=2,\t \tbaz=3"]).as_deref(),
            Some("foo=1,bar=2,baz=3")
        );
        for v in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
            assert_eq!(header(&[v]).as_deref(), Some("foo=1"), "{v:?}");
        }
    }

    #[test]
    fn values_kept_byte_for_byte() {
        let value: String = (0x20u8..=0x7e)
            .filter(|b| *b != b',' && *b != b'=')
            .map(char::from)
            .collect();
        let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/";
        let ts = parse(&[&format!("{key}={value}")]).expect("valid");
        assert_eq!(ts.get(key), Some(value.as_str()));
    }

    #[test]
    fn the_first_of_duplicated_keys_is_kept() {
        assert_eq!(header(&["foo=1,foo=1"]).as_deref(), Some("foo=1"));
        assert_eq!(header(&["foo=1,foo=2"]).as_deref(), Some("foo=1"));
        assert_eq!(header(&["foo=1", "foo=1"]).as_deref(), Some("foo=1"));
        assert_eq!(header(&["foo=1", "foo=2"]).as_deref(), Some("foo=1"));
        assert_eq!(
            header(&["a=1,foo=2,b=3", "foo=4,c=5"]).as_deref(),
            Some("a=1,foo=2,b=3,c=5")
        );
        assert_eq!(
            forwarded(&["foo@@x=1,a=2,foo@@x=3"]).as_deref(),
            Some("foo@@x=1,a=2")
        );
        // Every member counts toward the limit, repeated or not.
        let repeated = vec!["foo=1"; 33].join(",");
        assert_eq!(parse(&[&repeated]), None);
        assert_eq!(header(&[&repeated[6..]]).as_deref(), Some("foo=1"));
    }

    #[test]
    fn any_invalid_member_discards_the_list() {
        for v in [
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "@foo=1,bar=2",
            "foo=bar=baz",
            "foo=,bar=3",
            "foo,bar=3",
            "=1",
        ] {
            assert_eq!(parse(&[v]), None, "{v:?}");
        }
        assert_eq!(parse(&["foo=1", &format!("{}=1", "z".repeat(257))]), None);
        assert_eq!(parse(&["foo=1", &format!("t@{}=1", "v".repeat(255))]), None);
    }

    #[test]
    fn keys_with_at_signs_are_kept() {
        for (fields, expected) in [
            (&["foo@=1,bar=2"][..], "foo@=1,bar=2"),
            (&["foo@@bar=1,bar=2"], "foo@@bar=1,bar=2"),
            (&["foo@bar@baz=1,bar=2"], "foo@bar@baz=1,bar=2"),
            (&["a=1", "t@0x=2"], "a=1,t@0x=2"),
        ] {
            assert_eq!(forwarded(fields).as_deref(), Some(expected), "{fields:?}");
        }
    }

    #[test]
    fn longest_keys_are_valid() {
        let key256 = "z".repeat(256);
        let ts = parse(&["foo=1", &format!("{key256}=1")]).expect("valid");
        assert_eq!(ts.get(&key256), Some("1"));
        for key in [
            format!("{}@{}", "t".repeat(241), "v".repeat(14)),
            format!("{}@v", "t".repeat(242)),
            format!("t@{}", "v".repeat(15)),
        ] {
            assert_eq!(
                forwarded(&["foo=1", &format!("{key}=1")]),
                Some(format!("foo=1,{key}=1"))
            );
        }
    }

    #[test]
    fn members_the_api_cannot_hold_stay_out_of_the_trace_state_only() {
        let parsed = parse_tracestate(&["a=1,foo@@bar=2,b=3"]).expect("valid");
        assert_eq!(parsed.trace_state.header(), "a=1,b=3");
        assert_eq!(parsed.unheld.as_ref().map(Vec::len), Some(3));
        // A list the API holds whole needs nothing beside it.
        assert!(parse_tracestate(&["a=1,foo@bar=2"])
            .expect("valid")
            .unheld
            .is_none());
    }

    #[test]
    fn forwarding_follows_the_changes_of_the_trace_state() {
        let parsed = parse_tracestate(&["a=1,foo@@bar=2,ot=th:8,b=3"]).expect("valid");
        let fwd = ForwardedTraceState::new(TraceId::from(7), parsed.unheld.expect("unheld"));
        let received = parsed.trace_state;
        let header = |ts: &TraceState| fwd.header_for(TraceId::from(7), ts).expect("same trace");
        assert_eq!(header(&received), "a=1,foo@@bar=2,ot=th:8,b=3");
        // A sampler updating its entry moves it leftmost.
        let updated = received.insert("ot", "th:c").unwrap();
        assert_eq!(header(&updated), "ot=th:c,a=1,foo@@bar=2,b=3");
        // A new entry goes leftmost, a deleted one is gone.
        let changed = received.insert("new", "x").unwrap().delete("b").unwrap();
        assert_eq!(header(&changed), "new=x,a=1,foo@@bar=2,ot=th:8");
        // Not this trace's list: nothing to forward.
        assert_eq!(fwd.header_for(TraceId::from(8), &received), None);
        // Never more than 32 members.
        let mut full = received.clone();
        for i in 0..40 {
            full = full.insert(format!("k{i}"), "v").unwrap();
        }
        assert_eq!(header(&full).split(',').count(), MAX_TRACESTATE_MEMBERS);
    }

    #[test]
    fn member_count_limit() {
        let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let ts = parse(&[&members[..32].join(",")]).expect("32 members are valid");
        assert_eq!(ts.into_iter().count(), 32);
        assert_eq!(ts.get("bar01"), Some("01"));
        assert_eq!(parse(&[&members.join(",")]), None);
        let split = [
            members[..10].join(","),
            members[10..20].join(","),
            members[20..].join(","),
        ];
        assert_eq!(parse(&[&split[0], &split[1], &split[2]]), None);
        // Empty members do not count toward the limit.
        let with_empties = format!("{},,,", members[..32].join(",,"));
        assert_eq!(
            parse(&[&with_empties]).map(|t| t.into_iter().count()),
            Some(32)
        );
    }

    #[test]
    fn format_round_trip() {
        let ts =
            TraceState::from_key_value([("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")])
                .unwrap();
        assert_eq!(
            format_tracestate(&ts).as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        assert_eq!(format_tracestate(&TraceState::NONE), None);
    }

    #[test]
    fn leftmost_entry_never_duplicated() {
        let ts = TraceState::from_key_value([("a", "1"), ("ot", "th:8"), ("b", "2")]).unwrap();
        let updated = with_leftmost_entry(&ts, "ot", "th:c").unwrap();
        assert_eq!(updated.header(), "ot=th:c,a=1,b=2");
        let fresh = with_leftmost_entry(&TraceState::NONE, "ot", "rv:ab").unwrap();
        assert_eq!(fresh.header(), "ot=rv:ab");
        let full: Vec<(String, String)> =
            (0..32).map(|i| (format!("k{i}"), i.to_string())).collect();
        let full = TraceState::from_key_value(full).unwrap();
        let updated = with_leftmost_entry(&full, "ot", "x").unwrap();
        assert_eq!(updated.into_iter().count(), 32);
        assert_eq!(updated.into_iter().next(), Some(("ot", "x")));
        assert!(with_leftmost_entry(&ts, "ot", "a,b").is_none());
        // Valid by the grammar, refused by TraceState.
        assert!(with_leftmost_entry(&ts, "foo@@bar", "x").is_none());
    }
}
