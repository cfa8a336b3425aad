//! Byte-level string helpers for short header values: plain loops beat
//! `memchr`-based searching on strings of a few dozen bytes.

/// Strips the optional whitespace (spaces and horizontal tabs) HTTP allows
/// around a field value or list member.
#[inline]
pub(crate) fn trim_ows(value: &str) -> &str {
    let (start, end) = ows_bounds(value.as_bytes());
    // Both ends sit next to ASCII bytes or at the ends: char boundaries.
    value.get(start..end).unwrap_or_default()
}

/// [`trim_ows`] of raw bytes.
#[inline]
pub(crate) fn trim_ows_bytes(bytes: &[u8]) -> &[u8] {
    let (start, end) = ows_bounds(bytes);
    bytes.get(start..end).unwrap_or_default()
}

/// Where `bytes` starts and ends once the surrounding spaces and tabs are
/// left out.
#[inline]
fn ows_bounds(bytes: &[u8]) -> (usize, usize) {
    let mut start = 0;
    let mut end = bytes.len();
    while start < end && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    (start, end)
}

/// Splits at the first `byte` (which must be ASCII).
#[inline]
pub(crate) fn split_once_byte(value: &str, byte: u8) -> Option<(&str, &str)> {
    debug_assert!(byte.is_ascii());
    let i = value.bytes().position(|b| b == byte)?;
    Some((value.get(..i)?, value.get(i + 1..)?))
}

/// Iterates over the pieces of `value` between `byte`s (which must be
/// ASCII), like `str::split`.
#[inline]
pub(crate) fn split_byte(value: &str, byte: u8) -> SplitByte<'_> {
    SplitByte {
        rest: Some(value),
        byte,
    }
}

/// Iterator returned by [`split_byte`].
pub(crate) struct SplitByte<'a> {
    rest: Option<&'a str>,
    byte: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once_byte(rest, self.byte) {
            Some((piece, tail)) => {
                self.rest = Some(tail);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_only_spaces_and_tabs() {
        assert_eq!(trim_ows(" \t a b \t"), "a b");
        assert_eq!(trim_ows("\n a"), "\n a");
        assert_eq!(trim_ows("  "), "");
        assert_eq!(trim_ows(" é "), "é");
    }

    #[test]
    fn splits_like_str_split() {
        for s in ["", ",", "a,b", "a,,b,", "é,ü"] {
            assert_eq!(
                split_byte(s, b',').collect::<Vec<_>>(),
                s.split(',').collect::<Vec<_>>()
            );
        }
        assert_eq!(split_once_byte("k=v=w", b'='), Some(("k", "v=w")));
        assert_eq!(split_once_byte("kv", b'='), None);
    }
}
