//! Value scanners: hand-written, linear-time searches for secrets inside a
//! string, each rewriting the matches in place.
//!
//! Every scanner works on bytes, only ever cuts the string next to an ASCII
//! byte (so the output stays valid UTF-8), and visits each byte a bounded
//! number of times, whatever the input. A one-pass byte classification
//! ([`Facts`]) tells which scanners can possibly match, so a string with
//! nothing to redact costs one table-driven pass plus, at most, a few
//! vectorised `memchr` searches.

pub(crate) mod auth;
pub(crate) mod card;
pub(crate) mod email;
pub(crate) mod jwt;
pub(crate) mod query;
pub(crate) mod url_credentials;

/// The string has an ASCII digit.
pub(crate) const DIGIT: u8 = 1;
/// The string has an `@`.
pub(crate) const AT: u8 = 1 << 1;
/// The string has an `=`.
pub(crate) const EQUALS: u8 = 1 << 2;
/// The string has a `:`.
pub(crate) const COLON: u8 = 1 << 3;
/// The string has a `J` (JWTs start with `eyJ`).
pub(crate) const UPPER_J: u8 = 1 << 4;
/// The string has a `b` or `B` (`Bearer`, `Basic`).
pub(crate) const LETTER_B: u8 = 1 << 5;

/// Byte class table behind [`Facts::of`].
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        table[d as usize] = DIGIT;
        d += 1;
    }
    table[b'@' as usize] = AT;
    table[b'=' as usize] = EQUALS;
    table[b':' as usize] = COLON;
    table[b'J' as usize] = UPPER_J;
    table[b'b' as usize] = LETTER_B;
    table[b'B' as usize] = LETTER_B;
    table
};

/// What one pass over a string found: which trigger bytes occur and how many
/// digits there are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Union of the trigger bits above.
    pub(crate) flags: u8,
    /// Number of ASCII digits.
    pub(crate) digits: usize,
}

impl Facts {
    /// Classify `bytes` in one pass.
    #[inline]
    pub(crate) fn of(bytes: &[u8]) -> Facts {
        let mut flags = 0u8;
        let mut digits = 0usize;
        for &b in bytes {
            let class = CLASS[b as usize];
            flags |= class;
            digits += (class & DIGIT) as usize;
        }
        Facts { flags, digits }
    }

    /// Whether every bit of `needed` is present.
    #[inline]
    pub(crate) fn has(&self, needed: u8) -> bool {
        self.flags & needed == needed
    }
}

/// Builds the rewritten string lazily: nothing is allocated until the first
/// replacement.
pub(crate) struct Rewriter<'a> {
    src: &'a [u8],
    out: Vec<u8>,
    /// Bytes of `src` before this index are already in `out`.
    copied: usize,
}

impl<'a> Rewriter<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Rewriter {
            src: src.as_bytes(),
            out: Vec::new(),
            copied: 0,
        }
    }

    /// Replace `src[start..end]` with `with`. Ranges must come in increasing,
    /// non-overlapping order; a range that does not is ignored.
    pub(crate) fn replace(&mut self, start: usize, end: usize, with: &[u8]) {
        if start < self.copied || end < start || end > self.src.len() {
            debug_assert!(false, "replacement out of order: {start}..{end}");
            return;
        }
        if self.out.is_empty() {
            self.out.reserve(self.src.len() + with.len());
        }
        self.out.extend_from_slice(&self.src[self.copied..start]);
        self.out.extend_from_slice(with);
        self.copied = end;
    }

    /// Replace `src[start..end]` with the concatenation of `parts`.
    pub(crate) fn replace_parts(&mut self, start: usize, end: usize, parts: &[&[u8]]) {
        if start < self.copied || end < start || end > self.src.len() {
            debug_assert!(false, "replacement out of order: {start}..{end}");
            return;
        }
        self.out.extend_from_slice(&self.src[self.copied..start]);
        for part in parts {
            self.out.extend_from_slice(part);
        }
        self.copied = end;
    }

    /// Whether anything was replaced so far.
    pub(crate) fn changed(&self) -> bool {
        self.copied > 0 || !self.out.is_empty()
    }

    /// The rewritten string, or `None` when nothing was replaced.
    ///
    /// Scanners only cut next to ASCII bytes, so the output is valid UTF-8;
    /// should that ever not hold, the whole value becomes `fallback` rather
    /// than risking a panic or a leak.
    pub(crate) fn finish(mut self, fallback: &str) -> Option<String> {
        if !self.changed() {
            return None;
        }
        self.out.extend_from_slice(&self.src[self.copied..]);
        Some(String::from_utf8(self.out).unwrap_or_else(|_| fallback.to_string()))
    }
}

/// ASCII letters and digits.
#[inline]
pub(crate) fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Whether `haystack` starts with `needle`, ignoring ASCII case (`needle` is
/// lowercase).
#[inline]
pub(crate) fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_classify_triggers_and_count_digits() {
        let f = Facts::of(b"a1b2@=:J");
        assert_eq!(f.digits, 2);
        assert!(f.has(DIGIT | AT | EQUALS | COLON | UPPER_J | LETTER_B));
        let none = Facts::of("GET /users/{id} é".as_bytes());
        assert_eq!(none.flags, 0);
        assert_eq!(none.digits, 0);
    }

    #[test]
    fn rewriter_is_lazy_and_splices() {
        let r = Rewriter::new("abc");
        assert_eq!(r.finish("X"), None);

        let mut r = Rewriter::new("héllo wörld");
        r.replace(0, 6, b"HI");
        r.replace_parts(7, 13, &[b"<", b">"]);
        assert_eq!(r.finish("X").as_deref(), Some("HI <>"));

        let mut r = Rewriter::new("abc");
        r.replace(0, 0, b"");
        // An empty replacement at the start still counts as a change only
        // when it moved the cursor or wrote something.
        assert_eq!(r.finish("X"), None);
    }

    #[test]
    fn rewriter_falls_back_on_a_bad_cut() {
        let mut r = Rewriter::new("é");
        // Cutting inside the two-byte character would produce invalid UTF-8.
        r.src = "é".as_bytes();
        r.out.extend_from_slice(b"x");
        r.copied = 1;
        assert_eq!(r.finish("MASK").as_deref(), Some("MASK"));
    }
}
