//! The 56-bit arithmetic of consistent probability sampling: rejection
//! thresholds (`th`) and randomness values (`rv`), as the OpenTelemetry
//! specification's "TraceState: Probability Sampling" defines them.
//!
//! A span is kept when `randomness >= threshold`. The threshold is the number
//! of 56-bit randomness values (out of 2^56) that are rejected, so a threshold
//! of 0 keeps everything and a threshold of 2^56 keeps nothing.

use opentelemetry::trace::TraceId;
use std::fmt;

/// 2^56: the number of distinct 56-bit randomness values, the specification's
/// `MaxAdjustedCount`.
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;

/// The number of hexadecimal digits of a full 56-bit value.
const HEX_DIGITS: usize = 14;

/// Default significant hexadecimal digits of a threshold computed from a
/// probability: the specification recommends 4.
pub const DEFAULT_PRECISION: u8 = 4;

/// A 56-bit rejection threshold (`th`).
///
/// Values range from 0 (sample everything, encoded `th:0`) to 2^56 − 1
/// (sample only randomness `ff…ff`); [`Threshold::NEVER`] (2^56) is the
/// non-probabilistic "sample nothing" value, which has no `th` encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u64);

impl Threshold {
    /// Threshold 0: every span is sampled (probability 1).
    pub const ALWAYS: Threshold = Threshold(0);
    /// Threshold 2^56: no span is sampled. Not encodable as a `th` value.
    pub const NEVER: Threshold = Threshold(MAX_ADJUSTED_COUNT);

    /// The threshold with this raw 56-bit value; `None` above 2^56.
    pub const fn from_value(value: u64) -> Option<Threshold> {
        if value <= MAX_ADJUSTED_COUNT {
            Some(Threshold(value))
        } else {
            None
        }
    }

    /// The raw value, `0..=2^56`.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// The threshold for a sampling probability, rounded to the
    /// specification's recommended default of 4 significant hexadecimal
    /// digits (see [`Threshold::from_probability_with_precision`]).
    pub fn from_probability(probability: f64) -> Threshold {
        Self::from_probability_with_precision(probability, DEFAULT_PRECISION)
    }

    /// The threshold `(1 − p) · 2^56` for probability `p`, rounded to
    /// `precision` significant hexadecimal digits (clamped to 1..=14).
    ///
    /// As the specification's algorithm does, the precision is raised by one
    /// digit for every factor of 16 by which `p` is small (for every leading
    /// `f` of the threshold), so tiny probabilities keep their significant
    /// digits. `p >= 1` gives [`Threshold::ALWAYS`]; `p` below 2^-57, zero,
    /// negative or NaN gives [`Threshold::NEVER`].
    pub fn from_probability_with_precision(probability: f64, precision: u8) -> Threshold {
        if probability.is_nan() || probability <= 0.0 {
            return Threshold::NEVER;
        }
        if probability >= 1.0 {
            return Threshold::ALWAYS;
        }
        // Scaling by a power of two is exact; rounding keeps the nearest
        // 56-bit value.
        let kept = (probability * MAX_ADJUSTED_COUNT as f64).round() as u64;
        if kept == 0 {
            return Threshold::NEVER;
        }
        let exact = MAX_ADJUSTED_COUNT - kept;

        // frexp's exponent: probability = m · 2^exp with m in [0.5, 1).
        let exp = frexp_exponent(probability);
        // Python's `exp // -4` (floor division); exp <= 0 here.
        let extra = (-exp).div_euclid(4);
        let digits = (i32::from(precision.max(1)) + extra).clamp(1, HEX_DIGITS as i32) as u32;
        let shift = 4 * (HEX_DIGITS as u32 - digits);
        if shift == 0 {
            return Threshold(exact);
        }
        let half = 1u64 << (shift - 1);
        let rounded = ((exact + half) >> shift) << shift;
        if rounded >= MAX_ADJUSTED_COUNT {
            // Rounding up would reach "never": keep the largest threshold
            // representable at this precision instead.
            Threshold(((MAX_ADJUSTED_COUNT - 1) >> shift) << shift)
        } else {
            Threshold(rounded)
        }
    }

    /// Parse a `th` sub-key value: 1 to 14 hexadecimal digits, implicitly
    /// extended with trailing zeros to 14 digits. Anything else is `None`.
    pub fn parse(th: &str) -> Option<Threshold> {
        let bytes = th.as_bytes();
        if bytes.is_empty() || bytes.len() > HEX_DIGITS {
            return None;
        }
        let value = parse_hex(bytes)?;
        Some(Threshold(value << (4 * (HEX_DIGITS - bytes.len()))))
    }

    /// Whether a span with this randomness is sampled: `randomness >= threshold`.
    #[inline]
    pub const fn samples(self, randomness: Randomness) -> bool {
        randomness.0 >= self.0
    }

    /// The sampling probability `(2^56 − threshold) / 2^56`.
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// The adjusted count `2^56 / (2^56 − threshold)`; infinite for
    /// [`Threshold::NEVER`].
    pub fn adjusted_count(self) -> f64 {
        MAX_ADJUSTED_COUNT as f64 / (MAX_ADJUSTED_COUNT - self.0) as f64
    }

