//! [`Tracer`]: starts spans, deciding parent, ids, sampling and limits.

use super::clock;
use super::id_generator;
use super::limits::{limit_attribute_list, SpanLimits};
use super::origin::SpanOrigin;
use super::provider::ProviderInner;
use super::span::Span;
use super::span_record::SpanRecord;
use opentelemetry::trace::{
    Link, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
    TraceState,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracekit_samplers::{SamplingDecision, SamplingParameters};

/// What [`Tracer::decide`] concluded.
enum Decision {
    /// Not recorded: a span carrying only this context.
    Drop(SpanContext),
    /// Recorded, with the sampler's extra attributes.
    Record {
        span_context: SpanContext,
        parent_span_id: SpanId,
        parent_is_remote: bool,
        sampler_attributes: Vec<KeyValue>,
    },
}

/// When a span started.
enum StartTime {
    /// Now, read from the span clock.
    Now,
    /// An explicit wall-clock time (the span's clock for events and its end
    /// is then the OS wall clock).
    Wall(SystemTime),
    /// An earlier span-clock counter value.
    Raw(u64),
}

/// The W3C Trace Context Level 2 "random trace id" flag.
pub const TRACE_FLAG_RANDOM: u8 = 0x02;

/// Starts spans for one instrumentation scope. Cheap to clone.
///
/// Implements the OpenTelemetry [`Tracer`](opentelemetry::trace::Tracer)
/// trait; [`Tracer::start_span`] is the same pipeline without a
/// `SpanBuilder`.
#[derive(Clone, Debug)]
pub struct Tracer {
    provider: Arc<ProviderInner>,
    /// The scope and export preparation its spans share.
    origin: Arc<SpanOrigin>,
}

impl Tracer {
    pub(crate) fn new(provider: Arc<ProviderInner>, scope: InstrumentationScope) -> Self {
        let origin = Arc::new(SpanOrigin {
            scope,
            prep: provider.export_prep.clone(),
        });
        Tracer { provider, origin }
    }

    /// The instrumentation scope spans of this tracer carry.
    pub fn instrumentation_scope(&self) -> &InstrumentationScope {
        &self.origin.scope
    }

    /// Start a span named `name` of kind `kind` as a child of the span in
    /// `parent` (a root span when it holds none).
    #[inline]
    pub fn start_span(
        &self,
        name: impl Into<Cow<'static, str>>,
        kind: SpanKind,
        parent: &Context,
    ) -> Span {
        self.start_plain(name.into(), kind, parent)
    }

    /// Decide parent, ids, flags and sampling for a span about to start.
    /// Everything a dropped span costs happens here: no allocation.
    #[inline(always)]
    fn decide(
        &self,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
        parent_cx: &Context,
    ) -> Decision {
        let provider = &*self.provider;
        let parent_span = parent_cx.span();
        let parent_sc = parent_span.span_context();
        let parent = if parent_sc.is_valid() {
            Some(parent_sc)
        } else {
            None
        };

        if provider.disabled || provider.is_shutdown.load(Ordering::Relaxed) {
            // No recording; the parent's context passes through so that
            // propagation keeps working (what a no-op tracer does).
            return Decision::Drop(parent.cloned().unwrap_or(SpanContext::NONE));
        }

        let (trace_id, span_id) = match (&provider.id_generator, parent) {
            (None, Some(p)) => (p.trace_id(), id_generator::random_span_id()),
            (None, None) => id_generator::random_trace_and_span_id(),
            (Some(generator), Some(p)) => (p.trace_id(), generator.new_span_id()),
            (Some(generator), None) => (generator.new_trace_id(), generator.new_span_id()),
        };

        let result = provider.sampler.should_sample(&SamplingParameters {
            parent_context: Some(parent_cx),
            parent_span_context: parent,
            trace_id,
            name,
            kind,
            attributes,
            links,
        });

        let base_flags = match parent {
            Some(p) => p.trace_flags(),
            None if provider
                .id_generator
                .as_ref()
                .is_none_or(|g| g.trace_ids_are_random()) =>
            {
                TraceFlags::new(TRACE_FLAG_RANDOM)
            }
            None => TraceFlags::default(),
        };
        let flags = base_flags.with_sampled(result.decision.is_sampled());
        let trace_state = match result.trace_state {
            Some(ts) => ts,
            None => parent.map_or(TraceState::NONE, |p| p.trace_state().clone()),
        };
        let span_context = SpanContext::new(trace_id, span_id, flags, false, trace_state);

        if result.decision == SamplingDecision::Drop {
            provider.note_unsampled(false);
            release_attributes(result.attributes);
            return Decision::Drop(span_context);
        }
        if result.decision == SamplingDecision::RecordOnly {
            provider.note_unsampled(true);
        }
        Decision::Record {
            span_context,
            parent_span_id: parent.map_or(SpanId::INVALID, |p| p.span_id()),
            parent_is_remote: parent.is_some_and(|p| p.is_remote()),
            sampler_attributes: result.attributes,
        }
    }

    /// Start the recording span `decision` asked for.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn record(
        &self,
        span_context: SpanContext,
        parent_span_id: SpanId,
        parent_is_remote: bool,
        name: Cow<'static, str>,
        kind: SpanKind,
        start_time: StartTime,
        mut attributes: Vec<KeyValue>,
        events: Vec<opentelemetry::trace::Event>,
        mut links: Vec<Link>,
        parent_cx: &Context,
    ) -> Span {
        let provider = &*self.provider;
        let limits = &provider.limits;
        let dropped_attributes = if attributes.is_empty() {
            0
        } else {
            normalize_attributes(&mut attributes, limits)
        };
        let (events, dropped_events) = if events.is_empty() {
            (events, 0)
        } else {
            limit_events(events, limits)
        };
        let dropped_links = if links.is_empty() {
            0
        } else {
            limit_links(&mut links, limits)
        };

        let (start_time, start_raw) = match start_time {
            StartTime::Wall(t) => (t, None),
            StartTime::Now => {
                let raw = clock::now_raw();
                (clock::wall_time(raw), Some(raw))
            }
            StartTime::Raw(raw) => (clock::wall_time(raw), Some(raw)),
        };
        let record = SpanRecord {
            origin: None,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            start_time,
            start_raw,
            end_time: start_time,
            attributes,
            dropped_attributes,
            events,
            dropped_events,
            links,
            dropped_links,
            status: Status::Unset,
        };
        let mut span = Span::recording(span_context, record, self.provider.clone(), &self.origin);
        provider.on_start(&mut span, parent_cx);
        span
    }

    /// The lean path: a span with only a name and a kind.
    #[inline(always)]
    fn start_plain(&self, name: Cow<'static, str>, kind: SpanKind, parent_cx: &Context) -> Span {
        match self.decide(&name, &kind, &[], &[], parent_cx) {
            Decision::Drop(span_context) => Span::non_recording(span_context),
            Decision::Record {
                span_context,
                parent_span_id,
                parent_is_remote,
                sampler_attributes,
            } => self.record(
                span_context,
                parent_span_id,
                parent_is_remote,
                name,
                kind,
                StartTime::Now,
                sampler_attributes,
                Vec::new(),
                Vec::new(),
                parent_cx,
            ),
        }
    }

    /// The current value of the span clock, for `Tracer::start_at`.
    #[inline]
    pub(crate) fn clock_now() -> u64 {
        clock::now_raw()
    }

    /// The time on the span clock of a span that started at `start` (from
    /// `Span::clock_start`): its start time plus the monotonic time elapsed,
    /// what the span itself reads when ended without a timestamp.
    #[inline]
    pub(crate) fn clock_time_since(start: (u64, SystemTime)) -> SystemTime {
        let (start_raw, start_time) = start;
        start_time + Duration::from_nanos(clock::nanos_between(start_raw, clock::now_raw()))
    }

    /// Start a span that began at span-clock value `start_raw` (from
    /// `Tracer::clock_now`), with its attributes and links, without a
    /// `SpanBuilder`. Its events and end are timed on the span clock.
    pub(crate) fn start_at(
        &self,
        name: Cow<'static, str>,
        kind: SpanKind,
        start_raw: u64,
        attributes: Vec<KeyValue>,
        links: Vec<Link>,
        parent_cx: &Context,
    ) -> Span {
        self.start_full(
            name,
            kind,
            StartTime::Raw(start_raw),
            attributes,
            Vec::new(),
            links,
            parent_cx,
        )
    }

    /// The full path, from everything a `SpanBuilder` may carry.
    fn start_from_builder(&self, builder: SpanBuilder, parent_cx: &Context) -> Span {
        self.start_full(
            builder.name,
            builder.span_kind.unwrap_or(SpanKind::Internal),
            builder.start_time.map_or(StartTime::Now, StartTime::Wall),
            builder.attributes.unwrap_or_default(),
            builder.events.unwrap_or_default(),
            builder.links.unwrap_or_default(),
            parent_cx,
        )
    }

    /// Decide, then record with the given attributes (the sampler's added
    /// after them), events and links.
    #[allow(clippy::too_many_arguments)]
    fn start_full(
        &self,
        name: Cow<'static, str>,
        kind: SpanKind,
        start: StartTime,
        mut attributes: Vec<KeyValue>,
        events: Vec<opentelemetry::trace::Event>,
        links: Vec<Link>,
        parent_cx: &Context,
    ) -> Span {
        match self.decide(&name, &kind, &attributes, &links, parent_cx) {
            Decision::Drop(span_context) => Span::non_recording(span_context),
            Decision::Record {
                span_context,
                parent_span_id,
                parent_is_remote,
                sampler_attributes,
            } => {
                if attributes.is_empty() {
                    attributes = sampler_attributes;
                } else if !sampler_attributes.is_empty() {
                    attributes.extend(sampler_attributes);
                } else {
                    // Nearly always: the sampler added nothing. Forgotten,
                    // like a dropped span's (no out-of-line `extend` or
                    // drop for an empty vector: 60 instructions).
                    release_attributes(sampler_attributes);
                }
                self.record(
                    span_context,
                    parent_span_id,
                    parent_is_remote,
                    name,
                    kind,
                    start,
                    attributes,
                    events,
                    links,
                    parent_cx,
                )
            }
        }
    }
}

