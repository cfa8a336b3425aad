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
/// The string has four consecutive ASCII digits.
pub(crate) const DIGIT_RUN4: u8 = 1 << 6;

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
    /// Classify `bytes` in one pass, eight bytes at a time (SWAR: plain
    /// 64-bit arithmetic on packed bytes, no per-byte branches).
    #[inline]
    pub(crate) fn of(bytes: &[u8]) -> Facts {
        let mut words = bytes.chunks_exact(8);
        let mut acc = Accumulator::default();
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            acc.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            // Zero padding triggers nothing and is not a digit.
            let mut w = 0u64;
            for (i, &b) in rest.iter().enumerate() {
                w |= u64::from(b) << (8 * i);
            }
            acc.add(w);
        }
        acc.finish()
    }

    /// Whether every bit of `needed` is present.
    #[inline]
    pub(crate) fn has(&self, needed: u8) -> bool {
        self.flags & needed == needed
    }
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is zero (exact).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LOW) & !x & HIGH
}

/// The high bit of each byte of `w` equal to `b`.
#[inline]
fn bytes_equal(w: u64, b: u8) -> u64 {
    zero_bytes(w ^ (LOW * u64::from(b)))
}

/// The high bit of each byte of `w` that is an ASCII digit (exact: setting
/// every high bit first keeps the subtractions inside their byte).
#[inline]
fn digit_bytes(w: u64) -> u64 {
    let set = w | HIGH;
    let ge_0 = set.wrapping_sub(LOW * 0x30);
    let ge_colon = set.wrapping_sub(LOW * 0x3A);
    ge_0 & !ge_colon & !w & HIGH
}

/// Running state of [`Facts::of`].
#[derive(Default)]
struct Accumulator {
    any: [u64; 5],
    digits: usize,
    /// Digit mask of the previous word, for runs crossing a word boundary.
    prev_digits: u64,
    run4: bool,
}

impl Accumulator {
    #[inline]
    fn add(&mut self, w: u64) {
        let d = digit_bytes(w);
        // Digits are counted only where there are some (the count is a
        // software popcount on baseline x86-64).
        if d != 0 {
            self.digits += d.count_ones() as usize;
        }
        // Four consecutive digit bytes: the mask ANDed with itself shifted
        // by one, two and three bytes (little-endian: later bytes are
        // higher), the previous word's top bytes filling in from below.
        let joined = |k: u32| (d << (8 * k)) | (self.prev_digits >> (64 - 8 * k));
        self.run4 |= d & joined(1) & joined(2) & joined(3) != 0;
        self.prev_digits = d;
        self.any[0] |= bytes_equal(w, b'@');
        self.any[1] |= bytes_equal(w, b'=');
        self.any[2] |= bytes_equal(w, b':');
        self.any[3] |= bytes_equal(w, b'J');
        self.any[4] |= bytes_equal(w | (LOW * 0x20), b'b');
    }

    fn finish(self) -> Facts {
        let mut flags = 0;
        for (mask, bit) in self.any.iter().zip([AT, EQUALS, COLON, UPPER_J, LETTER_B]) {
            if *mask != 0 {
                flags |= bit;
            }
        }
        if self.digits > 0 {
            flags |= DIGIT;
        }
        if self.run4 {
            flags |= DIGIT_RUN4;
        }
        Facts {
            flags,
            digits: self.digits,
        }
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
        // `"` is 0x22, `B` with the case bit; only real b/B count.
        assert_eq!(Facts::of(b"\"\x02B").flags, LETTER_B);
        // Counts past one chunk are exact.
        let long = "1a".repeat(1000);
        assert_eq!(Facts::of(long.as_bytes()).digits, 1000);
        assert!(!Facts::of(long.as_bytes()).has(DIGIT_RUN4));
    }

    /// The byte-at-a-time definition the SWAR pass must agree with.
    fn reference(bytes: &[u8]) -> Facts {
        let mut flags = 0;
        let mut run = 0;
        let mut digits = 0;
        for &c in bytes {
            if c.is_ascii_digit() {
                digits += 1;
                run += 1;
                flags |= DIGIT;
                if run >= 4 {
                    flags |= DIGIT_RUN4;
                }
            } else {
                run = 0;
            }
            flags |= match c {
                b'@' => AT,
                b'=' => EQUALS,
                b':' => COLON,
                b'J' => UPPER_J,
                b'b' | b'B' => LETTER_B,
                _ => 0,
            };
        }
        Facts { flags, digits }
    }

    #[test]
    fn swar_pass_agrees_with_the_byte_loop() {
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"0123456789@=:JbBa/\x00\x7f\x80\xff\xb0\xba\xc0";
        for _ in 0..20_000 {
            let len = rng.usize(0..40);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            assert_eq!(Facts::of(&s), reference(&s), "{s:?}");
        }
        for i in 0..16 {
            let mut s = vec![b'x'; 24];
            s[i..i + 4].copy_from_slice(b"1234");
            assert!(Facts::of(&s).has(DIGIT_RUN4), "run at {i}");
        }
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
