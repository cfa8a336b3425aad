//! Sensitive parameters written as `name=value`: in query strings
//! (`?token=…&…`), form bodies, cookies and free text (`password=hunter2`).
//! The name is kept and the value becomes the mask (`sig=REDACTED`), as the
//! semantic conventions ask for `url.full` and `url.query`.
//!
//! The name is the run of letters, digits, `_` and `-` right before the `=`
//! (one closing `]` is skipped, so `user[password]=` counts), compared with
//! the list ignoring ASCII case (the conventions' own list is case-sensitive;
//! matching more is the safe side). The value runs to the next `&`, `#`,
//! whitespace, quote or angle bracket.

use super::Rewriter;

/// Longest parameter name looked at; longer names never match.
const MAX_NAME: usize = 32;

/// The built-in sensitive parameter names (lowercase): the one list the
/// tower HTTP layers use too.
pub(crate) use tracekit_propagators::SENSITIVE_QUERY_PARAMETERS as DEFAULT_NAMES;

/// The bit of the ending filter for a name's last two bytes (the second
/// last in the low byte). Case is folded by setting the 0x20 bit of both:
/// exact lowercasing for ASCII letters, and a few other bytes share a bit,
/// which only lets more names through the filter, never fewer.
#[inline]
const fn ending_bit(last_two: u16) -> usize {
    let pair = (last_two | 0x2020) as u32;
    // Multiplicative hashing: the top 10 bits of the product.
    (pair.wrapping_mul(0x9E37_79B1) >> 22) as usize
}

/// A name's last two bytes as [`ending_bit`] takes them (`None` for a name
/// shorter than two bytes).
const fn last_two(name: &[u8]) -> Option<u16> {
    match name {
        [.., second_last, last] => Some(u16::from_le_bytes([*second_last, *last])),
        _ => None,
    }
}

/// One bit per hashed last-two-bytes of a built-in name (every built-in
/// name has at least two bytes): a name whose ending bit is clear is not
/// one of them, without lowercasing or comparing it.
const DEFAULT_ENDINGS: [u64; 16] = {
    let mut set = [0u64; 16];
    let mut i = 0;
    while i < DEFAULT_NAMES.len() {
        let Some(two) = last_two(DEFAULT_NAMES[i].as_bytes()) else {
            panic!("built-in names have at least two bytes");
        };
        let bit = ending_bit(two);
        set[bit / 64] |= 1 << (bit % 64);
        i += 1;
    }
    set
};

/// Whether `lower` (already lowercase) is a built-in sensitive name.
#[inline]
fn is_default_name(lower: &[u8]) -> bool {
    DEFAULT_NAMES.iter().any(|name| name.as_bytes() == lower)
}

