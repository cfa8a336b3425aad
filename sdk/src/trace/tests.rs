//! Pipeline tests: tracer → span → processors → exporter.

use super::*;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracekit_samplers::{AlwaysOff, Sampler, SamplingDecision, SamplingParameters, SamplingResult};

#[derive(Clone, Debug, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl Collect {
    fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }
}

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

fn provider_with(collect: &Collect) -> TracerProvider {
    TracerProvider::builder()
        .with_simple_exporter(collect.clone())
        .build()
}

#[test]
fn child_spans_share_the_trace_and_point_at_their_parent() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let tracer = provider.tracer("test");
    tracer.in_span("parent", |cx| {
        let parent_sc = cx.span().span_context().clone();
        let mut child = tracer.start("child");
        assert_eq!(child.span_context().trace_id(), parent_sc.trace_id());
        child.end();
    });
    let spans = collect.spans();
    assert_eq!(spans.len(), 2);
    let child = spans.iter().find(|s| s.name == "child").unwrap();
    let parent = spans.iter().find(|s| s.name == "parent").unwrap();
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
    assert_eq!(parent.parent_span_id, SpanId::INVALID);
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
    assert!(parent.end_time >= child.end_time);
    assert!(child.start_time >= parent.start_time);
    assert_eq!(parent.instrumentation_scope.name(), "test");
}

#[test]
fn new_traces_carry_the_random_flag_and_parent_flags_are_kept() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let tracer = provider.tracer("test");
    let root = tracer.start("root");
    assert_eq!(root.span_context().trace_flags().to_u8(), 0x03);

    // A remote parent without the random flag: the child keeps its flags.
    let remote = SpanContext::new(
        TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
        SpanId::from(0xb7ad6b7169203331_u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "v1")]).unwrap(),
    );
    let cx = Context::new().with_remote_span_context(remote.clone());
    let mut child = tracer.start_with_context("child", &cx);
    assert_eq!(child.span_context().trace_flags().to_u8(), 0x01);
    assert_eq!(child.span_context().trace_state().get("vendor"), Some("v1"));
    child.end();
    let spans = collect.spans();
    assert_eq!(spans[0].parent_span_id, remote.span_id());
    assert!(spans[0].parent_span_is_remote);
    assert_eq!(spans[0].span_context.trace_id(), remote.trace_id());
}

#[derive(Debug)]
struct Fixed(SamplingDecision);
impl Sampler for Fixed {
    fn should_sample(&self, _p: &SamplingParameters<'_>) -> SamplingResult {
        SamplingResult {
            decision: self.0,
            attributes: vec![KeyValue::new("sampler.added", true)],
            trace_state: None,
        }
    }
    fn description(&self) -> String {
        "Fixed".into()
    }
}

#[derive(Debug, Default)]
struct CountEnds(Arc<AtomicUsize>);
impl SpanProcessor for CountEnds {
    fn on_end(&self, _span: FinishedSpan) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn force_flush(&self, _t: Duration) -> Result<(), ProcessorError> {
        Ok(())
    }
    fn shutdown(&self, _t: Duration) -> Result<(), ProcessorError> {
        Ok(())
    }
}

#[test]
fn record_only_spans_reach_processors_but_not_exporters() {
    let collect = Collect::default();
    let ends = Arc::new(AtomicUsize::new(0));
    let provider = TracerProvider::builder()
        .with_sampler(Fixed(SamplingDecision::RecordOnly))
        .with_span_processor(CountEnds(ends.clone()))
        .with_simple_exporter(collect.clone())
        .build();
    let tracer = provider.tracer("t");
    let span = tracer.start("x");
    assert!(span.is_recording());
    assert!(!span.span_context().is_sampled());
    drop(span);
    assert_eq!(ends.load(Ordering::SeqCst), 1);
    assert!(collect.spans().is_empty());
    assert_eq!(provider.counters().ended, 1);
}

