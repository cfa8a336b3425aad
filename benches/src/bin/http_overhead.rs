//! HTTP server overhead: an axum server (`GET /users/{id}`, one worker
//! thread pinned to CPU 0) under load from a client thread pinned to CPU 1,
//! over loopback, in four variants measured in the same run, interleaved
//! and repeated:
//!
//! - `untraced`: no tracing at all;
//! - `tracekit`: tracekit's axum layer in its explicit form, given
//!   tracekit's tracer and the TraceContext propagator (100% sampling,
//!   batch processor with a counting exporter);
//! - `documented`: the form the README and crate docs show,
//!   `tracekit_axum::layer()` over the same pipeline installed by
//!   `tracekit::builder().install()` as `tracekit::init()` installs it
//!   (global tracer provider, default `tracecontext,baggage` propagator);
//! - `usual stack`: tower-http `TraceLayer` + tracing-opentelemetry +
//!   opentelemetry_sdk (same sampler, batch processor and counting
//!   exporter, TraceContext extraction).
//!
//! Every request carries a `traceparent`. For each variant it prints
//! requests/s and the server thread's CPU µs per request, and the ratios to
//! the untraced variant, and the CPU µs per request of the variant's span
//! export thread (work tracing adds off the server thread: it runs on
//! either CPU, read from `/proc/self/task/*/schedstat`); the last line is
//! `tracekit X of untraced, usual stack Y of untraced` (throughput ratios,
//! medians over the repetitions), then the documented form against the
//! explicit one: throughput and server CPU per request, as medians of the
//! ratios of each repetition.
//!
//! With `--floor`, a fourth variant runs among them: `floor`, the least any
//! traced layer does ([`FloorLayer`] with tracekit's pipeline: a span with
//! no attributes made current and ended), to show how much of the overhead
//! any layer of this design pays on this machine.
//!
//! With `--otlp`, every traced variant exports for real: over OTLP
//! http/protobuf (tracekit's exporter, and opentelemetry-otlp for the usual
//! stack) to an in-process receiver on loopback that only counts
//! ([`tracekit_benches::otlp_receiver`]), so the headline includes export;
//! the export CPU then also counts the HTTP clients' runtime threads, and
//! the span count is the receiver's total.
//!
//! `cargo run --release -p tracekit-benches --bin http_overhead [-- --floor] [--otlp]`

use axum::extract::{MatchedPath, Path};
use axum::routing::get;
use axum::Router;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracekit_benches::floor_layer::FloorLayer;
use tracekit_benches::otlp_receiver::{start_receiver, Counts};
use tracekit_benches::{
    otel_sdk_provider, tracekit_installed, tracekit_provider, CountingExporter, SameSampler,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Measurement window per variant and repetition.
const WINDOW: Duration = Duration::from_millis(2000);
/// Load before each window, not measured.
const WARM_UP: Duration = Duration::from_millis(400);
/// Repetitions of the three interleaved variants.
const REPETITIONS: usize = 7;
/// Concurrent keep-alive connections of the load generator.
const CONNECTIONS: usize = 32;
/// Distinct `traceparent` values the requests cycle through.
const DISTINCT_REQUESTS: usize = 64;

/// With `--otlp`: the counting OTLP receiver every traced variant exports to.
static OTLP: OnceLock<(SocketAddr, Arc<Counts>)> = OnceLock::new();

/// Name prefix of the HTTP clients' runtime threads (reqwest's blocking
/// client), whose CPU is export work with `--otlp`.
const HTTP_CLIENT_THREADS: &str = "reqwest-interna";

/// The OTLP/HTTP traces URL of the receiver, with `--otlp`.
fn otlp_url() -> Option<String> {
    OTLP.get()
        .map(|(addr, _)| format!("http://{addr}/v1/traces"))
}

/// tracekit's OTLP exporter to the receiver.
fn tracekit_otlp(url: &str) -> tracekit::export::otlp::OtlpExporter {
    tracekit::export::otlp::OtlpConfig::default()
        .with_endpoint(url)
        .build_exporter()
        .expect("tracekit OTLP exporter")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Untraced,
    Tracekit,
    Documented,
    UsualStack,
    Floor,
}

impl Variant {
    /// The variants every run measures, untraced first (the anchor).
    const MAIN: [Variant; 4] = [
        Variant::Untraced,
        Variant::Tracekit,
        Variant::Documented,
        Variant::UsualStack,
    ];

    /// The name (as the kernel shortens it) of the variant's span export
    /// thread. The `tracekit`, `documented` and `floor` pipelines' export
    /// threads share a name and all count; the idle ones add next to
    /// nothing.
    fn export_thread(self) -> Option<&'static str> {
        match self {
            Variant::Untraced => None,
            Variant::Tracekit | Variant::Documented | Variant::Floor => Some("tracekit-batch"),
            Variant::UsualStack => Some("OpenTelemetry"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Variant::Untraced => "untraced",
            Variant::Tracekit => "tracekit",
            Variant::Documented => "documented",
            Variant::UsualStack => "usual stack",
            Variant::Floor => "floor",
        }
    }
}

/// Pin the calling thread to `cpu` when the machine has it.
fn pin_to(cpu: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cpu >= cpus {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes
    // within it; sched_setaffinity(0, ..) only affects the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// The CPU-time clock of the calling thread, readable from other threads.
fn thread_cpu_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: pthread_self is always valid; `clock` is a valid out pointer.
    let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    assert_eq!(rc, 0, "pthread_getcpuclockid failed");
    clock
}

/// Current reading of a CPU-time clock.
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer; the clock belongs to a live
    // thread of this process (the servers run until the process exits).
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

async fn user(Path(id): Path<u64>) -> String {
    format!("user {id}")
}

fn routes() -> Router {
    Router::new().route("/users/{id}", get(user))
}

/// The usual stack's span: what a typical tower-http `TraceLayer` setup
/// with tracing-opentelemetry records, parent extracted with TraceContext.
fn usual_make_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("", MatchedPath::as_str);
    let method = request.method().as_str();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = method,
        http.route = route,
        url.path = request.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    let parent = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&opentelemetry_http::HeaderExtractor(request.headers()));
    let _ = span.set_parent(parent);
    span
}

