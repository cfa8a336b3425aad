//! Payment card numbers (PANs): 13 to 19 digits, optionally grouped with
//! single spaces or dashes, passing the Luhn check, not starting with `0`
//! (ISO/IEC 7812 assigns no card issuer the major industry identifier 0),
//! with at least one group of four or more digits (every printed card
//! format has one: 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3), which lets strings
//! without four consecutive digits skip this scanner entirely.
//!
//! Digits are first split into *groups* (maximal runs of digits); groups
//! joined by exactly one space or dash form a *sequence*. A candidate is a
//! run of whole consecutive groups of a sequence holding 13 to 19 digits, so
//! `4111 1111 1111 1111 2024` still yields its card number while a 30-digit
//! identifier, which is a single group, is never cut into a "card". From each
//! group the longest Luhn-valid candidate wins; scanning resumes after it.
//! Each start looks at most 19 groups ahead, so the scan is linear.

use super::Rewriter;

/// Fewest digits in a card number.
pub(crate) const MIN_DIGITS: usize = 13;
/// Digits of the longest group a card number must have.
const MIN_GROUP: usize = 4;
/// Most digits in a card number.
const MAX_DIGITS: usize = 19;

/// Replace every card number in `text` with `mask`; `None` when there is none.
pub(crate) fn redact(text: &str, mask: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Rewriter::new(text);
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // Measure the sequence starting here; only one long enough to hold
        // a card number has its groups collected (allocation stays rare).
        let start = i;
        let mut digits = 0usize;
        loop {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                digits += 1;
                i += 1;
            }
            if !joins(bytes, i) {
                break;
            }
            i += 1;
        }
        if digits >= MIN_DIGITS {
            groups.clear();
            let mut g = start;
            while g < i {
                let group_start = g;
                while g < i && bytes[g].is_ascii_digit() {
                    g += 1;
                }
                groups.push((group_start, g));
                g += 1; // the separator
            }
            redact_sequence(bytes, &groups, mask, &mut out);
        }
    }
    out.finish(mask)
}

/// Whether the digit group ending at `i` continues: one space or dash, then
/// a digit.
#[inline]
fn joins(bytes: &[u8], i: usize) -> bool {
    i + 1 < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'-') && bytes[i + 1].is_ascii_digit()
}

/// Find and replace the card numbers inside one sequence of digit groups.
fn redact_sequence(bytes: &[u8], groups: &[(usize, usize)], mask: &str, out: &mut Rewriter<'_>) {
    let mut s = 0;
    while s < groups.len() {
        let (first_start, _) = groups[s];
        if bytes[first_start] == b'0' {
            s += 1;
            continue;
        }
        match longest_valid_end(bytes, &groups[s..]) {
            Some(len) => {
                let e = s + len - 1;
                out.replace(first_start, groups[e].1, mask.as_bytes());
                s = e + 1;
            }
            None => s += 1,
        }
    }
}

/// How many leading groups of `groups` form the longest Luhn-valid card
/// number (13 to 19 digits, one group of at least 4), if any.
///
/// One pass over at most 19 digits: the Luhn sum of the first `n` digits
/// doubles the digits whose distance to the last one is odd, so keeping the
/// plain and doubled sums of even and odd positions separately gives the sum
/// for every prefix length in O(1).
fn longest_valid_end(bytes: &[u8], groups: &[(usize, usize)]) -> Option<usize> {
    let mut plain = [0u32; 2];
    let mut doubled = [0u32; 2];
    let mut n = 0usize;
    let mut best = None;
    let mut longest_group = 0;
    for (g, &(gs, ge)) in groups.iter().enumerate() {
        if n + (ge - gs) > MAX_DIGITS {
            break;
        }
        longest_group = longest_group.max(ge - gs);
        for &b in &bytes[gs..ge] {
            let d = u32::from(b - b'0');
            plain[n % 2] += d;
            doubled[n % 2] += if d * 2 > 9 { d * 2 - 9 } else { d * 2 };
            n += 1;
        }
        // Digit i is doubled when (n - 1 - i) is odd, i.e. i % 2 == n % 2.
        if n >= MIN_DIGITS
            && longest_group >= MIN_GROUP
            && (plain[(n - 1) % 2] + doubled[n % 2]).is_multiple_of(10)
        {
            best = Some(g + 1);
        }
    }
    best
}

