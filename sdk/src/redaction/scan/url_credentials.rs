//! Credentials in URLs: the userinfo of `scheme://user:password@host`
//! becomes `REDACTED:REDACTED` (as the semantic conventions ask for
//! `url.full`), and a user-only userinfo (`https://token@host`, a common way
//! to pass access tokens) becomes `REDACTED`.
//!
//! The authority runs from `://` to the first `/`, `?`, `#`, `\`,
//! whitespace, quote or angle bracket (the WHATWG URL parser's authority
//! terminators, plus the characters that end a URL embedded in text); the
//! userinfo is everything before its last `@`.

use super::Rewriter;
use memchr::{memchr, memmem, memrchr};

/// Whether `b` ends a URL authority.
#[inline]
fn ends_authority(b: u8) -> bool {
    matches!(
        b,
        b'/' | b'?' | b'#' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`'
    ) || b.is_ascii_whitespace()
}

/// Mask the userinfo of every URL in `text`; `None` when there is none.
pub(crate) fn redact(text: &str, mask: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // Every userinfo ends with `@`: one vectorised search settles the
    // common case before any searcher is built.
    memchr(b'@', bytes)?;
    let mut out = Rewriter::new(text);
    let finder = memmem::Finder::new(b"://");
    let mut pos = 0;
    while let Some(offset) = finder.find(&bytes[pos..]) {
        let start = pos + offset + 3;
        let mut end = start;
        while end < bytes.len() && !ends_authority(bytes[end]) {
            end += 1;
        }
        pos = end;
        let Some(at) = memrchr(b'@', &bytes[start..end]) else {
            continue;
        };
        if at == 0 {
            continue;
        }
        let userinfo = &bytes[start..start + at];
        let m = mask.as_bytes();
        let already = if userinfo.contains(&b':') {
            userinfo.len() == 2 * m.len() + 1 && userinfo.starts_with(m) && userinfo.ends_with(m)
        } else {
            userinfo == m
        };
        if already {
            continue;
        }
        if userinfo.contains(&b':') {
            out.replace_parts(start, start + at, &[m, b":", m]);
        } else {
            out.replace(start, start + at, m);
        }
    }
    out.finish(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn userinfo_is_masked_host_and_path_kept() {
        assert_eq!(
            r("https://user:pass@www.example.com/a?b=c"),
            "https://REDACTED:REDACTED@www.example.com/a?b=c"
        );
        assert_eq!(
            r("postgres://svc:p@ss@db:5432/app"),
            "postgres://REDACTED:REDACTED@db:5432/app"
        );
        assert_eq!(
            r("clone https://ghp_abc123@github.com/o/r.git now"),
            "clone https://REDACTED@github.com/o/r.git now"
        );
        assert_eq!(
            r("redis://:secret@cache"),
            "redis://REDACTED:REDACTED@cache"
        );
        assert_eq!(
            r("a http://u:p@h1 and ftp://x:y@h2"),
            "a http://REDACTED:REDACTED@h1 and ftp://REDACTED:REDACTED@h2"
        );
    }

    #[test]
    fn no_credentials() {
        assert_eq!(redact("https://example.com/users/a@b.com", "M"), None);
        assert_eq!(redact("https://example.com?x=@y", "M"), None);
        assert_eq!(redact("https://@example.com", "M"), None);
        assert_eq!(redact("mailto:a@b.com", "M"), None);
        assert_eq!(redact("https://REDACTED:REDACTED@h/", "REDACTED"), None);
    }

    #[test]
    fn non_ascii_and_hostile() {
        assert_eq!(
            r("https://jös:pä@hôst/é"),
            "https://REDACTED:REDACTED@hôst/é"
        );
        let s = "://".repeat(100_000);
        assert_eq!(redact(&s, "M"), None);
        let s = format!("http://{}", "@".repeat(200_000));
        let _ = redact(&s, "M");
    }
}