/// What a server thread reports once listening.
struct ServerHandle {
    addr: SocketAddr,
    cpu_clock: libc::clockid_t,
    exported: Box<dyn Fn() -> u64 + Send>,
}

/// Start `variant`'s server on its own thread (one current-thread tokio
/// runtime, pinned to CPU 0). It runs until the process exits.
fn start_server(variant: Variant) -> ServerHandle {
    // Pipelines are built here, before the server thread pins itself, so
    // their export threads are free to run on either core.
    let exporter = CountingExporter::default();
    let counted = exporter.clone();
    let url = otlp_url();
    // The documented form's pipeline is installed globally, as `init()`
    // does (once per process: only this variant does it).
    let installed = (variant == Variant::Documented).then(|| match &url {
        Some(url) => tracekit_installed(tracekit_samplers::AlwaysOn, tracekit_otlp(url)),
        None => tracekit_installed(tracekit_samplers::AlwaysOn, exporter.clone()),
    });
    let (tracekit, sdk) = match (variant, &url) {
        (Variant::Untraced | Variant::Documented, _) => (None, None),
        (Variant::Tracekit | Variant::Floor, Some(url)) => (
            Some(tracekit_provider(SameSampler::AlwaysOn, tracekit_otlp(url))),
            None,
        ),
        (Variant::Tracekit | Variant::Floor, None) => (
            Some(tracekit_provider(SameSampler::AlwaysOn, exporter)),
            None,
        ),
        (Variant::UsualStack, Some(url)) => {
            let official = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(url)
                .build()
                .expect("opentelemetry-otlp exporter");
            (
                None,
                Some(otel_sdk_provider(SameSampler::AlwaysOn, official)),
            )
        }
        (Variant::UsualStack, None) => (
            None,
            Some(otel_sdk_provider(SameSampler::AlwaysOn, exporter)),
        ),
    };
    let exported: Box<dyn Fn() -> u64 + Send> = match OTLP.get() {
        Some((_, counts)) => {
            let counts = Arc::clone(counts);
            Box::new(move || counts.spans())
        }
        None => Box::new(move || counted.count()),
    };
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("server-{}", variant.label()))
        .spawn(move || {
            pin_to(0);
            // Kept alive for the thread's life (the process's).
            let mut _subscriber = None;
            let _installed = installed;
            let app = match (&tracekit, &sdk) {
                _ if variant == Variant::Documented => routes().layer(tracekit_axum::layer()),
                (Some(provider), _) if variant == Variant::Floor => {
                    routes().layer(FloorLayer::new(provider.tracer("http_overhead")))
                }
                (Some(provider), _) => {
                    let layer = tracekit_axum::layer_builder()
                        .tracer(provider.tracer("http_overhead"))
                        .propagator(tracekit_propagators::TraceContextPropagator::new())
                        .build();
                    routes().layer(layer)
                }
                (None, Some(provider)) => {
                    let otel_layer = tracing_opentelemetry::layer()
                        .with_tracer(provider.tracer("http_overhead"));
                    let subscriber = tracing_subscriber::registry()
                        .with(tracing_subscriber::filter::LevelFilter::INFO)
                        .with(otel_layer);
                    // This thread runs the whole server: a thread default
                    // covers it without touching the other variants.
                    _subscriber = Some(tracing::subscriber::set_default(subscriber));
                    let trace = tower_http::trace::TraceLayer::new_for_http()
                        .make_span_with(usual_make_span)
                        .on_response(
                            |response: &http::Response<axum::body::Body>,
                             _latency: Duration,
                             span: &tracing::Span| {
                                span.record(
                                    "http.response.status_code",
                                    response.status().as_u16(),
                                );
                            },
                        );
                    routes().layer(trace)
                }
                (None, None) => routes(),
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                let addr = listener.local_addr().expect("local address");
                let _ = ready_tx.send(ServerHandle {
                    addr,
                    cpu_clock: thread_cpu_clock(),
                    exported,
                });
                let _ = axum::serve(listener, app).await;
            });
        })
        .expect("server thread");
    ready_rx.recv().expect("server ready")
}

