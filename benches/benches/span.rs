//! Span start+end cost, tracekit against opentelemetry_sdk, both through the
//! OpenTelemetry `Tracer` API with the same sampler and the same counting
//! exporter behind each SDK's batch processor.
//!
//! Ids: `span/<impl>/<case>`, cases `start_end`, `start_end_5_attrs`,
//! `unsampled`.
//!
//! Then the forms a user writes, over one pipeline installed as
//! `tracekit::init()` installs it: `span_forms/<form>/<start_end|unsampled>`
//! with the forms `explicit` (the guard's `tracekit::Tracer`),
//! `documented` (`tracekit::tracer(..)`, what the README and crate docs
//! show) and `global_api` (`opentelemetry::global::tracer(..)`, the API's
//! boxed tracer). Criterion times each alone; the last lines time them
//! side by side, interleaved rounds in this same run, and print each
//! form's ratio to `explicit`.

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{Span as _, Tracer, TracerProvider as _};
use opentelemetry::KeyValue;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tracekit_benches::{
    otel_sdk_provider, tracekit_installed, tracekit_provider, CountingExporter, SameSampler,
    SwitchSampler,
};

fn five_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.route", "/users/{id}"),
        KeyValue::new("http.response.status_code", 200_i64),
        KeyValue::new("user.id", 42_i64),
        KeyValue::new("cache.hit", true),
    ]
}

fn cases<T: Tracer>(c: &mut Criterion, imp: &str, sampled: &T, unsampled: &T) {
    let mut group = c.benchmark_group("span");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    group.bench_function(format!("{imp}/start_end"), |b| {
        b.iter(|| {
            let mut span = sampled.start(black_box("operation"));
            span.end();
        })
    });
    group.bench_function(format!("{imp}/start_end_5_attrs"), |b| {
        b.iter(|| {
            let mut span = sampled
                .span_builder(black_box("operation"))
                .with_attributes(five_attributes())
                .start(sampled);
            span.end();
        })
    });
    group.bench_function(format!("{imp}/unsampled"), |b| {
        b.iter(|| {
            let mut span = unsampled.start(black_box("operation"));
            span.end();
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let tk_on = tracekit_provider(SameSampler::AlwaysOn, CountingExporter::default());
    let tk_off = tracekit_provider(SameSampler::AlwaysOff, CountingExporter::default());
    cases(
        c,
        "tracekit",
        &tk_on.tracer("bench"),
        &tk_off.tracer("bench"),
    );
    let _ = tk_on.shutdown(Duration::from_secs(5));
    let _ = tk_off.shutdown(Duration::from_secs(5));

    let ot_on = otel_sdk_provider(SameSampler::AlwaysOn, CountingExporter::default());
    let ot_off = otel_sdk_provider(SameSampler::AlwaysOff, CountingExporter::default());
    cases(
        c,
        "otel_sdk",
        &ot_on.tracer("bench"),
        &ot_off.tracer("bench"),
    );
    let _ = ot_on.shutdown();
    let _ = ot_off.shutdown();
}

/// Start and end one span with `tracer`, `n` times.
#[inline(never)]
fn start_end_loop<T: Tracer>(tracer: &T, n: u64) {
    for _ in 0..n {
        let mut span = tracer.start(black_box("operation"));
        span.end();
    }
}

/// Median ns per span of each tracer over interleaved rounds (the order
/// rotates each round, so none always runs first).
fn side_by_side(tracers: &[&dyn Fn(u64)], rounds: usize, per_round: u64) -> Vec<f64> {
    let mut samples = vec![Vec::with_capacity(rounds); tracers.len()];
    for round in 0..rounds {
        for k in 0..tracers.len() {
            let i = (round + k) % tracers.len();
            let start = Instant::now();
            tracers[i](per_round);
            samples[i].push(start.elapsed().as_nanos() as f64 / per_round as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

fn forms(c: &mut Criterion) {
    let switch = SwitchSampler::default();
    let guard = tracekit_installed(switch.clone(), CountingExporter::default());
    let explicit = guard.tracer("bench");
    let documented = tracekit::tracer("bench");
    let global_api = opentelemetry::global::tracer("bench");
    let cases = [("start_end", true), ("unsampled", false)];
    let mut group = c.benchmark_group("span_forms");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (case, sampled) in cases {
        switch.set(sampled);
        group.bench_function(format!("explicit/{case}"), |b| {
            b.iter(|| start_end_loop(&explicit, 1))
        });
        group.bench_function(format!("documented/{case}"), |b| {
            b.iter(|| start_end_loop(&documented, 1))
        });
        group.bench_function(format!("global_api/{case}"), |b| {
            b.iter(|| start_end_loop(&global_api, 1))
        });
    }
    group.finish();

    println!("span_forms side by side (median ns per span over 21 interleaved rounds of 200,000):");
    for (case, sampled) in cases {
        switch.set(sampled);
        let ns = side_by_side(
            &[
                &|n| start_end_loop(&explicit, n),
                &|n| start_end_loop(&documented, n),
                &|n| start_end_loop(&global_api, n),
            ],
            21,
            200_000,
        );
        println!(
            "span_forms {case:<10} explicit {:6.1} ns  documented {:6.1} ns ({:.3} of explicit)  \
             global_api {:6.1} ns ({:.3} of explicit)",
            ns[0],
            ns[1],
            ns[1] / ns[0],
            ns[2],
            ns[2] / ns[0]
        );
    }
    let _ = guard.shutdown();
}

criterion_group!(benches, bench, forms);
criterion_main!(benches);
