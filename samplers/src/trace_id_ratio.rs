//! [`TraceIdRatioBased`]: consistent probability sampling with 56-bit
//! rejection thresholds, as the current OpenTelemetry SDK specification
//! defines the `TraceIdRatioBased` sampler.

use crate::ot_trace_state::{randomness_of, with_threshold, without_threshold, OtEntry};
use crate::sampler::{Sampler, SamplingDecision, SamplingParameters, SamplingResult};
use crate::threshold::Randomness;
use crate::threshold::{Threshold, DEFAULT_PRECISION};
use opentelemetry::trace::{SpanContext, TraceId, TraceState};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// The W3C Trace Context Level 2 "random" trace flag.
const RANDOM_TRACE_FLAG: u8 = 0x02;

static WARNED_NON_RANDOM: AtomicBool = AtomicBool::new(false);

/// Samples a fixed fraction of traces, consistently across services.
///
/// The configured ratio `p` becomes a rejection threshold
/// `T = (1 − p) · 2^56` (rounded to 4 significant hexadecimal digits by
/// default, as the specification recommends). A span is sampled when its
/// randomness `R >= T`, where `R` is the explicit `rv` sub-key of the parent's
/// `ot` trace state entry when present, else the trace id's rightmost 56 bits.
/// Every SDK following the specification therefore takes the same decision
/// for the same trace and ratio, and a trace sampled at some ratio is sampled
/// at every higher ratio.
///
/// Sampled spans carry `ot=th:<T>` in their trace state (other `ot` sub-keys
/// and other entries kept, `ot` moved to the front); dropped spans never
/// carry a `th`. The parent's sampled flag is ignored: wrap this sampler in
/// [`ParentBased`](crate::ParentBased) to respect it.
///
/// ```
/// use opentelemetry::trace::{SpanKind, TraceId};
/// use tracekit_samplers::{Sampler, SamplingParameters, TraceIdRatioBased};
///
/// let sampler = TraceIdRatioBased::new(0.25);
/// assert_eq!(sampler.description(), "TraceIdRatioBased{0.25}");
/// // Randomness 0xd0…: above the 25% threshold 0xc0…, so sampled.
/// let id = TraceId::from_hex("0000000000000000ffd0000000000000").unwrap();
/// let result = sampler.should_sample(&SamplingParameters::root(id, "GET /", &SpanKind::Server));
/// assert!(result.decision.is_sampled());
/// assert_eq!(result.trace_state.unwrap().header(), "ot=th:c");
/// ```
#[derive(Clone, PartialEq)]
pub struct TraceIdRatioBased {
    ratio: f64,
    threshold: Threshold,
    /// `ot=th:<threshold>`, the trace state of every sampled span whose
    /// parent has no trace state (all root spans): cloned, not rebuilt.
    root_state: Option<TraceState>,
}

/// Shorthand for [`TraceIdRatioBased::new`].
pub fn ratio(probability: f64) -> TraceIdRatioBased {
    TraceIdRatioBased::new(probability)
}

/// A ratio outside `[0, 1]` or NaN, refused by [`TraceIdRatioBased::try_new`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InvalidRatio(pub f64);

impl fmt::Display for InvalidRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sampling ratio {} is not a number in [0, 1]", self.0)
    }
}

impl std::error::Error for InvalidRatio {}

impl TraceIdRatioBased {
    /// Sample the fraction `ratio` of traces. The ratio is clamped to
    /// `[0, 1]`; NaN is invalid and treated as 0 (sample nothing). Ratios
    /// below 2^-57 sample nothing, as the specification's smallest
    /// probability is 2^-56.
    pub fn new(ratio: f64) -> TraceIdRatioBased {
        Self::with_precision(ratio, DEFAULT_PRECISION)
    }

    /// Like [`new`](Self::new), with the threshold rounded to `precision`
    /// significant hexadecimal digits (1..=14) instead of the default 4.
    pub fn with_precision(ratio: f64, precision: u8) -> TraceIdRatioBased {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        let threshold = Threshold::from_probability_with_precision(ratio, precision);
        TraceIdRatioBased {
            ratio,
            threshold,
            root_state: with_threshold(&TraceState::NONE, threshold),
        }
    }

