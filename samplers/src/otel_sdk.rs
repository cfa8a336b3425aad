//! [`OtelSdkSampler`]: any tracekit [`Sampler`] as an
//! `opentelemetry_sdk::trace::ShouldSample` for the official SDK.

use crate::sampler::{Sampler, SamplingDecision, SamplingParameters};
use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{self as sdk, ShouldSample};
use std::sync::Arc;

/// Adapts a tracekit [`Sampler`] to the official SDK's [`ShouldSample`], so
/// that every tracekit sampler can be installed with
/// `SdkTracerProvider::builder().with_sampler(…)`.
///
/// Decisions translate one to one; attributes are passed through; when the
/// tracekit sampler keeps the parent's trace state (`trace_state: None`) the
/// parent's trace state is returned (the empty one for root spans), as the
/// SDK expects the sampler to return the state the new span carries.
///
/// The SDK clones samplers, so the inner sampler must be `Clone`: share
/// stateful samplers (rate limiting, reservoirs) through an [`Arc`], as
/// [`OtelSdkSampler::shared`] and [`OtelSdkSampler::from_boxed`] do, so that
/// clones count against the same limit.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use tracekit_samplers::{ratio, OtelSdkSampler, ParentBased};
///
/// let provider = SdkTracerProvider::builder()
///     .with_sampler(OtelSdkSampler::shared(ParentBased::new(ratio(0.1))))
///     .build();
/// # drop(provider);
/// ```
#[derive(Clone, Debug)]
pub struct OtelSdkSampler<S> {
    inner: S,
}

impl<S: Sampler + Clone + 'static> OtelSdkSampler<S> {
    /// Adapt `inner`.
    pub fn new(inner: S) -> Self {
        OtelSdkSampler { inner }
    }
}

impl OtelSdkSampler<Arc<dyn Sampler>> {
    /// Adapt any sampler, shared between the SDK's clones.
    pub fn shared(sampler: impl Sampler + 'static) -> Self {
        OtelSdkSampler {
            inner: Arc::new(sampler),
        }
    }

    /// Adapt a boxed sampler (as returned by [`from_env`](crate::from_env)),
    /// shared between the SDK's clones.
    pub fn from_boxed(sampler: Box<dyn Sampler>) -> Self {
        OtelSdkSampler {
            inner: Arc::from(sampler),
        }
    }
}

impl<S> OtelSdkSampler<S> {
    /// The adapted sampler.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwrap the adapted sampler.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

fn to_sdk(decision: SamplingDecision) -> sdk::SamplingDecision {
    match decision {
        SamplingDecision::Drop => sdk::SamplingDecision::Drop,
        SamplingDecision::RecordOnly => sdk::SamplingDecision::RecordOnly,
        SamplingDecision::RecordAndSample => sdk::SamplingDecision::RecordAndSample,
    }
}

impl<S: Sampler + Clone + 'static> ShouldSample for OtelSdkSampler<S> {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> sdk::SamplingResult {
        let span = parent_context.map(|cx| cx.span());
        let parent_span_context = span
            .as_ref()
            .map(|s| s.span_context())
            .filter(|sc| sc.is_valid());
        let params = SamplingParameters {
            parent_context,
            parent_span_context,
            trace_id,
            name,
            kind: span_kind,
            attributes,
            links,
        };
        let result = self.inner.should_sample(&params);
        sdk::SamplingResult {
            decision: to_sdk(result.decision),
            attributes: result.attributes,
            trace_state: match result.trace_state {
                Some(state) => state,
                None => parent_span_context
                    .map(|sc| sc.trace_state().clone())
                    .unwrap_or_default(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ratio, AlwaysRecord, ParentBased, RateLimiting};
    use opentelemetry::trace::{
        Span, SpanContext, SpanId, TraceFlags, TraceState, Tracer, TracerProvider,
    };
    use opentelemetry_sdk::trace::{IdGenerator, SdkTracerProvider};
    use std::str::FromStr;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Trace ids whose randomness alternates between 0x00… and 0xff….
    #[derive(Debug, Default)]
    struct AlternatingIds(AtomicU64, AtomicU64);
    impl IdGenerator for AlternatingIds {
        fn new_trace_id(&self) -> TraceId {
            let n = self.0.fetch_add(1, Ordering::Relaxed);
            let low = if n.is_multiple_of(2) {
                0x11
            } else {
                0xff_ffff_ffff_ffff
            };
            TraceId::from((u128::from(n + 1) << 64) | low)
        }
        fn new_span_id(&self) -> SpanId {
            SpanId::from(self.1.fetch_add(1, Ordering::Relaxed) + 1)
        }
    }

    fn provider(sampler: impl ShouldSample + 'static) -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_id_generator(AlternatingIds::default())
            .build()
    }

    #[test]
    fn decisions_and_trace_state_reach_the_sdk() {
        let provider = provider(OtelSdkSampler::new(ratio(0.5)));
        let tracer = provider.tracer("test");
        let dropped = tracer.start("a");
        assert!(!dropped.is_recording());
        assert!(!dropped.span_context().is_sampled());
        let sampled = tracer.start("b");
        assert!(sampled.span_context().is_sampled());
        assert_eq!(sampled.span_context().trace_state().header(), "ot=th:8");
    }

    #[test]
    fn record_only_and_parent_trace_state() {
        let provider = provider(OtelSdkSampler::shared(AlwaysRecord::new(ParentBased::new(
            ratio(0.5),
        ))));
        let tracer = provider.tracer("test");
        let remote = SpanContext::new(
            TraceId::from(0xabcu128),
            SpanId::from(1u64),
            TraceFlags::default(),
            true,
            TraceState::from_str("vendor=x").unwrap_or_default(),
        );
        let cx = Context::new().with_remote_span_context(remote);
        let child = tracer.start_with_context("child", &cx);
        assert!(child.is_recording(), "RecordOnly is recording");
        assert!(!child.span_context().is_sampled());
        assert_eq!(child.span_context().trace_state().header(), "vendor=x");
        // An invalid parent is a root: ratio with trace id randomness 0x11.
        let invalid = Context::new().with_remote_span_context(SpanContext::empty_context());
        let root = tracer.start_with_context("root", &invalid);
        assert!(root.is_recording() && !root.span_context().is_sampled());
        assert_eq!(root.span_context().trace_state().header(), "");
    }

    #[test]
    fn clones_share_state_through_arc() {
        let shared = OtelSdkSampler::shared(RateLimiting::with_burst(0.001, 1));
        let clone = shared.clone();
        let kind = SpanKind::Internal;
        let decide = |s: &OtelSdkSampler<Arc<dyn Sampler>>| {
            s.should_sample(None, TraceId::from(1u128), "n", &kind, &[], &[])
                .decision
        };
        assert_eq!(decide(&shared), sdk::SamplingDecision::RecordAndSample);
        assert_eq!(decide(&clone), sdk::SamplingDecision::Drop);
        let boxed = OtelSdkSampler::from_boxed(crate::from_env_values(Some("always_off"), None).0);
        assert_eq!(decide(&boxed), sdk::SamplingDecision::Drop);
        assert_eq!(boxed.inner().description(), "AlwaysOffSampler");
    }
}
