//! Shared pieces for tracekit's side-by-side benchmarks: the counting
//! exporter both SDKs export to, and provider constructors configured alike.

pub mod floor_layer;
pub mod otlp_receiver;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An exporter that only counts the spans it receives; both SDKs under test
/// export to it, so export cost is the same on each side.
#[derive(Clone, Debug, Default)]
pub struct CountingExporter {
    count: Arc<AtomicU64>,
}

impl CountingExporter {
    /// Spans received so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl SpanExporter for CountingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.count.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Which sampler both SDKs use in a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSampler {
    /// Sample everything.
    AlwaysOn,
    /// Drop everything.
    AlwaysOff,
}

/// A tracekit provider: the sampler, a batch processor with default
/// settings, and `exporter`.
pub fn tracekit_provider(
    sampler: SameSampler,
    exporter: impl SpanExporter + 'static,
) -> tracekit::TracerProvider {
    tracekit_provider_with(sampler, exporter, tracekit::BatchConfig::default())
}

/// [`tracekit_provider`] with its batch processor set up by `config`.
pub fn tracekit_provider_with(
    sampler: SameSampler,
    exporter: impl SpanExporter + 'static,
    config: tracekit::BatchConfig,
) -> tracekit::TracerProvider {
    let builder = tracekit::TracerProvider::builder().with_batch_exporter_config(exporter, config);
    match sampler {
        SameSampler::AlwaysOn => builder.with_sampler(tracekit_samplers::AlwaysOn),
        SameSampler::AlwaysOff => builder.with_sampler(tracekit_samplers::AlwaysOff),
    }
    .build()
}

/// The documented setup: a pipeline like [`tracekit_provider`]'s (the
/// sampler, a batch processor with default settings, `exporter`) installed
/// by `tracekit::builder().install()` as `tracekit::init()` installs it:
/// the global tracer provider, the default propagator (`tracecontext,baggage`)
/// and the `tracing` subscriber. Nothing is read from the environment and
/// no start-up line is printed. Once per process.
pub fn tracekit_installed(
    sampler: impl tracekit_samplers::Sampler + 'static,
    exporter: impl SpanExporter + 'static,
) -> tracekit::TracekitGuard {
    tracekit_installed_with(sampler, exporter, tracekit::BatchConfig::default())
}

/// [`tracekit_installed`] with its batch processor set up by `config`.
pub fn tracekit_installed_with(
    sampler: impl tracekit_samplers::Sampler + 'static,
    exporter: impl SpanExporter + 'static,
    config: tracekit::BatchConfig,
) -> tracekit::TracekitGuard {
    tracekit::builder()
        .with_env(std::collections::HashMap::<String, String>::new())
        .default_exporters(&[])
        .with_span_processor(tracekit::BatchSpanProcessor::with_config(exporter, config))
        .sampler(sampler)
        .quiet(true)
        .install()
}

/// A sampler that samples while switched on and drops while off: one
/// installed pipeline (a process has one) serves the sampled and the
/// unsampled cases.
#[derive(Clone, Debug, Default)]
pub struct SwitchSampler {
    on: Arc<std::sync::atomic::AtomicBool>,
}

impl SwitchSampler {
    /// Sample from now on, or not.
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }
}

impl tracekit_samplers::Sampler for SwitchSampler {
    fn should_sample(
        &self,
        _params: &tracekit_samplers::SamplingParameters<'_>,
    ) -> tracekit_samplers::SamplingResult {
        use tracekit_samplers::{SamplingDecision, SamplingResult};
        SamplingResult::decision(if self.on.load(Ordering::Relaxed) {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        })
    }

    fn description(&self) -> String {
        "SwitchSampler".to_string()
    }
}

/// An opentelemetry_sdk provider configured the same way: the sampler, its
/// batch processor with default settings, and `exporter`.
pub fn otel_sdk_provider(
    sampler: SameSampler,
    exporter: impl SpanExporter + 'static,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
    let sampler = match sampler {
        SameSampler::AlwaysOn => Sampler::AlwaysOn,
        SameSampler::AlwaysOff => Sampler::AlwaysOff,
    };
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(BatchSpanProcessor::builder(exporter).build())
        .build()
}

/// What the redaction benchmark and its profiling loop share: the span
/// attributes of each case and the export-path stand-in.
pub mod redaction {
    use opentelemetry::KeyValue;
    use std::hint::black_box;
    use std::sync::Arc;
    use std::time::Duration;
    use tracekit::redaction::Redactor;
    use tracekit::{FinishedSpan, ProcessorError, SpanProcessor};

    /// A browser user agent, long enough to matter to the scanners.
    pub const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