/// Apply span attribute rules to attributes given at start: a later value
/// overwrites an earlier one with the same key (keeping its position), then
/// the count and length limits apply. Returns the number dropped.
fn normalize_attributes(attributes: &mut Vec<KeyValue>, limits: &SpanLimits) -> u32 {
    if has_duplicate_keys(attributes) {
        let mut unique: Vec<KeyValue> = Vec::with_capacity(attributes.len());
        for kv in attributes.drain(..) {
            match unique.iter_mut().find(|u| u.key == kv.key) {
                Some(existing) => existing.value = kv.value,
                None => unique.push(kv),
            }
        }
        *attributes = unique;
    }
    limit_attribute_list(attributes, limits.max_attributes_per_span)
}

/// Whether two attributes share a key. One pass sets a bit per key from its
/// length and first and last bytes; only a key whose bit is already set (a
/// possible duplicate, rare for distinct keys) is compared with the keys
/// before it.
fn has_duplicate_keys(attributes: &[KeyValue]) -> bool {
    let mut seen = 0u64;
    for (i, kv) in attributes.iter().enumerate() {
        let bit = key_bit(kv.key.as_str());
        if seen & bit != 0 && repeats_an_earlier_key(attributes, i) {
            return true;
        }
        seen |= bit;
    }
    false
}