/// The Luhn (mod 10) check over the digits of `groups`, the textbook way
/// (kept to check [`longest_valid_end`] against).
#[cfg(test)]
fn luhn_valid(bytes: &[u8], groups: &[(usize, usize)]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    for &(gs, ge) in groups.iter().rev() {
        for &b in bytes[gs..ge].iter().rev() {
            let mut d = u32::from(b - b'0');
            if double {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
            double = !double;
        }
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact(s, "REDACTED").unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn plain_and_grouped_numbers() {
        assert_eq!(r("4111111111111111"), "REDACTED");
        assert_eq!(r("card 4111 1111 1111 1111 ok"), "card REDACTED ok");
        assert_eq!(r("4111-1111-1111-1111"), "REDACTED");
        // Amex (15), Visa 13, 19-digit.
        assert_eq!(r("378282246310005"), "REDACTED");
        assert_eq!(r("4222222222222"), "REDACTED");
        assert_eq!(r("6011 0009 9013 9424"), "REDACTED");
        assert_eq!(r("x=5555555555554444;"), "x=REDACTED;");
    }

    #[test]
    fn luhn_failures_and_out_of_range_lengths_stay() {
        assert_eq!(redact("order 4111111111111112", "M"), None);
        assert_eq!(redact("1234567890123", "M"), None);
        // 12 digits that pass Luhn: too short.
        assert_eq!(redact("411111111113", "M"), None);
        // 20-digit single run: an identifier, not a card.
        assert_eq!(redact("41111111111111111113", "M"), None);
        // Leading zero: no issuer uses it.
        assert_eq!(redact("0000000000000000", "M"), None);
        // Double separators break a sequence.
        assert_eq!(redact("4111  1111  1111  1111", "M"), None);
        // No group of four digits: no printed card looks like this.
        assert_eq!(redact("411 111 111 111 111 1", "M"), None);
    }

    #[test]
    fn card_inside_a_longer_grouped_sequence() {
        assert_eq!(r("4111 1111 1111 1111 2024"), "REDACTED 2024");
        assert_eq!(r("1234 4111 1111 1111 1111"), "1234 REDACTED");
        assert_eq!(
            r("4111111111111111 and 5555555555554444"),
            "REDACTED and REDACTED"
        );
    }

    #[test]
    fn letters_do_not_join_and_non_ascii_is_kept() {
        assert_eq!(r("péage4111111111111111€"), "péageREDACTED€");
        assert_eq!(r("tel +1 555-123-4567"), "tel +1 555-123-4567");
    }

    #[test]
    fn incremental_luhn_agrees_with_the_textbook_check() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..5_000 {
            let len = rng.usize(13..=24);
            let digits: Vec<u8> = (0..len).map(|_| b'0' + rng.u8(0..10)).collect();
            // Random group sizes over the same digits.
            let mut groups = Vec::new();
            let mut at = 0;
            while at < len {
                let size = rng.usize(1..=6).min(len - at);
                groups.push((at, at + size));
                at += size;
            }
            let expected = (1..=groups.len()).rev().find(|&k| {
                let n: usize = groups[..k].iter().map(|(a, b)| b - a).sum();
                let longest = groups[..k].iter().map(|(a, b)| b - a).max().unwrap_or(0);
                (MIN_DIGITS..=MAX_DIGITS).contains(&n)
                    && longest >= MIN_GROUP
                    && luhn_valid(&digits, &groups[..k])
            });
            assert_eq!(longest_valid_end(&digits, &groups), expected);
        }
    }

    #[test]
    fn long_digit_inputs_are_linear_and_safe() {
        let digits = "7".repeat(200_000);
        assert_eq!(redact(&digits, "M"), None);
        let spaced = "4 ".repeat(100_000);
        let _ = redact(&spaced, "M");
        let dashed = "12-".repeat(100_000);
        let _ = redact(&dashed, "M");
    }
}
