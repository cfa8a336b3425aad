//! Head samplers for tracekit and for the official OpenTelemetry SDK.
//!
//! A head sampler decides, when a span starts, whether it is recorded and
//! whether it is sampled (exported). Every sampler here implements the
//! [`Sampler`] trait, which has OpenTelemetry's semantics: it sees the parent
//! context, trace id, name, kind, start attributes and links
//! ([`SamplingParameters`]) and answers with a [`SamplingDecision`]
//! (`Drop`, `RecordOnly`, `RecordAndSample`), attributes to add, and the
//! trace state the new span carries ([`SamplingResult`]; `None` keeps the
//! parent's, which is the allocation-free common case). With the `otel-sdk`
//! cargo feature, `OtelSdkSampler` adapts any of them to the official SDK's
//! `ShouldSample`; without it the crate depends on the `opentelemetry` API
//! crate only.
//!
//! # Samplers
//!
//! - [`AlwaysOn`], [`AlwaysOff`], and [`AlwaysRecord`], which records what
//!   its inner sampler drops.
//! - [`TraceIdRatioBased`] ([`ratio`]): consistent probability sampling as
//!   the current specification defines it. The ratio becomes a 56-bit
//!   rejection threshold; the span is sampled when its randomness (the
//!   explicit `rv` of the `ot` trace state entry, else the trace id's
//!   rightmost 56 bits) is at least the threshold, and sampled spans carry
//!   `ot=th:<threshold>`. Services in any language that follow the
//!   specification take the same decision for the same trace, and a trace
//!   sampled at one ratio is sampled at every higher ratio. The arithmetic is
//!   public in [`threshold`] and the `ot` entry handling in
//!   [`ot_trace_state`].
//! - [`ParentBased`]: follows the parent's sampled flag through four
//!   configurable delegates, with a root sampler for new traces; it erases a
//!   parent threshold that contradicts the decision.
//! - [`RateLimiting`]: at most N traces per second with a burst, and
//!   [`ReservoirThenRatio`]: the first N traces of every second, then a ratio.
//!   Both keep their whole state in one `AtomicU64` updated by
//!   compare-and-swap (refusals only read it), so decisions never lock; time
//!   comes from `quanta`, the clock the SDK's spans use (the CPU's time
//!   stamp counter where it is reliable, else the OS monotonic clock).
//! - [`RuleBased`]: ordered [`Rule`]s on span name, kind and attributes, each
//!   with its own sampler, and a default; built in code or parsed from text.
//! - [`from_env`] / [`from_env_values`]: the sampler named by
//!   `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
//!
//! Decisions allocate nothing except when a trace state must change (a
//! sampled span's `th`), and samplers are `Send + Sync`: share one behind an
//! `Arc` across threads.
//!
//! # Example
//!
//! ```
//! use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
//! use opentelemetry::KeyValue;
//! use opentelemetry_semantic_conventions::attribute::HTTP_ROUTE;
//! use tracekit_samplers::{
//!     ratio, AlwaysOff, AlwaysOn, ParentBased, Rule, RuleBased, Sampler, SamplingDecision,
//!     SamplingParameters,
//! };
//!
//! // Never /health, always checkout, 25% of the rest; children follow their parent.
//! let rules = RuleBased::builder()
//!     .rule(Rule::new(AlwaysOff).attribute_eq(HTTP_ROUTE, "/health"))
//!     .rule(Rule::new(AlwaysOn).name_prefix("POST /checkout"))
//!     .default_sampler(ratio(0.25))
//!     .build();
//! let sampler = ParentBased::new(rules);
//!
//! let kind = SpanKind::Server;
//! // Trace id randomness 0xe0… is above the 25% threshold 0xc0…: sampled.
//! let trace_id = TraceId::from_hex("4bf92f3577b34da6a3e0000000000000").unwrap();
//! let root = sampler.should_sample(&SamplingParameters::root(trace_id, "GET /cart", &kind));
//! assert_eq!(root.decision, SamplingDecision::RecordAndSample);
//! let trace_state = root.trace_state.unwrap_or_default();
//! assert_eq!(trace_state.header(), "ot=th:c");
//!
//! let health = [KeyValue::new(HTTP_ROUTE, "/health")];
//! let params = SamplingParameters {
//!     attributes: &health,
//!     ..SamplingParameters::root(trace_id, "GET /health", &kind)
//! };
//! assert_eq!(sampler.should_sample(&params).decision, SamplingDecision::Drop);
//!
//! // A child of the sampled root keeps its decision and trace state.
//! let parent = SpanContext::new(trace_id, SpanId::from(1), TraceFlags::SAMPLED, false, trace_state);
//! let child = sampler.should_sample(&SamplingParameters::child(&parent, "SELECT", &kind));
//! assert_eq!((child.decision, child.trace_state), (SamplingDecision::RecordAndSample, None));
//! ```
//!
//! # Rule text form
//!
//! [`RuleBased::parse`] (and `str::parse`) read rules separated by `;`, tried
//! in order:
//!
//! ```text
//! rules     = rule *(";" rule) [";"]
//! rule      = selector ":" sampler
//! selector  = "*" / condition *("&" condition)       ; all conditions must hold
//! condition = field "=" value                          ; equal
//!           / field "^=" value                         ; starts with
//!           / field "in" "[" value *("," value) "]"    ; one of
//! field     = "name" / "kind" / attribute-key / quoted-string
//! sampler   = "always_on" / "always_off" / "traceidratio(" ratio ")"
//!           / "ratelimiting(" per-second ["," burst] ")" / "reservoir(" per-second "," ratio ")"
//!           / "parentbased_always_on" / "parentbased_always_off"
//!           / "parentbased_traceidratio(" ratio ")" / "parentbased_ratelimiting(" per-second ")"
//!           / "always_record(" sampler ")"
//! ```
//!
//! - `name` is the span name and `kind` the span kind (`server`, `client`,
//!   `producer`, `consumer`, `internal`); any other field is an attribute key
//!   (ASCII letters, digits, `.`, `_`, `-`, `/`, `@`). A quoted field is
//!   always an attribute key, so `"name"=x` matches an attribute called
//!   `name`.
//! - Values are bare text, trimmed, ending at `;`, `&`, `:`, `[`, `]`, `"`
//!   (and `,` inside a list), or double-quoted with `\"` and `\\` escapes.
//!   Attribute values of integer, float or boolean type match a value that
//!   parses to the same number or to `true`/`false`; `^=` matches string
//!   values only.
//! - Whitespace and newlines between tokens are ignored, as are empty rules.
//!   Spans that no rule matches are dropped: end with a `*` rule to choose
//!   otherwise. A rule after `*` is an error, since it could never match.
//!
//! ```text
//! http.route=/health: always_off;
//! name^=GET /checkout: always_on;
//! kind in [consumer, producer] & messaging.system=kafka: ratelimiting(50);
//! url.full^="https://internal:8443/": traceidratio(0.5);
//! *: traceidratio(0.05)
//! ```
//!
//! Errors ([`RuleParseError`]) give the byte offset and the reason; parsing
//! never panics. `always_record(…)` nests at most [`MAX_SAMPLER_NESTING`]
//! (32) levels deep: deeper text is a parse error naming the limit, so no
//! rule text, however long, can exhaust the parsing thread's stack.
//!
//! # Environment
//!
//! | `OTEL_TRACES_SAMPLER` | `OTEL_TRACES_SAMPLER_ARG` |
//! |---|---|
//! | `always_on`, `always_off`, `parentbased_always_on` (default), `parentbased_always_off` | ignored |
//! | `traceidratio`, `parentbased_traceidratio` | ratio in `[0, 1]`; default and fallback 1.0 |
//! | `ratelimiting`, `parentbased_ratelimiting` | traces per second; default and fallback 100 |
//!
//! Invalid values produce a warning line such as
//! `tracekit: ignoring OTEL_TRACES_SAMPLER_ARG="abc" (not a number in [0, 1]); using 1.0`
//! and the specification's fallback; see [`from_env_values`].

#![warn(missing_docs)]

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
pub use rule_text::{RuleParseError, MAX_SAMPLER_NESTING};
pub use sampler::{
    AlwaysOff, AlwaysOn, Sampler, SamplingDecision, SamplingParameters, SamplingResult,
};
pub use trace_id_ratio::{ratio, InvalidRatio, TraceIdRatioBased};
