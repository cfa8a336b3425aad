//! Percent-encoding and decoding of baggage values (W3C Baggage, Jaeger
//! `uberctx-` headers), hand-written to avoid intermediate allocations.

use std::borrow::Cow;

/// `true` for bytes that may appear unencoded in an encoded value: the W3C
/// `baggage-octet` set minus `%` (so decoding gives the original back) and
/// `=` (which naive parsers split on).
const fn build_unreserved() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0x21usize;
    while b <= 0x7e {
        table[b] = !matches!(b as u8, b'"' | b',' | b';' | b'\\' | b'%' | b'=');
        b += 1;
    }
    table
}
const UNRESERVED: [bool; 256] = build_unreserved();

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Length of `value` once percent-encoded.
#[inline]
pub(crate) fn encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if UNRESERVED[b as usize] { 1 } else { 3 })
        .sum()
}

/// Appends `value` percent-encoded (UTF-8 bytes, uppercase hex) to `out`.
#[inline]
pub(crate) fn encode_into(value: &str, out: &mut String) {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !UNRESERVED[b as usize] {
            // `start..i`, when not empty, only holds unreserved ASCII bytes.
            if start < i {
                out.push_str(value.get(start..i).unwrap_or_default());
            }
            out.push('%');
            out.push(char::from(UPPER_HEX[(b >> 4) as usize]));
            out.push(char::from(UPPER_HEX[(b & 0x0f) as usize]));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push_str(value.get(start..).unwrap_or_default());
    }
}

#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `value`. A `%` not followed by two hex digits is kept as
/// is; decoded bytes that are not valid UTF-8 become U+FFFD. Borrows when
/// there is nothing to decode.
pub(crate) fn decode(value: &str) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Cow::Borrowed(value);
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: &str) -> String {
        let mut out = String::new();
        encode_into(value, &mut out);
        assert_eq!(out.len(), encoded_len(value));
        out
    }

    #[test]
    fn encodes_everything_outside_baggage_octets() {
        assert_eq!(encode("DF 28"), "DF%2028");
        assert_eq!(encode("alice"), "alice");
        assert_eq!(encode("a,b;c\"d\\e%f=g"), "a%2Cb%3Bc%22d%5Ce%25f%3Dg");
        assert_eq!(encode("\t\u{7f}"), "%09%7F");
        assert_eq!(encode("é😊"), "%C3%A9%F0%9F%98%8A");
        assert_eq!(
            encode("!#$&'()*+-./:<>?@[]^_`{|}~"),
            "!#$&'()*+-./:<>?@[]^_`{|}~"
        );
    }

    #[test]
    fn decodes() {
        assert!(matches!(decode("plain"), Cow::Borrowed("plain")));
        assert_eq!(decode("DF%2028"), "DF 28");
        assert_eq!(decode("%c3%a9%C3%A9"), "éé");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
        assert_eq!(decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn round_trip() {
        for v in ["", "a b", "%", "%25", "x=y", "😊,;\"\\", "\u{0}"] {
            assert_eq!(decode(&encode(v)), v);
        }
    }
}
