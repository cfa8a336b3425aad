//! The OTLP span exporter.
//!
//! [`OtlpConfig`] reads `OTEL_EXPORTER_OTLP_*` (or is set in code) and
//! builds an [`OtlpExporter`], a [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter)
//! whose wire encoding, compression and retries are opentelemetry-otlp's.
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
mod grpc_runtime;
mod headers;

pub use config::{
    OtlpCompression, OtlpConfig, OtlpProtocol, DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT,
    DEFAULT_TIMEOUT, ENDPOINT_VAR, HTTP_TRACES_PATH, TRACES_ENDPOINT_VAR,
};
pub use exporter::{OtlpBuildError, OtlpExporter};
pub use opentelemetry_otlp::RetryPolicy;
