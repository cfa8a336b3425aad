//! The first run explains itself: one line on standard error names where
//! spans go and how to see spans and logs locally; `TRACEKIT_QUIET=true`
//! silences it.

use std::process::Command;
use tracekit::testing::receiver::OtlpReceiver;

/// The quickstart's standard error, run with only `env` set.
fn stderr_with(env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The lines tracekit printed.
fn tracekit_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("tracekit:"))
        .collect()
}

#[test]
fn the_startup_line_names_the_console_waterfall_by_default() {
    let stderr = stderr_with(&[]);
    let lines = tracekit_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.contains("service \"quickstart\" sends spans to the console waterfall"),
        "{line}"
    );
    for hint in [
        "OTEL_TRACES_EXPORTER=console",
        "TRACEKIT_LOG_FORMAT=text",
        "TRACEKIT_QUIET=true",
    ] {
        assert!(line.contains(hint), "{hint} missing: {line}");
    }
}

#[test]
fn the_startup_line_suggests_nothing_already_on() {
    let stderr = stderr_with(&[
        ("OTEL_TRACES_EXPORTER", "console"),
        ("TRACEKIT_LOG_FORMAT", "text"),
    ]);
    let lines = tracekit_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert_eq!(
        lines[0],
        "tracekit: service \"quickstart\" sends spans to the console waterfall on \
         standard output (TRACEKIT_QUIET=true hides this line)"
    );
}

#[test]
fn the_startup_line_names_the_otlp_endpoint_and_protocol() {
    let receiver = OtlpReceiver::start().unwrap();
    let endpoint = receiver.http_endpoint();
    let stderr = stderr_with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    let lines = tracekit_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    let expected = format!("sends spans to OTLP (http/protobuf) at {endpoint}/v1/traces");
    assert!(lines[0].contains(&expected), "{}", lines[0]);
}

#[test]
fn the_startup_line_says_when_nothing_is_exported() {
    let disabled = stderr_with(&[("OTEL_SDK_DISABLED", "true")]);
    assert!(
        disabled.contains("sends spans to nowhere: disabled by OTEL_SDK_DISABLED"),
        "{disabled}"
    );
    let none = stderr_with(&[("OTEL_TRACES_EXPORTER", "none")]);
    assert!(
        none.contains("sends spans to nowhere: OTEL_TRACES_EXPORTER is \"none\""),
        "{none}"
    );
}

#[test]
fn tracekit_quiet_silences_it() {
    let stderr = stderr_with(&[("TRACEKIT_QUIET", "true")]);
    assert_eq!(tracekit_lines(&stderr), Vec::<&str>::new(), "{stderr}");
    // The program's own output is still there.
    assert!(stderr.contains("quickstart: 4 spans ended"), "{stderr}");
}
