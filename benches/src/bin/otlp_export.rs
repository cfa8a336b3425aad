//! otlp_export: what exporting costs, end to end, tracekit against
//! opentelemetry_sdk + opentelemetry-otlp in the same run.
//!
//! One producer thread creates 5-attribute server spans as fast as it can
//! for [`RUN_FOR`]; each stack, at its default batch settings (queue 2048,
//! batch 512), exports them over OTLP http/protobuf to an in-process
//! receiver on loopback that decodes nothing
//! ([`tracekit_benches::otlp_receiver`]: it counts requests, bytes and
//! spans). Three stacks alternate for [`ROUNDS`] rounds (the machine's
//! speed drifts; alternating exposes all to the same drift): `tracekit` as
//! documented (spans encoded straight from their records), `spandata`
//! (the same pipeline with the exporter behind a plain `SpanExporter`
//! wrapper, so spans go through `SpanData` and opentelemetry-proto's
//! messages: the direct encoder's A/B), and `official`.
//!
//! Two phases, each with every stack: **full speed** (the producer as fast
//! as it can: exported spans/s and drops, the export threads saturated)
//! and **paced** (200,000 spans a second, below what every stack exports
//! without dropping: CPU per exported span for the same work on each side,
//! export threads idle between batches).
//!
//! CPU is read per thread (`/proc/self/task/*/schedstat`, nanoseconds):
//! the producer's, and the export threads' (every thread but the
//! producer's, the receiver's and the main one: the batch processor's
//! thread and the HTTP client's runtime thread). Printed per run and as
//! medians: exported spans/s, drop %, bytes per span, export CPU per
//! exported span, producer CPU per created span, and the ratios. The last
//! line: `tracekit export X us/span, official Y us/span (paced)`.
//!
//! `cargo run --release -p tracekit-benches --bin otlp_export`

use opentelemetry::trace::{Span as _, SpanKind, Tracer, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tracekit::export::otlp::{OtlpConfig, OtlpExporter};
use tracekit_benches::otlp_receiver::{cpu_since, start_receiver, thread_cpu, Counts, RECEIVER};

const RUN_FOR: Duration = Duration::from_secs(2);
/// Rounds of one tracekit run and one official run each.
const ROUNDS: usize = 5;
/// Thread names (as the kernel keeps them, 15 bytes at most).
const PRODUCER: &str = "bench-producer";

// The 5-attribute server span's attributes (shared with
// `redaction_profile server_5`).
use tracekit_benches::redaction::server_5 as attributes;

/// How fast the producer goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pace {
    /// As fast as it can: the export path's throughput, and drops.
    FullSpeed,
    /// This many spans a second, below what every stack exports without
    /// dropping: CPU per exported span with the same work on each side,
    /// no export thread saturated or spinning.
    PerSecond(u64),
}

/// The paced phase's rate.
const PACED: Pace = Pace::PerSecond(200_000);

/// Create spans on a producer thread for [`RUN_FOR`]: how many, and the
/// producer's CPU.
fn produce<T: Tracer + Sync>(tracer: &T, pace: Pace) -> (u64, Duration) {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name(PRODUCER.into())
            .spawn_scoped(s, || {
                let start_cpu = own_cpu();
                let start = Instant::now();
                let deadline = start + RUN_FOR;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    if let Pace::PerSecond(rate) = pace {
                        // Sleep until the next 256 spans are due.
                        let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    for _ in 0..256 {
                        let mut span = tracer
                            .span_builder("GET /api/orders/{id}")
                            .with_kind(SpanKind::Server)
                            .with_attributes(attributes())
                            .start(tracer);
                        span.end();
                    }
                    n += 256;
                }
                (n, own_cpu() - start_cpu)
            })
            .expect("producer thread")
            .join()
            .expect("producer")
    })
}

/// This thread's CPU time.
fn own_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        text.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stack {
    /// tracekit as documented: OTLP http/protobuf encoded straight from
    /// the span records.
    Tracekit,
    /// The same pipeline with the exporter behind a plain `SpanExporter`
    /// wrapper, so spans go through `SpanData` and opentelemetry-proto's
    /// messages (the path before the direct encoder): the encoder's A/B.
    TracekitViaSpanData,
    /// opentelemetry_sdk + opentelemetry-otlp.
    Official,
}

impl Stack {
    const ALL: [Stack; 3] = [Stack::Tracekit, Stack::TracekitViaSpanData, Stack::Official];

    fn label(self) -> &'static str {
        match self {
            Stack::Tracekit => "tracekit",
            Stack::TracekitViaSpanData => "spandata",
            Stack::Official => "official",
        }
    }
}

/// tracekit's OTLP exporter seen as any other `SpanExporter` (it then
/// receives `SpanData`).
#[derive(Debug)]
struct ViaSpanData(OtlpExporter);

impl SpanExporter for ViaSpanData {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.export(batch).await
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.0.set_resource(resource)
    }
}

struct Outcome {
    created: u64,
    exported: u64,
    bytes: u64,
    elapsed: Duration,
    export_cpu: Duration,
    producer_cpu: Duration,
}

impl Outcome {
    fn spans_per_second(&self) -> f64 {
        self.exported as f64 / self.elapsed.as_secs_f64()
    }
    fn drop_percent(&self) -> f64 {
        100.0 * (self.created.saturating_sub(self.exported)) as f64 / self.created.max(1) as f64
    }
    fn bytes_per_span(&self) -> f64 {
        self.bytes as f64 / self.exported.max(1) as f64
    }
    fn export_us(&self) -> f64 {
        self.export_cpu.as_secs_f64() * 1e6 / self.exported.max(1) as f64
    }
    fn producer_ns(&self) -> f64 {
        self.producer_cpu.as_secs_f64() * 1e9 / self.created.max(1) as f64
    }
}

