//! Head samplers for tracekit and for the official OpenTelemetry SDK.
//!
//! (Crate documentation is completed by the samplers issue.)

mod sampler;

pub use sampler::{
    AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingParameters, SamplingResult,
};
