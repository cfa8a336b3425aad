//! Value scanners: hand-written, linear-time searches for secrets inside a
//! string, each rewriting the matches in place.
//!
//! Every scanner works on bytes, only ever cuts the string next to an ASCII
//! byte (so the output stays valid UTF-8), and visits each byte a bounded
//! number of times, whatever the input. A one-pass byte classification
//! ([`Facts`]) tells which scanners can possibly match, so a string with
//! nothing to redact costs one plain byte loop plus, at most, a few
//! `memchr` searches.

pub(crate) mod auth;
pub(crate) mod card;
pub(crate) mod email;
pub(crate) mod jwt;
pub(crate) mod query;
pub(crate) mod url_credentials;

use query::ParamNames;

/// `url` as tracekit's own messages may show it (an exporter's endpoint in
/// a warning or a failure line): the userinfo masked (`user:password@`
/// becomes `REDACTED:REDACTED@`) and the values of the sensitive query
/// parameters masked, as the default rules do for `url.full`.
pub(crate) fn url_for_messages(url: &str) -> String {
    let mask = super::DEFAULT_MASK;
    let url = url_credentials::redact(url, mask).unwrap_or_else(|| url.to_owned());
    query::redact(&url, &ParamNames::new(true, Vec::new()), mask).unwrap_or(url)
}

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
/// The string has a `b` or `B` followed by one of `aAeE` (`Bearer`,
/// `Basic`): a narrower trigger than [`LETTER_B`], which plain words such
/// as `WebKit` set.
pub(crate) const B_THEN_A_OR_E: u8 = 1 << 7;
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
    /// Classify `bytes` in one pass, a byte at a time.
    pub(crate) fn of(bytes: &[u8]) -> Facts {
        let mut facts = Facts::default();
        // Length of the digit run ending at the current byte.
        let mut run = 0;
        let mut prev = 0u8;
        for &c in bytes {
            if c.is_ascii_digit() {
                facts.digits += 1;
                run += 1;
                if run >= 4 {
                    facts.flags |= DIGIT_RUN4;
                }
            } else {
                run = 0;
            }
            facts.flags |= match c {
                b'@' => AT,
                b'=' => EQUALS,
                b':' => COLON,
                b'J' => UPPER_J,
                b'b' | b'B' => LETTER_B,
                b'a' | b'A' | b'e' | b'E' if matches!(prev, b'b' | b'B') => B_THEN_A_OR_E,
                _ => 0,
            };
            prev = c;
        }
        if facts.digits > 0 {
            facts.flags |= DIGIT;
        }
        facts
    }

    /// Whether every bit of `needed` is present.
    #[inline]
    pub(crate) fn has(&self, needed: u8) -> bool {
        self.flags & needed == needed
    }
}

/// What one pass over a URL-like value finds for the two URL rules; a rule
/// whose trigger is absent cannot match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UrlTriggers {
    /// The value has an `@` (every userinfo ends with one).
    pub(crate) at: bool,
    /// Some `=` follows a name that may be a sensitive parameter (see
    /// [`ParamNames::may_precede_equals`]).
    pub(crate) sensitive_equals: bool,
}

impl UrlTriggers {
    /// One vectorised pass over `bytes` for `@` and `=`, checking the name
    /// before each `=` by its last two bytes only. (Measured against a
    /// plain `memchr` version: the SSE2 pass saves about 107 instructions
    /// of 4,059, 2.7%, per 8-attribute server span carrying `url.full`.)
    #[inline]
    pub(crate) fn of(bytes: &[u8], names: &ParamNames) -> UrlTriggers {
        let mut found = UrlTriggers::default();
        let mut visit = |start: usize, at: u32, equals: u32| {
            found.at |= at != 0;
            let mut equals = equals;
            while equals != 0 && !found.sensitive_equals {
                let eq = start + equals.trailing_zeros() as usize;
                equals &= equals - 1;
                found.sensitive_equals = names.may_precede_equals(bytes, eq);
            }
            !(found.at && found.sensitive_equals)
        };
        byte_masks(bytes, b'@', b'=', &mut visit);
        found
    }
}

/// Where two (non-zero) bytes occur in `bytes`, a block at a time:
/// `visit(start, a_lanes, b_lanes)` gets bit `i` set for a byte
/// `start + i` equal to `a` (or `b`); blocks with neither are not visited,
/// every position is reported once, and `visit` returning `false` stops
/// the pass. SSE2 on x86-64, [`byte_masks_portable`] elsewhere.
#[cfg(target_arch = "x86_64")]
#[inline]
fn byte_masks(bytes: &[u8], a: u8, b: u8, visit: &mut impl FnMut(usize, u32, u32) -> bool) {
    // SAFETY: SSE2 is part of the x86-64 baseline.
    unsafe { sse2::byte_masks(bytes, a, b, visit) }
}

