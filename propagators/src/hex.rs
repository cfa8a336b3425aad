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
