//! tracekit's own metrics through a real `SdkMeterProvider` with an
//! in-memory exporter: names, units, kinds, attributes and values of the
//! span, processor and exporter instruments, with a small queue that
//! overflows and an exporter whose first export fails.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracekit::BatchConfig;

/// Fails its first export, after telling the test it started and waiting
/// for the test's go; accepts every later one.
#[derive(Debug)]
struct FirstExportFails {
    calls: AtomicUsize,
    entered: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

impl SpanExporter for FirstExportFails {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self
                .release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
            return Err(OTelSdkError::InternalFailure("refused".into()));
        }
        Ok(())
    }
}

/// One metric's points: (attributes as sorted `key=value` strings, value),
/// with its unit and kind (`counter`, `updowncounter`, `histogram`).
#[derive(Debug)]
struct Points {
    unit: String,
    kind: &'static str,
    points: Vec<(Vec<String>, f64)>,
}

fn read(exporter: &InMemoryMetricExporter, name: &str) -> Points {
    let all: Vec<ResourceMetrics> = exporter.get_finished_metrics().expect("metrics");
    let last = all.last().expect("a collection");
    let metric = last
        .scope_metrics()
        .filter(|s| s.scope().name() == "tracekit")
        .flat_map(|s| s.metrics())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no metric {name}"));
    fn attrs<'a>(kvs: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> Vec<String> {
        let mut v: Vec<String> = kvs.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
        v.sort();
        v
    }
    fn sum<T: Copy>(
        sum: &opentelemetry_sdk::metrics::data::Sum<T>,
        as_f64: fn(T) -> f64,
    ) -> (&'static str, Vec<(Vec<String>, f64)>) {
        let kind = if sum.is_monotonic() {
            "counter"
        } else {
            "updowncounter"
        };
        let points = sum
            .data_points()
            .map(|p| (attrs(p.attributes()), as_f64(p.value())))
            .collect();
        (kind, points)
    }
    let (kind, points) = match metric.data() {
        AggregatedMetrics::U64(MetricData::Sum(s)) => sum(s, |v| v as f64),
        AggregatedMetrics::I64(MetricData::Sum(s)) => sum(s, |v| v as f64),
        AggregatedMetrics::F64(MetricData::Histogram(h)) => (
            "histogram",
            h.data_points()
                .map(|p| (attrs(p.attributes()), p.count() as f64))
                .collect(),
        ),
        other => panic!("{name}: unexpected data {other:?}"),
    };
    Points {
        unit: metric.unit().to_string(),
        kind,
        points,
    }
}

/// The value of the point with exactly these attributes.
fn value(points: &Points, attributes: &[&str]) -> f64 {
    let mut want: Vec<String> = attributes.iter().map(|s| s.to_string()).collect();
    want.sort();
    points
        .points
        .iter()
        .find(|(a, _)| *a == want)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no point {want:?} in {points:?}"))
}

const PROCESSOR: [&str; 2] = [
    "otel.component.type=batching_span_processor",
    "otel.component.name=batching_span_processor/0",
];
const EXPORTER: [&str; 2] = [
    "otel.component.type=span_exporter",
    "otel.component.name=span_exporter/0",
];

fn with<'a>(base: &[&'a str], extra: &'a str) -> Vec<&'a str> {
    let mut all = base.to_vec();
    all.push(extra);
    all
}

