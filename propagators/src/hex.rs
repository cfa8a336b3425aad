//! Hand-written lowercase hexadecimal parsing and formatting into stack
//! buffers, shared by every propagator of the crate.

/// Value of each byte as a lowercase hex digit, `0xff` when it is not one.
const LOWER_HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0u8;
    while i < 10 {
        table[(b'0' + i) as usize] = i;
        i += 1;
    }
    let mut i = 0u8;
    while i < 6 {
        table[(b'a' + i) as usize] = 10 + i;
        i += 1;
    }
    table
};

const LOWER_HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Parses 1 to 32 lowercase hex digits as an unsigned integer.
///
/// Uppercase digits, any other byte and an empty or too long input are
/// rejected with `None`.
#[inline]
pub(crate) fn parse_lower_hex_u128(digits: &[u8]) -> Option<u128> {
    if let Ok(full) = <&[u8; 32]>::try_from(digits) {
        let mut value: u128 = 0;
        for chunk in full.chunks_exact(8) {
            value = (value << 32) | u128::from(parse_eight(chunk)?);
        }
        return Some(value);
    }
    if digits.is_empty() || digits.len() > 32 {
        return None;
    }
    let mut value: u128 = 0;
    for &b in digits {
        let nibble = LOWER_HEX_VALUE[b as usize];
        if nibble == 0xff {
            return None;
        }
        value = (value << 4) | nibble as u128;
    }
    Some(value)
}

/// Parses 1 to 16 lowercase hex digits as an unsigned integer.
#[inline]
pub(crate) fn parse_lower_hex_u64(digits: &[u8]) -> Option<u64> {
    if let Ok(full) = <&[u8; 16]>::try_from(digits) {
        let high = parse_eight(&full[..8])?;
        let low = parse_eight(&full[8..])?;
        return Some((u64::from(high) << 32) | u64::from(low));
    }
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut value: u64 = 0;
    for &b in digits {
        let nibble = LOWER_HEX_VALUE[b as usize];
        if nibble == 0xff {
            return None;
        }
        value = (value << 4) | nibble as u64;
    }
    Some(value)
}

/// Eight lowercase hex digits (a slice of exactly 8 bytes) as their value,
/// all eight checked and converted at once in a 64-bit word.
#[inline]
fn parse_eight(chunk: &[u8]) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let x = u64::from_be_bytes(chunk.try_into().ok()?);
    // With every byte below 0x80, adding at most 0x50 to each byte sets
    // its high bit exactly when it reaches the bound, without a carry into
    // the next byte.
    if x & HIGH != 0 {
        return None;
    }
    let at_least = |bound: u8| x + ONES * u64::from(0x80 - bound);
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    if (digit | letter) & HIGH != HIGH {
        return None;
    }
    // '0'..'9' are 0x30..0x39 and 'a'..'f' 0x61..0x66: the low nibble,
    // plus 9 for letters.
    let nibbles = (x & (ONES * 0x0f)) + ((letter & HIGH) >> 7) * 9;
    // Pack the eight nibbles, most significant first.
    let pairs = (nibbles & 0x000f_000f_000f_000f) | ((nibbles & 0x0f00_0f00_0f00_0f00) >> 4);
    let quads = (pairs & 0x0000_00ff_0000_00ff) | ((pairs & 0x00ff_0000_00ff_0000) >> 8);
    let all = (quads & 0x0000_0000_0000_ffff) | ((quads & 0x0000_ffff_0000_0000) >> 16);
    Some(all as u32)
}

/// Parses exactly two lowercase hex digits as a byte.
#[inline]
pub(crate) fn parse_lower_hex_u8(digits: &[u8]) -> Option<u8> {
    match digits {
        [hi, lo] => {
            let (hi, lo) = (LOWER_HEX_VALUE[*hi as usize], LOWER_HEX_VALUE[*lo as usize]);
            if hi == 0xff || lo == 0xff {
                None
            } else {
                Some((hi << 4) | lo)
            }
        }
        _ => None,
    }
}