/// Whether `attributes[i]`'s key is one of the keys before it; out of the
/// filter's loop, which rarely needs it.
#[cold]
#[inline(never)]
fn repeats_an_earlier_key(attributes: &[KeyValue], i: usize) -> bool {
    match attributes.split_at_checked(i) {
        Some((before, [kv, ..])) => before.iter().any(|a| a.key == kv.key),
        _ => false,
    }
}

/// One of 64 bits for a key. The mix keeps the usual HTTP, RPC and network
/// semantic-convention keys of one span apart, so that spans carrying them
/// need no key comparison.
#[inline]
fn key_bit(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let first = usize::from(bytes.first().copied().unwrap_or(0));
    let last = usize::from(bytes.last().copied().unwrap_or(0));
    1u64 << ((bytes.len().wrapping_mul(4) ^ last ^ first.wrapping_mul(6)) & 63)
}

fn limit_links(links: &mut Vec<Link>, limits: &SpanLimits) -> u32 {
    links.retain(|l| l.span_context.is_valid());
    let mut dropped = 0;
    if links.len() > limits.max_links_per_span as usize {
        dropped = (links.len() - limits.max_links_per_span as usize) as u32;
        links.truncate(limits.max_links_per_span as usize);
    }
    for link in links.iter_mut() {
        link.dropped_attributes_count +=
            limit_attribute_list(&mut link.attributes, limits.max_attributes_per_link);
    }
    dropped
}

