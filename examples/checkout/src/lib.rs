//! tracekit's main demo: one checkout traced across five services.
//!
//! ```sh
//! cargo run -p checkout-demo                  # 5 orders
//! cargo run -p checkout-demo -- --orders 8
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run -p checkout-demo
//! ```
//!
//! The demo starts an in-process OTLP receiver
//! ([`tracekit::testing::receiver::OtlpReceiver`]), then the five services
//! of [`services`] as child processes (this binary again, with
//! `--service NAME`), each with its own tracer provider and
//! `service.name`, exporting to the receiver (and, with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, to that collector as well). It sends
//! the orders of [`scenario`] to the gateway, waits for each order's trace
//! to arrive whole and draws it as one waterfall, then stops the services
//! (they flush on the way out) and exits.
//!
//! What the traces show: `#[instrument]` business functions with
//! `order.id`, `order.items.count`, `payment.method` and a masked card
//! number; span events with a `risk_score`; baggage set at the gateway and
//! recorded by inventory two hops away; fraud and inventory called
//! concurrently; a declined payment (Error status, `exception` event, 502
//! at the gateway); a slow remote warehouse; health checks never traced.

pub mod baggage;
pub mod card;
pub mod cli;
pub mod model;
pub mod orchestrator;
pub mod scenario;
pub mod services;
