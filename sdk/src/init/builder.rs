//! [`TracekitBuilder`]: what code decides, and [`TracekitBuilder::build`],
//! which assembles the pipeline (resource, sampler, limits, redaction,
//! processors and exporters) from it and the environment.

use super::environment::{parse_traces_exporter, ExporterKind};
use super::pipeline::Tracekit;
use crate::env::{parse_bool, warn_invalid, warn_line_once, EnvSource, ProcessEnv};
use crate::export::console::ConsoleExporter;
use crate::export::otlp::{OtlpConfig, OtlpProtocol};
use crate::layer::fmt::LogFormat;
use crate::redaction::RedactionConfig;
use crate::resource::ResourceConfig;
use crate::trace::processor::{sink_for, ExportSink};
use crate::trace::{BatchConfig, BatchSpanProcessor, SpanLimits, SpanProcessor, TracerProvider};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanExporter;
use std::sync::Arc;
use std::time::Duration;
use tracekit_propagators::SharedPropagator;
use tracekit_samplers::Sampler;
use tracing::level_filters::LevelFilter;

/// How long the guard's drop waits for the final export by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The console exporter's batch delay: traces appear promptly.
const CONSOLE_SCHEDULED_DELAY: Duration = Duration::from_millis(200);

/// Configures and starts tracekit. Obtain one with [`builder`](crate::builder).
pub struct TracekitBuilder {
    pub(super) resource: ResourceConfig,
    pub(super) sampler: Option<Box<dyn Sampler>>,
    pub(super) limits: Option<SpanLimits>,
    pub(super) batch: Option<BatchConfig>,
    pub(super) processors: Vec<Box<dyn SpanProcessor>>,
    pub(super) exporters: Vec<Box<dyn ExportSink>>,
    pub(super) meter_provider: Option<Arc<dyn MeterProvider + Send + Sync>>,
    pub(super) fallback_exporters: Vec<ExporterKind>,
    pub(super) propagator: Option<SharedPropagator>,
    pub(super) env: Box<dyn EnvSource>,
    pub(super) shutdown_timeout: Duration,
    pub(super) tracing_subscriber: bool,
    pub(super) tracing_level: Option<LevelFilter>,
    pub(super) log_format: Option<LogFormat>,
    pub(super) redaction: Option<RedactionConfig>,
    pub(super) quiet: Option<bool>,
    #[cfg(feature = "signal")]
    pub(super) flush_on_signal: bool,
}

impl std::fmt::Debug for TracekitBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracekitBuilder")
            .field("resource", &self.resource)
            .field("sampler", &self.sampler)
            .field("limits", &self.limits)
            .field("fallback_exporters", &self.fallback_exporters)
            .finish_non_exhaustive()
    }
}

impl Default for TracekitBuilder {
    fn default() -> Self {
        TracekitBuilder {
            resource: ResourceConfig::default(),
            sampler: None,
            limits: None,
            batch: None,
            processors: Vec::new(),
            exporters: Vec::new(),
            meter_provider: None,
            fallback_exporters: vec![ExporterKind::Otlp],
            propagator: None,
            env: Box::new(ProcessEnv),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            tracing_subscriber: true,
            tracing_level: None,
            log_format: None,
            redaction: None,
            quiet: None,
            #[cfg(feature = "signal")]
            flush_on_signal: false,
        }
    }
}

