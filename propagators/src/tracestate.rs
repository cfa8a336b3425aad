//! The W3C `tracestate` header value: list parsing with the Level 2 key and
//! value grammar, formatting, and the helper that puts an entry leftmost.

use crate::text::trim_ows;
use opentelemetry::trace::TraceState;

/// Maximum number of list members a `tracestate` may hold.
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// Longest `tenant-id` of a multi-tenant key.
const MAX_TENANT_ID_LEN: usize = 241;
/// Longest `system-id` of a multi-tenant key.
const MAX_SYSTEM_ID_LEN: usize = 14;
/// Longest simple key and longest value.
const MAX_KEY_OR_VALUE_LEN: usize = 256;

/// Byte classes of the `tracestate` grammar, one table lookup per byte.
const LCALPHA: u8 = 1;
const DIGIT: u8 = 1 << 1;
/// `lcalpha / DIGIT / "_" / "-" / "*" / "/"`.
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
        if matches!(c, b'_' | b'-' | b'*' | b'/') {
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

/// Checks a key against the grammar (see [`is_valid_tracestate_key`]) in
/// one pass; `Some(position of the '@')` for a valid multi-tenant key,
/// `Some(None)` for a valid simple key.
#[inline]
fn check_key(key: &[u8]) -> Option<Option<usize>> {
    let mut at = None;
    for (i, &b) in key.iter().enumerate() {
        if class(b) & KEY_CHAR == 0 {
            if b != b'@' || at.is_some() {
                return None;
            }
            at = Some(i);
        }
    }
    let first = class(*key.first()?);
    let valid = match at {
        None => key.len() <= MAX_KEY_OR_VALUE_LEN && first & LCALPHA != 0,
        Some(at) => {
            let system_len = key.len() - at - 1;
            (1..=MAX_TENANT_ID_LEN).contains(&at)
                && first & (LCALPHA | DIGIT) != 0
                && (1..=MAX_SYSTEM_ID_LEN).contains(&system_len)
                && class(key[at + 1]) & LCALPHA != 0
        }
    };
    valid.then_some(at)
}

/// Checks a `tracestate` key against the W3C grammar:
///
/// ```text
/// key              = simple-key / multi-tenant-key
/// simple-key       = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
/// multi-tenant-key = tenant-id "@" system-id
/// tenant-id        = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
/// system-id        = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
/// ```
pub fn is_valid_tracestate_key(key: &str) -> bool {
    check_key(key.as_bytes()).is_some()
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

/// `opentelemetry::trace::TraceState` (0.33) refuses multi-tenant keys whose
/// `system-id` has the 14 characters the recommendation allows. Such a
/// member is valid on the wire but cannot be stored; it is the only member
/// this crate ever leaves out of an otherwise valid list.
#[inline]
fn representable_in_trace_state(key: &str, at: Option<usize>) -> bool {
    match at {
        Some(at) => key.len() - at - 1 < MAX_SYSTEM_ID_LEN,
        None => true,
    }
}

/// Splits a trimmed, non-empty list member into a valid key and value, with
/// the key's `@` position; `None` when it is not `key=value` by the grammar.
#[inline]
fn split_member(member: &str) -> Option<(&str, &str, Option<usize>)> {
    let bytes = member.as_bytes();
    let eq = bytes.iter().position(|&b| b == b'=')?;
    let at = check_key(&bytes[..eq])?;
    // `eq` is an ASCII byte: both sides are char boundaries.
    let (key, value) = (member.get(..eq)?, member.get(eq + 1..)?);
    is_valid_tracestate_value(value).then_some((key, value, at))
}

/// Walks the list members of several `tracestate` fields (as if joined with
/// `,`), yielding the valid, storable ones and recording why the list must
/// be discarded, in a single pass over the bytes.
struct MemberScanner<'a, 'f> {
    fields: &'f [&'a str],
    next_field: usize,
    rest: Option<&'a str>,
    count: usize,
    invalid: bool,
    /// Valid keys that `TraceState` cannot store (rare; kept for the
    /// duplicate check).
    skipped: Vec<&'a str>,
}

impl<'a, 'f> MemberScanner<'a, 'f> {
    fn new(fields: &'f [&'a str]) -> Self {
        MemberScanner {
            fields,
            next_field: 0,
            rest: None,
            count: 0,
            invalid: false,
            skipped: Vec::new(),
        }
    }

    /// The next raw list member (between commas), across fields.
    #[inline]
    fn next_raw(&mut self) -> Option<&'a str> {
        loop {
            if let Some(rest) = self.rest {
                let bytes = rest.as_bytes();
                let mut i = 0;
                while i < bytes.len() && bytes[i] != b',' {
                    i += 1;
                }
                // `i` is at an ASCII ',' or at the end: both are char boundaries.
                let (member, tail) = (rest.get(..i)?, rest.get(i + 1..));
                self.rest = tail;
                return Some(member);
            }
            let field = self.fields.get(self.next_field)?;
            self.next_field += 1;
            self.rest = Some(field);
        }
    }
}

impl<'a> Iterator for MemberScanner<'a, '_> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        while !self.invalid {
            let member = trim_ows(self.next_raw()?);
            if member.is_empty() {
                continue;
            }
            let Some((key, value, at)) = split_member(member) else {
                self.invalid = true;
                return None;
            };
            self.count += 1;
            if self.count > MAX_TRACESTATE_MEMBERS {
                self.invalid = true;
                return None;
            }
            if representable_in_trace_state(key, at) {
                return Some((key, value));
            }
            self.skipped.push(key);
        }
        None
    }
}

