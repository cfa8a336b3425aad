//! `checkout`: runs one checkout. Fraud scoring and the stock reservation
//! go out concurrently (`tokio::join!`), both CLIENT spans children of the
//! same `process_checkout` span; then the payment. Any failure downstream
//! answers 502. A confirmed order is published as `order.confirmed` on the
//! [queue](crate::queue) (a PRODUCER span under `process_checkout`); a
//! failed publish is recorded but does not undo the confirmed order.

use super::downstream::{error_response, post_json, traced_client, CallError};
use super::{server, ServiceName};
use crate::cli::ServiceArgs;
use crate::model::{
    ChargeApproved, ChargeRequest, FraudAssessment, FraudRequest, Order, OrderConfirmed,
    OrderOutcome, Reservation, ReserveRequest,
};
use crate::queue::{Queue, ORDER_CONFIRMED};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use reqwest_middleware::ClientWithMiddleware;
use std::fmt;
use std::sync::Arc;
use tracing::field::Empty;

/// Orders scoring above this are refused.
pub const MAX_RISK: f64 = 0.8;

/// What the checkout calls.
struct Peers {
    client: ClientWithMiddleware,
    fraud: String,
    inventory: String,
    payment: String,
    queue: Queue,
}

/// Why a checkout failed.
#[derive(Debug)]
pub enum CheckoutError {
    /// The fraud service failed.
    Fraud(CallError),
    /// The inventory service failed.
    Inventory(CallError),
    /// The payment failed (declined, or the service failed).
    Payment(CallError),
    /// The risk is too high.
    Risky(f64),
    /// Some item is not in stock.
    OutOfStock,
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckoutError::Fraud(e) => write!(f, "fraud check failed: {e}"),
            CheckoutError::Inventory(e) => write!(f, "stock reservation failed: {e}"),
            CheckoutError::Payment(CallError::Status(_, message)) => {
                write!(f, "payment failed: {message}")
            }
            CheckoutError::Payment(e) => write!(f, "payment failed: {e}"),
            CheckoutError::Risky(score) => write!(f, "refused: risk score {score:.2}"),
            CheckoutError::OutOfStock => f.write_str("out of stock"),
        }
    }
}

impl std::error::Error for CheckoutError {}

/// `POST /checkout`.
pub async fn router(args: &ServiceArgs) -> Result<Router, String> {
    let queue = args
        .queue
        .as_deref()
        .ok_or("checkout: no --queue to publish confirmed orders to")?;
    let queue = Queue::connect(queue).await?;
    let peer = |name: ServiceName| {
        args.peers
            .get(&name)
            .cloned()
            .ok_or_else(|| format!("checkout: no URL for {name}"))
    };
    let peers = Arc::new(Peers {
        client: traced_client()?,
        fraud: peer(ServiceName::Fraud)?,
        inventory: peer(ServiceName::Inventory)?,
        payment: peer(ServiceName::Payment)?,
        queue,
    });
    let routes = Router::new().route(
        "/checkout",
        post(move |Json(order): Json<Order>| {
            let peers = Arc::clone(&peers);
            async move { checkout(&peers, order).await }
        }),
    );
    Ok(server::traced(routes, false))
}

async fn checkout(peers: &Peers, order: Order) -> Response {
    match process_checkout(peers, &order).await {
        Ok(authorization) => Json(OrderOutcome {
            order_id: order.id,
            status: "confirmed".into(),
            authorization: Some(authorization),
            error: None,
        })
        .into_response(),
        Err(e) => error_response(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

/// Fraud and stock at once, then the payment.
#[tracing::instrument(
    skip_all,
    fields(
        order.id = %order.id,
        order.items.count = order.items.len(),
        order.total_cents = order.total_cents(),
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
)]
async fn process_checkout(peers: &Peers, order: &Order) -> Result<String, CheckoutError> {
    let outcome = run_checkout(peers, order).await;
    if let Err(e) = &outcome {
        // Failed because a dependency did: status only; the exception is
        // recorded where it happened (the payment span, say).
        let span = tracing::Span::current();
        span.record("otel.status_description", e.to_string());
        span.record("otel.status_code", "error");
    }
    outcome
}

async fn run_checkout(peers: &Peers, order: &Order) -> Result<String, CheckoutError> {
    // Both calls are polled by this task while the process_checkout span
    // is entered: two CLIENT spans side by side under it.
    let (risk, reservation) = tokio::join!(assess_fraud(peers, order), reserve_stock(peers, order));
    let risk = risk.map_err(CheckoutError::Fraud)?;
    let reservation = reservation.map_err(CheckoutError::Inventory)?;
    if risk > MAX_RISK {
        return Err(CheckoutError::Risky(risk));
    }
    if !reservation.reserved {
        return Err(CheckoutError::OutOfStock);
    }
    let authorization = charge(peers, order).await?;
    announce(peers, order, &authorization).await;
    Ok(authorization)
}

/// Publish `order.confirmed`. The order is confirmed whatever happens
/// here: a failure is on the PRODUCER span and in an event.
async fn announce(peers: &Peers, order: &Order, authorization: &str) {
    let message = OrderConfirmed {
        order_id: order.id.clone(),
        authorization: authorization.to_string(),
        total_cents: order.total_cents(),
    };
    let published = match serde_json::to_string(&message) {
        Ok(payload) => peers.queue.publish(ORDER_CONFIRMED, payload).await,
        Err(e) => Err(format!("cannot encode the confirmation: {e}")),
    };
    if let Err(e) = published {
        tracing::warn!(error = %e, "order confirmation not published");
    }
}

async fn assess_fraud(peers: &Peers, order: &Order) -> Result<f64, CallError> {
    let request = FraudRequest {
        order_id: order.id.clone(),
        amount_cents: order.total_cents(),
        items_count: order.items.len(),
    };
    let assessment: FraudAssessment =
        post_json(&peers.client, &peers.fraud, "/score", &request).await?;
    Ok(assessment.risk_score)
}

async fn reserve_stock(peers: &Peers, order: &Order) -> Result<Reservation, CallError> {
    let request = ReserveRequest {
        order_id: order.id.clone(),
        items: order.items.clone(),
    };
    post_json(&peers.client, &peers.inventory, "/reserve", &request).await
}

async fn charge(peers: &Peers, order: &Order) -> Result<String, CheckoutError> {
    let request = ChargeRequest {
        order_id: order.id.clone(),
        amount_cents: order.total_cents(),
        payment: order.payment.clone(),
    };
    let approved: ChargeApproved = post_json(&peers.client, &peers.payment, "/charge", &request)
        .await
        .map_err(CheckoutError::Payment)?;
    Ok(approved.authorization)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_errors_read_as_the_issuer_said() {
        let e = CheckoutError::Payment(CallError::Status(
            StatusCode::PAYMENT_REQUIRED,
            "card declined: insufficient funds".into(),
        ));
        assert_eq!(
            e.to_string(),
            "payment failed: card declined: insufficient funds"
        );
        assert_eq!(
            CheckoutError::Risky(0.91).to_string(),
            "refused: risk score 0.91"
        );
    }
}
