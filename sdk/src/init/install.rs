//! Installing a built pipeline globally: the tracer provider, the
//! propagator, the `tracing` subscriber, the start-up line, and what a
//! second installation does.

use super::builder::TracekitBuilder;
use super::environment::{log_format_from_env, tracing_level_from_env, TRACING_SCOPE};
use super::guard::TracekitGuard;
use super::pipeline::Tracekit;
use crate::env::parse_bool;
use crate::layer::fmt::LogFormat;
use crate::trace::{Tracer, TracerProvider};
use std::borrow::Cow;
use tracing::level_filters::LevelFilter;

impl TracekitBuilder {
    /// Build the pipeline and install it globally (tracer provider and
    /// propagator); see [`init`](crate::init). Once per process: a second call warns
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
            crate::signal::flush_on_signal(
                tracekit.provider.clone(),
                tracekit.shutdown_timeout,
                std::sync::Arc::clone(&tracekit.export_summary),
            );
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

/// A tracer of the installed pipeline (from [`init`](crate::init) or
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

/// The one line [`TracekitBuilder::install`] prints on standard error.
fn startup_line(tracekit: &Tracekit, log_format: LogFormat) -> String {
    let service = crate::resource::resource_string(tracekit.provider.resource(), "service.name")
        .unwrap_or_default();
    let logs = match log_format {
        LogFormat::Off => "; `tracing` logs are off",
        _ => "",
    };
    let console = tracekit
        .export_summary
        .split(", ")
        .any(|destination| destination == super::builder::CONSOLE_DESTINATION);
    // Both already on: nothing to suggest.
    let hint = if console && log_format != LogFormat::Off {
        ""
    } else {
        "; to see spans and logs here, run with OTEL_TRACES_EXPORTER=console TRACEKIT_LOG_FORMAT=text"
    };
    format!(
        "tracekit: service {service:?} sends spans to {}{logs}{hint} \
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
