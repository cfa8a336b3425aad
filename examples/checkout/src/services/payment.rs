//! `payment`: charges the card through a simulated issuer, which declines
//! one test card. A declined charge fails the `authorize_charge` span
//! (Error status and an `exception` event) and answers 402.
//!
//! The card number is in the request body only; the span gets it masked.

use super::downstream::error_response;
use super::server;
use crate::card::{card_digits, mask_card_number};
use crate::model::{ChargeApproved, ChargeRequest};
use crate::scenario::DECLINED_CARD;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use std::fmt;
use std::time::Duration;
use tracing::field::Empty;

/// How long the simulated issuer takes to answer.
const ISSUER_LATENCY: Duration = Duration::from_millis(35);

/// The issuer refused the charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardDeclined {
    /// The issuer's reason.
    pub reason: &'static str,
}

impl fmt::Display for CardDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card declined: {}", self.reason)
    }
}

impl std::error::Error for CardDeclined {}

/// `POST /charge`.
pub fn router() -> Router {
    server::traced(Router::new().route("/charge", post(charge)), false)
}

async fn charge(Json(request): Json<ChargeRequest>) -> Response {
    match authorize_charge(&request).await {
        Ok(authorization) => Json(ChargeApproved { authorization }).into_response(),
        Err(declined) => error_response(StatusCode::PAYMENT_REQUIRED, declined.to_string()),
    }
}

/// Ask the issuer; a decline is recorded on the span as an error.
#[tracing::instrument(
    skip_all,
    fields(
        payment.card.number = %mask_card_number(&request.payment.card_number),
        payment.method = %request.payment.method,
        order.id = %request.order_id,
        payment.amount_cents = request.amount_cents,
        error = Empty,
    )
)]
async fn authorize_charge(request: &ChargeRequest) -> Result<String, CardDeclined> {
    tokio::time::sleep(ISSUER_LATENCY).await;
    match issuer_decision(&request.payment.card_number) {
        Ok(()) => Ok(authorization_code(&request.order_id)),
        Err(declined) => {
            // A recorded error sets the Error status and adds an
            // `exception` event (type CardDeclined, the message).
            tracing::Span::current()
                .record("error", &declined as &(dyn std::error::Error + 'static));
            Err(declined)
        }
    }
}

/// The simulated issuer: every card is good but [`DECLINED_CARD`].
pub fn issuer_decision(card_number: &str) -> Result<(), CardDeclined> {
    if card_digits(card_number) == card_digits(DECLINED_CARD) {
        Err(CardDeclined {
            reason: "insufficient funds",
        })
    } else {
        Ok(())
    }
}

fn authorization_code(order_id: &str) -> String {
    let digits: String = order_id.chars().filter(char::is_ascii_digit).collect();
    format!("AUTH-{digits}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ACCEPTED_CARDS;

    #[test]
    fn only_the_declined_card_is_refused() {
        for card in ACCEPTED_CARDS {
            assert_eq!(issuer_decision(card), Ok(()));
        }
        let declined = issuer_decision("4000-0000-0000-0002").unwrap_err();
        assert_eq!(declined.to_string(), "card declined: insufficient funds");
    }

    #[test]
    fn authorization_codes_carry_the_order_number() {
        assert_eq!(authorization_code("ord-0042"), "AUTH-0042");
    }
}