/// Characters of a parameter name.
#[inline]
fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether `b` ends a parameter value.
#[inline]
fn ends_value(b: u8) -> bool {
    matches!(b, b'&' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`') || b.is_ascii_whitespace()
}

/// Where the name before the `=` at `eq` ends: just before it, or before
/// a `]` just before it (`user[password]=`).
#[inline]
fn name_end(bytes: &[u8], eq: usize) -> usize {
    if eq > 0 && bytes.get(eq - 1) == Some(&b']') {
        eq - 1
    } else {
        eq
    }
}

/// The sensitive parameter names: the built-in list, extra names, or both.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParamNames {
    /// Match the built-in list.
    defaults: bool,
    /// Extra names, lowercase.
    extra: Vec<Box<[u8]>>,
    /// The [`ending_bit`]s of every name.
    endings: [u64; 16],
    /// Some extra name has a single byte, which the ending filter cannot
    /// tell apart: every name may then match.
    single_byte_name: bool,
}

impl ParamNames {
    /// The built-in names (when `defaults`) and the `extra` ones
    /// (lowercase).
    pub(crate) fn new(defaults: bool, extra: Vec<Box<[u8]>>) -> ParamNames {
        let mut endings = if defaults { DEFAULT_ENDINGS } else { [0; 16] };
        let mut single_byte_name = false;
        for name in &extra {
            match last_two(name) {
                Some(two) => {
                    let bit = ending_bit(two);
                    endings[bit / 64] |= 1 << (bit % 64);
                }
                None => single_byte_name |= !name.is_empty(),
            }
        }
        ParamNames {
            defaults,
            extra,
            endings,
            single_byte_name,
        }
    }

    /// Whether a name ending just before `end` may be in the list (`false`
    /// only when it certainly is not).
    #[inline]
    fn may_end_a_name(&self, bytes: &[u8], end: usize) -> bool {
        if self.single_byte_name {
            return true;
        }
        let two = end
            .checked_sub(2)
            .and_then(|start| bytes.get(start..end))
            .and_then(last_two);
        // No name of two bytes or more ends there.
        let Some(two) = two else {
            return false;
        };
        let bit = ending_bit(two);
        self.endings[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// Whether the `=` at `eq` may follow a sensitive name: checked by the
    /// name's last two bytes (a `]` just before the `=`, as in
    /// `user[password]=`, is stepped over), so `false` is certain and
    /// `true` only possible.
    #[inline]
    pub(crate) fn may_precede_equals(&self, bytes: &[u8], eq: usize) -> bool {
        self.may_end_a_name(bytes, name_end(bytes, eq))
    }

    fn contains(&self, lower: &[u8]) -> bool {
        (self.defaults && is_default_name(lower)) || self.extra.iter().any(|n| **n == *lower)
    }
}

/// Mask the value of every sensitive parameter in `text`; `None` when there
/// is none.
pub(crate) fn redact(text: &str, names: &ParamNames, mask: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Rewriter::new(text);
    let mut pos = 0;
    while let Some(offset) = memchr::memchr(b'=', &bytes[pos..]) {
        let eq = pos + offset;
        pos = eq + 1;
        let name_end = name_end(bytes, eq);
        if !names.may_end_a_name(bytes, name_end) {
            continue;
        }
        let mut name_start = name_end;
        while name_start > 0 && name_end - name_start <= MAX_NAME && is_name(bytes[name_start - 1])
        {
            name_start -= 1;
        }
        let len = name_end - name_start;
        if len == 0 || len > MAX_NAME {
            continue;
        }
        let mut lower = [0u8; MAX_NAME];
        for (dst, src) in lower.iter_mut().zip(&bytes[name_start..name_end]) {
            *dst = src.to_ascii_lowercase();
        }
        if !names.contains(&lower[..len]) {
            continue;
        }
        let mut value_end = eq + 1;
        while value_end < bytes.len() && !ends_value(bytes[value_end]) {
            value_end += 1;
        }
        pos = value_end;
        let value = &bytes[eq + 1..value_end];
        if value.is_empty() || value == mask.as_bytes() {
            continue;
        }
        out.replace(eq + 1, value_end, mask.as_bytes());
    }
    out.finish(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ParamNames {
        ParamNames::new(true, Vec::new())
    }

    fn r(s: &str) -> String {
        redact(s, &defaults(), "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn every_default_name_is_matched() {
        for name in DEFAULT_NAMES {
            let text = format!("https://h/p?a=1&{name}=v4lue&b=2");
            assert_eq!(r(&text), format!("https://h/p?a=1&{name}=REDACTED&b=2"));
            let upper = name.to_ascii_uppercase();
            assert_eq!(
                r(&format!("?{upper}=x")),
                format!("?{upper}=REDACTED"),
                "{upper}"
            );
        }
    }

    #[test]
    fn query_strings_forms_and_text() {
        assert_eq!(
            r("https://s3/o?X-Amz-Signature=abc&X-Amz-Date=1#frag"),
            "https://s3/o?X-Amz-Signature=REDACTED&X-Amz-Date=1#frag"
        );
        assert_eq!(
            r("q=OpenTelemetry&sig=abc=="),
            "q=OpenTelemetry&sig=REDACTED"
        );
        assert_eq!(
            r("login failed password=hunter2 user=bob"),
            "login failed password=REDACTED user=bob"
        );
        assert_eq!(
            r("user[password]=x&auth.token=y"),
            "user[password]=REDACTED&auth.token=REDACTED"
        );
        assert_eq!(
            r("{\"u\":\"/cb?token=t0k\"}"),
            "{\"u\":\"/cb?token=REDACTED\"}"
        );
    }

    #[test]
    fn other_names_empty_values_and_masks_stay() {
        assert_eq!(
            redact("page=2&sort=asc&monkey=1&tokens=3", &defaults(), "M"),
            None
        );
        assert_eq!(redact("token=&x=1", &defaults(), "M"), None);
        assert_eq!(redact("token=M", &defaults(), "M"), None);
        assert_eq!(redact("=token", &defaults(), "M"), None);
    }

    #[test]
    fn extra_names_and_defaults_off() {
        let names = ParamNames::new(false, vec![b"session".to_vec().into_boxed_slice()]);
        assert_eq!(
            redact("session=abc&token=t", &names, "M").as_deref(),
            Some("session=M&token=t")
        );
    }

    #[test]
    fn extra_names_pass_the_ending_filter_in_any_case() {
        let boxed = |n: &[u8]| n.to_vec().into_boxed_slice();
        let names = ParamNames::new(false, vec![boxed(b"my_id"), boxed(b"s-2")]);
        assert_eq!(
            redact("x=1&MY_ID=2&S-2=3", &names, "M").as_deref(),
            Some("x=1&MY_ID=M&S-2=M")
        );
        assert_eq!(redact("token=1", &names, "M"), None);
        // A one-byte name defeats the filter but still matches exactly.
        let names = ParamNames::new(true, vec![boxed(b"k")]);
        assert_eq!(
            redact("k=1&ak=2&token=3", &names, "M").as_deref(),
            Some("k=M&ak=2&token=M")
        );
    }

    #[test]
    fn hostile_inputs() {
        let s = "=".repeat(200_000);
        assert_eq!(redact(&s, &defaults(), "M"), None);
        let s = format!("{}=1", "a".repeat(200_000));
        assert_eq!(redact(&s, &defaults(), "M"), None);
        let s = "token=".repeat(50_000);
        let _ = redact(&s, &defaults(), "M");
    }
}
