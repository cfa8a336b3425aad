//! Card numbers as they may appear in telemetry: masked, last four digits
//! only.

/// The mask shown in place of every digit but the last four.
const MASK: &str = "**** **** **** ";

/// `4242 4242 4242 4242` → `**** **** **** 4242`.
///
/// Only the digits of `raw` count (spaces and dashes are ignored). With
/// fewer than eight digits nothing is revealed at all (`****`): a short
/// value is not a card number, and its last four digits could be most of
/// it.
///
/// ```
/// use checkout_demo::card::mask_card_number;
/// assert_eq!(mask_card_number("4242-4242-4242-4242"), "**** **** **** 4242");
/// assert_eq!(mask_card_number("123"), "****");
/// ```
pub fn mask_card_number(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "****".to_string();
    }
    let mut masked = String::with_capacity(MASK.len() + 4);
    masked.push_str(MASK);
    masked.extend(&digits[digits.len() - 4..]);
    masked
}

/// The digits of a card number, separators removed (how the simulated
/// issuer compares numbers).
pub fn card_digits(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_four_digits() {
        assert_eq!(
            mask_card_number("4242 4242 4242 4242"),
            "**** **** **** 4242"
        );
        assert_eq!(mask_card_number("5555555555554444"), "**** **** **** 4444");
        assert_eq!(mask_card_number("3782 822463 10005"), "**** **** **** 0005");
    }

    #[test]
    fn short_or_empty_values_reveal_nothing() {
        assert_eq!(mask_card_number(""), "****");
        assert_eq!(mask_card_number("1234567"), "****");
        assert_eq!(mask_card_number("no digits at all"), "****");
    }

    #[test]
    fn the_mask_never_contains_the_number() {
        let raw = "4000 0000 0000 0002";
        let masked = mask_card_number(raw);
        assert!(!card_digits(&masked).contains(&card_digits(raw)));
        assert_eq!(card_digits(&masked), "0002");
    }

    #[test]
    fn digits_drop_separators() {
        assert_eq!(card_digits("4242-4242 4242x4242"), "4242424242424242");
    }
}
