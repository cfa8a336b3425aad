//! A pipeline built more than once from one environment reports each
//! configuration mistake once, the sampler's and the propagators' included.
//! The child runs in a process of its own, with those variables set.

mod child_process;

#[test]
fn a_second_build_repeats_no_warning() {
    let stderr = child_process::run_child(
        "child_builds_twice",
        [
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_PROPAGATORS", "tracecontext,bogus"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "abc"),
        ],
    )
    .stderr;
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
