//! A pipeline built more than once from one environment reports each
//! configuration mistake once, the sampler's and the propagators' included.
//! The child runs in a process of its own, with those variables set.

use std::process::Command;

#[test]
fn a_second_build_repeats_no_warning() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_builds_twice",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("TRACEKIT_QUIET")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_TRACES_SAMPLER", "sometimes")
        .env("OTEL_PROPAGATORS", "tracecontext,bogus")
        .env("OTEL_BSP_MAX_QUEUE_SIZE", "abc")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    for var in [
        "OTEL_TRACES_SAMPLER=",
        "OTEL_PROPAGATORS entry",
        "OTEL_BSP_MAX_QUEUE_SIZE=",
    ] {
        let lines = stderr.lines().filter(|l| l.contains(var)).count();
        assert_eq!(lines, 1, "{var}: {stderr}");
    }
}

#[test]
#[ignore = "run in a process of its own by a_second_build_repeats_no_warning"]
fn child_builds_twice() {
    let first = tracekit::builder().quiet(true).build();
    let second = tracekit::builder().quiet(true).build();
    first.shutdown().unwrap();
    second.shutdown().unwrap();
}
