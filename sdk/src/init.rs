//! [`init`] and [`TracekitBuilder`]: one call that reads the environment,
//! builds the pipeline and installs it globally.
//!
//! Precedence: what code sets explicitly (sampler, limits, processors)
//! wins; everything code leaves open comes from the standard `OTEL_*`
//! variables, then from the specification's defaults. The service name is
//! the exception the specification makes: `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` override the builder.

use crate::env::{parse_bool, warn_invalid, EnvSource, ProcessEnv};
use crate::export::console::ConsoleExporter;
use crate::export::otlp::OtlpConfig;
use crate::layer::fmt::LogFormat;
use crate::redaction::{RedactionConfig, RedactionCounters, Redactor};
use crate::resource::ResourceConfig;
use crate::trace::processor::{sink_for, ExportSink};
use crate::trace::{
    BatchConfig, BatchSpanProcessor, ProcessorError, SpanCounters, SpanLimits, SpanProcessor,
    Tracer, TracerProvider,
};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanExporter;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tracekit_propagators::SharedPropagator;
use tracekit_samplers::Sampler;
use tracing::level_filters::LevelFilter;

/// The built-in exporters `OTEL_TRACES_EXPORTER` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExporterKind {
    /// OTLP (`otlp`), configured by the `OTEL_EXPORTER_OTLP_*` variables.
    Otlp,
    /// The console waterfall (`console`).
    Console,
}

/// How long the guard's drop waits for the final export by default.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The console exporter's batch delay: traces appear promptly.
const CONSOLE_SCHEDULED_DELAY: Duration = Duration::from_millis(200);

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
                    "unknown exporter",
                    "skipping it",
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