    /// The `th` encoding: 14 hexadecimal digits with trailing zeros removed
    /// (`0` for threshold 0). `None` for [`Threshold::NEVER`], which is not a
    /// probability and must not be written.
    pub fn encode(self) -> Option<EncodedThreshold> {
        if self.0 >= MAX_ADJUSTED_COUNT {
            return None;
        }
        let mut digits = [b'0'; HEX_DIGITS];
        for (i, d) in digits.iter_mut().enumerate() {
            let nibble = (self.0 >> (4 * (HEX_DIGITS - 1 - i))) & 0xf;
            *d = HEX_LOWER[nibble as usize];
        }
        let mut len = HEX_DIGITS;
        while len > 1 && digits[len - 1] == b'0' {
            len -= 1;
        }
        Some(EncodedThreshold {
            digits,
            len: len as u8,
        })
    }
}

/// A threshold's `th` encoding, held without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EncodedThreshold {
    digits: [u8; HEX_DIGITS],
    len: u8,
}

impl EncodedThreshold {
    /// The encoding, e.g. `"c"` for probability 0.25.
    pub fn as_str(&self) -> &str {
        // Only ASCII hexadecimal digits are ever stored.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or("0")
    }
}

impl fmt::Display for EncodedThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EncodedThreshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncodedThreshold({:?})", self.as_str())
    }
}

/// A 56-bit randomness value: the explicit `rv` sub-key, or the trace id's
/// rightmost 7 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Randomness(u64);

impl Randomness {
    /// The rightmost 56 bits of a trace id, which W3C Trace Context Level 2
    /// specifies as random.
    #[inline]
    pub const fn from_trace_id(trace_id: TraceId) -> Randomness {
        // The id as one big-endian integer: its low 56 bits are the
        // rightmost 7 bytes (one byte swap, no per-byte loop).
        let value = u128::from_be_bytes(trace_id.to_bytes()) as u64;
        Randomness(value & (MAX_ADJUSTED_COUNT - 1))
    }

    /// The randomness with this raw value; `None` when it exceeds 56 bits.
    pub const fn from_value(value: u64) -> Option<Randomness> {
        if value < MAX_ADJUSTED_COUNT {
            Some(Randomness(value))
        } else {
            None
        }
    }

    /// Parse an explicit `rv` sub-key value: exactly 14 hexadecimal digits.
    pub fn parse(rv: &str) -> Option<Randomness> {
        let bytes = rv.as_bytes();
        if bytes.len() != HEX_DIGITS {
            return None;
        }
        parse_hex(bytes).map(Randomness)
    }

