//! OTLP over TLS against a real TLS receiver on 127.0.0.1 whose
//! certificates the test makes: a private CA trusted through
//! `OTEL_EXPORTER_OTLP_CERTIFICATE`, verification failures, and mutual TLS.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SpanExporter;
use tracekit::export::otlp::OtlpConfig;
use tracekit::testing::receiver::{OtlpReceiver, TestCertificateFiles, TestCertificates};
use tracekit::testing::SpanDataBuilder;

mod support;
use support::protocols;

/// A fresh directory for one test's files.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracekit-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Certificates, written to a scratch directory.
fn pki(name: &str) -> (TestCertificates, TestCertificateFiles) {
    let pki = TestCertificates::generate().expect("certificates");
    let files = pki.write_to(&scratch_dir(name)).expect("write PEM files");
    (pki, files)
}

/// Export two spans with the configuration `env` describes, from a plain
/// thread as the batch processor does.
fn export(env: &HashMap<String, String>) -> OTelSdkResult {
    let config = OtlpConfig::from_env(env)
        .with_timeout(Duration::from_secs(3))
        .without_retry();
    let exporter = config.build_exporter().expect("exporter builds");
    let spans = (1..=2)
        .map(|i| {
            SpanDataBuilder::new("tls-span")
                .trace_id(TraceId::from(0xabc))
                .span_id(SpanId::from(i))
                .build()
        })
        .collect();
    std::thread::spawn(move || futures_executor::block_on(exporter.export(spans)))
        .join()
        .expect("export thread")
}

fn env_with(
    receiver: &OtlpReceiver,
    protocol: &str,
    vars: &[(&str, &PathBuf)],
) -> HashMap<String, String> {
    let mut env = receiver.env(protocol);
    for (var, path) in vars {
        env.insert(var.to_string(), path.display().to_string());
    }
    env
}

#[test]
fn spans_arrive_over_https_trusting_a_private_ca() {
    let (pki, files) = pki("trusted");
    let receiver = OtlpReceiver::start_tls(pki.receiver_tls()).expect("receiver");
    for protocol in protocols() {
        receiver.reset();
        let env = env_with(
            &receiver,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", &files.ca)],
        );
        assert!(env["OTEL_EXPORTER_OTLP_ENDPOINT"].starts_with("https://"));
        export(&env).unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(receiver.span_count(), 2, "{protocol}");
        let names: Vec<String> = receiver.spans().into_iter().map(|s| s.span.name).collect();
        assert_eq!(names, ["tls-span", "tls-span"], "{protocol}");
    }
}

#[test]
fn an_untrusted_certificate_fails_with_a_verification_message() {
    let (pki, _files) = pki("untrusted");
    let receiver = OtlpReceiver::start_tls(pki.receiver_tls()).expect("receiver");
    for protocol in protocols() {
        let error = export(&receiver.env(protocol))
            .expect_err("an unknown CA must not be trusted")
            .to_string();
        assert!(
            error.contains("certificate verification failed"),
            "{protocol}: {error}"
        );
        assert!(
            error.contains(&receiver.http_endpoint()) || error.contains(&receiver.grpc_endpoint()),
            "{protocol}: {error}"
        );
        assert_eq!(receiver.span_count(), 0, "{protocol}");
    }
}

#[test]
fn mutual_tls_accepts_the_configured_client_and_rejects_others() {
    let (pki, files) = pki("mutual");
    let receiver = OtlpReceiver::start_tls(pki.receiver_mutual_tls()).expect("receiver");
    for protocol in protocols() {
        receiver.reset();
        let with_client = env_with(
            &receiver,
            protocol,
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", &files.ca),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                    &files.client_certificate,
                ),
                ("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", &files.client_key),
            ],
        );
        export(&with_client).unwrap_or_else(|e| panic!("{protocol}: {e}"));
        assert_eq!(receiver.span_count(), 2, "{protocol}");

        let without = env_with(
            &receiver,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", &files.ca)],
        );
        let error = export(&without)
            .expect_err("a client without a certificate must be refused")
            .to_string();
        assert!(error.contains("client certificate"), "{protocol}: {error}");
        assert_eq!(receiver.span_count(), 2, "{protocol}: nothing more arrived");
    }
}

#[test]
fn unusable_tls_files_are_reported_and_left_out() {
    let (pki, files) = pki("unusable");
    let dir = scratch_dir("unusable-bad");
    let garbage = dir.join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.join("missing.pem");
    let env = |vars: &[(&str, &PathBuf)]| -> HashMap<String, String> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.display().to_string()))
            .collect()
    };
    // A missing or malformed CA file: the system's trust store only.
    assert_eq!(
        OtlpConfig::from_env(&env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", &missing)])).certificate(),
        None
    );
    assert_eq!(
        OtlpConfig::from_env(&env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", &garbage)])).certificate(),
        None
    );
    // The generic variable still serves when the traces one is broken.
    let fallback = OtlpConfig::from_env(&env(&[
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &garbage),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &files.ca),
    ]));
    assert_eq!(fallback.certificate(), Some(files.ca.as_path()));
    // A key without its certificate, or the reverse: no client certificate.
    let key_only = OtlpConfig::from_env(&env(&[(
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        &files.client_key,
    )]));
    assert_eq!(key_only.client_certificate(), None);
    let certificate_as_key = OtlpConfig::from_env(&env(&[
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            &files.client_certificate,
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &files.client_certificate),
    ]));
    assert_eq!(certificate_as_key.client_certificate(), None);
    // Set in code, a bad file fails the build and says which setting.
    let error = OtlpConfig::default()
        .with_certificate(&missing)
        .build_exporter()
        .expect_err("a missing CA file")
        .to_string();
    assert!(
        error.contains("with_certificate") && error.contains("missing.pem"),
        "{error}"
    );
    drop(pki);
}
