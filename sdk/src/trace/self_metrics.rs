//! The SDK's own metrics, as the semantic conventions name them
//! (`otel.sdk.span.*`, `otel.sdk.processor.span.*`,
//! `otel.sdk.exporter.span.*`, `otel.sdk.exporter.operation.duration`),
//! recorded through the `opentelemetry` metrics API on the meter provider
//! the application uses.
//!
//! Almost all of them are asynchronous instruments whose callbacks read the
//! counters tracekit keeps anyway: a span costs nothing more with metrics
//! than without. The one synchronous instrument, the export duration
//! histogram, is recorded once per export on the export thread. Spans that
//! are not recorded (`DROP` decisions) are counted only from the first
//! collection on, so a service whose meter provider never collects (the
//! default no-op one) pays nothing for them either. The callbacks hold weak
//! references: once the tracer provider is dropped they report nothing.

use std::sync::Weak;

use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, OTEL_COMPONENT_NAME, OTEL_COMPONENT_TYPE, OTEL_SPAN_SAMPLING_RESULT,
};
use opentelemetry_semantic_conventions::metric::{OTEL_SDK_SPAN_LIVE, OTEL_SDK_SPAN_STARTED};
use std::sync::atomic::Ordering;

use super::provider::ProviderInner;

/// The unit of every span count.
pub(crate) const SPAN_UNIT: &str = "{span}";

/// `error.type` of spans whose export failed: the exporter does not say
/// which of its causes it was.
pub(crate) const EXPORT_FAILED_ERROR_TYPE: &str = "_OTHER";

/// The meter tracekit records its own metrics with.
pub(crate) fn meter(meter_provider: &dyn MeterProvider) -> Meter {
    meter_provider.meter_with_scope(
        InstrumentationScope::builder("tracekit")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build(),
    )
}

/// `otel.component.type` and `otel.component.name` of one component.
pub(crate) fn component(kind: &'static str, index: usize) -> [KeyValue; 2] {
    [
        KeyValue::new(OTEL_COMPONENT_TYPE, kind),
        KeyValue::new(OTEL_COMPONENT_NAME, format!("{kind}/{index}")),
    ]
}

/// `error.type` = `value`, after `attributes`.
pub(crate) fn with_error(attributes: &[KeyValue], value: &'static str) -> Vec<KeyValue> {
    let mut all = attributes.to_vec();
    all.push(KeyValue::new(ERROR_TYPE, value));
    all
}

/// Register the provider's span instruments: `otel.sdk.span.started` (by
/// sampling result) and `otel.sdk.span.live`.
pub(crate) fn register_span_instruments(meter: &Meter, provider: Weak<ProviderInner>) {
    let started = provider.clone();
    meter
        .u64_observable_counter(OTEL_SDK_SPAN_STARTED)
        .with_unit(SPAN_UNIT)
        .with_description("The number of created spans.")
        .with_callback(move |observer| {
            let Some(p) = started.upgrade() else { return };
            // From now on, spans that are not recorded are counted too.
            p.unsampled.counting.store(true, Ordering::Relaxed);
            let recorded = p.started.get();
            let record_only = p.unsampled.record_only.get().min(recorded);
            let result = |value: &'static str| [KeyValue::new(OTEL_SPAN_SAMPLING_RESULT, value)];
            observer.observe(recorded - record_only, &result("RECORD_AND_SAMPLE"));
            observer.observe(record_only, &result("RECORD_ONLY"));
            observer.observe(p.unsampled.not_recorded.get(), &result("DROP"));
        })
        .build();
    meter
        .i64_observable_up_down_counter(OTEL_SDK_SPAN_LIVE)
        .with_unit(SPAN_UNIT)
        .with_description(
            "The number of created spans with recording=true for which the end operation has \
             not been called yet.",
        )
        .with_callback(move |observer| {
            let Some(p) = provider.upgrade() else { return };
            let live = p.started.get().saturating_sub(p.ended.get());
            observer.observe(i64::try_from(live).unwrap_or(i64::MAX), &[]);
        })
        .build();
}