    /// Sample the fraction `ratio` of traces; a ratio outside `[0, 1]` or NaN
    /// is an error.
    pub fn try_new(ratio: f64) -> Result<TraceIdRatioBased, InvalidRatio> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(Self::new(ratio))
        } else {
            Err(InvalidRatio(ratio))
        }
    }

    /// The configured (clamped) ratio.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The rejection threshold in use.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// The decision for `params`, with the trace state a sampled span must
    /// carry. Shared by the samplers that delegate to a ratio.
    #[inline]
    pub(crate) fn decide(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        match params.parent_span_context {
            Some(parent) if *parent.trace_state() != TraceState::NONE => {
                self.decide_with_parent_state(parent, params.trace_id)
            }
            parent => {
                if let Some(parent) = parent {
                    warn_if_not_random(parent);
                }
                // No trace state to read `rv` from or to update.
                if self
                    .threshold
                    .samples(Randomness::from_trace_id(params.trace_id))
                {
                    SamplingResult {
                        decision: SamplingDecision::RecordAndSample,
                        attributes: Vec::new(),
                        trace_state: self.root_state.clone(),
                    }
                } else {
                    SamplingResult::decision(SamplingDecision::Drop)
                }
            }
        }
    }

    /// The decision when the parent has a trace state: explicit randomness
    /// may be there, and the `ot` entry is updated rather than created.
    fn decide_with_parent_state(&self, parent: &SpanContext, trace_id: TraceId) -> SamplingResult {
        let state = parent.trace_state();
        let ot = OtEntry::of(state);
        if ot.and_then(|o| o.randomness()).is_none() {
            warn_if_not_random(parent);
        }
        if self.threshold.samples(randomness_of(trace_id, ot)) {
            SamplingResult {
                decision: SamplingDecision::RecordAndSample,
                attributes: Vec::new(),
                trace_state: with_threshold(state, self.threshold),
            }
        } else {
            SamplingResult {
                decision: SamplingDecision::Drop,
                attributes: Vec::new(),
                trace_state: match ot {
                    Some(ot) if ot.raw_threshold().is_some() => without_threshold(state),
                    _ => None,
                },
            }
        }
    }
}

#[inline]
fn warn_if_not_random(parent: &SpanContext) {
    // Only remote parents: local parents' trace ids were made or already
    // received (and checked) by this process. A plain load first keeps the
    // hot path free of atomic writes once the warning has been given.
    if parent.is_remote()
        && parent.trace_flags().to_u8() & RANDOM_TRACE_FLAG == 0
        && !WARNED_NON_RANDOM.load(Ordering::Relaxed)
    {
        warn_non_random_once();
    }
}

#[cold]
fn warn_non_random_once() {
    if !WARNED_NON_RANDOM.swap(true, Ordering::Relaxed) {
        eprintln!(
            "tracekit: WARNING: the TraceIdRatioBased sampler is presuming TraceIDs are random \
             and expects the Trace random flag to be set in confirmation. Please upgrade your \
             caller(s) to use W3C Trace Context Level 2."
        );
    }
}

impl Sampler for TraceIdRatioBased {
    #[inline]
    fn should_sample(&self, params: &SamplingParameters<'_>) -> SamplingResult {
        self.decide(params)
    }

    fn description(&self) -> String {
        format!("TraceIdRatioBased{{{}}}", self.ratio)
    }
}

