//! otlp_export: what exporting costs, end to end, tracekit against
//! opentelemetry_sdk + opentelemetry-otlp in the same run.
//!
//! One producer thread creates 5-attribute server spans as fast as it can
//! for [`RUN_FOR`]; each stack, at its default batch settings (queue 2048,
//! batch 512), exports them over OTLP http/protobuf to an in-process
//! receiver on loopback that decodes nothing: it counts requests, bytes and
//! spans (walking the protobuf fields, no allocation). The two stacks
//! alternate for [`ROUNDS`] rounds (the machine's speed drifts; alternating
//! exposes both to the same drift).
//!
//! CPU is read per thread (`/proc/self/task/*/schedstat`, nanoseconds):
//! the producer's, and the export threads' (every thread but the
//! producer's, the receiver's and the main one: the batch processor's
//! thread and the HTTP client's runtime thread). Printed per run and as
//! medians: exported spans/s, drop %, bytes per span, export CPU per
//! exported span, producer CPU per created span, and the ratios. The last
//! line: `tracekit export X us/span, official Y us/span` (medians).
//!
//! `cargo run --release -p tracekit-benches --bin otlp_export`

use opentelemetry::trace::{Span as _, SpanKind, Tracer, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUN_FOR: Duration = Duration::from_secs(3);
/// Rounds of one tracekit run and one official run each.
const ROUNDS: usize = 5;
/// Thread names (as the kernel keeps them, 15 bytes at most).
const PRODUCER: &str = "bench-producer";
const RECEIVER: &str = "bench-receiver";

/// Counts what arrives; answers every request with an empty success.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    bytes: AtomicU64,
    spans: AtomicU64,
}

impl Counts {
    fn take(&self) -> (u64, u64, u64) {
        (
            self.requests.swap(0, Ordering::SeqCst),
            self.bytes.swap(0, Ordering::SeqCst),
            self.spans.swap(0, Ordering::SeqCst),
        )
    }
}

fn start_receiver() -> (SocketAddr, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let addr = listener.local_addr().expect("address");
    let counts = Arc::new(Counts::default());
    let accept_counts = Arc::clone(&counts);
    std::thread::Builder::new()
        .name(RECEIVER.into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = Arc::clone(&accept_counts);
                let _ = std::thread::Builder::new()
                    .name(RECEIVER.into())
                    .spawn(move || serve(stream, &counts));
            }
        })
        .expect("receiver thread");
    (addr, counts)
}

/// HTTP/1.1 keep-alive: read a request (headers, then `Content-Length`
/// bytes), count it, answer 200 with an empty protobuf body.
fn serve(stream: TcpStream, counts: &Counts) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        body.resize(length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        counts.requests.fetch_add(1, Ordering::Relaxed);
        counts.bytes.fetch_add(length as u64, Ordering::Relaxed);
        counts
            .spans
            .fetch_add(count_spans(&body), Ordering::Relaxed);
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\n\
                      content-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The length-delimited fields numbered `tag` of a protobuf message.
fn fields(mut message: &[u8], tag: u64) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !message.is_empty() {
        let Ok(key) = prost::encoding::decode_varint(&mut message) else {
            break;
        };
        let skip = match key & 7 {
            0 => {
                let _ = prost::encoding::decode_varint(&mut message);
                0
            }
            1 => 8,
            5 => 4,
            2 => match prost::encoding::decode_varint(&mut message) {
                Ok(len) => len as usize,
                Err(_) => break,
            },
            _ => break,
        };
        if skip > message.len() {
            break;
        }
        if key & 7 == 2 && key >> 3 == tag {
            out.push(&message[..skip]);
        }
        message = &message[skip..];
    }
    out
}

/// Spans in an `ExportTraceServiceRequest`: resource_spans (1), then
/// scope_spans (2), then spans (2).
fn count_spans(request: &[u8]) -> u64 {
    fields(request, 1)
        .into_iter()
        .flat_map(|resource_spans| fields(resource_spans, 2))
        .map(|scope_spans| fields(scope_spans, 2).len() as u64)
        .sum()
}

/// CPU time of each thread of this process, by thread id, with its name.
fn thread_cpu() -> HashMap<u32, (String, Duration)> {
    let mut out = HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let nanos = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        out.insert(tid, (name.trim().to_string(), Duration::from_nanos(nanos)));
    }
    out
}