#[test]
fn the_sdk_metrics_follow_the_conventions() {
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let tracekit = tracekit::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .tracing_subscriber(false)
        .batch_config(BatchConfig {
            max_queue_size: 4,
            max_export_batch_size: 2,
            scheduled_delay: Duration::from_secs(3600),
            ..BatchConfig::default()
        })
        .with_exporter(FirstExportFails {
            calls: AtomicUsize::new(0),
            entered: Mutex::new(entered_tx),
            release: Mutex::new(release_rx),
        })
        .meter_provider(meter_provider.clone())
        .build();
    // The first collection turns the counting of unrecorded spans on.
    meter_provider.force_flush().unwrap();
    let tracer = tracekit.tracer("metrics-test");

    let open = tracer.start("still open");
    // Two spans fill a batch: the worker takes them into the first export,
    // which waits for the test.
    for _ in 0..2 {
        tracer.start("exported first").end();
    }
    entered
        .recv_timeout(Duration::from_secs(10))
        .expect("the first export started");
    // Four fill the queue, three more overflow it.
    for _ in 0..7 {
        tracer.start("queued").end();
    }
    // Two under an unsampled parent are not recorded.
    let unsampled = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(1),
        SpanId::from(1),
        TraceFlags::default(),
        true,
        TraceState::NONE,
    ));
    for _ in 0..2 {
        tracer.start_with_context("dropped", &unsampled).end();
    }
    meter_provider.force_flush().unwrap();

    let started = read(&metrics, "otel.sdk.span.started");
    assert_eq!((started.unit.as_str(), started.kind), ("{span}", "counter"));
    assert_eq!(
        value(&started, &["otel.span.sampling_result=RECORD_AND_SAMPLE"]),
        10.0
    );
    assert_eq!(
        value(&started, &["otel.span.sampling_result=RECORD_ONLY"]),
        0.0
    );
    assert_eq!(value(&started, &["otel.span.sampling_result=DROP"]), 2.0);
    let live = read(&metrics, "otel.sdk.span.live");
    assert_eq!((live.unit.as_str(), live.kind), ("{span}", "updowncounter"));
    assert_eq!(value(&live, &[]), 1.0);
    let size = read(&metrics, "otel.sdk.processor.span.queue.size");
    assert_eq!((size.unit.as_str(), size.kind), ("{span}", "updowncounter"));
    assert_eq!(value(&size, &PROCESSOR), 4.0);
    let capacity = read(&metrics, "otel.sdk.processor.span.queue.capacity");
    assert_eq!(capacity.kind, "updowncounter");
    assert_eq!(value(&capacity, &PROCESSOR), 4.0);
    let processed = read(&metrics, "otel.sdk.processor.span.processed");
    assert_eq!(
        (processed.unit.as_str(), processed.kind),
        ("{span}", "counter")
    );
    assert_eq!(value(&processed, &PROCESSOR), 2.0, "handed to the exporter");
    assert_eq!(
        value(&processed, &with(&PROCESSOR, "error.type=queue_full")),
        3.0
    );
    let inflight = read(&metrics, "otel.sdk.exporter.span.inflight");
    assert_eq!(
        (inflight.unit.as_str(), inflight.kind),
        ("{span}", "updowncounter")
    );
    assert_eq!(value(&inflight, &EXPORTER), 2.0);

    // The first export fails, the rest go out.
    release.send(()).unwrap();
    tracekit
        .provider()
        .force_flush(Duration::from_secs(10))
        .expect("flush");
    meter_provider.force_flush().unwrap();
    let exported = read(&metrics, "otel.sdk.exporter.span.exported");
    assert_eq!(
        (exported.unit.as_str(), exported.kind),
        ("{span}", "counter")
    );
    assert_eq!(value(&exported, &EXPORTER), 4.0);
    assert_eq!(value(&exported, &with(&EXPORTER, "error.type=_OTHER")), 2.0);
    assert_eq!(
        value(
            &read(&metrics, "otel.sdk.exporter.span.inflight"),
            &EXPORTER
        ),
        0.0
    );
    assert_eq!(
        value(
            &read(&metrics, "otel.sdk.processor.span.processed"),
            &PROCESSOR
        ),
        6.0
    );
    assert_eq!(
        value(
            &read(&metrics, "otel.sdk.processor.span.queue.size"),
            &PROCESSOR
        ),
        0.0
    );
    let duration = read(&metrics, "otel.sdk.exporter.operation.duration");
    assert_eq!((duration.unit.as_str(), duration.kind), ("s", "histogram"));
    assert_eq!(value(&duration, &EXPORTER), 2.0, "two exports went well");
    assert_eq!(value(&duration, &with(&EXPORTER, "error.type=_OTHER")), 1.0);

    drop(open);
    drop(tracekit);
}
