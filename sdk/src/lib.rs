//! tracekit: a fast, spec-exact OpenTelemetry tracing SDK.

pub mod env;
pub mod export;
pub mod testing;
