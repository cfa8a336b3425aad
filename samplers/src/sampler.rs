//! The [`Sampler`] trait and the values it consumes and returns.

use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use std::fmt::Debug;

/// What a sampler decided for a span about to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SamplingDecision {
    /// The span is neither recorded nor exported; it still carries a valid
    /// `SpanContext` so that context keeps propagating.
    Drop,
    /// The span is recorded (processors see it) but its sampled flag is off,
    /// so exporters never receive it.
    RecordOnly,
    /// The span is recorded and exported; the sampled flag is set.
    RecordAndSample,
}

impl SamplingDecision {
    /// Whether the span records data (`RecordOnly` or `RecordAndSample`).
    #[inline]
    pub fn is_recording(self) -> bool {
        !matches!(self, SamplingDecision::Drop)
    }

    /// Whether the span's sampled flag is set (`RecordAndSample`).
    #[inline]
    pub fn is_sampled(self) -> bool {
        matches!(self, SamplingDecision::RecordAndSample)
    }
}

/// Everything a sampler may look at, borrowed from the span being started.
#[derive(Clone, Copy, Debug)]
pub struct SamplingParameters<'a> {
    /// The parent `Context` the span is started in, when one was given.
    pub parent_context: Option<&'a Context>,
    /// The parent's span context when the parent context holds a valid span;
    /// `None` for a root span.
    pub parent_span_context: Option<&'a SpanContext>,
    /// The trace id the span will have (the parent's, or a fresh one).
    pub trace_id: TraceId,
    /// The span's name.
    pub name: &'a str,
    /// The span's kind.
    pub kind: &'a SpanKind,
    /// Attributes known when the span starts.
    pub attributes: &'a [KeyValue],
    /// Links known when the span starts.
    pub links: &'a [Link],
}

impl<'a> SamplingParameters<'a> {
    /// Parameters for a root span with no attributes and no links: handy in
    /// tests and benchmarks.
    pub fn root(trace_id: TraceId, name: &'a str, kind: &'a SpanKind) -> Self {
        SamplingParameters {
            parent_context: None,
            parent_span_context: None,
            trace_id,
            name,
            kind,
            attributes: &[],
            links: &[],
        }
    }

    /// Parameters for a child of `parent` (which should be valid) with no
    /// attributes and no links; the trace id is the parent's.
    pub fn child(parent: &'a SpanContext, name: &'a str, kind: &'a SpanKind) -> Self {
        SamplingParameters {
            parent_context: None,
            parent_span_context: Some(parent),
            trace_id: parent.trace_id(),
            name,
            kind,
            attributes: &[],
            links: &[],
        }
    }

    /// The parent's trace state, when there is a valid parent.
    #[inline]
    pub fn parent_trace_state(&self) -> Option<&'a TraceState> {
        self.parent_span_context.map(SpanContext::trace_state)
    }
}

/// A sampler's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingResult {
    /// Drop, record only, or record and sample.
    pub decision: SamplingDecision,
    /// Attributes the sampler adds to the span (empty: no allocation).
    pub attributes: Vec<KeyValue>,
    /// The trace state the new span carries; `None` keeps the parent's
    /// trace state unchanged (the common, allocation-free case).
    pub trace_state: Option<TraceState>,
}

impl SamplingResult {
    /// A result with only a decision: no attributes, parent trace state kept.
    #[inline]
    pub const fn decision(decision: SamplingDecision) -> Self {
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: None,
        }
    }
}

/// A head sampler with OpenTelemetry semantics.
///
/// Called once for every span about to start, on the application's thread:
/// implementations must be cheap, lock-free where possible, and must not
/// allocate for the common decisions.
pub trait Sampler: Send + Sync + Debug {
    /// Decide whether the span described by `params` is recorded and sampled.
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult;

    /// A short human-readable description, e.g. `AlwaysOnSampler`, as the
    /// specification's `GetDescription`.
    fn description(&self) -> String;
}

impl<S: Sampler + ?Sized> Sampler for std::sync::Arc<S> {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        (**self).should_sample(params)
    }
    fn description(&self) -> String {
        (**self).description()
    }
}

impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        (**self).should_sample(params)
    }
    fn description(&self) -> String {
        (**self).description()
    }
}

/// Samples every span.
#[derive(Clone, Copy, Debug, Default)]
pub struct AlwaysOn;

impl Sampler for AlwaysOn {
    #[inline]
    fn should_sample(&self, _params: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult::decision(SamplingDecision::RecordAndSample)
    }
    fn description(&self) -> String {
        "AlwaysOnSampler".to_string()
    }
}

/// Drops every span.
#[derive(Clone, Copy, Debug, Default)]
pub struct AlwaysOff;

impl Sampler for AlwaysOff {
    #[inline]
    fn should_sample(&self, _params: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult::decision(SamplingDecision::Drop)
    }
    fn description(&self) -> String {
        "AlwaysOffSampler".to_string()
    }
}
