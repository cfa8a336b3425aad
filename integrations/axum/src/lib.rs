//! tracekit integration for [axum]: one line on the router gives every
//! request a SERVER span named by its route (`GET /users/{id}`, never
//! `GET /users/42`), and handlers can read the current trace.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use tracekit_axum::TraceInfo;
//!
//! async fn user(trace: TraceInfo) -> String {
//!     format!("trace {}", trace.trace_id)
//! }
//!
//! #[tokio::main]
//! async fn main() {
//!     let _guard = tracekit::init(); // bound: dropped when main returns
//!     let app = Router::new()
//!         .route("/users/{id}", get(user))
//!         .layer(tracekit_axum::layer());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//!     axum::serve(listener, app)
//!         // SIGTERM (`docker stop`) or Ctrl-C stops the server, main
//!         // returns and the guard flushes the buffered spans.
//!         .with_graceful_shutdown(tracekit::shutdown_signal())
//!         .await
//!         .unwrap();
//! }
//! ```
//!
//! [`layer`] is [`tracekit_tower::HttpServerLayer`] with [`AxumRequestInfo`]:
//! everything that crate documents applies (extraction with the global
//! propagator, the span current for the handler and ending with the
//! response body, HTTP semantic conventions, status rules, gRPC). For
//! options (skipped paths, captured headers, the `traceparent` response
//! header, an explicit tracer) use [`layer_builder`]:
//!
//! ```
//! # let _guard = tracekit::builder().default_exporters(&[]).install();
//! let app: axum::Router = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .layer(
//!         tracekit_axum::layer_builder()
//!             .skip_path("/health")
//!             .capture_request_headers(["x-request-id"])
//!             .build(),
//!     );
//! ```
//!
//! Add the layer with `Router::layer` (after the routes): axum sets the
//! matched route before route layers run. To record `client.address` from
//! the socket, serve with
//! `app.into_make_service_with_connect_info::<SocketAddr>()`.
//!
//! # Baggage
//!
//! The request's context, its remote parent and its `baggage`, is current
//! while the handler runs, `#[instrument] async fn` handlers included
//! (their span is created on the first poll, inside the layer):
//!
//! ```
//! use opentelemetry::{baggage::BaggageExt, Context};
//! use tower::ServiceExt;
//!
//! #[tracing::instrument]
//! async fn items() -> String {
//!     let tenant = Context::current().baggage().get("tenant").map(|v| v.to_string());
//!     tenant.unwrap_or_default()
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let _guard = tracekit::builder().default_exporters(&[]).quiet(true).install();
//! let app = axum::Router::new()
//!     .route("/items", axum::routing::get(items))
//!     .layer(tracekit_axum::layer());
//! let request = http::Request::get("/items")
//!     .header("baggage", "tenant=acme")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
//! assert_eq!(body, "acme");
//! # }
//! ```
//!
//! To send baggage on, run the outgoing call in a context holding it:
//! `client.get(url).send().with_context(cx).await`, with
//! `cx = Context::current().with_baggage(..)` and
//! `opentelemetry::context::FutureExt` (see `tracekit_reqwest`). A guard
//! from `cx.attach()` dropped before the `.await` does nothing for an
//! `async fn`, which runs none of its body until first polled.
//!
//! [axum]: https://docs.rs/axum

#![warn(missing_docs)]

mod extractor;
mod request_info;

pub use extractor::TraceInfo;
pub use request_info::AxumRequestInfo;

use opentelemetry::global::BoxedTracer;
use tracekit_tower::{HttpServerLayer, HttpServerLayerBuilder};

/// The server layer for an axum router, with the defaults (global tracer
/// provider and propagator). Create it after `tracekit::init()`.
pub fn layer() -> HttpServerLayer<AxumRequestInfo, BoxedTracer> {
    layer_builder().build()
}

/// Options for the axum server layer (see [`HttpServerLayerBuilder`]).
pub fn layer_builder() -> HttpServerLayerBuilder<AxumRequestInfo, BoxedTracer> {
    HttpServerLayer::builder().request_info(AxumRequestInfo)
}