/// Configures and starts tracekit. Obtain one with [`builder`].
pub struct TracekitBuilder {
    resource: ResourceConfig,
    sampler: Option<Box<dyn Sampler>>,
    limits: Option<SpanLimits>,
    batch: Option<BatchConfig>,
    processors: Vec<Box<dyn SpanProcessor>>,
    exporters: Vec<Box<dyn ExportSink>>,
    meter_provider: Option<Arc<dyn MeterProvider + Send + Sync>>,
    fallback_exporters: Vec<ExporterKind>,
    propagator: Option<SharedPropagator>,
    env: Box<dyn EnvSource>,
    shutdown_timeout: Duration,
    tracing_subscriber: bool,
    tracing_level: Option<LevelFilter>,
    log_format: Option<LogFormat>,
    redaction: Option<RedactionConfig>,
    quiet: Option<bool>,
    #[cfg(feature = "signal")]
    flush_on_signal: bool,
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

/// A builder for what code must decide; see [`init`] for the defaults.
pub fn builder() -> TracekitBuilder {
    TracekitBuilder::default()
}

/// Set tracekit up from the environment and install it globally: the
/// tracer provider (`opentelemetry::global::tracer(..)` then produces
/// tracekit spans; [`tracer()`] gives tracekit's tracer itself), the propagator (`OTEL_PROPAGATORS`, default
/// `tracecontext,baggage`) and a `tracing` subscriber whose layer turns
/// `tracing` spans (`#[instrument]`) into tracekit spans, with log lines
/// when `TRACEKIT_LOG_FORMAT` is `text` or `json`. One line on standard
/// error says where spans go and how to see them locally
/// (`TRACEKIT_QUIET=true` or [`TracekitBuilder::quiet`] silences it).
///
/// **Bind the guard to a named variable** for as long as the program runs:
/// `let _guard = tracekit::init();`. Dropping it flushes and shuts down,
/// waiting at most 10 seconds, and `let _ = tracekit::init();` drops it at
/// once: nothing is exported after that line.
///
/// ```
/// # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
/// let _guard = tracekit::init();
/// use opentelemetry::trace::Tracer as _;
/// tracekit::tracer("example").in_span("work", |_cx| {});
/// // `_guard` drops at the end of the scope: the spans are flushed.
/// ```
///
/// Call it once per process. A second call (or a second
/// [`install`](TracekitBuilder::install)) warns once on standard error and
/// installs nothing: the first pipeline stays the only one, and the second
/// guard gives access to it without shutting it down when dropped.
///
/// A server stopped by SIGTERM (`docker stop`, Kubernetes) must let `main`
/// return for the guard to drop: see [`shutdown_signal`](crate::shutdown_signal)
/// and [`TracekitBuilder::flush_on_signal`].
pub fn init() -> TracekitGuard {
    builder().install()
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

    fn exporter_kinds(&self) -> Vec<ExporterKind> {
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
            warnings.iter().for_each(|w| eprintln!("{w}"));
            sampler
        });
        let propagator = match self.propagator {
            Some(p) => p,
            None => {
                let (p, warnings) =
                    tracekit_propagators::from_env_value(env.get("OTEL_PROPAGATORS").as_deref());
                warnings.iter().for_each(|w| eprintln!("{w}"));
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
        if !self.processors.is_empty() {
            destinations.push(count_of_your_own(self.processors.len(), "span processor"));
        }
        if !disabled {
            for p in self.processors {
                builder = builder.with_boxed_span_processor(p);
            }
            for kind in exporter_kinds {
                match kind {
                    ExporterKind::Otlp => match OtlpConfig::from_env(env).build_exporter() {
                        Ok(exporter) => {
                            let config = OtlpConfig::from_env(env);
                            destinations.insert(
                                0,
                                format!(
                                    "OTLP ({}) at {}",
                                    config.protocol().as_str(),
                                    config.endpoint()
                                ),
                            );
                            builder = builder.with_batch_exporter_config(exporter, batch);
                        }
                        Err(e) => {
                            warn_invalid(
                                "OTEL_TRACES_EXPORTER",
                                "otlp",
                                &format!("the OTLP exporter could not be built: {e}"),
                                "no OTLP export",
                            );
                        }
                    },
                    ExporterKind::Console => {
                        let config = BatchConfig {
                            scheduled_delay: batch.scheduled_delay.min(CONSOLE_SCHEDULED_DELAY),
                            ..batch
                        };
                        destinations.push("the console waterfall on standard output".into());
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
        } else if destinations.is_empty() {
            "nowhere: no exporter chosen".to_string()
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

    /// Build the pipeline and install it globally (tracer provider and
    /// propagator); see [`init`]. Once per process: a second call warns
    /// once, installs nothing and returns a guard to the first pipeline
    /// that does not shut it down when dropped.
    pub fn install(self) -> TracekitGuard {
        let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(first) = installed.as_ref() {
            warn_second_install(first);
            return TracekitGuard {
                tracekit: first.share(),
                shut_down: false,
                owns_pipeline: false,
            };
        }
        let quiet = self
            .quiet
            .unwrap_or_else(|| parse_bool(&*self.env, "TRACEKIT_QUIET", "false").unwrap_or(false));
        #[cfg(feature = "signal")]
        let flush_on_signal = self.flush_on_signal;
        let tracing_subscriber = self.tracing_subscriber;
        let log_format = self
            .log_format
            .unwrap_or_else(|| log_format_from_env(&*self.env));
        let level = self
            .tracing_level
            .unwrap_or_else(|| tracing_level_from_env(&*self.env));
        let tracekit = self.build();
        if tracing_subscriber {
            install_tracing_subscriber(tracekit.tracer(TRACING_SCOPE), level, log_format);
        }
        opentelemetry::global::set_tracer_provider(tracekit.provider.clone());
        // Through tracekit_propagators::global, so integrations use it
        // directly for as long as no other global propagator replaces it.
        tracekit_propagators::global::set_text_map_propagator(tracekit.propagator.clone());
        #[cfg(feature = "signal")]
        if flush_on_signal {
            crate::signal::flush_on_signal(tracekit.provider.clone(), tracekit.shutdown_timeout);
        }
        if !quiet {
            eprintln!("{}", startup_line(&tracekit, log_format));
        }
        *installed = Some(tracekit.share());
        TracekitGuard {
            tracekit,
            shut_down: false,
            owns_pipeline: true,
        }
    }
}

/// A tracer of the installed pipeline (from [`init`] or
/// [`TracekitBuilder::install`]) for the instrumentation scope `name`:
/// tracekit's own [`Tracer`], the fast way to start spans.
/// `opentelemetry::global::tracer(name)` reaches the same pipeline, but
/// through the API's boxed tracer: each span then costs a heap allocation,
/// dynamic calls and a wall-clock read more (the `span` benchmark measures
/// both side by side), which is fine for libraries written against the
/// API and worth avoiding in hot code.
///
/// Take it after `init()`: before, there is no pipeline, and the tracer
/// (like a global tracer taken before `init()`) records nothing, ever.
///
/// ```
/// use opentelemetry::trace::{TraceContextExt, Tracer as _};
///
/// # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
/// let _guard = tracekit::init();
/// let tracer = tracekit::tracer("checkout");
/// tracer.in_span("charge card", |cx| {
///     assert!(cx.span().span_context().is_sampled());
/// });
/// ```
pub fn tracer(name: impl Into<Cow<'static, str>>) -> Tracer {
    let installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    match installed.as_ref() {
        Some(tracekit) => tracekit.tracer(name),
        None => TracerProvider::builder()
            .disabled(true)
            .build()
            .tracer(name),
    }
}

/// The pipeline the first [`TracekitBuilder::install`] installed.
static INSTALLED: std::sync::Mutex<Option<Tracekit>> = std::sync::Mutex::new(None);

fn count_of_your_own(count: usize, what: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {what}{plural} of your own")
}

/// The one line [`TracekitBuilder::install`] prints on standard error.
fn startup_line(tracekit: &Tracekit, log_format: LogFormat) -> String {
    let service = crate::resource::resource_string(tracekit.provider.resource(), "service.name")
        .unwrap_or_default();
    let logs = match log_format {
        LogFormat::Off => "; `tracing` logs are off",
        _ => "",
    };
    format!(
        "tracekit: service {service:?} sends spans to {}{logs}; to see spans and logs here, \
         run with OTEL_TRACES_EXPORTER=console TRACEKIT_LOG_FORMAT=text \
         (TRACEKIT_QUIET=true hides this line)",
        tracekit.export_summary
    )
}

/// A second `init()`: one warning per process.
fn warn_second_install(first: &Tracekit) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let service = crate::resource::resource_string(first.provider.resource(), "service.name")
        .unwrap_or_default();
    let state = if first.provider.is_shutdown() {
        " It has been shut down (its guard was dropped), so spans are no longer exported: \
         keep the first guard alive for the whole program."
    } else {
        ""
    };
    eprintln!(
        "tracekit: init()/install() called a second time; tracekit keeps the first pipeline \
         (service {service:?}) and installs nothing: this call's settings are ignored and \
         dropping its guard does not shut the first pipeline down.{state}"
    );
}

/// The instrumentation scope of spans made from `tracing` spans.
pub const TRACING_SCOPE: &str = "tracing";

fn log_format_from_env(env: &dyn EnvSource) -> LogFormat {
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

fn tracing_level_from_env(env: &dyn EnvSource) -> LevelFilter {
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

fn install_tracing_subscriber(tracer: Tracer, level: LevelFilter, log_format: LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer as _;
    let subscriber = tracing_subscriber::registry()
        .with(crate::layer::layer(tracer).with_filter(level))
        .with(crate::layer::fmt::log_layer(log_format, std::io::stderr).with_filter(level));
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!(
            "tracekit: a global `tracing` subscriber is already set, so tracekit did not install \
             its own and `tracing` spans (#[instrument]) will not reach tracekit. To compose them, \
             add `tracekit::layer::layer(guard.tracer(tracekit::TRACING_SCOPE))` to your \
             subscriber and install with `tracekit::builder().tracing_subscriber(false)`."
        );
    }
}

/// A built pipeline: the provider and the propagator chosen for it.
pub struct Tracekit {
    provider: TracerProvider,
    propagator: SharedPropagator,
    redactor: Arc<Redactor>,
    shutdown_timeout: Duration,
    export_summary: Arc<str>,
}

impl std::fmt::Debug for Tracekit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracekit")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Tracekit {
    /// The same pipeline, shared.
    fn share(&self) -> Tracekit {
        Tracekit {
            provider: self.provider.clone(),
            propagator: self.propagator.clone(),
            redactor: Arc::clone(&self.redactor),
            shutdown_timeout: self.shutdown_timeout,
            export_summary: Arc::clone(&self.export_summary),
        }
    }

    /// Where spans go, in words: `OTLP (http/protobuf) at
    /// http://localhost:4318/v1/traces`, `the console waterfall on standard
    /// output`, exporters and processors of your own, or `nowhere: ...`.
    /// [`TracekitBuilder::install`]'s start-up line shows it.
    ///
    /// ```
    /// let tk = tracekit::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "console")])
    ///     .build();
    /// assert_eq!(tk.export_summary(), "the console waterfall on standard output");
    /// ```
    pub fn export_summary(&self) -> &str {
        &self.export_summary
    }

    /// The tracer provider.
    pub fn provider(&self) -> &TracerProvider {
        &self.provider
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.provider.tracer(name)
    }

    /// The propagator (from `OTEL_PROPAGATORS` unless code chose one).
    pub fn propagator(&self) -> &(dyn TextMapPropagator + Send + Sync) {
        &self.propagator
    }

    /// The span counters.
    pub fn counters(&self) -> SpanCounters {
        self.provider.counters()
    }

    /// How many values each redaction rule has redacted so far.
    pub fn redaction_counters(&self) -> RedactionCounters {
        self.redactor.counters()
    }

    /// Flush and shut down, waiting at most the configured timeout.
    pub fn shutdown(&self) -> Result<(), ProcessorError> {
        self.provider.shutdown(self.shutdown_timeout)
    }
}

/// Keeps tracekit running; dropping it flushes and shuts down within the
/// shutdown timeout (10 s by default), from any thread or async runtime.
///
/// Bind it to a named variable that lives as long as the program:
/// `let _guard = tracekit::init();`. `let _ = tracekit::init();` drops it
/// on that very line, and nothing is exported afterwards. The guard of a
/// second `init()` (see [`init`]) does not own the pipeline: dropping it
/// does nothing and [`shutdown`](Self::shutdown) only flushes.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// tracekit::init(); // error: the guard must be used (bound)
/// ```
#[must_use = "bind the guard for as long as the program runs: `let _guard = tracekit::init();` \
              (`let _ = ...` drops it at once: tracekit shuts down and exports nothing)"]
#[derive(Debug)]
pub struct TracekitGuard {
    tracekit: Tracekit,
    shut_down: bool,
    owns_pipeline: bool,
}

impl TracekitGuard {
    /// The installed pipeline.
    pub fn tracekit(&self) -> &Tracekit {
        &self.tracekit
    }

    /// The installed tracer provider.
    pub fn provider(&self) -> &TracerProvider {
        &self.tracekit.provider
    }

    /// A tracer for the instrumentation scope `name`.
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.tracekit.tracer(name)
    }

    /// The span counters.
    pub fn counters(&self) -> SpanCounters {
        self.tracekit.counters()
    }

    /// How many values each redaction rule has redacted so far.
    pub fn redaction_counters(&self) -> RedactionCounters {
        self.tracekit.redaction_counters()
    }

    /// Flush everything ended so far.
    pub fn force_flush(&self) -> Result<(), ProcessorError> {
        self.tracekit
            .provider
            .force_flush(self.tracekit.shutdown_timeout)
    }

    /// Shut down now and report how it went (dropping the guard does the
    /// same silently). The guard of a second `init()` only flushes.
    pub fn shutdown(mut self) -> Result<(), ProcessorError> {
        self.shut_down = true;
        if self.owns_pipeline {
            self.tracekit.shutdown()
        } else {
            self.force_flush()
        }
    }
}

impl Drop for TracekitGuard {
    /// Shut down, then say on standard error what was lost, if anything
    /// was ([`SpanCounters::summary_line`]).
    fn drop(&mut self) {
        if self.owns_pipeline && !self.shut_down {
            let _ = self.tracekit.shutdown();
            if let Some(line) = self.tracekit.counters().summary_line() {
                eprintln!("{line}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
