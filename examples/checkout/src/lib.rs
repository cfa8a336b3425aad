//! tracekit's main demo: one checkout traced across six services and a
//! message queue.
//!
//! ```sh
//! cargo run -p checkout-demo                  # 5 orders
//! cargo run -p checkout-demo -- --orders 8
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run -p checkout-demo
//! NATS_URL=nats://127.0.0.1:4222 cargo run -p checkout-demo   # the queue on NATS
//! ```
//!
//! The demo starts an in-process OTLP receiver
//! ([`tracekit::testing::receiver::OtlpReceiver`]) and the
//! [queue] between checkout and notifications (an embedded one
//! this process serves, or the NATS server `NATS_URL` names), then the six
//! services of [`services`] as child processes (this binary again, with
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
//! at the gateway); a slow remote warehouse; health checks never traced;
//! and, for each confirmed order, the queue hop: checkout's PRODUCER span
//! `publish order.confirmed` and, as its child, notifications' CONSUMER
//! span `process order.confirmed`, with the gateway's baggage carried in
//! the message headers.

pub mod baggage;
pub mod card;
pub mod cli;
pub mod model;
pub mod orchestrator;
pub mod queue;
pub mod scenario;
pub mod services;
