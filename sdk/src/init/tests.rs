//! Unit tests of `init`'s parts.

use super::environment::*;
use super::*;
use crate::trace::SpanCounters;
use tracing::level_filters::LevelFilter;

#[test]
fn tracing_level_from_the_environment() {
    let env = [("TRACEKIT_TRACING_LEVEL", "debug")];
    assert_eq!(tracing_level_from_env(&env), LevelFilter::DEBUG);
    let env = [("TRACEKIT_TRACING_LEVEL", "loud")];
    assert_eq!(tracing_level_from_env(&env), DEFAULT_TRACING_LEVEL);
    let env: [(&str, &str); 0] = [];
    assert_eq!(tracing_level_from_env(&env), LevelFilter::INFO);
}

#[test]
fn traces_exporter_lists() {
    assert_eq!(
        parse_traces_exporter("otlp, console,otlp"),
        vec![ExporterKind::Otlp, ExporterKind::Console]
    );
    assert_eq!(parse_traces_exporter("none"), vec![]);
    assert_eq!(
        parse_traces_exporter("zipkin,console"),
        vec![ExporterKind::Console]
    );
}

#[test]
fn exporter_choice_follows_the_environment() {
    let kinds = |env: Vec<(&'static str, &'static str)>, fallback: &[ExporterKind]| {
        let map: std::collections::HashMap<&str, &str> = env.into_iter().collect();
        builder()
            .with_env(map)
            .default_exporters(fallback)
            .exporter_kinds()
    };
    assert_eq!(
        kinds(vec![], &[ExporterKind::Otlp]),
        vec![ExporterKind::Otlp]
    );
    assert_eq!(
        kinds(vec![], &[ExporterKind::Console]),
        vec![ExporterKind::Console]
    );
    assert_eq!(
        kinds(
            vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")],
            &[ExporterKind::Console]
        ),
        vec![ExporterKind::Otlp]
    );
    assert_eq!(
        kinds(
            vec![("OTEL_TRACES_EXPORTER", "none")],
            &[ExporterKind::Console]
        ),
        vec![]
    );
}

#[test]
fn disabled_sdk_builds_no_exporters_and_records_nothing() {
    use opentelemetry::trace::{Span as _, Tracer as _};
    let env: std::collections::HashMap<&str, &str> = [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_TRACES_EXPORTER", "otlp"),
    ]
    .into_iter()
    .collect();
    let tk = builder().with_env(env).build();
    let span = tk.tracer("t").start("x");
    assert!(!span.is_recording());
    assert_eq!(tk.counters(), SpanCounters::default());
}

#[test]
fn env_chooses_sampler_limits_and_resource() {
    let env: std::collections::HashMap<&str, &str> = [
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_TRACES_SAMPLER", "always_off"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "7"),
        ("OTEL_SERVICE_NAME", "from-env"),
    ]
    .into_iter()
    .collect();
    let tk = builder().service_name("from-code").with_env(env).build();
    assert_eq!(tk.provider().sampler_description(), "AlwaysOffSampler");
    assert_eq!(tk.provider().span_limits().max_events_per_span, 7);
    assert_eq!(
        crate::resource::resource_string(tk.provider().resource(), "service.name").as_deref(),
        Some("from-env")
    );
}

#[test]
fn start_up_summary_names_the_protocol_actually_spoken() {
    let env: std::collections::HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ]
    .into_iter()
    .collect();
    let tk = builder().with_env(env).build();
    // Without the `http-json` feature the exporter falls back to
    // http/protobuf, and the summary must say so.
    let spoken = if cfg!(feature = "http-json") {
        "http/json"
    } else {
        "http/protobuf"
    };
    assert_eq!(
        tk.export_summary(),
        format!("OTLP ({spoken}) at http://127.0.0.1:4318/v1/traces")
    );
}

#[test]
fn grpc_without_its_feature_names_the_protocol_variable() {
    use crate::export::otlp::OtlpConfig;
    let env: std::collections::HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC"),
    ]
    .into_iter()
    .collect();
    let config = OtlpConfig::from_env(&env);
    let warning = builder::otlp_build_warning(&env, &config, "cannot build");
    if cfg!(feature = "grpc") {
        assert_eq!(warning.variable, "OTEL_EXPORTER_OTLP_ENDPOINT");
        assert_eq!(warning.reason, "cannot build");
    } else {
        assert_eq!(warning.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert_eq!(warning.value, "GRPC");
        assert!(
            warning.reason.contains("feature `grpc`"),
            "{}",
            warning.reason
        );
        let tk = builder().with_env(env).build();
        assert_eq!(
            tk.export_summary(),
            "nowhere: the OTLP exporter could not be built (see the warning above)"
        );
    }
    // The traces-specific variable, when that is the one asking for gRPC.
    if !cfg!(feature = "grpc") {
        let env: std::collections::HashMap<&str, &str> = [
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ]
        .into_iter()
        .collect();
        let warning = builder::otlp_build_warning(&env, &OtlpConfig::from_env(&env), "e");
        assert_eq!(warning.variable, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    }
    // Nothing set: the builder's default chose OTLP.
    let empty: std::collections::HashMap<&str, &str> = Default::default();
    let warning = builder::otlp_build_warning(&empty, &OtlpConfig::from_env(&empty), "e");
    assert_eq!(warning.variable, "OTEL_TRACES_EXPORTER");
    assert_eq!(warning.value, "otlp (the default)");
}
