//! tracekit integration for [reqwest] through [reqwest-middleware]: every
//! request attempt gets a CLIENT span, child of the current context (the
//! server span of the request being handled, say), and carries that
//! span's context downstream (`traceparent`, `tracestate`, `baggage` with
//! the default propagators).
//!
//! ```no_run
//! # async fn run() -> Result<(), reqwest_middleware::Error> {
//! let _guard = tracekit::init();
//! let client = tracekit_reqwest::traced_client();
//! let response = client
//!     .get("http://127.0.0.1:8080/users/42")
//!     // Optional: name the span `GET /users/{id}` instead of `GET`.
//!     .with_extension(tracekit_reqwest::UrlTemplate::new("/users/{id}"))
//!     .send()
//!     .await?;
//! # drop(response);
//! # Ok(())
//! # }
//! ```
//!
//! To add tracing to a client of your own, with other middleware (a retry
//! middleware goes before this one, so each attempt gets its span with
//! `http.request.resend_count`):
//!
//! ```
//! # let _guard = tracekit::builder().default_exporters(&[]).install();
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(tracekit_reqwest::TracingMiddleware::new())
//!     .build();
//! # drop(client);
//! ```
//!
//! Baggage for the next service: send the request in a context holding it,
//! with `.with_context(cx)` on the future (the middleware reads the
//! context current when the request is first polled, so a `cx.attach()`
//! guard dropped before the `.await` would not count):
//!
//! ```no_run
//! use opentelemetry::{baggage::BaggageExt, context::FutureExt, Context, KeyValue};
//!
//! # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), reqwest_middleware::Error> {
//! let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
//! let response = client
//!     .get("http://127.0.0.1:8080/items")
//!     .send()
//!     .with_context(cx) // sends `baggage: tenant=acme`
//!     .await?;
//! # drop(response);
//! # Ok(())
//! # }
//! ```
//!
//! See [`TracingMiddleware`] for the attributes and status rules.
//!
//! [reqwest]: https://docs.rs/reqwest
//! [reqwest-middleware]: https://docs.rs/reqwest-middleware

#![warn(missing_docs)]

mod error_type;
mod middleware;

pub use error_type::error_type;
pub use middleware::TracingMiddleware;
pub use tracekit_tower::UrlTemplate;

use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

/// `client` with a [`TracingMiddleware`] (global tracer provider and
/// propagator).
pub fn traced(client: reqwest::Client) -> ClientWithMiddleware {
    ClientBuilder::new(client)
        .with(TracingMiddleware::new())
        .build()
}

/// A ready traced client: a default `reqwest::Client` with a
/// [`TracingMiddleware`]. Create it after `tracekit::init()`.
pub fn traced_client() -> ClientWithMiddleware {
    traced(reqwest::Client::new())
}