/// CPU used since `before` by the threads `counted` accepts (by name).
fn cpu_since(
    before: &HashMap<u32, (String, Duration)>,
    counted: impl Fn(u32, &str) -> bool,
) -> Duration {
    thread_cpu()
        .into_iter()
        .filter(|(tid, (name, _))| counted(*tid, name))
        .map(|(tid, (_, now))| now.saturating_sub(before.get(&tid).map_or(Duration::ZERO, |b| b.1)))
        .sum()
}

fn attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("url.path", "/api/orders/42"),
        KeyValue::new("http.route", "/api/orders/{id}"),
        KeyValue::new("http.response.status_code", 200_i64),
        KeyValue::new("server.address", "shop.example"),
    ]
}

/// Create spans on a producer thread for [`RUN_FOR`]: how many, and the
/// producer's CPU.
fn produce<T: Tracer + Sync>(tracer: &T) -> (u64, Duration) {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name(PRODUCER.into())
            .spawn_scoped(s, || {
                let start_cpu = own_cpu();
                let deadline = Instant::now() + RUN_FOR;
                let mut n = 0u64;
                while Instant::now() < deadline {
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
    Tracekit,
    Official,
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

fn run(stack: Stack, addr: SocketAddr, counts: &Counts) -> Outcome {
    counts.take();
    let main_tid = std::process::id();
    let export_threads =
        |tid: u32, name: &str| tid != main_tid && name != PRODUCER && !name.starts_with(RECEIVER);
    let endpoint = format!("http://{addr}");
    let (created, producer_cpu, elapsed, export_cpu) = match stack {
        Stack::Tracekit => {
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
            let tk = tracekit::builder()
                .with_env(env)
                .quiet(true)
                .tracing_subscriber(false)
                .build();
            let tracer = tk.tracer("otlp-export");
            let before = thread_cpu();
            let start = Instant::now();
            let (created, producer_cpu) = produce(&tracer);
            let _ = tk.provider().force_flush(Duration::from_secs(30));
            let elapsed = start.elapsed();
            let export_cpu = cpu_since(&before, export_threads);
            let _ = tk.shutdown();
            (created, producer_cpu, elapsed, export_cpu)
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
            let before = thread_cpu();
            let start = Instant::now();
            let (created, producer_cpu) = produce(&tracer);
            let _ = provider.force_flush();
            let elapsed = start.elapsed();
            let export_cpu = cpu_since(&before, export_threads);
            let _ = provider.shutdown();
            (created, producer_cpu, elapsed, export_cpu)
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
    let mut outcomes: HashMap<&str, Vec<Outcome>> = HashMap::new();
    println!(
        "{:<9} {:>5} {:>12} {:>7} {:>10} {:>16} {:>16}",
        "stack",
        "round",
        "exported/s",
        "drop %",
        "bytes/span",
        "export us/span",
        "producer ns/span"
    );
    for round in 1..=ROUNDS {
        for stack in [Stack::Tracekit, Stack::Official] {
            let outcome = run(stack, addr, &counts);
            let name = match stack {
                Stack::Tracekit => "tracekit",
                Stack::Official => "official",
            };
            println!(
                "{name:<9} {round:>5} {:>12.0} {:>7.1} {:>10.1} {:>16.3} {:>16.1}",
                outcome.spans_per_second(),
                outcome.drop_percent(),
                outcome.bytes_per_span(),
                outcome.export_us(),
                outcome.producer_ns(),
            );
            outcomes.entry(name).or_default().push(outcome);
        }
    }
    let medians =
        |name: &str, f: fn(&Outcome) -> f64| median(outcomes[name].iter().map(f).collect());
    println!();
    for name in ["tracekit", "official"] {
        println!(
            "median {name:<9} {:>12.0} exported/s {:>6.1} % dropped {:>7.1} B/span {:>8.3} us export/span {:>7.1} ns producer/span",
            medians(name, Outcome::spans_per_second),
            medians(name, Outcome::drop_percent),
            medians(name, Outcome::bytes_per_span),
            medians(name, Outcome::export_us),
            medians(name, Outcome::producer_ns),
        );
    }
    let tk_export = medians("tracekit", Outcome::export_us);
    let official_export = medians("official", Outcome::export_us);
    println!(
        "ratios: export CPU per span official/tracekit {:.2}x, exported spans/s tracekit/official {:.2}x, producer CPU per span official/tracekit {:.2}x",
        official_export / tk_export,
        medians("tracekit", Outcome::spans_per_second) / medians("official", Outcome::spans_per_second),
        medians("official", Outcome::producer_ns) / medians("tracekit", Outcome::producer_ns),
    );
    println!("tracekit export {tk_export:.3} us/span, official {official_export:.3} us/span");
}