impl TracekitBuilder {
    /// `service.name` (overridden by `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.resource.service_name = Some(name.into());
        self
    }

    /// `service.version`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.resource.service_version = Some(version.into());
        self
    }

    /// `deployment.environment.name`.
    pub fn deployment_environment(mut self, environment: impl Into<String>) -> Self {
        self.resource.deployment_environment = Some(environment.into());
        self
    }

    /// Another resource attribute.
    pub fn resource_attribute(mut self, attribute: KeyValue) -> Self {
        self.resource.attributes.push(attribute);
        self
    }

    /// The head sampler (instead of `OTEL_TRACES_SAMPLER`).
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Some(Box::new(sampler));
        self
    }

    /// Span limits (instead of the `OTEL_*_LIMIT` variables).
    pub fn span_limits(mut self, limits: SpanLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Batch settings (instead of the `OTEL_BSP_*` variables).
    pub fn batch_config(mut self, config: BatchConfig) -> Self {
        self.batch = Some(config);
        self
    }

    /// Add a span processor; it runs before the exporters' processors.
    pub fn with_span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.processors.push(Box::new(processor));
        self
    }

    /// **Add** an exporter of your own, behind its own batch processor: it
    /// does not replace the built-in exporters. Those still come from
    /// `OTEL_TRACES_EXPORTER`, an OTLP endpoint variable, or, when neither
    /// is set, [`default_exporters`](Self::default_exporters), which is
    /// OTLP unless changed. To export only to yours by default, add
    /// `.default_exporters(&[])`:
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let memory = tracekit::testing::InMemoryExporter::new();
    /// let empty_env: HashMap<String, String> = HashMap::new();
    ///
    /// // Added to the OTLP default.
    /// let both = tracekit::builder()
    ///     .with_env(empty_env.clone())
    ///     .with_exporter(memory.clone())
    ///     .build();
    /// assert!(both.export_summary().starts_with("OTLP"));
    ///
    /// // Alone.
    /// let only = tracekit::builder()
    ///     .with_env(empty_env)
    ///     .default_exporters(&[])
    ///     .with_exporter(memory)
    ///     .build();
    /// assert_eq!(only.export_summary(), "1 exporter of your own");
    /// ```
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporters.push(sink_for(exporter));
        self
    }

    /// The built-in exporters used when `OTEL_TRACES_EXPORTER` is unset and
    /// no OTLP endpoint variable is set. The default is the specification's
    /// `otlp`; examples and development setups choose `Console`.
    pub fn default_exporters(mut self, kinds: &[ExporterKind]) -> Self {
        self.fallback_exporters = kinds.to_vec();
        self
    }

    /// The propagator to install (instead of `OTEL_PROPAGATORS`).
    pub fn propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagator = Some(SharedPropagator::new(propagator));
        self
    }

    /// The redaction rules applied to every span before export (default:
    /// [`RedactionConfig::new`], the safe defaults). The `TRACEKIT_REDACT_*`
    /// variables still apply on top.
    pub fn redaction(mut self, config: RedactionConfig) -> Self {
        self.redaction = Some(config);
        self
    }

    /// Read configuration from `env` instead of the process environment.
    pub fn with_env(mut self, env: impl EnvSource + 'static) -> Self {
        self.env = Box::new(env);
        self
    }

    /// Whether [`install`](Self::install) sets a global `tracing`
    /// subscriber (a registry with tracekit's layer, plus log lines if a log
    /// format is chosen). Default `true`; turn it off to add
    /// [`layer::layer`](crate::layer::layer) to a subscriber of your own.
    pub fn tracing_subscriber(mut self, install: bool) -> Self {
        self.tracing_subscriber = install;
        self
    }

    /// The most verbose `tracing` spans and events the installed subscriber
    /// records (instead of `TRACEKIT_TRACING_LEVEL`; default `INFO`, which
    /// keeps libraries' debug and trace spans, an HTTP client's connection
    /// pool say, out of the traces and the logs).
    pub fn tracing_level(mut self, level: LevelFilter) -> Self {
        self.tracing_level = Some(level);
        self
    }

    /// Write `tracing` events as log lines carrying `trace_id` and
    /// `span_id`, as text or JSON, to standard error (instead of
    /// `TRACEKIT_LOG_FORMAT`; default off).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// Record tracekit's own metrics (spans started and live, queue size
    /// and capacity, spans processed, exported and in flight, export
    /// durations; see [`TracerProvider::register_self_metrics`]) on this
    /// meter provider. The default is the global one as it is when the
    /// pipeline is built: install a meter provider before `init()`, or give
    /// it here.
    pub fn meter_provider(
        mut self,
        meter_provider: impl MeterProvider + Send + Sync + 'static,
    ) -> Self {
        self.meter_provider = Some(Arc::new(meter_provider));
        self
    }

    /// Whether [`install`](Self::install) stays silent instead of printing
    /// its one start-up line on standard error (where spans go, and how to
    /// see spans and logs locally). Default: `TRACEKIT_QUIET`, else `false`.
    /// Warnings are printed either way.
    ///
    /// ```
    /// # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
    /// let _guard = tracekit::builder().quiet(true).install();
    /// ```
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = Some(quiet);
        self
    }

    /// For programs without a graceful-shutdown hook (workers, jobs,
    /// servers that do not use [`shutdown_signal`](crate::shutdown_signal)):
    /// on the first SIGTERM or SIGINT, flush and shut down (within the
    /// [shutdown timeout](Self::shutdown_timeout)), then exit the process
    /// with status 128 + the signal number (143 for SIGTERM, 130 for
    /// SIGINT). Without it those signals kill the process and every span
    /// still buffered is lost. Do not combine it with a graceful shutdown
    /// of your own: the exit would not wait for it.
    ///
    /// ```
    /// # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
    /// let _guard = tracekit::builder().flush_on_signal().install();
    /// ```
    #[cfg(feature = "signal")]
    pub fn flush_on_signal(mut self) -> Self {
        self.flush_on_signal = true;
        self
    }

    /// How long dropping the guard waits for the final export.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    pub(super) fn exporter_kinds(&self) -> Vec<ExporterKind> {
        let env = &*self.env;
        match env.get("OTEL_TRACES_EXPORTER") {
            Some(value) => parse_traces_exporter(&value),
            None if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
                || env.get("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() =>
            {
                vec![ExporterKind::Otlp]
            }
            None => self.fallback_exporters.clone(),
        }
    }

    /// Build the pipeline without installing anything globally.
    pub fn build(self) -> Tracekit {
        let exporter_kinds = self.exporter_kinds();
        let env = &*self.env;
        let disabled = parse_bool(env, "OTEL_SDK_DISABLED", "false").unwrap_or(false);
        let resource = self.resource.build(env);
        let limits = self.limits.unwrap_or_else(|| SpanLimits::from_env(env));
        let batch = self.batch.unwrap_or_else(|| BatchConfig::from_env(env));
        let sampler = self.sampler.unwrap_or_else(|| {
            let (sampler, warnings) = tracekit_samplers::from_env_values(
                env.get("OTEL_TRACES_SAMPLER").as_deref(),
                env.get("OTEL_TRACES_SAMPLER_ARG").as_deref(),
            );
            warnings.iter().for_each(|w| {
                warn_line_once(w);
            });
            sampler
        });
        let propagator = match self.propagator {
            Some(p) => p,
            None => {
                let (p, warnings) =
                    tracekit_propagators::from_env_value(env.get("OTEL_PROPAGATORS").as_deref());
                warnings.iter().for_each(|w| {
                    warn_line_once(w);
                });
                SharedPropagator::new(p)
            }
        };

        let redactor = Arc::new(self.redaction.unwrap_or_default().apply_env(env).build());

        let mut builder = TracerProvider::builder()
            .with_boxed_sampler(sampler)
            .with_span_limits(limits)
            .with_resource(resource)
            .disabled(disabled);
        if !redactor.is_noop() {
            builder = builder.with_span_transform(redactor.clone());
        }
        let mut destinations = Vec::new();
        let mut otlp_failed = false;
        if !self.processors.is_empty() {
            destinations.push(count_of_your_own(self.processors.len(), "span processor"));
        }
        if !disabled {
            for p in self.processors {
                builder = builder.with_boxed_span_processor(p);
            }
            for kind in exporter_kinds {
                match kind {
                    ExporterKind::Otlp => {
                        let config = OtlpConfig::from_env(env);
                        match config.build_exporter() {
                            Ok(exporter) => {
                                // What the exporter speaks, after any
                                // fallback (http/json without its feature).
                                destinations.insert(
                                    0,
                                    format!(
                                        "OTLP ({}) at {}",
                                        exporter.protocol().as_str(),
                                        exporter.shown_endpoint()
                                    ),
                                );
                                builder = builder.with_batch_exporter_config(exporter, batch);
                            }
                            Err(e) => {
                                let warning = otlp_build_warning(env, &config, &e.to_string());
                                warn_invalid(
                                    warning.variable,
                                    &warning.value,
                                    &warning.reason,
                                    "no OTLP export: spans are not exported over OTLP",
                                );
                                otlp_failed = true;
                            }
                        }
                    }
                    ExporterKind::Console => {
                        let config = BatchConfig {
                            scheduled_delay: batch.scheduled_delay.min(CONSOLE_SCHEDULED_DELAY),
                            ..batch
                        };
                        destinations.push(CONSOLE_DESTINATION.into());
                        builder =
                            builder.with_batch_exporter_config(ConsoleExporter::new(), config);
                    }
                }
            }
            if !self.exporters.is_empty() {
                destinations.push(count_of_your_own(self.exporters.len(), "exporter"));
            }
            for sink in self.exporters {
                builder = builder.with_span_processor(BatchSpanProcessor::from_sink(sink, batch));
            }
        }
        let provider = builder.build();
        match &self.meter_provider {
            Some(meter_provider) => provider.register_self_metrics(meter_provider.as_ref()),
            None => provider.register_self_metrics(&*opentelemetry::global::meter_provider()),
        }
        let export_summary = if disabled {
            "nowhere: disabled by OTEL_SDK_DISABLED".to_string()
        } else if destinations.is_empty() && otlp_failed {
            "nowhere: the OTLP exporter could not be built (see the warning above)".to_string()
        } else if destinations.is_empty() {
            // Said as it was chosen: `none` on purpose, or names that were
            // all refused (their warning is above).
            match env.get("OTEL_TRACES_EXPORTER") {
                Some(value) => format!("nowhere: OTEL_TRACES_EXPORTER is {value:?}"),
                None => "nowhere: no exporter chosen".to_string(),
            }
        } else {
            destinations.join(", ")
        };
        Tracekit {
            provider,
            propagator,
            redactor,
            shutdown_timeout: self.shutdown_timeout,
            export_summary: Arc::from(export_summary),
        }
    }
}