impl fmt::Debug for TraceIdRatioBased {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceIdRatioBased")
            .field("ratio", &self.ratio)
            .field(
                "threshold",
                &format_args!("{:#016x}", self.threshold.value()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::MAX_ADJUSTED_COUNT;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use std::str::FromStr;

    fn root(id: TraceId) -> SamplingResult {
        TraceIdRatioBased::new(0.1).should_sample(&SamplingParameters::root(
            id,
            "span",
            &SpanKind::Internal,
        ))
    }

    fn id_with_randomness(r: u64) -> TraceId {
        TraceId::from_bytes(((0xabcd_u128 << 112) | u128::from(r)).to_be_bytes())
    }

    #[test]
    fn clamps_and_rejects_invalid_ratios() {
        assert_eq!(TraceIdRatioBased::new(2.0).ratio(), 1.0);
        assert_eq!(TraceIdRatioBased::new(-1.0).ratio(), 0.0);
        assert_eq!(TraceIdRatioBased::new(f64::NAN).ratio(), 0.0);
        assert_eq!(
            TraceIdRatioBased::new(f64::NAN).threshold(),
            Threshold::NEVER
        );
        assert!(TraceIdRatioBased::try_new(f64::NAN).is_err());
        assert!(TraceIdRatioBased::try_new(1.5).is_err());
        assert!(TraceIdRatioBased::try_new(-0.1).is_err());
        assert_eq!(TraceIdRatioBased::try_new(0.5), Ok(ratio(0.5)));
    }

    #[test]
    fn descriptions() {
        assert_eq!(ratio(0.1).description(), "TraceIdRatioBased{0.1}");
        assert_eq!(ratio(0.0001).description(), "TraceIdRatioBased{0.0001}");
        assert_eq!(ratio(1.0).description(), "TraceIdRatioBased{1}");
        assert_eq!(ratio(0.0).description(), "TraceIdRatioBased{0}");
    }

    #[test]
    fn ratio_point_one_over_a_million_random_ids() {
        let mut rng = SmallRng::seed_from_u64(0x5eed);
        let sampler = ratio(0.1);
        let kind = SpanKind::Internal;
        let n = 1_000_000u32;
        let mut sampled = 0u32;
        for _ in 0..n {
            let id = TraceId::from_bytes(rng.random::<u128>().to_be_bytes());
            if sampler
                .should_sample(&SamplingParameters::root(id, "s", &kind))
                .decision
                .is_sampled()
            {
                sampled += 1;
            }
        }
        let fraction = f64::from(sampled) / f64::from(n);
        assert!((0.095..=0.105).contains(&fraction), "sampled {fraction}");
    }

    #[test]
    fn same_id_same_decision_and_monotonic_in_ratio() {
        let mut rng = SmallRng::seed_from_u64(42);
        let kind = SpanKind::Internal;
        let ratios = [
            0.0,
            0.001,
            0.01,
            0.05,
            0.1,
            0.25,
            1.0 / 3.0,
            0.5,
            0.75,
            0.99,
            1.0,
        ];
        for _ in 0..20_000 {
            let id = TraceId::from_bytes(rng.random::<u128>().to_be_bytes());
            let params = SamplingParameters::root(id, "s", &kind);
            let mut was_sampled = false;
            for p in ratios {
                let sampler = ratio(p);
                let first = sampler.should_sample(&params).decision;
                assert_eq!(first, sampler.should_sample(&params).decision);
                assert_eq!(first, ratio(p).should_sample(&params).decision);
                if was_sampled {
                    assert!(
                        first.is_sampled(),
                        "id {id} sampled below {p} but not at {p}"
                    );
                }
                was_sampled |= first.is_sampled();
            }
            assert!(was_sampled, "ratio 1 samples everything");
        }
    }

    #[test]
    fn threshold_written_only_on_sampled_spans() {
        let quarter = ratio(0.25);
        let kind = SpanKind::Internal;
        let keep = id_with_randomness(0xc0_0000_0000_0000);
        let drop = id_with_randomness(0xbf_ffff_ffff_ffff);
        let r = quarter.should_sample(&SamplingParameters::root(keep, "s", &kind));
        assert_eq!(r.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:c")
        );
        let r = quarter.should_sample(&SamplingParameters::root(drop, "s", &kind));
        assert_eq!(r.decision, SamplingDecision::Drop);
        assert_eq!(r.trace_state, None);

        let always = ratio(1.0).should_sample(&SamplingParameters::root(drop, "s", &kind));
        assert_eq!(
            always.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:0")
        );
        let half = ratio(0.5).should_sample(&SamplingParameters::root(keep, "s", &kind));
        assert_eq!(
            half.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:8")
        );
        let one_pct = TraceIdRatioBased::with_precision(0.01, 5);
        let all = id_with_randomness(MAX_ADJUSTED_COUNT - 1);
        let r = one_pct.should_sample(&SamplingParameters::root(all, "s", &kind));
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:fd70a4")
        );
        let never = ratio(0.0).should_sample(&SamplingParameters::root(all, "s", &kind));
        assert_eq!(never.decision, SamplingDecision::Drop);
    }

    fn child_of(state: &str, id: TraceId, sampled: bool) -> SpanContext {
        SpanContext::new(
            id,
            SpanId::from_bytes([7; 8]),
            TraceFlags::new(0x02).with_sampled(sampled),
            true,
            TraceState::from_str(state).unwrap_or_default(),
        )
    }

    #[test]
    fn explicit_randomness_is_honoured_and_kept() {
        let kind = SpanKind::Internal;
        // The trace id alone would be dropped at 25%...
        let id = id_with_randomness(0x10_0000_0000_0000);
        assert!(!root(id).decision.is_sampled());
        // ...but rv says otherwise.
        let parent = child_of("x=1,ot=rv:f0000000000000;k:v", id, false);
        let params = SamplingParameters {
            parent_span_context: Some(&parent),
            ..SamplingParameters::root(id, "s", &kind)
        };
        let r = ratio(0.25).should_sample(&params);
        assert!(r.decision.is_sampled());
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:c;rv:f0000000000000;k:v,x=1")
        );
        // And rv below the threshold drops despite trace id randomness.
        let id = id_with_randomness(0xff_0000_0000_0000);
        let parent = child_of("ot=rv:00000000000001", id, true);
        let params = SamplingParameters {
            parent_span_context: Some(&parent),
            ..SamplingParameters::root(id, "s", &kind)
        };
        assert_eq!(
            ratio(0.25).should_sample(&params).decision,
            SamplingDecision::Drop
        );
        // A malformed rv is ignored in favour of the trace id.
        let parent = child_of("ot=rv:123", id, true);
        let params = SamplingParameters {
            parent_span_context: Some(&parent),
            ..SamplingParameters::root(id, "s", &kind)
        };
        assert!(ratio(0.25).should_sample(&params).decision.is_sampled());
    }

    #[test]
    fn dropped_child_erases_the_parents_threshold() {
        let kind = SpanKind::Internal;
        let id = id_with_randomness(0x90_0000_0000_0000);
        let parent = child_of("ot=th:8;rv:90000000000000,a=b", id, true);
        let params = SamplingParameters {
            parent_span_context: Some(&parent),
            ..SamplingParameters::root(id, "s", &kind)
        };
        let r = ratio(0.25).should_sample(&params);
        assert_eq!(r.decision, SamplingDecision::Drop);
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=rv:90000000000000,a=b")
        );
        // Sampled at a higher ratio: the parent's th is replaced by ours.
        let r = ratio(0.5).should_sample(&params);
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            None,
            "th:8 already leftmost and equal"
        );
        let r = ratio(0.75).should_sample(&params);
        assert_eq!(
            r.trace_state.map(|t| t.header()).as_deref(),
            Some("ot=th:4;rv:90000000000000,a=b")
        );
    }
}