fn limit_events(
    mut events: Vec<opentelemetry::trace::Event>,
    limits: &SpanLimits,
) -> (Vec<opentelemetry::trace::Event>, u32) {
    let mut dropped = 0;
    if events.len() > limits.max_events_per_span as usize {
        dropped = (events.len() - limits.max_events_per_span as usize) as u32;
        events.truncate(limits.max_events_per_span as usize);
    }
    for event in &mut events {
        event.dropped_attributes_count +=
            limit_attribute_list(&mut event.attributes, limits.max_attributes_per_event);
    }
    (events, dropped)
}

impl opentelemetry::trace::Tracer for Tracer {
    type Span = Span;

    /// Starts a span in the current context, without a `SpanBuilder`.
    #[inline]
    fn start<T>(&self, name: T) -> Span
    where
        T: Into<Cow<'static, str>>,
    {
        let name = name.into();
        Context::map_current(|cx| self.start_plain(name, SpanKind::Internal, cx))
    }

    #[inline]
    fn start_with_context<T>(&self, name: T, parent_cx: &Context) -> Span
    where
        T: Into<Cow<'static, str>>,
    {
        self.start_plain(name.into(), SpanKind::Internal, parent_cx)
    }

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Span {
        self.start_from_builder(builder, parent_cx)
    }
}