#[test]
fn dropped_spans_record_nothing_but_keep_a_valid_context() {
    let collect = Collect::default();
    let provider = TracerProvider::builder()
        .with_sampler(AlwaysOff)
        .with_simple_exporter(collect.clone())
        .build();
    let mut span = provider.tracer("t").start("x");
    assert!(!span.is_recording());
    assert!(span.span_context().is_valid());
    assert!(!span.span_context().is_sampled());
    span.set_attribute(KeyValue::new("a", 1));
    span.end();
    assert!(collect.spans().is_empty());
    assert_eq!(provider.counters().started, 0);
}

#[test]
fn sampler_attributes_are_added() {
    let collect = Collect::default();
    let provider = TracerProvider::builder()
        .with_sampler(Fixed(SamplingDecision::RecordAndSample))
        .with_simple_exporter(collect.clone())
        .build();
    provider.tracer("t").start("x").end();
    assert_eq!(
        collect.spans()[0].attributes,
        vec![KeyValue::new("sampler.added", true)]
    );
}

#[test]
fn status_rules() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let tracer = provider.tracer("t");
    let mut a = tracer.start("error-then-unset");
    a.set_status(Status::error("first"));
    a.set_status(Status::Unset);
    a.set_status(Status::error("second"));
    a.end();
    let mut b = tracer.start("ok-is-final");
    b.set_status(Status::Ok);
    b.set_status(Status::error("ignored"));
    b.end();
    let spans = collect.spans();
    assert_eq!(spans[0].status, Status::error("second"));
    assert_eq!(spans[1].status, Status::Ok);
}

#[test]
fn exceptions_become_events_with_type_and_message() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let mut span = provider.tracer("t").start("x");
    let err = "abc".parse::<u32>().unwrap_err();
    span.record_error(&err);
    span.record_exception("PaymentDeclined", "card declined", Some("at main".into()));
    span.end();
    let events = &collect.spans()[0].events.events;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].name, "exception");
    let attr = |i: usize, k: &str| {
        events[i]
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr(0, "exception.type").as_deref(), Some("ParseIntError"));
    assert_eq!(
        attr(0, "exception.message").as_deref(),
        Some("invalid digit found in string")
    );
    assert_eq!(attr(1, "exception.stacktrace").as_deref(), Some("at main"));
}