/// A load request for the client thread: drive `addr` for `duration`.
struct Load {
    addr: SocketAddr,
    duration: Duration,
    done: mpsc::Sender<u64>,
}

/// The pre-built request bytes the connections cycle through.
fn requests() -> Vec<Vec<u8>> {
    (0..DISTINCT_REQUESTS)
        .map(|i| {
            format!(
                "GET /users/{i} HTTP/1.1\r\nhost: 127.0.0.1\r\n\
                 traceparent: 00-4bf92f3577b34da6a3ce929d0e0e{i:04x}-00f067aa0ba9{i:04x}-01\r\n\r\n"
            )
            .into_bytes()
        })
        .collect()
}

/// Read one response with a `content-length` body; false on EOF/error.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = &buf[..head_end];
            let length = head
                .split(|&b| b == b'\n')
                .find_map(|line| {
                    let line = std::str::from_utf8(line).ok()?.trim();
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .expect("responses carry content-length");
            let total = head_end + 4 + length;
            if buf.len() >= total {
                buf.drain(..total);
                return true;
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One connection: request, response, repeat until `deadline`.
async fn connection(
    addr: SocketAddr,
    deadline: Instant,
    offset: usize,
    reqs: std::rc::Rc<Vec<Vec<u8>>>,
) -> u64 {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return 0;
    };
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8192);
    let mut n = 0u64;
    let mut i = offset;
    while Instant::now() < deadline {
        if stream.write_all(&reqs[i % reqs.len()]).await.is_err() {
            break;
        }
        if !read_response(&mut stream, &mut buf).await {
            break;
        }
        n += 1;
        i += 1;
    }
    n
}

/// The load generator: a thread pinned to CPU 1 with its own runtime.
fn start_client() -> mpsc::Sender<Load> {
    let (tx, rx) = mpsc::channel::<Load>();
    std::thread::Builder::new()
        .name("client".into())
        .spawn(move || {
            pin_to(1);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("client runtime");
            let reqs = std::rc::Rc::new(requests());
            let local = tokio::task::LocalSet::new();
            for load in rx {
                let deadline = Instant::now() + load.duration;
                let total = local.block_on(&runtime, async {
                    let tasks: Vec<_> = (0..CONNECTIONS)
                        .map(|c| {
                            tokio::task::spawn_local(connection(
                                load.addr,
                                deadline,
                                c,
                                reqs.clone(),
                            ))
                        })
                        .collect();
                    let mut total = 0;
                    for task in tasks {
                        total += task.await.unwrap_or(0);
                    }
                    total
                });
                let _ = load.done.send(total);
            }
        })
        .expect("client thread");
    tx
}

/// One measured window.
#[derive(Clone, Copy, Debug)]
struct Sample {
    per_second: f64,
    cpu_us_per_request: f64,
    export_cpu_us_per_request: f64,
}

/// CPU time of this process's threads whose name starts with `prefix`
/// (zero where the kernel keeps no scheduler statistics).
fn threads_cpu(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(prefix))
        })
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Duration::from_nanos(nanos)
}

fn drive(client: &mpsc::Sender<Load>, addr: SocketAddr, duration: Duration) -> u64 {
    let (done, result) = mpsc::channel();
    client
        .send(Load {
            addr,
            duration,
            done,
        })
        .expect("client alive");
    result.recv().expect("client result")
}

