//! The quickstart run as a user would, with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! pointing at an in-process OTLP receiver: every span arrives before the
//! process exits, with the error recorded as an exception event.

use std::process::Command;
use std::time::Duration;
use tracekit::testing::receiver::{OtlpReceiver, TestCertificates};

#[test]
fn all_spans_reach_the_collector_before_exit() {
    let receiver = OtlpReceiver::start().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The process has exited: whatever arrived, arrived before exit.
    assert!(receiver.wait_for_spans(4, Duration::from_millis(1)));
    let spans = receiver.spans();
    assert_eq!(spans.len(), 4);
    let names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
    for expected in ["POST /checkout", "load cart", "SELECT carts", "charge card"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let charge = spans.iter().find(|s| s.span.name == "charge card").unwrap();
    let exception = charge
        .span
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert!(exception
        .attributes
        .iter()
        .any(|kv| kv.key == "exception.type"));
    assert_eq!(charge.service_name(), "quickstart");
    // Nothing printed as a waterfall when exporting over OTLP.
    assert!(!String::from_utf8_lossy(&output.stdout).contains("▶ trace"));
}

/// The same over https to a collector whose certificate a private CA
/// signed, configured through the environment alone: the CA is trusted
/// through `OTEL_EXPORTER_OTLP_CERTIFICATE`.
#[test]
fn all_spans_reach_a_tls_collector_trusting_a_private_ca() {
    let pki = TestCertificates::generate().unwrap();
    let dir = std::env::temp_dir().join(format!("quickstart-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = pki.write_to(&dir).unwrap();
    let receiver = OtlpReceiver::start_tls(pki.receiver_tls()).unwrap();
    let run = |with_ca: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_quickstart"));
        command
            .env_clear()
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.http_endpoint());
        if with_ca {
            command.env("OTEL_EXPORTER_OTLP_CERTIFICATE", &files.ca);
        }
        command.output().unwrap()
    };
    // Without the CA the collector is not trusted, and stderr says why.
    let untrusted = run(false);
    assert!(untrusted.status.success(), "{untrusted:?}");
    assert_eq!(receiver.span_count(), 0);
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        stderr.contains("certificate verification failed")
            && stderr.contains(&receiver.http_endpoint()),
        "{stderr}"
    );

    let output = run(true);
    assert!(output.status.success(), "{output:?}");
    assert!(receiver.wait_for_spans(4, Duration::from_millis(1)));
    assert_eq!(receiver.spans().len(), 4);
}
