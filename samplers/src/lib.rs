//! Head samplers for tracekit and for the official OpenTelemetry SDK.

mod always_record;
mod clock;
pub mod ot_trace_state;
mod parent_based;
mod rate_limiting;
mod reservoir;
mod sampler;
pub mod threshold;
mod trace_id_ratio;

pub use always_record::AlwaysRecord;
pub use parent_based::ParentBased;
pub use rate_limiting::RateLimiting;
pub use reservoir::{ReservoirThenRatio, MAX_RESERVOIR};
pub use sampler::{
    AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingParameters, SamplingResult,
};
pub use trace_id_ratio::{ratio, InvalidRatio, TraceIdRatioBased};