#[test]
fn limits_drop_and_count() {
    let collect = Collect::default();
    let provider = TracerProvider::builder()
        .with_span_limits(SpanLimits {
            max_attributes_per_span: 2,
            max_attribute_value_length: Some(4),
            max_events_per_span: 1,
            max_links_per_span: 1,
            max_attributes_per_event: 1,
            max_attributes_per_link: 1,
        })
        .with_simple_exporter(collect.clone())
        .build();
    let mut span = provider.tracer("t").start("x");
    for i in 0..4 {
        span.set_attribute(KeyValue::new(format!("k{i}"), "abcdefgh"));
    }
    span.add_event("e1", vec![KeyValue::new("a", 1), KeyValue::new("b", 2)]);
    span.add_event("e2", vec![]);
    let other = SpanContext::new(
        TraceId::from(1_u128),
        SpanId::from(2_u64),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    span.add_link(
        other.clone(),
        vec![KeyValue::new("a", 1), KeyValue::new("b", 2)],
    );
    span.add_link(other, vec![]);
    span.end();
    let s = &collect.spans()[0];
    assert_eq!(s.attributes.len(), 2);
    assert_eq!(s.dropped_attributes_count, 2);
    assert_eq!(s.attributes[0].value.as_str(), "abcd");
    assert_eq!(s.events.events.len(), 1);
    assert_eq!(s.events.dropped_count, 1);
    assert_eq!(s.events.events[0].dropped_attributes_count, 1);
    assert_eq!(s.links.links.len(), 1);
    assert_eq!(s.links.dropped_count, 1);
    assert_eq!(s.links.links[0].dropped_attributes_count, 1);
}

#[test]
fn disabled_sdk_records_nothing_but_passes_context_through() {
    let collect = Collect::default();
    let provider = TracerProvider::builder()
        .disabled(true)
        .with_simple_exporter(collect.clone())
        .build();
    let remote = SpanContext::new(
        TraceId::from(7_u128),
        SpanId::from(8_u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let cx = Context::new().with_remote_span_context(remote.clone());
    let span = provider.tracer("t").start_with_context("x", &cx);
    assert!(!span.is_recording());
    assert_eq!(span.span_context(), &remote);
    drop(span);
    assert!(collect.spans().is_empty());
}

#[test]
fn spans_after_shutdown_do_not_record() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    provider.shutdown(Duration::from_secs(1)).unwrap();
    assert_eq!(
        provider.shutdown(Duration::from_secs(1)),
        Err(ProcessorError::AlreadyShutdown)
    );
    assert!(!provider.tracer("t").start("late").is_recording());
}

#[test]
fn spans_ended_on_drop_and_explicit_timestamps_are_kept() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let tracer = provider.tracer("t");
    let start = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
    let mut span = tracer
        .span_builder("timed")
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .start(&tracer);
    span.end_with_timestamp(start + Duration::from_millis(250));
    {
        let _dropped = tracer.start("dropped");
    }
    let spans = collect.spans();
    assert_eq!(spans[0].start_time, start);
    assert_eq!(spans[0].end_time, start + Duration::from_millis(250));
    assert_eq!(spans[0].span_kind, SpanKind::Server);
    assert_eq!(spans[1].name, "dropped");
}

#[derive(Clone, Debug, Default)]
struct Count(Arc<AtomicUsize>);
impl SpanExporter for Count {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len(), Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn batch_processor_exports_everything_on_shutdown() {
    let count = Count::default();
    let provider = TracerProvider::builder()
        .with_batch_exporter_config(
            count.clone(),
            BatchConfig {
                max_queue_size: 100_000,
                ..BatchConfig::default()
            },
        )
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..100_000 {
        tracer.start("s").end();
    }
    provider.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 100_000);
    let c = provider.counters();
    assert_eq!(c.exported, 100_000);
    assert_eq!(c.dropped(), 0);
}

#[test]
fn small_queue_drops_are_counted_exactly() {
    let count = Count::default();
    let provider = TracerProvider::builder()
        .with_batch_exporter_config(
            count.clone(),
            BatchConfig {
                max_queue_size: 16,
                max_export_batch_size: 8,
                ..BatchConfig::default()
            },
        )
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..10_000 {
        tracer.start("s").end();
    }
    provider.force_flush(Duration::from_secs(10)).unwrap();
    let c = provider.counters();
    assert_eq!(c.ended, 10_000);
    assert_eq!(c.exported + c.dropped(), c.ended);
    assert_eq!(c.exported as usize, count.0.load(Ordering::SeqCst));
}

#[test]
fn batch_exports_when_a_batch_fills_before_the_timer() {
    let count = Count::default();
    let provider = TracerProvider::builder()
        .with_batch_exporter_config(
            count.clone(),
            BatchConfig {
                max_export_batch_size: 10,
                scheduled_delay: Duration::from_secs(3600),
                ..BatchConfig::default()
            },
        )
        .build();
    let tracer = provider.tracer("t");
    for _ in 0..10 {
        tracer.start("s").end();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count.0.load(Ordering::SeqCst) < 10 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(count.0.load(Ordering::SeqCst), 10);
}

/// Requests and full batches share the worker's one doorbell: requests sent
/// while a ring is already waiting, and full batches signalled while a
/// request holds the worker, must each be answered without the timer (an
/// hour here).
#[test]
fn concurrent_flushes_and_full_batches_are_all_answered_without_the_timer() {
    let count = Count::default();
    let provider = TracerProvider::builder()
        .with_batch_exporter_config(
            count.clone(),
            BatchConfig {
                max_export_batch_size: 4,
                scheduled_delay: Duration::from_secs(3600),
                ..BatchConfig::default()
            },
        )
        .build();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let provider = &provider;
            scope.spawn(move || {
                let tracer = provider.tracer("t");
                for _ in 0..100 {
                    tracer.start("s").end();
                    tracer.start("s").end();
                    provider.force_flush(Duration::from_secs(30)).unwrap();
                }
            });
        }
    });
    assert_eq!(count.0.load(Ordering::SeqCst), 1_600);
    // A full batch after all that still wakes the worker.
    let tracer = provider.tracer("t");
    for _ in 0..4 {
        tracer.start("s").end();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count.0.load(Ordering::SeqCst) < 1_604 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(count.0.load(Ordering::SeqCst), 1_604);
}

