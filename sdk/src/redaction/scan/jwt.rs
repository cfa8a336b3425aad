//! JSON Web Tokens (RFC 7519) in compact form: base64url segments joined by
//! dots, the first starting with `eyJ` (the encoding of `{"`). Three
//! segments (JWS; the signature may be empty for an unsecured JWT) or five
//! (JWE). The whole token becomes the mask.

use super::Rewriter;
use memchr::memmem;

/// Base64url alphabet (no padding).
#[inline]
fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Shortest plausible header segment (`{"alg":"x"}` encodes to 15 bytes;
/// allow some slack).
const MIN_HEADER: usize = 10;

/// Replace every JWT-shaped token in `text` with `mask`; `None` when there
/// is none.
pub(crate) fn redact(text: &str, mask: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Rewriter::new(text);
    let finder = memmem::Finder::new(b"eyJ");
    let mut pos = 0;
    while let Some(offset) = finder.find(&bytes[pos..]) {
        let start = pos + offset;
        pos = start + 3;
        if start > 0 && is_b64url(bytes[start - 1]) {
            continue;
        }
        if let Some(end) = token_end(bytes, start) {
            out.replace(start, end, mask.as_bytes());
            pos = end;
        }
    }
    out.finish(mask)
}

/// End of the JWT starting at `start`, if there is one.
fn token_end(bytes: &[u8], start: usize) -> Option<usize> {
    let segment = |from: usize| {
        let mut i = from;
        while i < bytes.len() && is_b64url(bytes[i]) {
            i += 1;
        }
        i
    };
    let header_end = segment(start);
    if header_end - start < MIN_HEADER || bytes.get(header_end) != Some(&b'.') {
        return None;
    }
    let payload_end = segment(header_end + 1);
    if payload_end == header_end + 1 || bytes.get(payload_end) != Some(&b'.') {
        return None;
    }
    let third_end = segment(payload_end + 1);
    // JWE: two more segments.
    if bytes.get(third_end) == Some(&b'.') {
        let fourth_end = segment(third_end + 1);
        if bytes.get(fourth_end) == Some(&b'.') {
            let fifth_end = segment(fourth_end + 1);
            if fifth_end > fourth_end + 1 {
                return Some(fifth_end);
            }
        }
    }
    Some(third_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    fn r(s: &str) -> String {
        redact(s, "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn jws_unsecured_and_jwe() {
        assert_eq!(r(JWT), "REDACTED");
        assert_eq!(r(&format!("token={JWT}&x=1")), "token=REDACTED&x=1");
        assert_eq!(r("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."), "REDACTED");
        assert_eq!(
            r("eyJhbGciOiJSU0EtT0FFUCJ9.OKOawDo13gRp2o.48V1_ALb6US04U3b.5eym8TW_c8SuK.XFBoMYUZodetZdvTiFvSkQ"),
            "REDACTED"
        );
    }

    #[test]
    fn not_jwts() {
        assert_eq!(redact("eyJhbGciOiJIUzI1NiJ9", "M"), None);
        assert_eq!(redact("eyJhbGciOiJIUzI1NiJ9.", "M"), None);
        assert_eq!(redact("keyJhbGciOiJIUzI1NiJ9.abc.def", "M"), None);
        assert_eq!(redact("eyJ.a.b", "M"), None);
        assert_eq!(redact("money Jar", "M"), None);
    }

    #[test]
    fn hostile_inputs() {
        let s = "eyJ".repeat(100_000);
        assert_eq!(redact(&s, "M"), None);
        let s = "eyJaaaaaaaaaa.".repeat(50_000);
        let _ = redact(&s, "M");
    }
}
