//! A fixed-count loop of `GET /users/{id}` requests through the axum router
//! of `http_overhead`, in process (no sockets): the per-request cost of a
//! layer alone, timed and repeatable under callgrind
//! (`--toggle-collect=http_profile::run_loop*`). The variants:
//!
//! - `untraced`: the router alone;
//! - `tracekit`: tracekit's axum layer, as in `http_overhead`, given
//!   tracekit's tracer and the propagator explicitly;
//! - `tracekit_global`: the documented form, `tracekit_axum::layer()` over
//!   the same pipeline installed by `tracekit::builder().install()` (what
//!   `tracekit::init()` does: global tracer provider, default
//!   `tracecontext,baggage` propagator), so spans go through the API's
//!   boxed global tracer and the propagator is the global one;
//! - `tracekit_global_propagator`: the explicit tracer with the global
//!   propagator (the layer builder's default) installed as `init()` does,
//!   to tell the cost of the global propagator from that of the global
//!   tracer;
//! - `tracekit_api_propagator`: the explicit tracer with a propagator set
//!   through `opentelemetry::global::set_text_map_propagator` (what a user
//!   who replaces tracekit's does): the API's lock and dynamic dispatch;
//! - `identity`: a layer that does nothing, given to `Router::layer`: what
//!   axum's wrapping of every route costs any layer;
//! - `floor`: the least any traced layer does
//!   ([`FloorLayer`]), given to
//!   `Router::layer`: a floor for the real layer;
//! - `floor_sdk`: `floor` with an `opentelemetry_sdk` tracer (same sampler,
//!   batch processor and counting exporter) instead of tracekit's.
//!
//! `http_profile <untraced|tracekit|tracekit_global|tracekit_global_propagator|tracekit_api_propagator|identity|floor|floor_sdk> [iterations]`

use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::TracerProvider as _;
use std::time::{Duration, Instant};
use tower::{Service, ServiceExt};
use tracekit_benches::floor_layer::FloorLayer;
use tracekit_benches::{
    otel_sdk_provider, tracekit_installed, tracekit_provider, CountingExporter, SameSampler,
};
use tracekit_propagators::TraceContextPropagator;

async fn user(Path(id): Path<u64>) -> String {
    format!("user {id}")
}

fn routes() -> Router {
    Router::new().route("/users/{id}", get(user))
}

/// The request `http_overhead`'s load generator sends, as `http` types.
fn request(i: u64) -> http::Request<Body> {
    let traceparent = format!(
        "00-4bf92f3577b34da6a3ce929d0e0e{:04x}-00f067aa0ba9{:04x}-01",
        i % 64,
        i % 64
    );
    http::Request::get(format!("/users/{}", i % 64))
        .header(http::header::HOST, "127.0.0.1")
        .header("traceparent", traceparent)
        .body(Body::empty())
        .expect("valid request")
}

/// Build and serve `n` requests one by one (built in the loop, so their
/// memory is as warm as a freshly parsed request's), reading each response
/// body to the end.
#[inline(never)]
fn run_loop(runtime: &tokio::runtime::Runtime, app: &mut Router, n: u64) -> usize {
    let mut bytes = 0;
    for i in 0..n {
        let request = request(i);
        bytes += runtime.block_on(async {
            let Ok(service) = ServiceExt::<http::Request<Body>>::ready(app).await;
            let Ok(response) = service.call(request).await;
            axum::body::to_bytes(response.into_body(), 1024)
                .await
                .map_or(0, |body| body.len())
        });
    }
    bytes
}

/// CPU time of the calling thread (not counting time it waited for a core).
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let variant = args.get(1).map_or("untraced", String::as_str);
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let exporter = CountingExporter::default();
    let provider = tracekit_provider(SameSampler::AlwaysOn, exporter.clone());
    // The official pipeline (and its export thread) only where it is used.
    let sdk_provider = (variant == "floor_sdk")
        .then(|| otel_sdk_provider(SameSampler::AlwaysOn, exporter.clone()));
    let tracer = provider.tracer("http_profile");
    let mut guard = None;
    let mut app = match variant {
        "untraced" => routes(),
        "tracekit" => routes().layer(
            tracekit_axum::layer_builder()
                .tracer(tracer)
                .propagator(TraceContextPropagator::new())
                .build(),
        ),
        "tracekit_global" => {
            guard = Some(tracekit_installed(
                tracekit_samplers::AlwaysOn,
                exporter.clone(),
            ));
            routes().layer(tracekit_axum::layer())
        }
        "tracekit_global_propagator" => {
            tracekit::propagators::global::set_text_map_propagator(
                tracekit::propagators::SharedPropagator::new(
                    tracekit::propagators::CompositePropagator::default(),
                ),
            );
            routes().layer(tracekit_axum::layer_builder().tracer(tracer).build())
        }
        "tracekit_api_propagator" => {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            routes().layer(tracekit_axum::layer_builder().tracer(tracer).build())
        }
        "identity" => routes().layer(tower::layer::util::Identity::new()),
        "floor" => routes().layer(FloorLayer::new(tracer)),
        "floor_sdk" => {
            let provider = sdk_provider.as_ref().expect("built for floor_sdk");
            routes().layer(FloorLayer::new(provider.tracer("http_profile")))
        }
        other => {
            eprintln!(
                "unknown variant {other:?}: untraced, tracekit, tracekit_global, tracekit_global_propagator, tracekit_api_propagator, identity, floor or floor_sdk"
            );
            std::process::exit(2);
        }
    }
    // Finalised as `axum::serve` does: routes (and the layer) are built
    // once, not converted again on every request.
    .with_state(());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    let bytes = run_loop(&runtime, &mut app, n);
    let cpu = thread_cpu_time() - cpu_start;
    let elapsed = start.elapsed();
    let _ = provider.shutdown(Duration::from_secs(10));
    if let Some(guard) = guard {
        let _ = guard.shutdown();
    }
    if let Some(provider) = sdk_provider {
        let _ = provider.shutdown();
    }
    println!(
        "{variant}: {n} requests, {:.0} ns/request, {:.0} ns CPU/request, {bytes} body bytes, {} spans exported",
        elapsed.as_nanos() as f64 / n as f64,
        cpu.as_nanos() as f64 / n as f64,
        exporter.count()
    );
}