/// How the export summary names the console exporter.
pub(super) const CONSOLE_DESTINATION: &str = "the console waterfall on standard output";

/// The warning for an OTLP exporter that could not be built: it names the
/// variable behind the problem where one is (`OTEL_EXPORTER_OTLP_PROTOCOL`
/// or its `TRACES_` form asking for gRPC in a build without the `grpc`
/// feature), else the variable that chose the OTLP exporter.
pub(super) struct OtlpBuildWarning {
    pub(super) variable: &'static str,
    pub(super) value: String,
    pub(super) reason: String,
}

pub(super) fn otlp_build_warning(
    env: &dyn EnvSource,
    config: &OtlpConfig,
    error: &str,
) -> OtlpBuildWarning {
    if config.protocol() == OtlpProtocol::Grpc && !cfg!(feature = "grpc") {
        // Built from `env`, so the protocol came from one of its variables.
        let variable = config.protocol_origin();
        if let Some(value) = env.get(variable) {
            return OtlpBuildWarning {
                variable,
                value,
                reason: "OTLP over gRPC needs tracekit's cargo feature `grpc`".into(),
            };
        }
    }
    // What chose OTLP: `OTEL_TRACES_EXPORTER`, else an endpoint variable,
    // else the builder's default exporters.
    let (variable, value) = [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .into_iter()
    .find_map(|var| env.get(var).map(|value| (var, value)))
    .unwrap_or(("OTEL_TRACES_EXPORTER", "otlp (the default)".to_string()));
    OtlpBuildWarning {
        variable,
        value,
        reason: error.to_string(),
    }
}

pub(super) fn count_of_your_own(count: usize, what: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {what}{plural} of your own")
}
