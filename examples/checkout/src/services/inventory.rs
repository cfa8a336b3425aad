//! `inventory`: reserves stock. It reads the baggage the gateway set two
//! hops upstream (`customer.tier`, `region`) and records it on its span.
//! Back-ordered items need the remote warehouse, which is slow: the
//! waterfall shows it at a glance.

use super::server;
use crate::baggage::{CUSTOMER_TIER, REGION};
use crate::model::{LineItem, Reservation, ReserveRequest};
use crate::scenario::{BACKORDERED_PREFIX, LOCAL_LOOKUP, WAREHOUSE_LOOKUP};
use axum::routing::post;
use axum::{Json, Router};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::Context;
use tracing::field::Empty;

/// `POST /reserve`.
pub fn router() -> Router {
    server::traced(Router::new().route("/reserve", post(reserve)), false)
}

async fn reserve(Json(request): Json<ReserveRequest>) -> Json<Reservation> {
    Json(reserve_stock(&request).await)
}

/// Reserve every item: local stock at once, back-ordered items through
/// the remote warehouse.
#[tracing::instrument(
    skip_all,
    fields(
        customer.tier = Empty,
        region = Empty,
        order.id = %request.order_id,
        order.items.count = request.items.len(),
    )
)]
async fn reserve_stock(request: &ReserveRequest) -> Reservation {
    record_baggage();
    let (remote, local): (Vec<&LineItem>, Vec<&LineItem>) = request
        .items
        .iter()
        .partition(|item| item.sku.starts_with(BACKORDERED_PREFIX));
    check_local_stock(local.len()).await;
    for item in &remote {
        query_remote_warehouse(&item.sku, item.quantity).await;
    }
    Reservation {
        reserved: true,
        warehouse_lookups: remote.len(),
    }
}

/// Copy the baggage entries the gateway set onto the current span.
fn record_baggage() {
    let cx = Context::current();
    let span = tracing::Span::current();
    for key in [CUSTOMER_TIER, REGION] {
        if let Some(value) = cx.baggage().get(key) {
            span.record(key, value.as_str());
        }
    }
}

#[tracing::instrument(skip_all, fields(inventory.items.count = count))]
async fn check_local_stock(count: usize) {
    tokio::time::sleep(LOCAL_LOOKUP).await;
}

#[tracing::instrument(skip_all, fields(inventory.sku = %sku, inventory.quantity = quantity))]
async fn query_remote_warehouse(sku: &str, quantity: u32) {
    tokio::time::sleep(WAREHOUSE_LOOKUP).await;
}
