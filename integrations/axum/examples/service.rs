//! The README's "Using it" service, compiled with the workspace: axum in,
//! reqwest out, baggage set for one call and read by the next service,
//! spans flushed when SIGTERM or Ctrl-C stops it.
//!
//! `cargo run -p tracekit-axum --example service`, then
//! `curl 127.0.0.1:3000/checkout` (add `OTEL_TRACES_EXPORTER=console` to
//! see the trace in this terminal).

use axum::{extract::State, routing::get, Router};
use opentelemetry::{baggage::BaggageExt, context::FutureExt, Context, KeyValue};
use reqwest_middleware::ClientWithMiddleware;

#[derive(Clone)]
struct Shop {
    client: ClientWithMiddleware,
    inventory: String,
}

/// Calls the inventory service with `tenant` baggage.
#[tracing::instrument(skip_all)]
async fn checkout(State(shop): State<Shop>) -> String {
    let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
    // The request, its CLIENT span and its `baggage` header are made in
    // `cx`: `.with_context(cx)` keeps it current while the future runs.
    let response = shop
        .client
        .get(format!("{}/items", shop.inventory))
        .send()
        .with_context(cx)
        .await;
    match response {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(error) => format!("inventory unreachable: {error}"),
    }
}

/// The inventory service's handler: the caller's baggage is current.
#[tracing::instrument]
async fn items() -> String {
    let cx = Context::current();
    let tenant = cx.baggage().get("tenant").map(|v| v.to_string());
    format!("items for {}", tenant.unwrap_or_default())
}

#[tokio::main]
async fn main() {
    let _guard = tracekit::init(); // reads OTEL_*; dropped when main returns: flushes
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
        .await
        .unwrap();
    let shop = Shop {
        client: tracekit_reqwest::traced_client(),
        // Its own inventory, so that one process shows both ends.
        inventory: format!("http://{}", listener.local_addr().unwrap()),
    };
    let app = Router::new()
        .route("/checkout", get(checkout))
        .route("/items", get(items))
        .with_state(shop)
        .layer(tracekit_axum::layer());
    axum::serve(listener, app)
        // SIGTERM (`docker stop`, Kubernetes) or Ctrl-C: stop serving, so
        // main returns and the guard exports the buffered spans.
        .with_graceful_shutdown(tracekit::shutdown_signal())
        .await
        .unwrap();
}
