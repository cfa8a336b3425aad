//! `from_env` with an `OTEL_PROPAGATORS` value that is not valid UTF-8:
//! the valid entries are used and the spoiled one is reported, as
//! `tracekit_samplers::from_env` does for its variables. The child runs in a
//! process of its own, with the variable set.
#![cfg(unix)]

use opentelemetry::propagation::TextMapPropagator;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

#[test]
fn a_value_that_is_not_utf8_keeps_its_valid_entries_and_warns() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_from_env", "--exact", "--ignored", "--nocapture"])
        .env(
            "OTEL_PROPAGATORS",
            OsStr::from_bytes(b"b3,tracecontext\xff"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("OTEL_PROPAGATORS"))
        .collect();
    assert_eq!(
        warnings,
        ["tracekit: ignoring OTEL_PROPAGATORS entry \"tracecontext\u{fffd}\" (unknown propagator); skipping it"],
        "{stderr}"
    );
}

#[test]
#[ignore = "run in a process of its own by a_value_that_is_not_utf8_keeps_its_valid_entries_and_warns"]
fn child_from_env() {
    let propagator = tracekit_propagators::from_env();
    let fields: Vec<&str> = propagator.fields().collect();
    assert!(fields.contains(&"b3"), "{fields:?}");
}
