//! The JSON bodies the six services exchange.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An order as the gateway receives it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Order {
    /// `ord-0001`, ...
    pub id: String,
    /// `gold`, `silver`, `bronze`: travels downstream as baggage.
    pub customer_tier: String,
    /// `eu-west`, `us-east`: travels downstream as baggage.
    pub region: String,
    /// What is bought.
    pub items: Vec<LineItem>,
    /// How it is paid.
    pub payment: PaymentDetails,
}

impl Order {
    /// Sum of quantity × unit price over the items, saturating.
    pub fn total_cents(&self) -> u64 {
        self.items.iter().fold(0u64, |sum, item| {
            sum.saturating_add(
                item.unit_price_cents
                    .saturating_mul(u64::from(item.quantity)),
            )
        })
    }
}

// Hand-written so the card number can never reach a log line by `{:?}`.
impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("id", &self.id)
            .field("customer_tier", &self.customer_tier)
            .field("region", &self.region)
            .field("items", &self.items)
            .field("payment", &self.payment)
            .finish()
    }
}

/// One line of an order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LineItem {
    /// Stock keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// Price of one, in cents.
    pub unit_price_cents: u64,
}

/// Payment details; the card number is secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct PaymentDetails {
    /// `card`, ...
    pub method: String,
    /// The full card number, as typed.
    pub card_number: String,
}

impl fmt::Debug for PaymentDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentDetails")
            .field("method", &self.method)
            .field(
                "card_number",
                &crate::card::mask_card_number(&self.card_number),
            )
            .finish()
    }
}

/// The gateway's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderOutcome {
    /// The order.
    pub order_id: String,
    /// `confirmed` or `failed`.
    pub status: String,
    /// The payment authorization, when confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// checkout → fraud.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FraudRequest {
    /// The order.
    pub order_id: String,
    /// Its total.
    pub amount_cents: u64,
    /// How many lines it has.
    pub items_count: usize,
}

/// fraud → checkout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FraudAssessment {
    /// 0.0 (safe) to 1.0 (certain fraud).
    pub risk_score: f64,
}

/// checkout → inventory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReserveRequest {
    /// The order.
    pub order_id: String,
    /// What to reserve.
    pub items: Vec<LineItem>,
}

/// inventory → checkout.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reservation {
    /// Whether everything is reserved.
    pub reserved: bool,
    /// How many items needed a remote warehouse lookup (the slow path).
    pub warehouse_lookups: usize,
}

/// checkout → payment.
#[derive(Clone, Serialize, Deserialize)]
pub struct ChargeRequest {
    /// The order.
    pub order_id: String,
    /// How much.
    pub amount_cents: u64,
    /// Card, wallet, ...
    pub payment: PaymentDetails,
}

/// payment → checkout, on success.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChargeApproved {
    /// The issuer's authorization code.
    pub authorization: String,
}

/// The `order.confirmed` message checkout publishes after a successful
/// charge (no card details: the authorization code is all it needs).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrderConfirmed {
    /// The order.
    pub order_id: String,
    /// The issuer's authorization code.
    pub authorization: String,
    /// What was charged, in cents.
    pub total_cents: u64,
}

/// Any service's error body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Order {
        Order {
            id: "ord-0001".into(),
            customer_tier: "gold".into(),
            region: "eu-west".into(),
            items: vec![
                LineItem {
                    sku: "a".into(),
                    quantity: 2,
                    unit_price_cents: 150,
                },
                LineItem {
                    sku: "b".into(),
                    quantity: 1,
                    unit_price_cents: 1000,
                },
            ],
            payment: PaymentDetails {
                method: "card".into(),
                card_number: "4242 4242 4242 4242".into(),
            },
        }
    }

    #[test]
    fn totals_multiply_quantities() {
        assert_eq!(order().total_cents(), 1300);
        let mut huge = order();
        huge.items[0].unit_price_cents = u64::MAX;
        assert_eq!(huge.total_cents(), u64::MAX);
    }

    #[test]
    fn debug_output_masks_the_card() {
        let text = format!("{:?}", order());
        assert!(!text.contains("4242 4242 4242 4242"), "{text}");
        assert!(text.contains("**** **** **** 4242"), "{text}");
    }

    #[test]
    fn orders_round_trip_as_json() {
        let json = serde_json::to_string(&order()).unwrap();
        let back: Order = serde_json::from_str(&json).unwrap();
        assert_eq!(back.items, order().items);
        assert_eq!(back.payment.card_number, "4242 4242 4242 4242");
    }
}