/// Parses the `tracestate` header fields of one carrier, as if they were
/// joined with `,` (RFC 9110 field order).
///
/// Returns `None` when the combined list is invalid and must be discarded as
/// a whole: a member that is not `key=value` with a valid key and value, a
/// duplicated key, or more than 32 members. Empty and whitespace-only members
/// are allowed and do not count. Returns an empty `TraceState` when there is
/// no member at all. Member order and values are kept byte for byte.
pub(crate) fn parse_tracestate(fields: &[&str]) -> Option<TraceState> {
    let mut scanner = MemberScanner::new(fields);
    // Every yielded member passed a stricter check than TraceState's own, so
    // this cannot fail; an error would still only drop the list.
    let trace_state = TraceState::from_key_value(&mut scanner).ok()?;
    // Look at what follows the members TraceState took (at most 32).
    while scanner.next().is_some() {}
    if scanner.invalid {
        return None;
    }
    let mut keys = trace_state
        .into_iter()
        .map(|(k, _)| k)
        .chain(scanner.skipped.iter().copied());
    let total = trace_state.into_iter().len() + scanner.skipped.len();
    for i in 0..total {
        let Some(key) = keys.next() else { break };
        let later = trace_state
            .into_iter()
            .map(|(k, _)| k)
            .chain(scanner.skipped.iter().copied());
        if later.skip(i + 1).any(|other| other == key) {
            return None;
        }
    }
    Some(trace_state)
}

/// Formats a `TraceState` as a `tracestate` header value (one allocation),
/// or `None` when it is empty.
pub(crate) fn format_tracestate(trace_state: &TraceState) -> Option<String> {
    let mut iter = trace_state.into_iter();
    if iter.len() == 0 {
        return None;
    }
    let len: usize = trace_state
        .into_iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum::<usize>()
        - 1;
    let mut out = String::with_capacity(len);
    if let Some((k, v)) = iter.next() {
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    for (k, v) in iter {
        out.push(',');
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    Some(out)
}

/// Returns `trace_state` with `key=value` as its leftmost entry and no other
/// entry for `key`, as the W3C recommendation requires when a vendor updates
/// its own entry (for example the `ot` entry of the OpenTelemetry
/// probability sampler).
///
/// This is what [`TraceState::insert`] already does: it removes any existing
/// entry for the key, pushes the new one to the front, and drops the
/// rightmost entry when the list already holds 32. This helper additionally
/// checks the key and value against the W3C grammar of this crate (which is
/// stricter than `TraceState`'s own checks) and returns `None` when either is
/// invalid; the input is never modified.
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
        parse_tracestate(fields)
    }

    fn header(fields: &[&str]) -> Option<String> {
        parse(fields).map(|ts| ts.header())
    }

    #[test]
    fn keys() {
        for key in [
            "foo",
            "a",
            "abcdefghijklmnopqrstuvwxyz0123456789_-*/",
            "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/",
            "0tenant@system",
            "rojo",
            "congo",
        ] {
            assert!(is_valid_tracestate_key(key), "{key}");
        }
        assert!(is_valid_tracestate_key(&"z".repeat(256)));
        assert!(!is_valid_tracestate_key(&"z".repeat(257)));
        assert!(is_valid_tracestate_key(&format!(
            "{}@{}",
            "t".repeat(241),
            "v".repeat(14)
        )));
        assert!(!is_valid_tracestate_key(&format!("{}@v", "t".repeat(242))));
        assert!(!is_valid_tracestate_key(&format!("t@{}", "v".repeat(15))));
        for key in [
            "",
            "foo ",
            "FOO",
            "foo.bar",
            "foo@",
            "@foo",
            "foo@@bar",
            "foo@bar@baz",
            "0simple",
            "_x",
            "t@0sys",
            "t@Sys",
            "fóo",
        ] {
            assert!(!is_valid_tracestate_key(key), "{key:?}");
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
    fn duplicates_discard_the_list() {
        assert_eq!(parse(&["foo=1,foo=1"]), None);
        assert_eq!(parse(&["foo=1,foo=2"]), None);
        assert_eq!(parse(&["foo=1", "foo=1"]), None);
        assert_eq!(parse(&["foo=1", "foo=2"]), None);
    }

    #[test]
    fn any_invalid_member_discards_the_list() {
        for v in [
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "foo@=1,bar=2",
            "@foo=1,bar=2",
            "foo@@bar=1,bar=2",
            "foo@bar@baz=1,bar=2",
            "foo=bar=baz",
            "foo=,bar=3",
            "foo,bar=3",
            "=1",
        ] {
            assert_eq!(parse(&[v]), None, "{v:?}");
        }
        assert_eq!(parse(&["foo=1", &format!("{}=1", "z".repeat(257))]), None);
        assert_eq!(parse(&["foo=1", &format!("{}@v=1", "t".repeat(242))]), None);
        assert_eq!(parse(&["foo=1", &format!("t@{}=1", "v".repeat(15))]), None);
    }

    #[test]
    fn longest_keys_are_valid() {
        let ts = parse(&["foo=1", &format!("{}=1", "z".repeat(256))]).expect("valid");
        assert_eq!(ts.get("foo"), Some("1"));
        // Valid on the wire but not storable in TraceState: only that member is left out.
        let ts = parse(&[
            "foo=1",
            &format!("{}@{}=1", "t".repeat(241), "v".repeat(14)),
        ])
        .expect("valid");
        assert_eq!(ts.header(), "foo=1");
        let key14 = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        assert_eq!(
            parse(&[&format!("{key14}=1,foo=2,{key14}=3")]),
            None,
            "duplicate of a skipped key"
        );
        let key13 = format!("{}@{}", "t".repeat(241), "v".repeat(13));
        let ts = parse(&["foo=1", &format!("{key13}=1")]).expect("valid");
        assert_eq!(ts.get(&key13), Some("1"));
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
    }
}
