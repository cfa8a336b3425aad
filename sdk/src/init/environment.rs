//! What `init()` reads from the environment beyond the `OTEL_*`
//! variables other modules own: `OTEL_TRACES_EXPORTER`,
//! `TRACEKIT_LOG_FORMAT`, `TRACEKIT_TRACING_LEVEL`.

use crate::env::{warn_invalid, EnvSource};
use crate::layer::fmt::LogFormat;
use tracing::level_filters::LevelFilter;

/// The built-in exporters `OTEL_TRACES_EXPORTER` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP (`otlp`), configured by the `OTEL_EXPORTER_OTLP_*` variables.
    Otlp,
    /// The console waterfall (`console`).
    Console,
}

/// Parse `OTEL_TRACES_EXPORTER`: a comma list of `otlp`, `console`, `none`.
/// Unknown names warn and are skipped; duplicates are removed.
pub fn parse_traces_exporter(value: &str) -> Vec<ExporterKind> {
    let mut kinds = Vec::new();
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let kind = match name.to_ascii_lowercase().as_str() {
            "otlp" => Some(ExporterKind::Otlp),
            "console" | "logging" => Some(ExporterKind::Console),
            "none" => None,
            _ => {
                warn_invalid(
                    "OTEL_TRACES_EXPORTER",
                    name,
                    "unknown exporter; expected otlp, console or none",
                    "no exporter for it",
                );
                None
            }
        };
        if let Some(kind) = kind {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    kinds
}

/// The instrumentation scope of spans made from `tracing` spans.
pub const TRACING_SCOPE: &str = "tracing";

pub(super) fn log_format_from_env(env: &dyn EnvSource) -> LogFormat {
    match env.get("TRACEKIT_LOG_FORMAT") {
        None => LogFormat::Off,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            warn_invalid(
                "TRACEKIT_LOG_FORMAT",
                &raw,
                "expected text, json or off",
                "off",
            );
            LogFormat::Off
        }),
    }
}

/// The default level of the installed `tracing` subscriber.
pub const DEFAULT_TRACING_LEVEL: LevelFilter = LevelFilter::INFO;

pub(super) fn tracing_level_from_env(env: &dyn EnvSource) -> LevelFilter {
    match env.get("TRACEKIT_TRACING_LEVEL") {
        None => DEFAULT_TRACING_LEVEL,
        Some(raw) => raw.parse().unwrap_or_else(|_| {
            warn_invalid(
                "TRACEKIT_TRACING_LEVEL",
                &raw,
                "expected trace, debug, info, warn, error or off",
                "info",
            );
            DEFAULT_TRACING_LEVEL
        }),
    }
}
