//! [`AlwaysRecord`]: record every span, sampled or not.

use crate::sampler::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};

/// Wraps another sampler and turns its `Drop` decisions into `RecordOnly`,
/// so every span is recorded (span processors see it, for example to compute
/// metrics from all spans) while only the inner sampler's sampled spans are
/// exported. Attributes and trace state come from the inner sampler.
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceId};
/// use tracekit_samplers::{AlwaysOff, AlwaysRecord, Sampler, SamplingDecision, SamplingParameters};
///
/// let sampler = AlwaysRecord::new(AlwaysOff);
/// let params = SamplingParameters::root(TraceId::from(1), "job", &SpanKind::Internal);
/// assert_eq!(sampler.should_sample(&params).decision, SamplingDecision::RecordOnly);
/// assert_eq!(sampler.description(), "AlwaysRecord{AlwaysOffSampler}");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct AlwaysRecord<S> {
    inner: S,
}

impl<S: Sampler> AlwaysRecord<S> {
    /// Record every span; sample those `inner` samples.
    pub fn new(inner: S) -> Self {
        AlwaysRecord { inner }
    }

    /// The wrapped sampler.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Sampler> Sampler for AlwaysRecord<S> {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        let mut result = self.inner.should_sample(params);
        if result.decision == SamplingDecision::Drop {
            result.decision = SamplingDecision::RecordOnly;
        }
        result
    }

    fn description(&self) -> String {
        format!("AlwaysRecord{{{}}}", self.inner.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ratio, AlwaysOn};
    use opentelemetry::trace::{SpanKind, TraceId};

    #[test]
    fn drop_becomes_record_only_and_the_rest_is_kept() {
        let kind = SpanKind::Internal;
        let low = TraceId::from(0x1u128);
        let high = TraceId::from(0xff_ffff_ffff_ffffu128);
        let sampler = AlwaysRecord::new(ratio(0.5));
        let r = sampler.should_sample(&SamplingParameters::root(low, "a", &kind));
        assert_eq!(r.decision, SamplingDecision::RecordOnly);
        assert_eq!(r.trace_state, None);
        let r = sampler.should_sample(&SamplingParameters::root(high, "a", &kind));
        assert_eq!(r.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:8")
        );
        let on = AlwaysRecord::new(AlwaysOn);
        let r = on.should_sample(&SamplingParameters::root(low, "a", &kind));
        assert_eq!(r.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            AlwaysRecord::new(ratio(0.5)).description(),
            "AlwaysRecord{TraceIdRatioBased{0.5}}"
        );
    }
}