#[cfg(not(target_arch = "x86_64"))]
use byte_masks_portable as byte_masks;

/// [`byte_masks`] a byte at a time, sixteen-byte blocks.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn byte_masks_portable(
    bytes: &[u8],
    a: u8,
    b: u8,
    visit: &mut impl FnMut(usize, u32, u32) -> bool,
) {
    for (block, chunk) in bytes.chunks(16).enumerate() {
        let (mut a_lanes, mut b_lanes) = (0u32, 0u32);
        for (lane, &c) in chunk.iter().enumerate() {
            a_lanes |= u32::from(c == a) << lane;
            b_lanes |= u32::from(c == b) << lane;
        }
        if a_lanes | b_lanes != 0 && !visit(16 * block, a_lanes, b_lanes) {
            return;
        }
    }
}

/// [`byte_masks`] with SSE2: sixteen-byte blocks compared lane by lane.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x,
    };

    /// Every byte `b`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn splat(b: u8) -> __m128i {
        _mm_set1_epi8(b as i8)
    }

    /// A string of 8 to 15 bytes as one block, zero-padded, from two
    /// overlapping 8-byte reads (no copy through memory).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn short_block(bytes: &[u8]) -> Option<__m128i> {
        let first: &[u8; 8] = bytes.first_chunk()?;
        let last: &[u8; 8] = bytes.last_chunk()?;
        let overlap = 16usize.checked_sub(bytes.len())?;
        // `last` starts `overlap` bytes before byte 8; shifting those out
        // leaves bytes 8.. at the bottom and zeros above.
        let high = u64::from_le_bytes(*last)
            .checked_shr(8 * overlap as u32)
            .unwrap_or(0);
        let low = u64::from_le_bytes(*first);
        Some(_mm_set_epi64x(high as i64, low as i64))
    }

    /// Sixteen bytes of `block`, unaligned.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(block: &[u8; 16]) -> __m128i {
        // SAFETY: `block` is 16 readable bytes; `loadu` has no alignment
        // requirement, and SSE2 is part of the x86-64 baseline.
        unsafe { _mm_loadu_si128(block.as_ptr().cast()) }
    }

    /// [`super::byte_masks`] with SSE2: the lane masks of each whole
    /// block, then of a last block loaded to end with the string (its lanes
    /// seen before masked off), or of the whole short string zero-padded.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn byte_masks(
        bytes: &[u8],
        a: u8,
        b: u8,
        visit: &mut impl FnMut(usize, u32, u32) -> bool,
    ) {
        let (needle_a, needle_b) = (splat(a), splat(b));
        let lanes = |x: __m128i| {
            (
                _mm_movemask_epi8(_mm_cmpeq_epi8(x, needle_a)) as u32,
                _mm_movemask_epi8(_mm_cmpeq_epi8(x, needle_b)) as u32,
            )
        };
        let mut start = 0;
        for block in bytes.chunks_exact(16).filter_map(<[u8]>::first_chunk::<16>) {
            let (a_lanes, b_lanes) = lanes(load(block));
            if a_lanes | b_lanes != 0 && !visit(start, a_lanes, b_lanes) {
                return;
            }
            start += 16;
        }
        // Zero padding matches neither (non-zero) byte.
        if let Some(Tail {
            start,
            block,
            fresh,
        }) = tail_block(bytes)
        {
            let seen = 16 - fresh as u32;
            let (a_lanes, b_lanes) = lanes(block);
            let (a_lanes, b_lanes) = (a_lanes >> seen << seen, b_lanes >> seen << seen);
            if a_lanes | b_lanes != 0 {
                visit(start, a_lanes, b_lanes);
            }
        }
    }

    /// The bytes after the last whole sixteen-byte block of a string, as
    /// one block.
    struct Tail {
        /// Where the block starts in the string.
        start: usize,
        block: __m128i,
        /// How many of its lanes, the last ones, were in no whole block
        /// (16 when the block is the whole string, zero-padded).
        fresh: usize,
    }

    /// The [`Tail`] of `bytes`, `None` when the string ends a whole block
    /// (or is empty): in a string longer than a block, the last sixteen
    /// bytes, overlapping the block before; in a shorter one, the string
    /// zero-padded.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn tail_block(bytes: &[u8]) -> Option<Tail> {
        let rest = bytes.len() % 16;
        if rest == 0 {
            return None;
        }
        if let (true, Some(last)) = (bytes.len() > 16, bytes.last_chunk::<16>()) {
            return Some(Tail {
                start: bytes.len() - 16,
                block: load(last),
                fresh: rest,
            });
        }
        let block = match short_block(bytes) {
            Some(block) => block,
            None => {
                // Shorter than eight bytes: copied into a zeroed block.
                let mut last = [0u8; 16];
                last[..bytes.len()].copy_from_slice(bytes);
                load(&last)
            }
        };
        Some(Tail {
            start: 0,
            block,
            fresh: 16,
        })
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

    /// The byte-at-a-time definition the classification must agree with.
    fn reference(bytes: &[u8]) -> Facts {
        let mut flags = 0;
        let mut run = 0;
        let mut digits = 0;
        let mut prev = 0u8;
        for &c in bytes {
            if matches!(prev, b'b' | b'B') && matches!(c, b'a' | b'A' | b'e' | b'E') {
                flags |= B_THEN_A_OR_E;
            }
            prev = c;
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
    fn classification_agrees_with_the_byte_loop() {
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"0123456789@=:JbBaAeE/\x00\x7f\x80\xff\xb0\xba\xc0\xc5\xc1";
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
    fn long_strings_and_block_edges_agree_with_the_byte_loop() {
        // Long runs of digits are counted exactly.
        let digits = "7".repeat(16 * 300 + 5);
        assert_eq!(Facts::of(digits.as_bytes()), reference(digits.as_bytes()));
        let mut rng = fastrand::Rng::with_seed(12);
        let alphabet = b"0123456789xbJ@BecCa`";
        for _ in 0..300 {
            let len = rng.usize(0..6000);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            assert_eq!(Facts::of(&s), reference(&s));
        }
        // A run of four split at every position around two block edges.
        for i in 0..40 {
            let mut s = vec![b'x'; 48];
            s[i..i + 4].copy_from_slice(b"1234");
            assert!(Facts::of(&s).has(DIGIT_RUN4), "run at {i}");
            s[i + 1] = b'x';
            assert_eq!(Facts::of(&s), reference(&s), "broken run at {i}");
        }
    }

    /// A block visitor, as [`byte_masks`] calls it.
    type Visit<'a> = &'a mut dyn FnMut(usize, u32, u32) -> bool;

    /// Every position of `a` and of `b` that [`byte_masks`] reports.
    fn positions(bytes: &[u8], masks: fn(&[u8], u8, u8, Visit)) -> (Vec<usize>, Vec<usize>) {
        let (mut at, mut eq) = (Vec::new(), Vec::new());
        masks(bytes, b'@', b'=', &mut |start, a, b| {
            for bit in 0..32 {
                if a >> bit & 1 == 1 {
                    at.push(start + bit);
                }
                if b >> bit & 1 == 1 {
                    eq.push(start + bit);
                }
            }
            true
        });
        (at, eq)
    }

    #[test]
    fn byte_masks_report_every_position_once() {
        let mut rng = fastrand::Rng::with_seed(13);
        let alphabet = b"@=a\x00\xff";
        for _ in 0..5_000 {
            let len = rng.usize(0..70);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            let expected = (
                (0..len).filter(|&i| s[i] == b'@').collect::<Vec<_>>(),
                (0..len).filter(|&i| s[i] == b'=').collect::<Vec<_>>(),
            );
            let mut fast = positions(&s, |b, x, y, v| {
                byte_masks(b, x, y, &mut |s, m, n| v(s, m, n))
            });
            fast.0.sort_unstable();
            fast.1.sort_unstable();
            assert_eq!(fast, expected, "{s:?}");
            let portable = positions(&s, |b, x, y, v| {
                byte_masks_portable(b, x, y, &mut |s, m, n| v(s, m, n))
            });
            assert_eq!(portable, expected, "{s:?}");
        }
    }

    #[test]
    fn url_triggers_find_userinfo_and_sensitive_names() {
        let names = ParamNames::new(true, Vec::new());
        let of = |s: &str| UrlTriggers::of(s.as_bytes(), &names);
        assert_eq!(
            of("https://api.example.com/api/v1/users/42/orders?page=2&sort=desc"),
            UrlTriggers::default()
        );
        assert!(of("https://u:p@h/").at);
        assert!(of("https://h/p?a=1&access_token=x").sensitive_equals);
        assert!(of("https://h/p?user[password]=x").sensitive_equals);
        // A sensitive name right at a block edge, and past the first
        // blocks, is found.
        for pad in 0..40 {
            let s = format!("{}?sig=x", "a".repeat(pad));
            assert!(of(&s).sensitive_equals, "{s}");
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
