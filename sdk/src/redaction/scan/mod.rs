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

use query::ParamNames;

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
    /// Classify `bytes` in one pass: sixteen bytes per step with SSE2 (part
    /// of the x86-64 baseline, so always there), eight bytes per step with
    /// plain 64-bit arithmetic (SWAR) elsewhere.
    #[inline]
    pub(crate) fn of(bytes: &[u8]) -> Facts {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is part of the x86-64 baseline, so every x86-64
            // CPU this code runs on has it.
            unsafe { sse2::facts(bytes) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Facts::of_swar(bytes)
        }
    }

    /// The portable classification, eight bytes at a time (SWAR: plain
    /// 64-bit arithmetic on packed bytes, no per-byte branches).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline]
    pub(crate) fn of_swar(bytes: &[u8]) -> Facts {
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
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            acc.add(u64::from_le_bytes(w));
        }
        acc.finish()
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
    /// before each `=` by its last two bytes only.
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

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is zero (exact per byte: adding
/// 0x7f to the low seven bits never carries into the next byte, unlike the
/// shorter `(x - LOW) & !x` test, which can mark the byte above a zero).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    let low_set = (x & !HIGH).wrapping_add(!HIGH);
    !(low_set | x) & HIGH
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
    /// `b`/`B` bytes of the previous word, for pairs crossing a boundary.
    prev_b: u64,
    /// High bits of `b`/`B` bytes followed by one of `aAeE`.
    b_then_a_or_e: u64,
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
        let folded = w | (LOW * 0x20);
        let b = bytes_equal(folded, b'b');
        self.any[4] |= b;
        if b | self.prev_b != 0 {
            let a_or_e = bytes_equal(folded, b'a') | bytes_equal(folded, b'e');
            // Little-endian: the next byte is the next higher one.
            self.b_then_a_or_e |= (b & (a_or_e >> 8)) | ((self.prev_b >> 56) & a_or_e);
        }
        self.prev_b = b;
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
        if self.b_then_a_or_e != 0 {
            flags |= B_THEN_A_OR_E;
        }
        Facts {
            flags,
            digits: self.digits,
        }
    }
}

