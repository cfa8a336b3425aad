//! The `tracing` integration: `#[instrument]` and `info_span!` spans
//! recorded as tracekit spans, one context model shared with the
//! OpenTelemetry API, context carried across tasks, and log lines carrying
//! trace ids.
//!
//! # Design
//!
//! [`TracekitLayer`] is a `tracing_subscriber` [`Layer`](tracing_subscriber::Layer).
//! It keeps, in each `tracing` span's extensions, the OpenTelemetry
//! [`Context`](opentelemetry::Context) holding the tracekit span: built once
//! when the span starts and made current (attached) every time the
//! `tracing` span is entered, restored when it is exited. So:
//!
//! * **Parents.** A span's parent is its `tracing` parent (explicit or
//!   contextual); a span with none is a child of the current OpenTelemetry
//!   context, set by middleware or code using the OpenTelemetry API.
//!   OpenTelemetry API spans started while a `tracing` span is entered are
//!   its children. Whichever API each piece of code uses, there is one
//!   trace. The current context is read when the `tracing` span is
//!   *created*. For an `#[instrument]`ed `async fn` that is when its future
//!   is first polled, not when the function is called (an `async fn` runs
//!   none of its body, the span's creation included, until polled). So
//!   a context attached only around the call
//!   (`let fut = { let _guard = cx.attach(); handler() }; fut.await`) is
//!   gone before the span exists: the span becomes a new root and
//!   [`Context::current()`](opentelemetry::Context::current) inside has
//!   none of `cx`'s baggage. Make `cx` current for every poll instead, with
//!   [`FutureExt::with_context`](opentelemetry::context::FutureExt::with_context):
//!   `handler().with_context(cx).await` (or `tokio::spawn(handler().with_context(cx))`).
//!   The span is then the child of `cx`'s span (a remote parent too), and
//!   `cx`'s baggage is readable inside the function, in the functions it
//!   calls and in the requests it sends. [`SpanExt::set_parent`] sets only
//!   the parent, not the baggage.
//! * **Root spans start late.** A span without a `tracing` parent starts
//!   when first needed (entered, given a child or an event, asked for its
//!   context, closed), with the time it was created as its start time, so
//!   that [`SpanExt::set_parent`] can still give it a remote parent. Other
//!   spans start at once; their sampler sees name, kind and parent, not the
//!   fields (a root's sampler sees its fields too).
//! * **Fields** become attributes with native types: `i64`; `u64` as `i64`
//!   when it fits, else its decimal string; `f64`; `bool`; strings;
//!   `Debug`/`Display` values (`?x`/`%x`) as their text. `span.record(..)`
//!   later sets or overwrites them. Special fields: `otel.name` (span name),
//!   `otel.kind` (`server`, `client`, `producer`, `consumer`, `internal`;
//!   set at creation), `otel.status_code` (`ok`, `error`),
//!   `otel.status_description`; an `error` field or any recorded
//!   `&dyn Error` sets the Error status and adds an `exception` event.
//! * **Events** (`info!` ...) inside a span become span events named by
//!   their message, with `level`, `target` and their fields as attributes;
//!   see [`TracekitLayer::with_events`], [`TracekitLayer::with_event_level`].
//!   An ERROR event marks nothing unless
//!   [`TracekitLayer::with_error_events_as_status`] is set.
//! * **Unsampled traces** cost little: fields are never visited, nothing is
//!   converted, and a span whose parent is already unsampled stores a
//!   zero-sized marker instead of a context of its own (it propagates its
//!   parent's, which carries the same trace id and flags).
//! * **No feedback loops.** While telemetry is suppressed
//!   ([`Context::enter_telemetry_suppressed_scope`](opentelemetry::Context::enter_telemetry_suppressed_scope),
//!   which exporters use for their own work), the layer creates no spans
//!   and records no events.
//!
//! [`SpanExt`] reaches the layer from a `tracing::Span` through the
//! dispatcher ([`Dispatch::downcast_ref`](tracing::Dispatch::downcast_ref)).
//! [`spawn`], [`spawn_blocking`] and [`CurrentContext`] carry the current
//! span and context to other tasks, threads and across channels; [`fmt`]
//! puts `trace_id` and `span_id` on log lines.
//!
//! Teams on `tracing-opentelemetry` can keep it: a tracekit
//! [`Tracer`](crate::Tracer) is an OpenTelemetry tracer whose spans are
//! `Send + Sync`, so `tracing_opentelemetry::layer().with_tracer(tracer)`
//! exports through tracekit unchanged.
//!
//! # Example
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let provider = tracekit::TracerProvider::builder().build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracekit::layer::layer(provider.tracer("shop")).with_location(true));
//!
//! #[tracing::instrument]
//! fn checkout(cart_id: u64, items: usize) {
//!     tracing::info!(items, "charging card");
//! }
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("request", otel.kind = "server", http.route = "/checkout");
//!     span.in_scope(|| checkout(42, 3));
//! });
//! ```
//!
//! # Baggage in an `#[instrument] async fn`
//!
//! ```
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::context::FutureExt as _;
//! use opentelemetry::{Context, KeyValue};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! #[tracing::instrument]
//! async fn handler() -> String {
//!     // The baggage of the context the future runs in.
//!     Context::current().baggage().get("tenant").map(|v| v.to_string()).unwrap_or_default()
//! }
//!
//! let test = tracekit::testing::TestProvider::new();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracekit::layer::layer(test.tracer("shop")));
//! let _default = tracing::subscriber::set_default(subscriber);
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//!
//! // What a server layer extracts from the request, say.
//! let cx = Context::current().with_baggage([KeyValue::new("tenant", "acme")]);
//! // Right: `cx` is current on every poll, the first one (which creates
//! // the span) included.
//! assert_eq!(rt.block_on(handler().with_context(cx.clone())), "acme");
//! // Wrong: the guard is dropped before the future is first polled.
//! let fut = {
//!     let _guard = cx.attach();
//!     handler()
//! };
//! assert_eq!(rt.block_on(fut), "");
//! ```

mod active_context;
mod fields;
pub mod fmt;
mod span_ext;
mod span_state;
mod task;
mod tracekit_layer;

pub use span_ext::{SetParentError, SpanExt};
pub use task::{spawn, spawn_blocking, CurrentContext, WithCurrentContext};
pub use tracekit_layer::{TracekitLayer, EVENT_LEVEL_KEY, EVENT_TARGET_KEY};

use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;

/// A [`TracekitLayer`] starting its spans with `tracer`; the same as
/// [`TracekitLayer::new`].
pub fn layer<S>(tracer: crate::Tracer) -> TracekitLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    TracekitLayer::new(tracer)
}
