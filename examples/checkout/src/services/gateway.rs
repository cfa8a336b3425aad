//! `gateway`: the public entry point, `POST /orders`. Its SERVER span is
//! the root of every order's trace (it sends `traceparent` back so the
//! caller learns the trace id). It puts the customer's tier and region in
//! the baggage of the call to checkout; inventory reads them.

use super::downstream::{post_json, traced_client, CallError};
use super::{server, ServiceName};
use crate::baggage::{CUSTOMER_TIER, REGION};
use crate::cli::ServiceArgs;
use crate::model::{Order, OrderOutcome};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::{Context, KeyValue};
use reqwest_middleware::ClientWithMiddleware;
use std::sync::Arc;
use tracing::field::Empty;

/// What the gateway calls.
struct Upstream {
    client: ClientWithMiddleware,
    checkout: String,
}

/// `POST /orders`.
pub fn router(args: &ServiceArgs) -> Result<Router, String> {
    let upstream = Arc::new(Upstream {
        client: traced_client()?,
        checkout: args
            .peers
            .get(&ServiceName::Checkout)
            .cloned()
            .ok_or("gateway: no URL for checkout")?,
    });
    let routes = Router::new().route(
        "/orders",
        post(move |Json(order): Json<Order>| {
            let upstream = Arc::clone(&upstream);
            async move { orders(&upstream, order).await }
        }),
    );
    Ok(server::traced(routes, true))
}

async fn orders(upstream: &Upstream, order: Order) -> Response {
    if order.items.is_empty() {
        return outcome(
            StatusCode::BAD_REQUEST,
            &order,
            Err("an order needs items".into()),
        );
    }
    match place_order(upstream, &order).await {
        Ok(confirmed) => (StatusCode::OK, Json(confirmed)).into_response(),
        // Whatever failed behind us, the client sees a bad gateway.
        Err(CallError::Status(_, message)) => {
            outcome(StatusCode::BAD_GATEWAY, &order, Err(message))
        }
        Err(e) => outcome(StatusCode::BAD_GATEWAY, &order, Err(e.to_string())),
    }
}

fn outcome(status: StatusCode, order: &Order, result: Result<String, String>) -> Response {
    let (state, authorization, error) = match result {
        Ok(authorization) => ("confirmed", Some(authorization), None),
        Err(error) => ("failed", None, Some(error)),
    };
    let body = OrderOutcome {
        order_id: order.id.clone(),
        status: state.into(),
        authorization,
        error,
    };
    (status, Json(body)).into_response()
}

/// Hand the order to checkout, with the customer's tier and region as
/// baggage.
#[tracing::instrument(
    skip_all,
    fields(
        order.id = %order.id,
        order.items.count = order.items.len(),
        payment.method = %order.payment.method,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
)]
async fn place_order(upstream: &Upstream, order: &Order) -> Result<OrderOutcome, CallError> {
    // The current context holds this span; the baggage is added to a copy
    // made current for the call, whose CLIENT span and headers carry both.
    let cx = Context::current().with_baggage([
        KeyValue::new(CUSTOMER_TIER, order.customer_tier.clone()),
        KeyValue::new(REGION, order.region.clone()),
    ]);
    let outcome = post_json(&upstream.client, &upstream.checkout, "/checkout", order)
        .with_context(cx)
        .await;
    if let Err(e) = &outcome {
        // Failed, but the cause is downstream: status only, no exception.
        let span = tracing::Span::current();
        span.record("otel.status_description", e.to_string());
        span.record("otel.status_code", "error");
    }
    outcome
}
