//! [`ParentBased`]: follow the parent's decision, with a root sampler for
//! traces that start here.

use crate::ot_trace_state::consistent_parent_threshold;
use crate::sampler::{
    AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingParameters, SamplingResult,
};

/// One of the five samplers of [`ParentBased`]. The specification's defaults
/// are built in so that the common case costs no virtual call.
#[derive(Debug)]
enum Delegate {
    AlwaysOn,
    AlwaysOff,
    Custom(Box<dyn Sampler>),
}

impl Delegate {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        match self {
            Delegate::AlwaysOn => SamplingResult::decision(SamplingDecision::RecordAndSample),
            Delegate::AlwaysOff => SamplingResult::decision(SamplingDecision::Drop),
            Delegate::Custom(sampler) => sampler.should_sample(params),
        }
    }

    fn description(&self) -> String {
        match self {
            Delegate::AlwaysOn => AlwaysOn.description(),
            Delegate::AlwaysOff => AlwaysOff.description(),
            Delegate::Custom(sampler) => sampler.description(),
        }
    }
}

/// Respects the parent span's sampled flag; spans without a (valid) parent
/// go to a root sampler.
///
/// | parent | remote | sampled | sampler used (default) |
/// |--------|--------|---------|------------------------|
/// | none   |        |         | `root` (required)      |
/// | yes    | yes    | yes     | `remote_parent_sampled` ([`AlwaysOn`]) |
/// | yes    | yes    | no      | `remote_parent_not_sampled` ([`AlwaysOff`]) |
/// | yes    | no     | yes     | `local_parent_sampled` ([`AlwaysOn`]) |
/// | yes    | no     | no      | `local_parent_not_sampled` ([`AlwaysOff`]) |
///
/// When the chosen delegate keeps the parent's trace state, the parent's
/// consistent-sampling threshold (`th` in the `ot` entry) is propagated only
/// if it agrees with the child's sampled flag (`rv >= th` exactly when
/// sampled); an inconsistent or malformed threshold is erased, as the
/// specification's "TraceState: Probability Sampling" asks of parent-based
/// samplers.
///
/// ```
/// use tracekit_samplers::{ratio, AlwaysOn, ParentBased, Sampler};
///
/// let sampler = ParentBased::new(ratio(0.1)).with_remote_parent_not_sampled(AlwaysOn);
/// assert_eq!(
///     sampler.description(),
///     "ParentBased{root:TraceIdRatioBased{0.1},remoteParentSampled:AlwaysOnSampler,\
///      remoteParentNotSampled:AlwaysOnSampler,localParentSampled:AlwaysOnSampler,\
///      localParentNotSampled:AlwaysOffSampler}"
/// );
/// ```
#[derive(Debug)]
pub struct ParentBased {
    root: Delegate,
    remote_parent_sampled: Delegate,
    remote_parent_not_sampled: Delegate,
    local_parent_sampled: Delegate,
    local_parent_not_sampled: Delegate,
}

impl ParentBased {
    /// `root` decides for spans without a valid parent; the four parent
    /// cases take the specification's defaults.
    pub fn new(root: impl Sampler + 'static) -> Self {
        Self::from_boxed(Box::new(root))
    }

    /// Like [`new`](Self::new), for an already boxed root sampler.
    pub fn from_boxed(root: Box<dyn Sampler>) -> Self {
        ParentBased {
            root: Delegate::Custom(root),
            remote_parent_sampled: Delegate::AlwaysOn,
            remote_parent_not_sampled: Delegate::AlwaysOff,
            local_parent_sampled: Delegate::AlwaysOn,
            local_parent_not_sampled: Delegate::AlwaysOff,
        }
    }

    /// `ParentBased(root = AlwaysOn)`, the specification's default sampler.
    pub fn always_on() -> Self {
        ParentBased {
            root: Delegate::AlwaysOn,
            ..Self::from_boxed(Box::new(AlwaysOn))
        }
    }

    /// `ParentBased(root = AlwaysOff)`.
    pub fn always_off() -> Self {
        ParentBased {
            root: Delegate::AlwaysOff,
            ..Self::from_boxed(Box::new(AlwaysOff))
        }
    }

    /// The sampler for a remote parent with the sampled flag set (default
    /// [`AlwaysOn`]).
    pub fn with_remote_parent_sampled(mut self, sampler: impl Sampler + 'static) -> Self {
        self.remote_parent_sampled = Delegate::Custom(Box::new(sampler));
        self
    }

    /// The sampler for a remote parent without the sampled flag (default
    /// [`AlwaysOff`]).
    pub fn with_remote_parent_not_sampled(mut self, sampler: impl Sampler + 'static) -> Self {
        self.remote_parent_not_sampled = Delegate::Custom(Box::new(sampler));
        self
    }

    /// The sampler for a local parent with the sampled flag set (default
    /// [`AlwaysOn`]).
    pub fn with_local_parent_sampled(mut self, sampler: impl Sampler + 'static) -> Self {
        self.local_parent_sampled = Delegate::Custom(Box::new(sampler));
        self
    }

    /// The sampler for a local parent without the sampled flag (default
    /// [`AlwaysOff`]).
    pub fn with_local_parent_not_sampled(mut self, sampler: impl Sampler + 'static) -> Self {
        self.local_parent_not_sampled = Delegate::Custom(Box::new(sampler));
        self
    }
}

