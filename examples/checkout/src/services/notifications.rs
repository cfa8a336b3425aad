//! `notifications`: tells the customer their order is confirmed. It serves
//! no order requests (only its health check); it consumes
//! `order.confirmed` from the [queue](crate::queue). Each message is
//! handled under a CONSUMER span `process order.confirmed`, the child of
//! checkout's PRODUCER span, so the order's trace continues across the
//! queue; the baggage the gateway set arrives with the message.

use super::server;
use crate::baggage::CUSTOMER_TIER;
use crate::cli::ServiceArgs;
use crate::model::OrderConfirmed;
use crate::queue::{Queue, ORDER_CONFIRMED};
use axum::Router;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::Context;
use std::time::Duration;
use tracing::field::Empty;

/// How long writing and sending one confirmation takes.
pub const SEND_TIME: Duration = Duration::from_millis(20);

/// The health check, and the consumer running in a task of its own.
pub async fn router(args: &ServiceArgs) -> Result<Router, String> {
    let url = args
        .queue
        .as_deref()
        .ok_or("notifications: no --queue to consume from")?;
    let queue = Queue::connect(url).await?;
    tokio::spawn(async move {
        if let Err(e) = queue.consume(ORDER_CONFIRMED, handle).await {
            eprintln!("notifications: {e}");
        }
    });
    Ok(server::traced(Router::new(), false))
}

async fn handle(payload: String) -> Result<(), String> {
    let confirmed: OrderConfirmed =
        serde_json::from_str(&payload).map_err(|e| format!("not an order confirmation: {e}"))?;
    send_confirmation(&confirmed).await;
    Ok(())
}

/// Write and send the confirmation (simulated), recording the customer's
/// tier from the baggage that crossed the queue.
#[tracing::instrument(
    skip_all,
    fields(order.id = %confirmed.order_id, customer.tier = Empty)
)]
async fn send_confirmation(confirmed: &OrderConfirmed) {
    if let Some(tier) = Context::current().baggage().get(CUSTOMER_TIER) {
        tracing::Span::current().record(CUSTOMER_TIER, tier.as_str());
    }
    tokio::time::sleep(SEND_TIME).await;
}
