//! The guard dropped while an export waits on a collector that accepts
//! connections and never answers: the shutdown times out, and standard
//! error says where the spans were going. The pipeline is global, so the
//! scenario runs in a process of its own (this binary again, with only the
//! ignored child test selected).

use opentelemetry::trace::Tracer as _;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_shutdown_timeout_names_where_spans_were_going() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_shutdown_times_out",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("TRACEKIT_QUIET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let line = stderr
        .lines()
        .find(|l| l.contains("shutdown timeout"))
        .unwrap_or_else(|| panic!("no shutdown timeout line: {stderr}"));
    let endpoint = stdout
        .lines()
        // The harness may print `test child_... ... ` on the same line.
        .find_map(|l| l.split("endpoint: ").nth(1))
        .map(str::trim)
        .expect("the child prints its endpoint");
    assert!(line.starts_with("tracekit: "), "{line}");
    assert!(line.contains(endpoint), "{line}");
    assert!(stderr.contains("1 at shutdown"), "{stderr}");
}

#[test]
#[ignore = "run by a_shutdown_timeout_names_where_spans_were_going in a process of its own"]
fn child_shutdown_times_out() {
    // Accepts connections, never reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    println!("endpoint: {endpoint}");
    let env: std::collections::HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), endpoint),
        ("TRACEKIT_QUIET".to_string(), "true".to_string()),
    ]
    .into_iter()
    .collect();
    let guard = tracekit::builder()
        .with_env(env)
        .shutdown_timeout(Duration::from_millis(300))
        .install();
    tracekit::tracer("child").in_span("lost", |_cx| {});
    drop(guard);
    drop(silent);
}

/// The same with `flush_on_signal()`: the process exits from the signal
/// handler, which says the same.
#[cfg(all(unix, feature = "signal"))]
#[test]
fn a_flush_on_signal_timeout_names_where_spans_were_going() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_flush_on_signal_times_out",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("TRACEKIT_QUIET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stdout}\n{stderr}");
    let endpoint = stdout
        .lines()
        .find_map(|l| l.split("endpoint: ").nth(1))
        .map(str::trim)
        .expect("the child prints its endpoint");
    let line = stderr
        .lines()
        .find(|l| l.contains("shutdown timeout"))
        .unwrap_or_else(|| panic!("no shutdown timeout line: {stderr}"));
    assert!(
        line.starts_with("tracekit: flushing spans on SIGTERM"),
        "{line}"
    );
    assert!(line.contains(endpoint), "{line}");
    assert!(stderr.contains("1 at shutdown"), "{stderr}");
}

#[cfg(all(unix, feature = "signal"))]
#[test]
#[ignore = "run by a_flush_on_signal_timeout_names_where_spans_were_going in a process of its own"]
fn child_flush_on_signal_times_out() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    println!("endpoint: {endpoint}");
    let env: std::collections::HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), endpoint),
        ("TRACEKIT_QUIET".to_string(), "true".to_string()),
    ]
    .into_iter()
    .collect();
    let _guard = tracekit::builder()
        .with_env(env)
        .shutdown_timeout(Duration::from_millis(300))
        .flush_on_signal()
        .install();
    tracekit::tracer("child").in_span("lost", |_cx| {});
    let status = Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The signal thread exits the process.
    std::thread::sleep(Duration::from_secs(30));
    panic!("still running after SIGTERM");
}
