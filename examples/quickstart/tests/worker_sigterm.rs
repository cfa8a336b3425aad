//! The worker, stopped by SIGTERM as `docker stop` would: with
//! `flush_on_signal()` its buffered spans reach the collector before it
//! exits with status 143 (128 + SIGTERM).

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::time::Duration;
use tracekit::testing::receiver::{terminate, OtlpReceiver};

#[test]
fn sigterm_flushes_the_workers_spans_and_exits_143() {
    let receiver = OtlpReceiver::start().unwrap();
    let mut child = receiver
        .command(env!("CARGO_BIN_EXE_worker"))
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    for job in 1..=3 {
        let line = lines.next().unwrap().unwrap();
        assert_eq!(line, format!("job {job} done"));
    }
    assert_eq!(receiver.span_count(), 0);

    terminate(&child).unwrap();
    // Keep reading so the worker never blocks on a full pipe.
    let done = lines.map_while(Result::ok).count() + 3;
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");

    // The process has exited: whatever arrived, arrived before exit. Every
    // job reported done was exported (one more may have ended after the
    // flush began, and been dropped).
    assert!(
        receiver.wait_for_spans(3, Duration::from_millis(1)),
        "{stderr}"
    );
    let spans = receiver.spans();
    assert!(
        spans.len() >= 3 && spans.len() <= done + 1,
        "{} of {done}",
        spans.len()
    );
    let mut ids: Vec<String> = spans.iter().filter_map(|s| s.attribute("job.id")).collect();
    ids.sort();
    for job in ["1", "2", "3"] {
        assert!(ids.iter().any(|id| id == job), "{ids:?}");
    }
    assert!(spans.iter().all(|s| s.service_name() == "worker"));
}

/// Stopped while its collector is unreachable, the worker still says what
/// was lost, as the guard does when it drops (it never drops here: the
/// process exits from the signal handler).
#[test]
fn sigterm_with_an_unreachable_collector_reports_the_losses() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_worker"))
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
        .env("TRACEKIT_QUIET", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    for job in 1..=2 {
        assert_eq!(lines.next().unwrap().unwrap(), format!("job {job} done"));
    }
    terminate(&child).unwrap();
    let _ = lines.map_while(Result::ok).count();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains(
            "span export failed (export to http://127.0.0.1:1/v1/traces failed: connection refused"
        ),
        "{stderr}"
    );
    let totals = stderr
        .lines()
        .find(|l| l.contains("spans ended"))
        .unwrap_or_else(|| panic!("no totals line: {stderr}"));
    assert!(totals.contains("0 exported"), "{totals}");
}