    /// The raw 56-bit value.
    pub const fn value(self) -> u64 {
        self.0
    }
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

fn parse_hex(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for &b in bytes {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        value = (value << 4) | u64::from(nibble);
    }
    Some(value)
}

/// The exponent `e` with `x = m · 2^e`, `m` in [0.5, 1), for a positive
/// finite `x` (C's `frexp`).
fn frexp_exponent(x: f64) -> i32 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: normalise through a power-of-two scale (exact).
        return frexp_exponent(x * (1u64 << 54) as f64) - 54;
    }
    biased - 1022
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th(p: f64, precision: u8) -> String {
        Threshold::from_probability_with_precision(p, precision)
            .encode()
            .map(|e| e.as_str().to_string())
            .unwrap_or_default()
    }

    /// The table of "Converting floating-point probability to threshold
    /// value" in the specification: 1-in-N, then thresholds at precision 3,
    /// 4 and 5.
    #[test]
    fn spec_table_of_thresholds() {
        let table: &[(f64, [&str; 3])] = &[
            (1.0, ["0", "0", "0"]),
            (0.5, ["8", "8", "8"]),
            (1.0 / 3.0, ["aab", "aaab", "aaaab"]),
            (0.25, ["c", "c", "c"]),
            (0.2, ["ccd", "cccd", "ccccd"]),
            (0.125, ["e", "e", "e"]),
            (0.1, ["e66", "e666", "e6666"]),
            (0.0625, ["f", "f", "f"]),
            (0.01, ["fd71", "fd70a", "fd70a4"]),
            (0.001, ["ffbe7", "ffbe77", "ffbe76d"]),
            (0.0001, ["fff972", "fff9724", "fff97247"]),
            (0.00001, ["ffff584", "ffff583a", "ffff583a5"]),
            (0.000001, ["ffffef4", "ffffef39", "ffffef391"]),
        ];
        for (p, expected) in table {
            for (precision, want) in [3u8, 4, 5].into_iter().zip(expected) {
                assert_eq!(th(*p, precision), *want, "p={p} precision={precision}");
            }
        }
    }

    #[test]
    fn spec_prose_examples() {
        // "ot=th:0" is 100%; 1% with 5 digits of precision is fd70a4.
        assert_eq!(th(1.0, 4), "0");
        assert_eq!(th(0.01, 5), "fd70a4");
        assert_eq!(
            Threshold::from_probability_with_precision(0.01, 5).value(),
            0x00fd_70a4_0000_0000
        );
        // Default precision is the recommended 4.
        assert_eq!(
            Threshold::from_probability(0.01)
                .encode()
                .map(|e| e.to_string()),
            Some("fd70a".to_string())
        );
    }

    #[test]
    fn full_precision_is_round_of_one_minus_p() {
        // (1 - 0.1) * 2^56 = 0xe6666666666666 (0.1 * 2^56 rounds to ...9a).
        let t = Threshold::from_probability_with_precision(0.1, 14);
        assert_eq!(t.value(), 0xe6666666666666);
        let kept = (0.1 * MAX_ADJUSTED_COUNT as f64).round() as u64;
        assert_eq!(t.value(), MAX_ADJUSTED_COUNT - kept);
    }

    #[test]
    fn edge_probabilities() {
        assert_eq!(Threshold::from_probability(0.0), Threshold::NEVER);
        assert_eq!(Threshold::from_probability(-1.0), Threshold::NEVER);
        assert_eq!(Threshold::from_probability(f64::NAN), Threshold::NEVER);
        assert_eq!(Threshold::from_probability(1e-30), Threshold::NEVER);
        assert_eq!(Threshold::from_probability(2.0), Threshold::ALWAYS);
        assert_eq!(
            Threshold::from_probability(f64::INFINITY),
            Threshold::ALWAYS
        );
        // The smallest valid probability, 2^-56, rejects all but one value.
        let min = Threshold::from_probability((MAX_ADJUSTED_COUNT as f64).recip());
        assert_eq!(min.value(), MAX_ADJUSTED_COUNT - 1);
        assert_eq!(
            min.encode().map(|e| e.to_string()).as_deref(),
            Some("ffffffffffffff")
        );
        assert!(Threshold::NEVER.encode().is_none());
        // Probabilities just below one stay below "never" and above zero.
        let near_one = Threshold::from_probability(1.0 - 1e-12);
        assert_eq!(near_one, Threshold::ALWAYS);
    }

    #[test]
    fn encoding_pads_leading_zeros() {
        // 31/32 = 0.96875 → threshold 0x08000000000000 → "08".
        let t = Threshold::from_probability(0.96875);
        assert_eq!(t.encode().map(|e| e.to_string()).as_deref(), Some("08"));
        assert_eq!(Threshold::parse("08"), Some(t));
    }

    #[test]
    fn parse_th_values() {
        assert_eq!(Threshold::parse("0"), Some(Threshold::ALWAYS));
        assert_eq!(Threshold::parse("8").map(Threshold::value), Some(1 << 55));
        assert_eq!(Threshold::parse("c").map(|t| t.probability()), Some(0.25));
        assert_eq!(Threshold::parse("C"), Threshold::parse("c"));
        assert_eq!(
            Threshold::parse("ffffffffffffff").map(Threshold::value),
            Some(MAX_ADJUSTED_COUNT - 1)
        );
        assert_eq!(Threshold::parse(""), None);
        assert_eq!(Threshold::parse("fffffffffffffff"), None); // 15 digits
        assert_eq!(Threshold::parse("g"), None);
        assert_eq!(Threshold::parse("-1"), None);
        assert_eq!(Threshold::parse("é"), None);
    }

    #[test]
    fn round_trip_through_encoding() {
        for p in [0.9, 0.5, 0.3, 0.1, 0.05, 0.001, 1e-9] {
            let t = Threshold::from_probability(p);
            let enc = t.encode().map(|e| e.to_string()).unwrap_or_default();
            assert_eq!(Threshold::parse(&enc), Some(t), "p={p}");
        }
    }

    #[test]
    fn randomness_sources() {
        let id = TraceId::from_bytes([
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a,
            0xbc, 0xde,
        ]);
        assert_eq!(Randomness::from_trace_id(id).value(), 0x123456789abcde);
        assert_eq!(
            Randomness::parse("123456789abcde"),
            Some(Randomness::from_trace_id(id))
        );
        assert_eq!(Randomness::parse("123456789abcd"), None);
        assert_eq!(Randomness::parse("123456789abcdef"), None);
        assert_eq!(Randomness::parse("12345678x9abcd"), None);
        assert_eq!(Randomness::from_value(MAX_ADJUSTED_COUNT), None);
    }

    #[test]
    fn decision_is_randomness_at_least_threshold() {
        let t = Threshold::parse("8").unwrap_or(Threshold::NEVER);
        let r = |v| Randomness::from_value(v).unwrap_or(Randomness(0));
        assert!(t.samples(r(1 << 55)));
        assert!(!t.samples(r((1 << 55) - 1)));
        assert!(Threshold::ALWAYS.samples(r(0)));
        assert!(!Threshold::NEVER.samples(r(MAX_ADJUSTED_COUNT - 1)));
        assert_eq!(Threshold::parse("c").map(|t| t.adjusted_count()), Some(4.0));
    }
}
