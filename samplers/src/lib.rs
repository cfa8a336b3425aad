//! Head samplers for tracekit and for the official OpenTelemetry SDK.

mod always_record;
mod clock;
mod env;
pub mod ot_trace_state;
#[cfg(feature = "otel-sdk")]
mod otel_sdk;
mod parent_based;
mod rate_limiting;
mod reservoir;
mod rule_based;
mod rule_text;
mod sampler;
pub mod threshold;
mod trace_id_ratio;

pub use always_record::AlwaysRecord;
pub use env::{
    from_env, from_env_values, DEFAULT_SAMPLER, DEFAULT_TRACES_PER_SECOND, OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
};
#[cfg(feature = "otel-sdk")]
pub use otel_sdk::OtelSdkSampler;
pub use parent_based::ParentBased;
pub use rate_limiting::RateLimiting;
pub use reservoir::{ReservoirThenRatio, MAX_RESERVOIR};
pub use rule_based::{Rule, RuleBased, RuleBasedBuilder};
pub use rule_text::RuleParseError;
pub use sampler::{
    AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingParameters, SamplingResult,
};
pub use trace_id_ratio::{ratio, InvalidRatio, TraceIdRatioBased};
