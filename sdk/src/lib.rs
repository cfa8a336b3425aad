//! tracekit: a fast, spec-exact OpenTelemetry tracing SDK.
//!
//! tracekit implements the `opentelemetry` API traits (`TracerProvider`,
//! `Tracer`, `Span`), so code written against the API —
//! `opentelemetry::global::tracer("x")`, `tracer.in_span(..)`,
//! `Context::current()` — produces tracekit spans once [`init`] has run, and
//! `tracing` spans (`#[instrument]`) join the same traces through the
//! [`layer`]. One call reads the standard `OTEL_*` variables (see the
//! README's table) and installs the provider, the propagator and the
//! `tracing` subscriber; the returned guard flushes on drop. In code of your
//! own, [`tracer()`] gives tracekit's tracer itself, which spares each span
//! the API's boxing.
//!
//! **Bind the guard**: `let _guard = tracekit::init();` keeps tracekit
//! running until the end of the scope. `let _ = tracekit::init();` drops the
//! guard on that same line: tracekit shuts down at once and exports
//! nothing. A server stopped by SIGTERM (`docker stop`, Kubernetes) only
//! drops it if `main` returns: give the server's graceful shutdown
//! [`shutdown_signal()`], or, without such a hook, opt in to
//! [`TracekitBuilder::flush_on_signal`].
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() {
//!     let _guard = tracekit::init();
//!     let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
//!     axum::serve(listener, app)
//!         .with_graceful_shutdown(tracekit::shutdown_signal())
//!         .await
//!         .unwrap();
//! } // `_guard` drops here: buffered spans are exported
//! ```
//!
//! **Your own `tracing` subscriber.** [`init`] installs the global
//! `tracing` subscriber (tracekit's [`layer`], plus log lines on standard
//! error when `TRACEKIT_LOG_FORMAT` is `text` or `json`). A process has
//! one: `tracing_subscriber::fmt().init()` called *after* `init()` panics
//! with `SetGlobalDefaultError` (a panic in `tracing-subscriber` that
//! tracekit cannot intercept or reword), and a subscriber set *before* it
//! makes `init()` print a warning naming the fix. For log lines, set
//! `TRACEKIT_LOG_FORMAT=text` (or [`TracekitBuilder::log_format`]), which
//! puts the `trace_id` and `span_id` on each line; for a subscriber of your
//! own (filters, other layers), compose tracekit's layer into it and tell
//! tracekit not to install one:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
//! let guard = tracekit::builder().tracing_subscriber(false).install();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracekit::layer::layer(guard.tracer(tracekit::TRACING_SCOPE)))
//!     .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
//! tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
//! ```
//!
//! **One dependency.** The samplers ([`samplers`], the
//! `tracekit-samplers` crate) and propagators ([`propagators`], the
//! `tracekit-propagators` crate) are re-exported, so a service needs
//! `tracekit` plus its framework's integration crate:
//!
//! ```
//! use tracekit::samplers::{ParentBased, TraceIdRatioBased};
//! use tracekit::propagators::TraceContextPropagator;
//!
//! # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
//! let _guard = tracekit::builder()
//!     .service_name("checkout")
//!     .sampler(ParentBased::new(TraceIdRatioBased::new(0.25)))
//!     .propagator(TraceContextPropagator::new())
//!     .install();
//! ```
//!
//! **The application never waits for telemetry.** Starting a span decides
//! parent, ids (a per-thread generator), sampling ([`tracekit_samplers`])
//! and flags without locks; a dropped span allocates nothing. Time comes from
//! a calibrated cycle counter mapped to wall-clock time. A recording span
//! keeps its data in one recycled box and, when it ends, moves into each
//! [`SpanProcessor`]: the [`BatchSpanProcessor`] pushes it into a bounded
//! lock-free queue (full: dropped and counted, never blocking) and exports
//! from a thread of its own, with no async runtime required of the
//! application. Export transforms such as redaction, attribute-length
//! truncation and encoding all happen on that thread. [`TracerProvider::force_flush`] and
//! [`TracerProvider::shutdown`] wait on a reply with a deadline, so they
//! never deadlock, on a current-thread tokio runtime included.
//!
//! **The export boundary is the official one.** Exporters are
//! `opentelemetry_sdk::trace::SpanExporter`s receiving `SpanData`: OTLP
//! ([`export::otlp`], http/protobuf, http/json or gRPC, with retries), the
//! console waterfall ([`export::console`]) and an in-memory exporter for
//! tests ([`testing`]). One shortcut: over http/protobuf, the default
//! protocol, the OTLP exporter writes the batch processor's spans straight
//! from their records into the request's bytes, without building
//! `SpanData` or message structs (about a fifth of the export CPU of
//! opentelemetry-otlp; `benches/`' `otlp_export`).
//!
//! ```
//! use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer as _};
//! use opentelemetry::KeyValue;
//!
//! // In a real program: `let _guard = tracekit::init();` and the global API.
//! let test = tracekit::testing::TestProvider::new();
//! let tracer = test.tracer("checkout");
//! tracer.in_span("POST /checkout", |cx| {
//!     cx.span().set_attribute(KeyValue::new("order.id", "A-1001"));
//!     let mut charge = tracer.start("charge card");
//!     charge.set_status(Status::error("card declined"));
//!     charge.end();
//! });
//! let spans = test.spans();
//! spans.assert_parent("charge card", "POST /checkout");
//! assert_eq!(spans.get("charge card").status, Status::error("card declined"));
//! ```

#![warn(missing_docs)]

pub mod env;
pub mod export;
mod init;
pub mod layer;
pub mod messaging;
pub mod redaction;
pub mod resource;
#[cfg(feature = "signal")]
mod signal;
mod sync;
pub mod testing;
pub mod trace;

#[cfg(feature = "signal")]
pub use signal::shutdown_signal;
/// The propagators (`tracekit-propagators`): W3C Trace Context and Baggage,
/// B3, Jaeger, composite, `OTEL_PROPAGATORS`.
pub use tracekit_propagators as propagators;
/// The samplers (`tracekit-samplers`): ParentBased, ratio, rate-limiting,
/// reservoir, rule-based, `OTEL_TRACES_SAMPLER`.
pub use tracekit_samplers as samplers;

pub use init::{
    builder, init, parse_traces_exporter, tracer, ExporterKind, Tracekit, TracekitBuilder,
    TracekitGuard, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_TRACING_LEVEL, TRACING_SCOPE,
};
pub use layer::fmt::LogFormat;
pub use trace::{
    BatchConfig, BatchSpanProcessor, FinishedSpan, ProcessorError, SimpleSpanProcessor, Span,
    SpanCounters, SpanLimits, SpanProcessor, Tracer, TracerProvider, TracerProviderBuilder,
};