/// Writes `bytes` as lowercase hex into `out`, which must be exactly twice as
/// long as `bytes`.
#[inline]
pub(crate) fn write_lower_hex(bytes: &[u8], out: &mut [u8]) {
    debug_assert_eq!(out.len(), bytes.len() * 2);
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = LOWER_HEX_DIGITS[(b >> 4) as usize];
        pair[1] = LOWER_HEX_DIGITS[(b & 0x0f) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-by-digit reading, the reference for the word-at-a-time one.
    fn by_table(digits: &[u8]) -> Option<u128> {
        digits.iter().try_fold(0u128, |value, &b| {
            let nibble = LOWER_HEX_VALUE[b as usize];
            (nibble != 0xff).then_some((value << 4) | u128::from(nibble))
        })
    }

    #[test]
    fn eight_digits_at_once_agree_with_the_table_for_every_byte_anywhere() {
        for position in 0..8 {
            for byte in 0..=255u8 {
                let mut chunk = *b"09af5c3e";
                chunk[position] = byte;
                assert_eq!(
                    parse_eight(&chunk).map(u128::from),
                    by_table(&chunk),
                    "{chunk:?}"
                );
            }
        }
        assert_eq!(parse_eight(b"00000000"), Some(0));
        assert_eq!(parse_eight(b"ffffffff"), Some(u32::MAX));
        assert_eq!(parse_eight(b"0123abcd"), Some(0x0123_abcd));
    }

    #[test]
    fn full_width_ids_agree_with_the_table() {
        let mut rng = fastrand::Rng::with_seed(7);
        let alphabet = b"0123456789abcdefABCDEFgxz-/:@`G\x00\x7f\x80\xff";
        for _ in 0..20_000 {
            let mut digits = [0u8; 32];
            for d in &mut digits {
                // Mostly valid digits, now and then anything.
                *d = if rng.u8(..) < 250 {
                    LOWER_HEX_DIGITS[rng.usize(..16)]
                } else {
                    alphabet[rng.usize(..alphabet.len())]
                };
            }
            assert_eq!(
                parse_lower_hex_u128(&digits),
                by_table(&digits),
                "{digits:?}"
            );
            assert_eq!(
                parse_lower_hex_u64(&digits[..16]).map(u128::from),
                by_table(&digits[..16]),
                "{digits:?}"
            );
        }
    }

    #[test]
    fn parses_lowercase_only() {
        assert_eq!(
            parse_lower_hex_u64(b"00f067aa0ba902b7"),
            Some(0x00f0_67aa_0ba9_02b7)
        );
        assert_eq!(parse_lower_hex_u64(b"00F067AA0BA902B7"), None);
        assert_eq!(parse_lower_hex_u64(b"00f067aa0ba902g7"), None);
        assert_eq!(parse_lower_hex_u64(b""), None);
        assert_eq!(parse_lower_hex_u64(b"00f067aa0ba902b70"), None);
        assert_eq!(
            parse_lower_hex_u128(b"4bf92f3577b34da6a3ce929d0e0e4736"),
            Some(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(
            parse_lower_hex_u128(b"4bf92f3577b34da6a3ce929d0e0e47360"),
            None
        );
        assert_eq!(parse_lower_hex_u128(b"1"), Some(1));
        assert_eq!(parse_lower_hex_u8(b"ff"), Some(0xff));
        assert_eq!(parse_lower_hex_u8(b"0."), None);
        assert_eq!(parse_lower_hex_u8(b"0"), None);
        assert_eq!(parse_lower_hex_u8(b"000"), None);
    }

    #[test]
    fn formats_lowercase() {
        let mut out = [0u8; 8];
        write_lower_hex(&[0x00, 0xab, 0x7f, 0xf0], &mut out);
        assert_eq!(&out, b"00ab7ff0");
    }
}
