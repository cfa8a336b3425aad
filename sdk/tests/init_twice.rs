//! `init()` called twice, and a `tracing` subscriber of the user's set
//! before `init()`. Each scenario touches process-wide globals, so each
//! runs in a process of its own: the parent test runs this binary again
//! with only the (ignored) child test selected and checks its standard
//! error; the child asserts on the spans itself.

use opentelemetry::global;
use opentelemetry::trace::Tracer as _;
use tracekit::testing::receiver::OtlpReceiver;

mod child_process;

/// Run the ignored test `name` of this binary in a new process; its
/// standard error. Fails if the child fails.
fn run_child(name: &str) -> String {
    child_process::run_child(name, child_process::NO_ENV).stderr
}

/// The lines of `stderr` containing `needle`.
fn lines_with<'a>(stderr: &'a str, needle: &str) -> Vec<&'a str> {
    stderr.lines().filter(|l| l.contains(needle)).collect()
}

/// The only line of `stderr` containing `needle`, which tracekit printed.
fn the_one_tracekit_line<'a>(stderr: &'a str, needle: &str) -> &'a str {
    let lines = lines_with(stderr, needle);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("tracekit: "), "{}", lines[0]);
    lines[0]
}

#[test]
fn a_second_init_warns_once_and_keeps_one_pipeline() {
    let stderr = run_child("child_init_twice");
    let warning = the_one_tracekit_line(&stderr, "called a second time");
    assert!(
        warning.contains("keeps the first pipeline (service \"first\")"),
        "{warning}"
    );
    // One start-up line: the second call printed none.
    let startup = stderr
        .lines()
        .filter(|l| l.contains("sends spans to"))
        .count();
    assert_eq!(startup, 1, "{stderr}");
}

#[test]
#[ignore = "run in a process of its own by a_second_init_warns_once_and_keeps_one_pipeline"]
fn child_init_twice() {
    let receiver = OtlpReceiver::start().unwrap();
    let env = |service: &str| {
        let mut env = receiver.env("http/protobuf");
        env.insert("OTEL_SERVICE_NAME".into(), service.into());
        env
    };
    let first = tracekit::builder().with_env(env("first")).install();
    let second = tracekit::builder().with_env(env("second")).install();
    let third = tracekit::init();

    #[tracing::instrument]
    fn instrumented() {}
    global::tracer("api").in_span("api span", |_cx| instrumented());
    second
        .tracer("direct")
        .in_span("through the second guard", |_cx| {});

    // Dropping the later guards shuts nothing down.
    drop(third);
    drop(second);
    assert!(!first.provider().is_shutdown());
    global::tracer("api").in_span("after the drops", |_cx| {});
    drop(first);

    let spans = receiver.spans();
    let mut names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "after the drops",
            "api span",
            "instrumented",
            "through the second guard"
        ]
    );
    for span in &spans {
        assert_eq!(span.service_name(), "first", "{}", span.span.name);
    }
}

#[test]
fn a_user_subscriber_set_first_gets_a_clear_message() {
    let stderr = run_child("child_user_subscriber_first");
    let line = the_one_tracekit_line(&stderr, "subscriber");
    assert!(line.contains("tracekit::layer::layer("), "{line}");
    assert!(line.contains("tracing_subscriber(false)"), "{line}");
    assert!(!line.contains("using not installing"), "{line}");
}

#[test]
#[ignore = "run in a process of its own by a_user_subscriber_set_first_gets_a_clear_message"]
fn child_user_subscriber_first() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry()).unwrap();
    let receiver = OtlpReceiver::start().unwrap();
    let guard = tracekit::builder()
        .with_env(receiver.env("http/protobuf"))
        .install();
    // The provider is still installed: API spans are exported.
    global::tracer("api").in_span("api span", |_cx| {});
    drop(guard);
    assert_eq!(receiver.span_count(), 1);
}