/// Drop sampler attributes that are not used: a dropped span's, or an
/// empty list beside the span's own attributes. Nearly always the vector
/// is empty and owns no allocation: it is then forgotten, which skips the
/// out-of-line drop of its elements (an unsampled start and end went from
/// 305 to 296 instructions); anything it owns is dropped as usual.
#[inline(always)]
fn release_attributes(attributes: Vec<KeyValue>) {
    if attributes.capacity() == 0 {
        std::mem::forget(attributes);
    } else {
        drop(attributes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_found_whatever_their_hash_bits() {
        let kv = |k: &'static str| KeyValue::new(k, 1_i64);
        assert!(!has_duplicate_keys(&[]));
        assert!(!has_duplicate_keys(&[kv("a")]));
        assert!(has_duplicate_keys(&[kv("a"), kv("b"), kv("a")]));
        // Different keys with the same bit.
        let names: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        let (a, b) = names
            .iter()
            .enumerate()
            .find_map(|(i, a)| {
                let b = names[i + 1..].iter().find(|b| key_bit(b) == key_bit(a))?;
                Some((a.clone(), b.clone()))
            })
            .expect("100 keys share some of 64 bits");
        let kv_owned = |k: &str| KeyValue::new(k.to_owned(), 1_i64);
        assert!(!has_duplicate_keys(&[kv_owned(&a), kv_owned(&b)]));
        assert!(has_duplicate_keys(&[
            kv_owned(&a),
            kv_owned(&b),
            kv_owned(&a)
        ]));
        // A shared bit early, the duplicate later.
        assert!(has_duplicate_keys(&[
            kv_owned(&a),
            kv_owned(&b),
            kv("c"),
            kv("c")
        ]));
        // Owned and static spellings of one key are duplicates.
        assert!(has_duplicate_keys(&[
            KeyValue::new("http.route", "/a"),
            KeyValue::new(String::from("http.route"), "/b"),
        ]));
        let many: Vec<KeyValue> = (0..200)
            .map(|i| KeyValue::new(format!("k{i}"), 1_i64))
            .collect();
        assert!(!has_duplicate_keys(&many));
        let mut with_dup = many.clone();
        with_dup.push(KeyValue::new("k137", 2_i64));
        assert!(has_duplicate_keys(&with_dup));
    }

    #[test]
    fn spans_started_at_a_clock_value_keep_it_and_end_on_the_same_clock() {
        use opentelemetry::trace::Span as _;
        let test = crate::testing::TestProvider::new();
        let tracer = test.tracer("clock");
        let created = Tracer::clock_now();
        let mut span = tracer.start_at(
            Cow::Borrowed("late"),
            SpanKind::Server,
            created,
            vec![KeyValue::new("a", 1), KeyValue::new("a", 2)],
            Vec::new(),
            &Context::new(),
        );
        let (start_raw, start_time) = span.clock_start().expect("a recording span");
        assert_eq!(start_raw, created);
        let end = Tracer::clock_time_since((start_raw, start_time));
        assert!(end >= start_time);
        span.end_with_timestamp(end);
        let spans = test.spans();
        let data = spans.get("late");
        assert_eq!(data.start_time, start_time);
        assert_eq!(data.end_time, end);
        assert_eq!(data.span_kind, SpanKind::Server);
        assert_eq!(data.attributes, vec![KeyValue::new("a", 2)]);
    }

    #[test]
    fn spans_with_an_explicit_wall_start_have_no_clock_start() {
        let test = crate::testing::TestProvider::new();
        let builder = SpanBuilder::from_name("explicit").with_start_time(SystemTime::UNIX_EPOCH);
        let span = opentelemetry::trace::Tracer::build_with_context(
            &test.tracer("clock"),
            builder,
            &Context::new(),
        );
        assert_eq!(span.clock_start(), None);
    }

    #[test]
    fn the_usual_http_server_keys_need_no_comparison() {
        use opentelemetry_semantic_conventions::attribute as semconv;
        let keys = [
            semconv::SERVER_ADDRESS,
            semconv::SERVER_PORT,
            semconv::CLIENT_ADDRESS,
            semconv::NETWORK_PROTOCOL_VERSION,
            semconv::HTTP_REQUEST_METHOD,
            semconv::HTTP_REQUEST_METHOD_ORIGINAL,
            semconv::URL_SCHEME,
            semconv::URL_PATH,
            semconv::URL_QUERY,
            semconv::USER_AGENT_ORIGINAL,
            semconv::HTTP_ROUTE,
            semconv::HTTP_RESPONSE_STATUS_CODE,
            semconv::ERROR_TYPE,
        ];
        let all = keys.iter().fold(0u64, |seen, key| seen | key_bit(key));
        assert_eq!(all.count_ones() as usize, keys.len());
    }

    #[test]
    fn duplicate_start_attributes_keep_the_last_value() {
        let mut attrs = vec![
            KeyValue::new("a", 1),
            KeyValue::new("b", 2),
            KeyValue::new("a", 3),
        ];
        let dropped = normalize_attributes(&mut attrs, &SpanLimits::default());
        assert_eq!(dropped, 0);
        assert_eq!(attrs, vec![KeyValue::new("a", 3), KeyValue::new("b", 2)]);
    }

    #[test]
    fn start_attributes_beyond_the_limit_are_counted() {
        let limits = SpanLimits {
            max_attributes_per_span: 2,
            ..SpanLimits::default()
        };
        let mut attrs: Vec<KeyValue> = (0..5).map(|i| KeyValue::new(format!("k{i}"), i)).collect();
        assert_eq!(normalize_attributes(&mut attrs, &limits), 3);
        assert_eq!(attrs.len(), 2);
    }
}