impl Sampler for ParentBased {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        let Some(parent) = params.parent_span_context else {
            return self.root.should_sample(params);
        };
        let delegate = match (parent.is_remote(), parent.is_sampled()) {
            (true, true) => &self.remote_parent_sampled,
            (true, false) => &self.remote_parent_not_sampled,
            (false, true) => &self.local_parent_sampled,
            (false, false) => &self.local_parent_not_sampled,
        };
        // Built in place (no intermediate result to move) for the defaults.
        match delegate {
            Delegate::AlwaysOn => SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: consistent_parent_threshold(parent, true),
            },
            Delegate::AlwaysOff => SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: consistent_parent_threshold(parent, false),
            },
            Delegate::Custom(sampler) => {
                let mut result = sampler.should_sample(params);
                if result.trace_state.is_none() {
                    result.trace_state =
                        consistent_parent_threshold(parent, result.decision.is_sampled());
                }
                result
            }
        }
    }

    fn description(&self) -> String {
        format!(
            "ParentBased{{root:{},remoteParentSampled:{},remoteParentNotSampled:{},\
             localParentSampled:{},localParentNotSampled:{}}}",
            self.root.description(),
            self.remote_parent_sampled.description(),
            self.remote_parent_not_sampled.description(),
            self.local_parent_sampled.description(),
            self.local_parent_not_sampled.description()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ratio, AlwaysRecord};
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use std::str::FromStr;

    fn parent(remote: bool, sampled: bool, state: &str) -> SpanContext {
        SpanContext::new(
            TraceId::from(0x0102_0304_0506_0708_0910_1112_1314_1516u128),
            SpanId::from(7u64),
            TraceFlags::default().with_sampled(sampled),
            remote,
            TraceState::from_str(state).unwrap_or_default(),
        )
    }

    /// A sampler that reports which delegate ran through its decision.
    #[derive(Debug)]
    struct Marker(SamplingDecision);
    impl Sampler for Marker {
        fn should_sample(&self, _: &SamplingParameters<'_>) -> SamplingResult {
            SamplingResult::decision(self.0)
        }
        fn description(&self) -> String {
            "Marker".into()
        }
    }

    #[test]
    fn defaults_follow_the_parent() {
        let sampler = ParentBased::new(AlwaysOff);
        let kind = SpanKind::Internal;
        for remote in [true, false] {
            for sampled in [true, false] {
                let p = parent(remote, sampled, "");
                let r = sampler.should_sample(&SamplingParameters::child(&p, "c", &kind));
                assert_eq!(r.decision.is_sampled(), sampled, "remote={remote}");
                assert_eq!(r.decision.is_recording(), sampled);
                assert_eq!(r.trace_state, None);
            }
        }
        let root = SamplingParameters::root(TraceId::from(5u128), "r", &kind);
        assert_eq!(
            sampler.should_sample(&root).decision,
            SamplingDecision::Drop
        );
        assert_eq!(
            ParentBased::always_on().should_sample(&root).decision,
            SamplingDecision::RecordAndSample
        );
        assert_eq!(
            ParentBased::always_off().should_sample(&root).decision,
            SamplingDecision::Drop
        );
    }

    #[test]
    fn each_delegate_is_used_for_its_case() {
        let sampler = ParentBased::new(Marker(SamplingDecision::RecordOnly))
            .with_remote_parent_sampled(Marker(SamplingDecision::Drop))
            .with_remote_parent_not_sampled(Marker(SamplingDecision::RecordAndSample))
            .with_local_parent_sampled(AlwaysRecord::new(AlwaysOff))
            .with_local_parent_not_sampled(AlwaysOn);
        let kind = SpanKind::Internal;
        let decide = |p: &SpanContext| {
            sampler
                .should_sample(&SamplingParameters::child(p, "c", &kind))
                .decision
        };
        assert_eq!(decide(&parent(true, true, "")), SamplingDecision::Drop);
        assert_eq!(
            decide(&parent(true, false, "")),
            SamplingDecision::RecordAndSample
        );
        assert_eq!(
            decide(&parent(false, true, "")),
            SamplingDecision::RecordOnly
        );
        assert_eq!(
            decide(&parent(false, false, "")),
            SamplingDecision::RecordAndSample
        );
        let root = SamplingParameters::root(TraceId::from(5u128), "r", &kind);
        assert_eq!(
            sampler.should_sample(&root).decision,
            SamplingDecision::RecordOnly
        );
        assert!(sampler
            .description()
            .starts_with("ParentBased{root:Marker,"));
    }

    #[test]
    fn consistent_threshold_is_propagated_and_inconsistent_erased() {
        // Randomness of the parent's trace id: 0x10111213141516.
        let sampler = ParentBased::new(ratio(0.5));
        let kind = SpanKind::Internal;
        let child =
            |p: &SpanContext| sampler.should_sample(&SamplingParameters::child(p, "c", &kind));
        // th:0 (100%) and sampled: consistent, state kept as is.
        assert_eq!(child(&parent(true, true, "ot=th:0,a=b")).trace_state, None);
        // th:8 needs randomness >= 0x80…: sampled flag contradicts it.
        let r = child(&parent(true, true, "a=b,ot=th:8;rv:00000000000001"));
        assert!(r.decision.is_sampled());
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=rv:00000000000001,a=b")
        );
        // Explicit randomness that satisfies th:8 keeps it.
        let r = child(&parent(false, true, "ot=th:8;rv:80000000000000"));
        assert_eq!(r.trace_state, None);
        // Unsampled parent, th:8 rejected by randomness: consistent.
        let r = child(&parent(true, false, "ot=th:8"));
        assert_eq!((r.decision, r.trace_state), (SamplingDecision::Drop, None));
        // Unsampled parent whose th says it should have been sampled.
        let r = child(&parent(true, false, "ot=th:0"));
        assert_eq!(r.trace_state.map(|t| t.header()).as_deref(), Some(""));
        // Malformed threshold erased.
        let r = child(&parent(true, true, "ot=th:nothex;k:v"));
        assert_eq!(r.trace_state.map(|t| t.header()).as_deref(), Some("ot=k:v"));
    }
}
