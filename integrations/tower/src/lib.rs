//! tracekit integration for [tower]: traced HTTP (and gRPC) servers and
//! clients.
//!
//! - [`HttpServerLayer`] wraps any `tower::Service<http::Request<B>>` (an
//!   axum router, a tonic server, a hyper service) in a SERVER span per
//!   request.
//! - [`HttpClientLayer`] wraps a tower HTTP client (hyper-util's
//!   client, a tonic channel) in a CLIENT span per request and injects the
//!   span's context into the outgoing headers.
//!
//! Both work with the OpenTelemetry API only: by default they use the
//! global tracer provider and the global propagator, which
//! `tracekit::init()` installs (`OTEL_PROPAGATORS`, default
//! `tracecontext,baggage`). Any tracer can be given instead
//! ([`HttpServerLayerBuilder::tracer`]), for example a `tracekit::Tracer`.
//! The W3C propagators are applied straight from the header map, whether
//! given explicitly (`tracekit_propagators::TraceContextPropagator`,
//! the default `CompositePropagator`: [`Propagation::TraceContext`],
//! [`Propagation::TraceContextAndBaggage`]) or installed by
//! `tracekit::init()` as the global propagator; a global propagator set
//! later through `opentelemetry::global` replaces tracekit's at once and
//! is used through the API.
//!
//! # Server spans
//!
//! ```
//! use http::{Request, Response};
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tracekit_tower::HttpServerLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let _guard = tracekit::builder().default_exporters(&[]).install();
//! let service = ServiceBuilder::new()
//!     .layer(HttpServerLayer::builder().skip_path("/health").build())
//!     .service_fn(|_req: Request<String>| async {
//!         // The server span is current here: spans started now are its
//!         // children, outgoing calls carry its context.
//!         use opentelemetry::trace::TraceContextExt;
//!         assert!(opentelemetry::Context::current().span().span_context().is_valid());
//!         Ok::<_, Infallible>(Response::new(String::from("hello")))
//!     });
//! let request = Request::get("/hello")
//!     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//!     .body(String::new())
//!     .unwrap();
//! let response = service.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # }
//! ```
//!
//! The incoming context is extracted with the propagator; the span is a
//! child of the remote parent, or a new root. It is current (as an
//! OpenTelemetry [`Context`](opentelemetry::Context)) while the inner
//! service runs, so OpenTelemetry spans and outgoing calls nest under it,
//! and it ends when the response body has been sent to the end or dropped,
//! not when the headers leave.
//!
//! **Name**: `{method} {http.route}` when a route template is known (the
//! [`RequestInfo`] hook; `tracekit-axum` reads axum's `MatchedPath`),
//! else `{method}`; `HTTP` for methods outside RFC 9110 / PATCH / QUERY,
//! whose `http.request.method` is `_OTHER` with
//! `http.request.method_original` set.
//!
//! **Attributes** (stable HTTP conventions): `http.request.method`,
//! `url.scheme` (`Forwarded`'s `proto` / `X-Forwarded-Proto`, else the
//! request's), `url.path`, `url.query` (sensitive values redacted),
//! `http.route`, `http.response.status_code`, `server.address` and
//! `server.port` (`Forwarded`'s `host` / `X-Forwarded-Host`, else the
//! authority or `Host`), `client.address` (`Forwarded`'s `for` /
//! `X-Forwarded-For`, else the peer), `network.protocol.version`, `user_agent.original`,
//! `error.type`, and the captured `http.request.header.<name>` /
//! `http.response.header.<name>`.
//!
//! **Status**: 5xx is an Error (`error.type` = the code); 4xx stays unset
//! on servers (the client's fault) but is an Error on clients; an error
//! from the inner service, a failing body or a panic is an Error with
//! `error.type` (the error's type, or `panic`) and an exception event.
//! A panic is recorded and then continues unwinding unchanged; put
//! tower-http's `CatchPanicLayer` inside this layer to turn it into a 500.
//!
//! **gRPC**: requests with `content-type: application/grpc*` follow the RPC
//! conventions instead: name `package.Service/Method`, `rpc.system`
//! (`grpc`), `rpc.service`, `rpc.method`, `rpc.grpc.status_code` from the
//! trailers (or the headers of a trailers-only answer); on servers only
//! `UNKNOWN`, `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`,
//! `UNAVAILABLE` and `DATA_LOSS` are errors. A streaming call's span ends
//! with the stream's trailers; a call dropped before its status arrived
//! ends as `CANCELLED` (an Error on clients only). A tonic channel hands the client layer
//! path-only URIs: give the layer the endpoint
//! ([`origin`](HttpClientLayerBuilder::origin)) for `server.address`
//! and `server.port`.
//!
//! # Options
//!
//! - [`skip_path`](HttpServerLayerBuilder::skip_path) /
//!   [`skip_path_prefix`](HttpServerLayerBuilder::skip_path_prefix): no span,
//!   but the incoming context is still current for the handler.
//! - [`capture_request_headers`](HttpServerLayerBuilder::capture_request_headers) /
//!   [`capture_response_headers`](HttpServerLayerBuilder::capture_response_headers):
//!   an allow-list; `authorization`, `proxy-authorization`, `cookie`,
//!   `set-cookie` and API-key headers ([`NEVER_CAPTURED`]) are
//!   never recorded.
//! - [`traceparent_response_header`](HttpServerLayerBuilder::traceparent_response_header):
//!   send `traceparent` back, with `Access-Control-Expose-Headers:
//!   traceparent`, so browser code can correlate with the server trace.
//! - [`origin`](HttpClientLayerBuilder::origin) (client): the server
//!   behind a tonic channel, whose requests reach the layer with a
//!   path-only URI; client spans then get `server.address` and
//!   `server.port`.
//!
//! # CORS for browser clients
//!
//! Browsers only send `traceparent`, `tracestate` and `baggage` to another
//! origin when the preflight allows them, and only let scripts read a
//! `traceparent` response header when it is exposed. With tower-http's
//! CORS layer (outside the tracing layer, so preflights are answered
//! before tracing):
//!
//! ```
//! use http::header::HeaderName;
//! use tower::ServiceBuilder;
//! use tower_http::cors::CorsLayer;
//! use tracekit_tower::HttpServerLayer;
//!
//! # let _guard = tracekit::builder().default_exporters(&[]).install();
//! let cors = CorsLayer::new()
//!     .allow_origin(http::HeaderValue::from_static("https://app.example"))
//!     .allow_headers([
//!         HeaderName::from_static("traceparent"),
//!         HeaderName::from_static("tracestate"),
//!         HeaderName::from_static("baggage"),
//!         http::header::CONTENT_TYPE,
//!     ])
//!     .expose_headers([HeaderName::from_static("traceparent")]);
//! let stack = ServiceBuilder::new()
//!     .layer(cors)
//!     .layer(HttpServerLayer::builder().traceparent_response_header(true).build());
//! # drop(stack);
//! ```
//!
//! [tower]: https://docs.rs/tower

#![warn(missing_docs)]

mod active_span;
mod address;
mod body;
mod capture;
mod carrier;
mod client;
mod future;
mod grpc;
mod interned;
mod method;
mod propagation;
pub mod redaction;
mod request_info;
mod response_header;
mod server;
mod skip;
mod status;
#[cfg(test)]
mod test_support;
mod trace_context_headers;
mod tracer;
mod url_template;

pub use active_span::ActiveSpan;
pub use body::TracedBody;
pub use capture::{HeaderCapture, HeaderSide, NEVER_CAPTURED};
pub use carrier::{HeaderExtractor, HeaderInjector};
pub use client::{
    describe_client_request, ClientRequest, HttpClientLayer, HttpClientLayerBuilder,
    HttpClientService,
};
pub use future::{ResponseFuture, PANIC_ERROR_TYPE};
pub use propagation::Propagation;
pub use request_info::{NoRequestInfo, RequestInfo};
pub use server::{HttpServerLayer, HttpServerLayerBuilder, HttpServerService};
pub use skip::SkipPaths;
pub use tracer::{global_tracer, SpanTracer, SCOPE_NAME};
pub use url_template::UrlTemplate;
