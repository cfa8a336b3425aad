//! Each service's tracekit pipeline: its own `service.name`, the demo's
//! sampler, an OTLP exporter to the demo's receiver, and whatever the
//! standard `OTEL_*` variables select (with `OTEL_EXPORTER_OTLP_ENDPOINT`
//! set, an OTLP exporter to that collector as well).

use super::{ServiceName, HEALTH_ROUTE};
use opentelemetry_semantic_conventions::attribute::HTTP_ROUTE;
use std::time::Duration;
use tracekit::export::otlp::OtlpConfig;
use tracekit::{BatchConfig, BatchSpanProcessor, TracekitGuard};
use tracekit_samplers::{AlwaysOff, AlwaysOn, ParentBased, Rule, RuleBased};
use tracing::Level;
use tracing_subscriber::filter::Targets;

/// Batch delay towards the demo's receiver: traces appear promptly.
pub const RECEIVER_BATCH_DELAY: Duration = Duration::from_millis(100);

/// Time one export to the demo's receiver may take.
pub const RECEIVER_EXPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the final flush may take when a service stops.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(8);

/// The demo's sampler: `ParentBased(root = rules)`. A request that starts
/// a trace is sampled unless it is a health check; a request that carries
/// a parent (every call between the services) follows the parent's
/// decision, so a trace is either whole or absent.
pub fn sampler() -> ParentBased {
    let root = RuleBased::builder()
        .rule(Rule::new(AlwaysOff).attribute_eq(HTTP_ROUTE, HEALTH_ROUTE))
        .default_sampler(AlwaysOn)
        .build();
    ParentBased::new(root)
}

/// Install `service`'s pipeline globally (tracer provider, propagator,
/// `tracing` subscriber). Dropping the guard flushes.
pub fn install(service: ServiceName, receiver: Option<&str>) -> Result<TracekitGuard, String> {
    let mut builder = tracekit::builder()
        .service_name(service.as_str())
        .service_version(env!("CARGO_PKG_VERSION"))
        .sampler(sampler())
        // Nothing but the demo's receiver unless OTEL_* variables ask.
        .default_exporters(&[])
        // The subscriber is ours (below): it keeps the dependencies'
        // chatter out of the spans.
        .tracing_subscriber(false)
        .shutdown_timeout(SHUTDOWN_TIMEOUT);
    if let Some(url) = receiver {
        let exporter = OtlpConfig::default()
            .with_base_endpoint(url)
            .with_timeout(RECEIVER_EXPORT_TIMEOUT)
            .build_exporter()
            .map_err(|e| format!("{service}: cannot export to {url}: {e}"))?;
        let batch = BatchConfig {
            scheduled_delay: RECEIVER_BATCH_DELAY,
            export_timeout: RECEIVER_EXPORT_TIMEOUT,
            ..BatchConfig::default()
        };
        builder = builder.with_span_processor(BatchSpanProcessor::with_config(exporter, batch));
    }
    let guard = builder.install();
    install_tracing_subscriber(&guard);
    Ok(guard)
}

/// `#[instrument]` spans and events of this crate become tracekit spans
/// and span events; from other crates (hyper's connection pool, say) only
/// warnings and errors do.
fn install_tracing_subscriber(guard: &TracekitGuard) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), Level::TRACE)
        .with_default(Level::WARN);
    let layer = tracekit::layer::layer(guard.tracer(tracekit::TRACING_SCOPE)).with_filter(filter);
    if tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).is_err()
    {
        eprintln!(
            "a global tracing subscriber is already set; #[instrument] spans will be missing"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use opentelemetry::KeyValue;
    use tracekit_samplers::{Sampler, SamplingDecision, SamplingParameters};

    const TRACE: TraceId = TraceId::from_bytes([7; 16]);

    fn root(route: &str) -> SamplingDecision {
        let attributes = [KeyValue::new(HTTP_ROUTE, route.to_string())];
        let params = SamplingParameters {
            attributes: &attributes,
            ..SamplingParameters::root(TRACE, "GET", &SpanKind::Server)
        };
        sampler().should_sample(&params).decision
    }

    #[test]
    fn health_checks_are_never_sampled() {
        assert_eq!(root(HEALTH_ROUTE), SamplingDecision::Drop);
    }

    #[test]
    fn every_other_root_is_sampled() {
        assert_eq!(root("/orders"), SamplingDecision::RecordAndSample);
        assert_eq!(root("/health/deep"), SamplingDecision::RecordAndSample);
    }

    #[test]
    fn children_follow_their_remote_parent() {
        for (flags, expected) in [
            (TraceFlags::SAMPLED, SamplingDecision::RecordAndSample),
            (TraceFlags::default(), SamplingDecision::Drop),
        ] {
            let parent = SpanContext::new(
                TRACE,
                SpanId::from_bytes([1; 8]),
                flags,
                true,
                TraceState::NONE,
            );
            let attributes = [KeyValue::new(HTTP_ROUTE, HEALTH_ROUTE)];
            let params = SamplingParameters {
                parent_span_context: Some(&parent),
                attributes: &attributes,
                ..SamplingParameters::root(TRACE, "GET", &SpanKind::Server)
            };
            assert_eq!(sampler().should_sample(&params).decision, expected);
        }
    }
}
