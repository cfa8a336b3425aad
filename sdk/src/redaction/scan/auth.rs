//! HTTP authentication credentials written out in text: `Bearer <token>`
//! and `Basic <base64(user:password)>` (RFC 6750, RFC 7617). The scheme is
//! matched case-insensitively and kept; the credential becomes the mask
//! (`Bearer REDACTED`).
//!
//! A `Bearer` credential is any RFC 7235 `token68`. A `Basic` one must also
//! decode (standard base64, padding optional) to bytes containing a `:`, so
//! prose such as "basic authentication failed" is left alone.

use super::{is_alnum, starts_with_ignore_case, Rewriter};
use memchr::memchr2;

/// RFC 7235 `token68` characters, without the trailing `=` padding.
#[inline]
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// Mask every bearer or basic credential in `text`; `None` when there is
/// none.
pub(crate) fn redact(text: &str, mask: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Rewriter::new(text);
    let mut pos = 0;
    while let Some(offset) = memchr2(b'b', b'B', &bytes[pos..]) {
        let i = pos + offset;
        pos = i + 1;
        if i > 0 && (is_alnum(bytes[i - 1]) || bytes[i - 1] == b'_') {
            continue;
        }
        let rest = &bytes[i..];
        let (scheme_len, basic) = if starts_with_ignore_case(rest, b"bearer") {
            (6, false)
        } else if starts_with_ignore_case(rest, b"basic") {
            (5, true)
        } else {
            continue;
        };
        let mut t = i + scheme_len;
        let spaces_start = t;
        while t < bytes.len() && (bytes[t] == b' ' || bytes[t] == b'\t') {
            t += 1;
        }
        if t == spaces_start {
            continue;
        }
        let mut end = t;
        while end < bytes.len() && is_token68(bytes[end]) {
            end += 1;
        }
        if end == t {
            continue;
        }
        while end < bytes.len() && bytes[end] == b'=' {
            end += 1;
        }
        let credential = &bytes[t..end];
        if credential == mask.as_bytes() || (basic && !decodes_with_colon(credential)) {
            pos = end;
            continue;
        }
        out.replace(t, end, mask.as_bytes());
        pos = end;
    }
    out.finish(mask)
}

/// Whether `b64` is standard base64 (padding optional) whose decoded bytes
/// contain a `:`.
fn decodes_with_colon(b64: &[u8]) -> bool {
    let body = match b64.iter().position(|&b| b == b'=') {
        Some(p) => &b64[..p],
        None => b64,
    };
    if body.len() % 4 == 1 {
        return false;
    }
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if (acc >> bits) & 0xff == u32::from(b':') {
                return true;
            }
            acc &= (1 << bits) - 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(r("Bearer abc.def-123"), "Bearer REDACTED");
        assert_eq!(
            r("Authorization: bearer   mF_9.B5f-4.1JqM ok"),
            "Authorization: bearer   REDACTED ok"
        );
        assert_eq!(r("BEARER tok=="), "BEARER REDACTED");
        assert_eq!(
            r("\"Bearer x\",\"Bearer y\""),
            "\"Bearer REDACTED\",\"Bearer REDACTED\""
        );
    }

    #[test]
    fn basic_credentials_must_decode_to_user_colon_password() {
        // base64("Aladdin:open sesame")
        assert_eq!(r("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), "Basic REDACTED");
        // base64("u:p") without padding
        assert_eq!(r("basic dTpw"), "basic REDACTED");
        assert_eq!(redact("basic authentication failed", "M"), None);
        assert_eq!(redact("Basic Zm9vYmFy", "M"), None); // "foobar"
    }

    #[test]
    fn words_that_only_contain_the_scheme_stay() {
        assert_eq!(redact("Mozilla/5.0 AppleWebKit/537.36", "M"), None);
        assert_eq!(redact("subearer x", "M"), None);
        assert_eq!(redact("Bearer", "M"), None);
        assert_eq!(redact("Bearer ", "M"), None);
        assert_eq!(redact("Bearer REDACTED", "REDACTED"), None);
    }

    #[test]
    fn colon_detection() {
        assert!(decodes_with_colon(b"dTpw"));
        assert!(!decodes_with_colon(b"Zm9vYmFy"));
        assert!(!decodes_with_colon(b"a"));
        assert!(!decodes_with_colon(b"ab-c"));
    }

    #[test]
    fn hostile_inputs() {
        let s = "Bearer ".repeat(50_000);
        let _ = redact(&s, "M");
        let s = format!("Basic {}", "A".repeat(200_001));
        assert_eq!(redact(&s, "M"), None);
    }
}