    /// A server span's attributes, none of which holds anything to redact.
    pub fn no_match() -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/api/v1/users/{id}/orders"),
            KeyValue::new(
                "url.full",
                "https://api.example.com/api/v1/users/42/orders?page=2&sort=desc",
            ),
            KeyValue::new("user_agent.original", USER_AGENT),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("server.address", "api.example.com"),
            KeyValue::new("server.port", 443_i64),
            KeyValue::new("network.protocol.version", "1.1"),
        ]
    }

    /// The attributes of the 5-attribute server span `otlp_export`
    /// produces: `url.path` is scanned by every value rule (the other
    /// values are profiled out or not strings).
    pub fn server_5() -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/api/orders/42"),
            KeyValue::new("http.route", "/api/orders/{id}"),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("server.address", "shop.example"),
        ]
    }

    /// The same span where two attributes hold a secret.
    pub fn two_match() -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", "/api/v1/users/{id}/orders"),
            KeyValue::new(
                "url.full",
                "https://api.example.com/api/v1/users/42/orders?page=2&access_token=abc123",
            ),
            KeyValue::new("user_agent.original", USER_AGENT),
            KeyValue::new("http.response.status_code", 200_i64),
            KeyValue::new("server.address", "api.example.com"),
            KeyValue::new("server.port", 443_i64),
            KeyValue::new("http.request.header.authorization", "Bearer abc123"),
        ]
    }

    /// The export path, synchronously: redact the finished span, convert it to
    /// `SpanData`, drop it.
    #[derive(Debug)]
    pub struct RedactAndConvert {
        /// The redactor applied to each span.
        pub redactor: Arc<Redactor>,
    }

    impl SpanProcessor for RedactAndConvert {
        fn on_end(&self, mut span: FinishedSpan) {
            self.redactor.redact_finished_span(&mut span);
            black_box(span.into_span_data());
        }
        fn force_flush(&self, _timeout: Duration) -> Result<(), ProcessorError> {
            Ok(())
        }
        fn shutdown(&self, _timeout: Duration) -> Result<(), ProcessorError> {
            Ok(())
        }
    }

    /// Makes a case's span attributes.
    pub type Attributes = fn() -> Vec<KeyValue>;

    /// Record and end one server span with `attrs()`, as every span case does.
    #[inline(always)]
    pub fn record_span<T: opentelemetry::trace::Tracer>(tracer: &T, attrs: Attributes) {
        use opentelemetry::trace::{Span as _, SpanKind};
        let mut span = tracer
            .span_builder(black_box("GET /api/v1/users/{id}/orders"))
            .with_kind(SpanKind::Server)
            .with_attributes(attrs())
            .start(tracer);
        span.end();
    }

    /// The benchmark cases: id suffix and the attributes of the span.
    pub const CASES: [(&str, Attributes); 2] = [
        ("8_attrs_no_match", no_match),
        ("8_attrs_2_match", two_match),
    ];

    /// A tracekit provider sampling everything, whose only processor
    /// redacts with `redactor` and converts each span on the spot.
    pub fn provider(redactor: Redactor) -> tracekit::TracerProvider {
        tracekit::TracerProvider::builder()
            .with_sampler(tracekit_samplers::AlwaysOn)
            .with_span_processor(RedactAndConvert {
                redactor: Arc::new(redactor),
            })
            .build()
    }
}

/// What the sampling benchmark and its profiling loop share: the trace ids
/// and parents the decisions are made for.
pub mod sampling {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::Context;

    /// How many trace ids the cases cycle through (a power of two).
    pub const POOL: usize = 4096;

    /// [`POOL`] deterministic pseudo-random trace ids (splitmix64).
    pub fn trace_ids() -> Vec<TraceId> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (0..POOL)
            .map(|_| TraceId::from((u128::from(next()) << 64) | u128::from(next())))
            .collect()
    }

    /// For each id, a sampled remote parent and the `Context` holding it.
    pub fn remote_sampled_parents(ids: &[TraceId]) -> Vec<(SpanContext, Context)> {
        ids.iter()
            .map(|id| {
                let sc = SpanContext::new(
                    *id,
                    SpanId::from(1u64),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::NONE,
                );
                let cx = Context::new().with_remote_span_context(sc.clone());
                (sc, cx)
            })
            .collect()
    }
}

/// The `tracing` spans the layer benchmark and its profiling loop create:
/// one definition, so both measure the same callsites.
pub mod tracing_spans {
    use std::hint::black_box;

    /// A span with no fields, entered and left once.
    #[inline(always)]
    pub fn span_in_scope() {
        tracing::info_span!("span_in_scope").in_scope(|| black_box(()));
    }

    /// A span with five fields of different types, entered and left once.
    #[inline(always)]
    pub fn span_5_fields() {
        tracing::info_span!(
            "span_5_fields",
            user_id = 42_u64,
            path = "/checkout",
            cached = true,
            ratio = 0.25_f64,
            attempt = 3_i64,
        )
        .in_scope(|| black_box(()));
    }
}

/// What the propagation benchmark and its profiling loop share: the
/// contexts injected and the headers extracted.
pub mod propagation {
    use http::{HeaderMap, HeaderValue};
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{Context, KeyValue};

    /// The inbound `traceparent` of the extract case.
    pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// The inbound `tracestate` of the extract case.
    pub const TRACESTATE: &str = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    /// The inbound `baggage` of the extract case.
    pub const BAGGAGE: &str = "userId=alice,serverNode=DF%2028,isProduction=false";

    /// A context holding a sampled remote span with a two-member trace state.
    pub fn span_context_cx() -> Context {
        let trace_state =
            TraceState::from_key_value([("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")])
                .expect("valid trace state");
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            TraceFlags::SAMPLED,
            false,
            trace_state,
        ))
    }

    /// A context holding three baggage entries.
    pub fn baggage_cx() -> Context {
        Context::new().with_baggage([
            KeyValue::new("userId", "alice"),
            KeyValue::new("serverNode", "DF 28"),
            KeyValue::new("isProduction", "false"),
        ])
    }

    /// Headers with [`TRACEPARENT`] and [`TRACESTATE`].
    pub fn trace_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
        headers.insert("tracestate", HeaderValue::from_static(TRACESTATE));
        headers
    }

    /// Headers with [`BAGGAGE`].
    pub fn baggage_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("baggage", HeaderValue::from_static(BAGGAGE));
        headers
    }
}
