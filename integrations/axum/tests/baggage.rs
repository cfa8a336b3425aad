//! Baggage set in service A's `#[instrument] async fn` handler reaches
//! service B's `#[instrument] async fn` handler, and B's handler span is a
//! child of B's server span, in A's trace: the recipe of the README
//! (`.with_context(cx)` on the outgoing request).
//!
//! Its own test binary: it installs a global `tracing` subscriber (the
//! services' connection tasks run on any worker thread).
mod support;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::{Context, KeyValue};
use reqwest_middleware::ClientWithMiddleware;
use std::time::Duration;
use support::{propagator, serve};
use tracekit::testing::TestProvider;
use tracekit_reqwest::TracingMiddleware;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone)]
struct Downstream {
    client: ClientWithMiddleware,
    url: String,
}

/// Service A: sets baggage and calls B under it.
#[tracing::instrument(skip_all)]
async fn checkout(State(b): State<Downstream>) -> String {
    let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
    b.client
        .get(format!("{}/items", b.url))
        .send()
        .with_context(cx)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Service B: reads the baggage.
#[tracing::instrument]
async fn items() -> String {
    tokio::task::yield_now().await;
    let tenant = Context::current()
        .baggage()
        .get("tenant")
        .map(|v| v.to_string());
    format!("tenant={}", tenant.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baggage_set_in_service_a_reaches_service_b_handler() {
    let test = TestProvider::new();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(tracekit::layer::layer(test.tracer("handlers"))),
    )
    .unwrap();

    let b = serve(
        Router::new().route("/items", get(items)).layer(
            tracekit_axum::layer_builder()
                .tracer(test.tracer("service-b"))
                .propagator(propagator())
                .build(),
        ),
    )
    .await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(
            TracingMiddleware::new()
                .with_tracer(test.tracer("client"))
                .with_propagator(propagator()),
        )
        .build();
    let a = serve(
        Router::new()
            .route("/checkout", get(checkout))
            .with_state(Downstream {
                client,
                url: b.clone(),
            })
            .layer(
                tracekit_axum::layer_builder()
                    .tracer(test.tracer("service-a"))
                    .propagator(propagator())
                    .build(),
            ),
    )
    .await;

    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(format!("{a}/checkout"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(answer, "tenant=acme");

    // The server spans end when their responses' bodies are done: wait for
    // all five (A server, checkout, client, B server, items).
    let mut spans = test.spans();
    for _ in 0..500 {
        if spans.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        spans = test.spans();
    }
    spans.assert_single_trace();
    spans.assert_parent("checkout", "GET /checkout");
    spans.assert_parent("GET", "checkout");
    spans.assert_parent("GET /items", "GET");
    spans.assert_parent("items", "GET /items");
}
