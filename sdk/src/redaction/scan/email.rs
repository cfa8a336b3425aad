//! Email addresses: the local part becomes its first character followed by
//! `***`, the domain is kept (`alice@example.com` → `a***@example.com`), so
//! traces can still be grouped by domain.
//!
//! The local part is the run of RFC 5322 `atext` characters, dots and
//! non-ASCII characters (RFC 6531) right before an `@`; the domain is at
//! least two dot-separated labels of letters, digits, hyphens or non-ASCII
//! characters, the last one starting with a letter (or being non-ASCII) and
//! at least two bytes long. Each byte is looked at by at most one backward
//! and one forward walk, so the scan is linear.

use super::Rewriter;
use memchr::memchr_iter;

/// Characters allowed in the local part (RFC 5322 `atext`, the dot, and any
/// non-ASCII byte).
#[inline]
fn is_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

/// Characters allowed in a domain label.
#[inline]
fn is_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80
}

/// Mask the local part of every email address in `text`; `None` when there
/// is none.
pub(crate) fn redact(text: &str, fallback: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Rewriter::new(text);
    // Bytes before `floor` belong to an address already handled.
    let mut floor = 0;
    for at in memchr_iter(b'@', bytes) {
        if at < floor {
            continue;
        }
        let mut start = at;
        while start > floor && is_local(bytes[start - 1]) {
            start -= 1;
        }
        if start == at {
            continue;
        }
        let Some(domain_end) = domain_end(bytes, at + 1) else {
            continue;
        };
        let local = &text[start..at];
        let first_len = local.chars().next().map_or(0, char::len_utf8);
        let first = &local.as_bytes()[..first_len];
        out.replace_parts(start, at, &[first, b"***"]);
        floor = domain_end;
    }
    out.finish(fallback)
}

/// Where the domain starting at `from` ends, if it is a plausible one.
fn domain_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    let mut labels = 0;
    let mut last_label = (from, from);
    loop {
        let label_start = i;
        while i < bytes.len() && is_domain(bytes[i]) {
            i += 1;
        }
        if i == label_start {
            break;
        }
        labels += 1;
        last_label = (label_start, i);
        if i + 1 < bytes.len() && bytes[i] == b'.' && is_domain(bytes[i + 1]) {
            i += 1;
        } else {
            break;
        }
    }
    let (tld_start, tld_end) = last_label;
    let tld_ok = tld_end - tld_start >= 2
        && (bytes[tld_start].is_ascii_alphabetic() || bytes[tld_start] >= 0x80);
    (labels >= 2 && tld_ok).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn masks_the_local_part_and_keeps_the_domain() {
        assert_eq!(r("user@example.com"), "u***@example.com");
        assert_eq!(
            r("from: Alice.Smith+tag@mail.example.co.uk."),
            "from: A***@mail.example.co.uk."
        );
        assert_eq!(r("a@b.io and bob@x.org"), "a***@b.io and b***@x.org");
        assert_eq!(r("<ana@example.com>"), "<a***@example.com>");
    }

    #[test]
    fn non_ascii_addresses() {
        assert_eq!(r("émilie@exemple.fr"), "é***@exemple.fr");
        assert_eq!(r("用户@例子.广告"), "用***@例子.广告");
    }

    #[test]
    fn not_emails() {
        assert_eq!(redact("@example.com", "M"), None);
        assert_eq!(redact("user@localhost", "M"), None);
        assert_eq!(redact("user@host.1", "M"), None);
        assert_eq!(redact("a @ b.com", "M"), None);
        assert_eq!(redact("git@", "M"), None);
    }

    #[test]
    fn hostile_inputs_are_linear() {
        let many_ats = "a@".repeat(100_000);
        assert_eq!(redact(&many_ats, "M"), None);
        let long_local = format!("{}@example.com", "x".repeat(200_000));
        assert_eq!(
            redact(&long_local, "M").as_deref(),
            Some("x***@example.com")
        );
        let long_domain = format!("a@{}", "b.".repeat(100_000));
        let _ = redact(&long_domain, "M");
    }
}