/// Counts spans and keeps each batch's size, taking a millisecond per
/// export (a slow collector).
#[derive(Clone, Debug, Default)]
struct SlowCount(Arc<AtomicUsize>, Arc<crate::sync::Mutex<Vec<usize>>>);
impl SpanExporter for SlowCount {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        std::thread::sleep(Duration::from_millis(1));
        self.0.fetch_add(batch.len(), Ordering::SeqCst);
        self.1.lock().push(batch.len());
        Ok(())
    }
}

/// A provider batching into `count` with a queue of `queue`, batches of
/// `batch` and the given schedule delay.
fn slow_provider(count: &SlowCount, queue: usize, batch: usize, delay: Duration) -> TracerProvider {
    TracerProvider::builder()
        .with_batch_exporter_config(
            count.clone(),
            BatchConfig {
                max_queue_size: queue,
                max_export_batch_size: batch,
                scheduled_delay: delay,
                ..BatchConfig::default()
            },
        )
        .build()
}

#[test]
fn an_overflowing_queue_exports_full_batches_without_waiting_for_the_timer() {
    let count = SlowCount::default();
    let provider = slow_provider(&count, 70, 16, Duration::from_secs(3600));
    let tracer = provider.tracer("t");
    // 5,003 spans into a queue of 70 drained 16 per millisecond: it
    // overflows and stays full while spans come, and 70 is no multiple of
    // the batch size, so a partial batch remains once they stop.
    for _ in 0..5_003 {
        tracer.start("s").end();
    }
    let accounted = || {
        let c = provider.counters();
        c.exported + c.dropped()
    };
    // Every full batch goes out without the hour-long timer...
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while accounted() + 15 < 5_003 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let c = provider.counters();
    assert!(c.dropped_queue_full > 0, "the queue should have overflowed");
    assert!(accounted() + 15 >= 5_003, "{c:?}");
    // ... and only full batches: the rest waits for the timer or a flush.
    assert!(
        count.1.lock().iter().all(|&size| size == 16),
        "{:?}",
        count.1.lock()
    );
    provider.force_flush(Duration::from_secs(5)).unwrap();
    let c = provider.counters();
    assert_eq!(c.exported + c.dropped(), 5_003);
    assert_eq!(c.exported as usize, count.0.load(Ordering::SeqCst));
    provider.shutdown(Duration::from_secs(5)).unwrap();
}

#[test]
fn flush_and_shutdown_answer_while_the_worker_keeps_up_with_an_overload() {
    let count = SlowCount::default();
    let provider = slow_provider(&count, 32, 8, BatchConfig::default().scheduled_delay);
    let tracer = provider.tracer("t");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tracer, stop) = (&tracer, &stop);
        // Bounded in count and time.
        scope.spawn(move || {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            for _ in 0..2_000_000 {
                if stop.load(Ordering::Relaxed) || std::time::Instant::now() > until {
                    break;
                }
                tracer.start("s").end();
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        let flushed = provider.force_flush(Duration::from_secs(5));
        stop.store(true, Ordering::Relaxed);
        assert!(flushed.is_ok(), "{flushed:?}");
    });
    provider.shutdown(Duration::from_secs(5)).unwrap();
    let c = provider.counters();
    assert!(c.dropped_queue_full > 0, "the queue should have overflowed");
    assert_eq!(c.exported + c.dropped(), c.ended);
}

#[derive(Clone, Debug, Default)]
struct Fails;
impl SpanExporter for Fails {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
            "unreachable".into(),
        ))
    }
}