/// The SSE2 classification: per 16-byte block, one compare per trigger
/// byte ORed into its own accumulator, a signed range compare for digits
/// (bytes from 0x80 compare as negative, so never as digits) whose lanes
/// are counted in the vector and summed at the end, and the digit lane mask
/// checked for four in a row only when the block has digits.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::{Facts, AT, B_THEN_A_OR_E, COLON, DIGIT, DIGIT_RUN4, EQUALS, LETTER_B, UPPER_J};
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_cvtsi128_si64,
        _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_sad_epu8, _mm_set1_epi8,
        _mm_set_epi64x, _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
    };

    /// Blocks whose digit lanes fit the 8-bit per-lane counters.
    const MAX_COUNTED_BLOCKS: u32 = 255;

    /// Running state over the blocks of one string.
    struct Blocks {
        at: __m128i,
        equals: __m128i,
        colon: __m128i,
        upper_j: __m128i,
        letter_b: __m128i,
        /// Per-lane digit counts of the blocks since the last fold.
        lane_digits: __m128i,
        counted_blocks: u32,
        digits: usize,
        /// Digit lane mask of the previous block (bits 0..16).
        prev_digits: u32,
        run4: bool,
        /// `b`/`B` lane mask of the previous block (bits 0..16).
        prev_b: u32,
        b_then_a_or_e: bool,
    }

    impl Blocks {
        #[inline]
        #[target_feature(enable = "sse2")]
        fn new() -> Blocks {
            let zero = _mm_setzero_si128();
            Blocks {
                at: zero,
                equals: zero,
                colon: zero,
                upper_j: zero,
                letter_b: zero,
                lane_digits: zero,
                counted_blocks: 0,
                digits: 0,
                prev_digits: 0,
                run4: false,
                prev_b: 0,
                b_then_a_or_e: false,
            }
        }

        /// OR the trigger lanes of `x` into their accumulators; the first
        /// `skip` lanes were seen before (see [`Blocks::add_overlapping`]).
        #[inline]
        #[target_feature(enable = "sse2")]
        fn add_triggers(&mut self, x: __m128i, skip: u32) {
            self.at = _mm_or_si128(self.at, _mm_cmpeq_epi8(x, splat(b'@')));
            self.equals = _mm_or_si128(self.equals, _mm_cmpeq_epi8(x, splat(b'=')));
            self.colon = _mm_or_si128(self.colon, _mm_cmpeq_epi8(x, splat(b':')));
            self.upper_j = _mm_or_si128(self.upper_j, _mm_cmpeq_epi8(x, splat(b'J')));
            // `B` and `b` differ only in the 0x20 bit, and no other byte
            // becomes `b` when that bit is set.
            let folded = _mm_or_si128(x, splat(0x20));
            let b = _mm_cmpeq_epi8(folded, splat(b'b'));
            self.letter_b = _mm_or_si128(self.letter_b, b);
            let b_mask = (_mm_movemask_epi8(b) as u32) >> skip;
            if b_mask | self.prev_b != 0 {
                let a_or_e = _mm_or_si128(
                    _mm_cmpeq_epi8(folded, splat(b'a')),
                    _mm_cmpeq_epi8(folded, splat(b'e')),
                );
                let next = (_mm_movemask_epi8(a_or_e) as u32) >> skip;
                // The previous block's lane 15 is followed by lane 0.
                let pairs = (b_mask & (next >> 1)) | ((self.prev_b >> 15) & next);
                self.b_then_a_or_e |= pairs != 0;
                self.prev_b = b_mask;
            }
        }

        /// A whole block of the string.
        #[inline]
        #[target_feature(enable = "sse2")]
        fn add(&mut self, x: __m128i) {
            self.add_triggers(x, 0);
            let mask = _mm_movemask_epi8(digit_lanes(x)) as u32;
            if mask | self.prev_digits != 0 {
                // Lanes subtract -1 per digit; folded before they overflow.
                self.lane_digits = _mm_sub_epi8(self.lane_digits, digit_lanes(x));
                self.counted_blocks += 1;
                if self.counted_blocks == MAX_COUNTED_BLOCKS {
                    self.fold_digits();
                }
                self.join_runs(mask);
            }
        }

        /// The last block of a string longer than 16 bytes, loaded so that
        /// it ends with the string: its first `16 - fresh` lanes were
        /// already classified (seeing a trigger twice changes nothing, but
        /// their digits must not count again).
        #[inline]
        #[target_feature(enable = "sse2")]
        fn add_overlapping(&mut self, x: __m128i, fresh: usize) {
            let shift = 16 - fresh.clamp(1, 16) as u32;
            self.add_triggers(x, shift);
            let mask = (_mm_movemask_epi8(digit_lanes(x)) as u32) >> shift;
            if mask != 0 {
                self.digits += mask.count_ones() as usize;
                self.join_runs(mask);
            }
        }

        /// Record four digits in a row, given the digit lane mask of the
        /// block that follows the previous one.
        #[inline]
        fn join_runs(&mut self, mask: u32) {
            // Previous block in bits 0..16, this one in 16..32: a run of four
            // ending in this block starts at bit 13 or later.
            let joined = (mask << 16) | self.prev_digits;
            let runs = joined & (joined >> 1) & (joined >> 2) & (joined >> 3);
            self.run4 |= runs >> 13 != 0;
            self.prev_digits = mask;
        }

        #[inline]
        #[target_feature(enable = "sse2")]
        fn fold_digits(&mut self) {
            let sums = _mm_sad_epu8(self.lane_digits, _mm_setzero_si128());
            let low = _mm_cvtsi128_si64(sums) as u64;
            let high = _mm_cvtsi128_si64(_mm_srli_si128::<8>(sums)) as u64;
            self.digits += (low + high) as usize;
            self.lane_digits = _mm_setzero_si128();
            self.counted_blocks = 0;
        }

        #[inline]
        #[target_feature(enable = "sse2")]
        fn finish(mut self) -> Facts {
            self.fold_digits();
            let mut flags = 0;
            for (v, bit) in [
                (self.at, AT),
                (self.equals, EQUALS),
                (self.colon, COLON),
                (self.upper_j, UPPER_J),
                (self.letter_b, LETTER_B),
            ] {
                if _mm_movemask_epi8(v) != 0 {
                    flags |= bit;
                }
            }
            if self.digits > 0 {
                flags |= DIGIT;
            }
            if self.run4 {
                flags |= DIGIT_RUN4;
            }
            if self.b_then_a_or_e {
                flags |= B_THEN_A_OR_E;
            }
            Facts {
                flags,
                digits: self.digits,
            }
        }
    }

    /// Every byte `b`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn splat(b: u8) -> __m128i {
        _mm_set1_epi8(b as i8)
    }

    /// The lanes of `x` holding an ASCII digit (all ones), by a signed range
    /// compare: bytes from 0x80 are negative, so never digits.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn digit_lanes(x: __m128i) -> __m128i {
        _mm_and_si128(
            _mm_cmpgt_epi8(x, splat(b'0' - 1)),
            _mm_cmplt_epi8(x, splat(b'9' + 1)),
        )
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

    /// [`Facts::of`] with SSE2.
    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn facts(bytes: &[u8]) -> Facts {
        let mut blocks = Blocks::new();
        for block in bytes.chunks_exact(16).filter_map(<[u8]>::first_chunk::<16>) {
            blocks.add(load(block));
        }
        // Zero padding triggers nothing and is not a digit.
        match tail_block(bytes) {
            Some(Tail { block, fresh, .. }) if fresh < 16 => blocks.add_overlapping(block, fresh),
            Some(Tail { block, .. }) => blocks.add(block),
            None => {}
        }
        blocks.finish()
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
    fn swar_pass_agrees_with_the_byte_loop() {
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"0123456789@=:JbBaAeE/\x00\x7f\x80\xff\xb0\xba\xc0\xc5\xc1";
        for _ in 0..20_000 {
            let len = rng.usize(0..40);
            let s: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.usize(0..alphabet.len())])
                .collect();
            assert_eq!(Facts::of(&s), reference(&s), "{s:?}");
            assert_eq!(Facts::of_swar(&s), reference(&s), "{s:?}");
        }
        for i in 0..16 {
            let mut s = vec![b'x'; 24];
            s[i..i + 4].copy_from_slice(b"1234");
            assert!(Facts::of(&s).has(DIGIT_RUN4), "run at {i}");
        }
    }

    #[test]
    fn long_strings_and_block_edges_agree_with_the_byte_loop() {
        // More than 255 blocks of digits: the per-lane counters are folded.
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
            assert_eq!(Facts::of_swar(&s), reference(&s));
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