fn measure(client: &mpsc::Sender<Load>, server: &ServerHandle, variant: Variant) -> Sample {
    drive(client, server.addr, WARM_UP);
    let export_cpu = || {
        let clients = match (variant.export_thread(), OTLP.get()) {
            (Some(_), Some(_)) => threads_cpu(HTTP_CLIENT_THREADS),
            _ => Duration::ZERO,
        };
        variant.export_thread().map_or(Duration::ZERO, threads_cpu) + clients
    };
    let export_before = export_cpu();
    let cpu_before = cpu_time(server.cpu_clock);
    let start = Instant::now();
    let requests = drive(client, server.addr, WINDOW);
    let elapsed = start.elapsed();
    let cpu = cpu_time(server.cpu_clock) - cpu_before;
    let export = export_cpu().saturating_sub(export_before);
    let requests = requests.max(1);
    Sample {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        cpu_us_per_request: cpu.as_secs_f64() * 1e6 / requests as f64,
        export_cpu_us_per_request: export.as_secs_f64() * 1e6 / requests as f64,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn main() {
    let mut variants = Variant::MAIN.to_vec();
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--floor" => variants.push(Variant::Floor),
            "--otlp" => {
                let _ = OTLP.set(start_receiver());
            }
            other => {
                eprintln!("unknown argument {other:?}: the options are --floor and --otlp");
                std::process::exit(2);
            }
        }
    }
    let servers: Vec<ServerHandle> = variants.iter().map(|&v| start_server(v)).collect();
    let client = start_client();
    println!(
        "http_overhead: {} variants x {REPETITIONS} repetitions x {:.1} s, \
         server: 1 worker thread on CPU 0, client: {CONNECTIONS} connections on CPU 1, loopback, \
         export: {}",
        variants.len(),
        WINDOW.as_secs_f64(),
        if OTLP.get().is_some() {
            "OTLP http/protobuf to a counting receiver"
        } else {
            "a counting exporter"
        }
    );

    let mut samples: Vec<Vec<Sample>> = Vec::with_capacity(REPETITIONS);
    for rep in 0..REPETITIONS {
        let mut row = vec![
            Sample {
                per_second: 0.0,
                cpu_us_per_request: 0.0,
                export_cpu_us_per_request: 0.0,
            };
            variants.len()
        ];
        // Rotate the order so no variant always runs first.
        for k in 0..variants.len() {
            let index = (rep + k) % variants.len();
            row[index] = measure(&client, &servers[index], variants[index]);
        }
        for (variant, sample) in variants.iter().zip(row.iter()) {
            println!(
                "rep {}  {:<12} {:>9.0} req/s  {:>6.2} us CPU/req  {:>5.2} us export thread/req",
                rep + 1,
                variant.label(),
                sample.per_second,
                sample.cpu_us_per_request,
                sample.export_cpu_us_per_request
            );
        }
        samples.push(row);
    }

    println!("medians over {REPETITIONS} repetitions:");
    let mut throughput_ratio = vec![0.0f64; variants.len()];
    for (i, variant) in variants.iter().enumerate() {
        let mut rate: Vec<f64> = samples.iter().map(|r| r[i].per_second).collect();
        let mut cpu: Vec<f64> = samples.iter().map(|r| r[i].cpu_us_per_request).collect();
        let mut ratio: Vec<f64> = samples
            .iter()
            .map(|r| r[i].per_second / r[0].per_second)
            .collect();
        let mut cpu_ratio: Vec<f64> = samples
            .iter()
            .map(|r| r[i].cpu_us_per_request / r[0].cpu_us_per_request)
            .collect();
        let mut added: Vec<f64> = samples
            .iter()
            .map(|r| r[i].cpu_us_per_request - r[0].cpu_us_per_request)
            .collect();
        let mut export: Vec<f64> = samples
            .iter()
            .map(|r| r[i].export_cpu_us_per_request)
            .collect();
        throughput_ratio[i] = median(&mut ratio);
        println!(
            "{:<12} {:>9.0} req/s ({:.2} of untraced)  {:>6.2} us CPU/req ({:.2}x untraced, {:+.2} us)  \
             export thread {:.2} us/req  {} spans exported",
            variant.label(),
            median(&mut rate),
            throughput_ratio[i],
            median(&mut cpu),
            median(&mut cpu_ratio),
            median(&mut added),
            median(&mut export),
            (servers[i].exported)()
        );
    }
    let index = |v: Variant| variants.iter().position(|&x| x == v).expect("measured");
    let (explicit, documented) = (index(Variant::Tracekit), index(Variant::Documented));
    println!(
        "tracekit {:.2} of untraced, usual stack {:.2} of untraced",
        throughput_ratio[explicit],
        throughput_ratio[index(Variant::UsualStack)]
    );
    let mut rate: Vec<f64> = samples
        .iter()
        .map(|r| r[documented].per_second / r[explicit].per_second)
        .collect();
    let mut cpu: Vec<f64> = samples
        .iter()
        .map(|r| r[documented].cpu_us_per_request / r[explicit].cpu_us_per_request)
        .collect();
    println!(
        "documented form {:.3} of the explicit form's throughput, {:.3} of its server CPU per request",
        median(&mut rate),
        median(&mut cpu)
    );
}
