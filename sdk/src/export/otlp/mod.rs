//! The OTLP span exporter.
//!
//! [`OtlpConfig`] reads `OTEL_EXPORTER_OTLP_*` (or is set in code) and
//! builds an [`OtlpExporter`], a [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter).
//!
//! # Protocols
//!
//! - **http/protobuf** (the default) is tracekit's own: the batch
//!   processor's spans are written straight from their records into the
//!   request body (an `ExportTraceServiceRequest`, with opentelemetry-proto's
//!   message and field numbers and prost's encoding functions), one buffer
//!   reused from batch to batch, no `SpanData` and no message structs in
//!   between. Spans given as `SpanData` (a [`SimpleSpanProcessor`](crate::SimpleSpanProcessor)
//!   or a direct `export` call) are encoded through opentelemetry-proto's
//!   messages; both go out through the same client and retries.
//! - **http/json** and **gRPC** (cargo features `http-json` and `grpc`) go
//!   through opentelemetry-otlp, with tracekit's HTTP client for JSON and a
//!   small runtime of the exporter's own for tonic.
//!
//! # Retries
//!
//! As the OTLP specification says ([`RetryPolicy`]): HTTP 429, 502, 503,
//! 504 and connection failures (and the retryable gRPC codes) are retried
//! with exponential back-off and jitter; `Retry-After` (seconds or HTTP
//! date) and gRPC `RetryInfo` set the wait; other statuses fail at once; a
//! request the collector accepted is never sent again. Each request is cut
//! at the export's deadline and no wait ends past it, so an export,
//! retries included, ends within its timeout.
//!
//! # TLS
//!
//! With the default cargo feature `tls`, `https://` endpoints work over
//! rustls (no OpenSSL), verifying the collector's certificate against the
//! system's trust store plus the CA certificates of
//! `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` (or
//! [`OtlpConfig::with_certificate`]); a client certificate and key for
//! mutual TLS come from `…CLIENT_CERTIFICATE` and `…CLIENT_KEY` (or
//! [`OtlpConfig::with_client_certificate`]). The feature `grpc` brings TLS
//! for gRPC along. `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` apply to
//! OTLP over HTTP.
//!
//! # Cargo features
//!
//! The default build speaks http/protobuf, with TLS. `grpc`, `http-json`
//! and `gzip` add the other protocols and compression; asking for one whose
//! feature is off gives one warning naming the feature (gRPC then exports
//! nothing, http/json falls back to http/protobuf, gzip to no compression).
//!
//! # Environment read by opentelemetry-otlp itself
//!
//! On the http/json and gRPC paths opentelemetry-otlp also reads
//! `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` (merged over ours), and, when
//! compression is `none` here, `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION`,
//! plus `OTEL_EXPORTER_OTLP_[TRACES_]INSECURE` for gRPC, from the process
//! environment. With [`ProcessEnv`](crate::env::ProcessEnv) both agree.
//!
//! ```no_run
//! use tracekit::env::ProcessEnv;
//! use tracekit::export::otlp::OtlpConfig;
//!
//! let exporter = OtlpConfig::from_env(&ProcessEnv).build_exporter()?;
//! # Ok::<(), tracekit::export::otlp::OtlpBuildError>(())
//! ```

mod config;
mod deadline_client;
mod exporter;
#[cfg(feature = "grpc")]
mod grpc_runtime;
mod headers;
pub(crate) use headers::hide_values;
mod protobuf_http;
mod retry;
mod span_encoder;
mod tls;

pub use config::{
    OtlpCompression, OtlpConfig, OtlpProtocol, DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT,
    DEFAULT_TIMEOUT, ENDPOINT_VAR, HTTP_TRACES_PATH, TRACES_ENDPOINT_VAR,
};
pub use exporter::{OtlpBuildError, OtlpExporter};
pub use retry::RetryPolicy;
