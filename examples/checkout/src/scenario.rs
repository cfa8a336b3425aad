//! The demo's orders and the rules the simulated services follow, all
//! deterministic so every run tells the same story:
//!
//! - every 4th order pays with a card the simulated issuer declines: the
//!   payment span fails, the gateway answers 502;
//! - every 3rd order holds a back-ordered item: inventory asks a remote
//!   warehouse, which takes hundreds of milliseconds.

use crate::model::{LineItem, Order, PaymentDetails};
use std::time::Duration;

/// Cards the simulated issuer accepts (well-known test numbers).
pub const ACCEPTED_CARDS: [&str; 3] = [
    "4242 4242 4242 4242",
    "5555 5555 5555 4444",
    "3782 822463 10005",
];

/// The card the simulated issuer declines (insufficient funds).
pub const DECLINED_CARD: &str = "4000 0000 0000 0002";

/// Every card number the demo sends (to check none leaks into telemetry).
pub const ALL_CARDS: [&str; 4] = [
    ACCEPTED_CARDS[0],
    ACCEPTED_CARDS[1],
    ACCEPTED_CARDS[2],
    DECLINED_CARD,
];

/// SKUs starting with this are back-ordered: the remote warehouse knows.
pub const BACKORDERED_PREFIX: &str = "bo-";

/// How long the remote warehouse takes to answer.
pub const WAREHOUSE_LOOKUP: Duration = Duration::from_millis(450);

/// How long a local stock lookup takes.
pub const LOCAL_LOOKUP: Duration = Duration::from_millis(15);

const TIERS: [&str; 3] = ["gold", "silver", "bronze"];
const REGIONS: [&str; 2] = ["eu-west", "us-east"];
const CATALOGUE: [(&str, u64); 5] = [
    ("mug-blue", 1_250),
    ("tee-m", 2_400),
    ("socks-3p", 990),
    ("poster-a2", 1_800),
    ("cap-black", 1_590),
];

/// Whether order `number` (1-based) pays with the declined card.
pub fn is_declined(number: u32) -> bool {
    number.is_multiple_of(4)
}

/// Whether order `number` (1-based) holds a back-ordered item.
pub fn is_backordered(number: u32) -> bool {
    number.is_multiple_of(3)
}

/// Order `number` (1-based) of the demo.
pub fn order(number: u32) -> Order {
    let n = number as usize;
    let count = 1 + n % 3;
    let mut items: Vec<LineItem> = (0..count)
        .map(|i| {
            let (sku, price) = CATALOGUE[(n + i) % CATALOGUE.len()];
            LineItem {
                sku: sku.to_string(),
                quantity: 1 + ((n + i) % 2) as u32,
                unit_price_cents: price,
            }
        })
        .collect();
    if is_backordered(number) {
        items.push(LineItem {
            sku: format!("{BACKORDERED_PREFIX}lamp-oak"),
            quantity: 1,
            unit_price_cents: 8_900,
        });
    }
    let card = if is_declined(number) {
        DECLINED_CARD
    } else {
        ACCEPTED_CARDS[n % ACCEPTED_CARDS.len()]
    };
    Order {
        id: format!("ord-{number:04}"),
        customer_tier: TIERS[n % TIERS.len()].to_string(),
        region: REGIONS[n % REGIONS.len()].to_string(),
        items,
        payment: PaymentDetails {
            method: "card".to_string(),
            card_number: card.to_string(),
        },
    }
}

/// The fraud service's score for an order: a stable pseudo-random value in
/// [0, 0.6) from its id and amount (this demo's fraud model).
pub fn risk_score(order_id: &str, amount_cents: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order_id.bytes().chain(amount_cents.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h % 600) as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::card_digits;

    #[test]
    fn every_fourth_order_is_declined_and_every_third_is_slow() {
        assert!(!is_declined(1) && !is_declined(3) && is_declined(4) && is_declined(8));
        assert!(!is_backordered(1) && is_backordered(3) && is_backordered(6));
        assert_eq!(order(4).payment.card_number, DECLINED_CARD);
        assert_ne!(order(5).payment.card_number, DECLINED_CARD);
        assert!(order(3)
            .items
            .iter()
            .any(|i| i.sku.starts_with(BACKORDERED_PREFIX)));
        assert!(!order(2)
            .items
            .iter()
            .any(|i| i.sku.starts_with(BACKORDERED_PREFIX)));
    }

    #[test]
    fn orders_are_deterministic_and_distinct() {
        assert_eq!(order(7).id, "ord-0007");
        assert_eq!(order(7).items, order(7).items);
        assert_ne!(order(1).id, order(2).id);
        assert!((1..=12).all(|n| !order(n).items.is_empty()));
    }

    #[test]
    fn accepted_and_declined_cards_differ() {
        for card in ACCEPTED_CARDS {
            assert_ne!(card_digits(card), card_digits(DECLINED_CARD));
        }
    }

    #[test]
    fn risk_scores_are_stable_and_bounded() {
        let a = risk_score("ord-0001", 1000);
        assert_eq!(a, risk_score("ord-0001", 1000));
        for n in 1u32..50 {
            let s = risk_score(&format!("ord-{n:04}"), u64::from(n) * 100);
            assert!((0.0..0.6).contains(&s), "{s}");
        }
    }
}