#[test]
fn failed_exports_are_counted_as_dropped() {
    let provider = TracerProvider::builder().with_batch_exporter(Fails).build();
    let tracer = provider.tracer("t");
    for _ in 0..5 {
        tracer.start("s").end();
    }
    provider.force_flush(Duration::from_secs(5)).unwrap();
    let c = provider.counters();
    assert_eq!(c.dropped_export_failed, 5);
    assert_eq!(c.export_failures, 1);
    assert_eq!(c.exported, 0);
}

#[test]
fn flush_and_shutdown_complete_inside_a_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = Count::default();
    rt.block_on(async {
        let provider = TracerProvider::builder()
            .with_batch_exporter(count.clone())
            .build();
        let tracer = provider.tracer("t");
        tracer.start("s").end();
        provider.force_flush(Duration::from_secs(5)).unwrap();
        tracer.start("s").end();
        provider.shutdown(Duration::from_secs(5)).unwrap();
    });
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
}

#[test]
fn chained_processors_each_get_the_span() {
    let a = Collect::default();
    let b = Collect::default();
    let provider = TracerProvider::builder()
        .with_simple_exporter(a.clone())
        .with_simple_exporter(b.clone())
        .build();
    provider.tracer("t").start("x").end();
    assert_eq!(a.spans().len(), 1);
    assert_eq!(b.spans(), a.spans());
}

#[derive(Debug)]
struct SeesWholeValues(Arc<Mutex<Vec<String>>>);
impl SpanTransform for SeesWholeValues {
    fn transform(
        &self,
        attributes: &mut Vec<KeyValue>,
        events: &mut [opentelemetry::trace::Event],
        _links: &mut [opentelemetry::trace::Link],
    ) {
        let mut seen = self.0.lock().unwrap();
        for kv in attributes
            .iter_mut()
            .chain(events.iter_mut().flat_map(|e| e.attributes.iter_mut()))
        {
            seen.push(kv.value.to_string());
            kv.value = kv
                .value
                .to_string()
                .replace("4111111111111111", "[card]")
                .into();
        }
    }
}

#[test]
fn transforms_see_whole_values_before_truncation() {
    let collect = Collect::default();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let provider = TracerProvider::builder()
        .with_span_limits(SpanLimits {
            max_attribute_value_length: Some(12),
            ..SpanLimits::default()
        })
        .with_span_transform(Arc::new(SeesWholeValues(seen.clone())))
        .with_simple_exporter(collect.clone())
        .build();
    let mut span = provider.tracer("t").start("x");
    span.set_attribute(KeyValue::new("note", "paid with 4111111111111111"));
    span.add_event("e", vec![KeyValue::new("msg", "card 4111111111111111 ok")]);
    span.end();
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["paid with 4111111111111111", "card 4111111111111111 ok"]
    );
    let s = &collect.spans()[0];
    // Redacted first, then cut to 12 characters: no digit of the card left.
    assert_eq!(s.attributes[0].value.as_str(), "paid with [c");
    assert_eq!(
        s.events.events[0].attributes[0].value.as_str(),
        "card [card] "
    );
}

#[test]
fn spans_export_their_tracers_whole_scope_and_outlive_the_tracer() {
    let collect = Collect::default();
    let provider = provider_with(&collect);
    let scope = opentelemetry::InstrumentationScope::builder(String::from("owned-name"))
        .with_version("2.1")
        .with_schema_url("https://opentelemetry.io/schemas/1.30.0")
        .with_attributes([KeyValue::new("scope.kind", "test")])
        .build();
    let tracer = provider.tracer_with_scope(scope.clone());
    assert_eq!(tracer.instrumentation_scope(), &scope);
    let mut span = tracer.start("outlives");
    // The span keeps the scope after its tracer is gone.
    drop(tracer);
    span.end();
    provider.tracer("plain").start("plain").end();
    let spans = collect.spans();
    assert_eq!(spans[0].instrumentation_scope, scope);
    assert_eq!(spans[1].instrumentation_scope.name(), "plain");
    assert_eq!(spans[1].instrumentation_scope.version(), None);
}