fn run(stack: Stack, pace: Pace, addr: SocketAddr, counts: &Counts) -> Outcome {
    counts.take();
    let main_tid = std::process::id();
    let export_threads =
        |tid: u32, name: &str| tid != main_tid && name != PRODUCER && !name.starts_with(RECEIVER);
    let endpoint = format!("http://{addr}");
    // Time and CPU from the first span to the last one exported.
    let measure = |tracer: &(dyn Fn() -> (u64, Duration) + Sync), flush: &dyn Fn()| {
        let before = thread_cpu();
        let start = Instant::now();
        let (created, producer_cpu) = tracer();
        flush();
        let elapsed = start.elapsed();
        (
            created,
            producer_cpu,
            elapsed,
            cpu_since(&before, export_threads),
        )
    };
    let (created, producer_cpu, elapsed, export_cpu) = match stack {
        Stack::Tracekit | Stack::TracekitViaSpanData => {
            // The documented setup: `init()`'s builder, configured by the
            // environment (here given as a map), redaction on.
            let env: HashMap<String, String> = [
                ("OTEL_TRACES_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_SERVICE_NAME", "otlp-export-bench"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let exporter = OtlpConfig::from_env(&env)
                .build_exporter()
                .expect("exporter");
            let mut builder = tracekit::builder().quiet(true).tracing_subscriber(false);
            if stack == Stack::TracekitViaSpanData {
                // The wrapped exporter only: no OTLP exporter from the
                // environment beside it.
                let mut env = env;
                env.insert("OTEL_TRACES_EXPORTER".into(), "none".into());
                builder = builder.with_env(env).with_exporter(ViaSpanData(exporter));
            } else {
                drop(exporter);
                builder = builder.with_env(env);
            }
            let tk = builder.build();
            let tracer = tk.tracer("otlp-export");
            let outcome = measure(&|| produce(&tracer, pace), &|| {
                let _ = tk.provider().force_flush(Duration::from_secs(30));
            });
            let _ = tk.shutdown();
            outcome
        }
        Stack::Official => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(format!("{endpoint}/v1/traces"))
                .build()
                .expect("official exporter");
            let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    opentelemetry_sdk::Resource::builder()
                        .with_service_name("otlp-export-bench")
                        .build(),
                )
                .build();
            let tracer = provider.tracer("otlp-export");
            let outcome = measure(&|| produce(&tracer, pace), &|| {
                let _ = provider.force_flush();
            });
            let _ = provider.shutdown();
            outcome
        }
    };
    let (_requests, bytes, exported) = counts.take();
    Outcome {
        created,
        exported,
        bytes,
        elapsed,
        export_cpu,
        producer_cpu,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let (addr, counts) = start_receiver();
    let mut outcomes: HashMap<(&str, &str), Vec<Outcome>> = HashMap::new();
    let phases = [("full speed", Pace::FullSpeed), ("paced", PACED)];
    println!("paced: {PACED:?} spans a second; {ROUNDS} rounds, stacks alternating");
    println!(
        "{:<10} {:<9} {:>5} {:>12} {:>7} {:>10} {:>16} {:>16}",
        "phase",
        "stack",
        "round",
        "exported/s",
        "drop %",
        "bytes/span",
        "export us/span",
        "producer ns/span"
    );
    for (phase, pace) in phases {
        for round in 1..=ROUNDS {
            for stack in Stack::ALL {
                let outcome = run(stack, pace, addr, &counts);
                let name = stack.label();
                println!(
                    "{phase:<10} {name:<9} {round:>5} {:>12.0} {:>7.1} {:>10.1} {:>16.3} {:>16.1}",
                    outcome.spans_per_second(),
                    outcome.drop_percent(),
                    outcome.bytes_per_span(),
                    outcome.export_us(),
                    outcome.producer_ns(),
                );
                outcomes.entry((phase, name)).or_default().push(outcome);
            }
        }
    }
    let medians = |phase: &str, name: &str, f: fn(&Outcome) -> f64| {
        median(outcomes[&(phase, name)].iter().map(f).collect())
    };
    println!();
    for (phase, _) in phases {
        for name in Stack::ALL.map(Stack::label) {
            println!(
                "median {phase:<10} {name:<9} {:>10.0} exported/s {:>5.1} % dropped {:>6.1} B/span {:>7.3} us export/span {:>6.1} ns producer/span",
                medians(phase, name, Outcome::spans_per_second),
                medians(phase, name, Outcome::drop_percent),
                medians(phase, name, Outcome::bytes_per_span),
                medians(phase, name, Outcome::export_us),
                medians(phase, name, Outcome::producer_ns),
            );
        }
    }
    for (phase, _) in phases {
        let tk = medians(phase, "tracekit", Outcome::export_us);
        println!(
            "{phase}: export CPU per span official/tracekit {:.2}x, via SpanData/direct {:.2}x; producer CPU per span official/tracekit {:.2}x",
            medians(phase, "official", Outcome::export_us) / tk,
            medians(phase, "spandata", Outcome::export_us) / tk,
            medians(phase, "official", Outcome::producer_ns) / medians(phase, "tracekit", Outcome::producer_ns),
        );
    }
    println!(
        "full speed: exported spans/s tracekit/official {:.2}x",
        medians("full speed", "tracekit", Outcome::spans_per_second)
            / medians("full speed", "official", Outcome::spans_per_second),
    );
    println!(
        "tracekit export {:.3} us/span, official {:.3} us/span (paced)",
        medians("paced", "tracekit", Outcome::export_us),
        medians("paced", "official", Outcome::export_us),
    );
}
