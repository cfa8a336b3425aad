//! The guard dropped while an export waits on a collector that accepts
//! connections and never answers: the shutdown times out, and standard
//! error says where the spans were going. The pipeline is global, so the
//! scenario runs in a process of its own (this binary again, with only the
//! ignored child test selected).

use opentelemetry::trace::Tracer as _;
use std::net::TcpListener;
use std::time::Duration;
use tracekit::TracekitBuilder;

mod child_process;

/// The line about the shutdown timeout in the child's standard error, and
/// the endpoint the child printed on its standard output.
fn timeout_line_and_endpoint(child: &child_process::ChildOutput) -> (&str, &str) {
    let stderr = &child.stderr;
    let line = stderr
        .lines()
        .find(|l| l.contains("shutdown timeout"))
        .unwrap_or_else(|| panic!("no shutdown timeout line: {stderr}"));
    let endpoint = child
        .stdout
        .lines()
        // The harness may print `test child_... ... ` on the same line.
        .find_map(|l| l.split("endpoint: ").nth(1))
        .map(str::trim)
        .expect("the child prints its endpoint");
    (line, endpoint)
}

/// A collector that accepts connections and never reads or answers (it
/// stays silent while the listener lives), and a builder exporting to it
/// with a short shutdown timeout. The endpoint goes to standard output for
/// the parent.
fn silent_collector() -> (TcpListener, TracekitBuilder) {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    println!("endpoint: {endpoint}");
    let env: std::collections::HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), endpoint),
        ("TRACEKIT_QUIET".to_string(), "true".to_string()),
    ]
    .into_iter()
    .collect();
    let builder = tracekit::builder()
        .with_env(env)
        .shutdown_timeout(Duration::from_millis(300));
    (silent, builder)
}

#[test]
fn a_shutdown_timeout_names_where_spans_were_going() {
    let child = child_process::run_child("child_shutdown_times_out", child_process::NO_ENV);
    let (line, endpoint) = timeout_line_and_endpoint(&child);
    assert!(line.starts_with("tracekit: "), "{line}");
    assert!(line.contains(endpoint), "{line}");
    assert!(child.stderr.contains("1 at shutdown"), "{}", child.stderr);
}

#[test]
#[ignore = "run by a_shutdown_timeout_names_where_spans_were_going in a process of its own"]
fn child_shutdown_times_out() {
    let (silent, builder) = silent_collector();
    let guard = builder.install();
    tracekit::tracer("child").in_span("lost", |_cx| {});
    drop(guard);
    drop(silent);
}

/// The same with `flush_on_signal()`: the process exits from the signal
/// handler, which says the same.
#[cfg(all(unix, feature = "signal"))]
#[test]
fn a_flush_on_signal_timeout_names_where_spans_were_going() {
    let child =
        child_process::spawn_child("child_flush_on_signal_times_out", child_process::NO_ENV);
    assert_eq!(
        child.status.code(),
        Some(143),
        "{}\n{}",
        child.stdout,
        child.stderr
    );
    let (line, endpoint) = timeout_line_and_endpoint(&child);
    assert!(
        line.starts_with("tracekit: flushing spans on SIGTERM"),
        "{line}"
    );
    assert!(line.contains(endpoint), "{line}");
    assert!(child.stderr.contains("1 at shutdown"), "{}", child.stderr);
}

#[cfg(all(unix, feature = "signal"))]
#[test]
#[ignore = "run by a_flush_on_signal_timeout_names_where_spans_were_going in a process of its own"]
fn child_flush_on_signal_times_out() {
    let (_silent, builder) = silent_collector();
    let _guard = builder.flush_on_signal().install();
    tracekit::tracer("child").in_span("lost", |_cx| {});
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The signal thread exits the process.
    std::thread::sleep(Duration::from_secs(30));
    panic!("still running after SIGTERM");
}
