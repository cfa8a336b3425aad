//! [`CompositePropagator`]: several propagators run as one.

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapPropagator,
};
use opentelemetry::Context;

use crate::W3cPropagation;

/// Runs several propagators as one: injection calls every propagator in
/// order; extraction runs them in order, each one extending the context the
/// previous one returned (so a later propagator's span context wins and
/// baggage merges as each propagator defines). Header names of all
/// propagators are listed once by [`TextMapPropagator::fields`].
///
/// It is `Send + Sync + 'static`, so it can be installed with
/// `opentelemetry::global::set_text_map_propagator`.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use tracekit_propagators::{BaggagePropagator, CompositePropagator, TraceContextPropagator};
///
/// let propagator = CompositePropagator::new(vec![
///     Box::new(TraceContextPropagator::new()),
///     Box::new(BaggagePropagator::new()),
/// ]);
/// assert_eq!(propagator.fields().collect::<Vec<_>>(), ["traceparent", "tracestate", "baggage"]);
/// ```
#[derive(Debug)]
pub struct CompositePropagator {
    propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>>,
    fields: Vec<String>,
    /// Set when this crate built the composite from a known list.
    w3c: Option<W3cPropagation>,
}

impl CompositePropagator {
    /// Creates a composite of `propagators`, used in the given order.
    pub fn new(propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>>) -> Self {
        let mut fields: Vec<String> = Vec::new();
        for propagator in &propagators {
            for field in propagator.fields() {
                if !fields.iter().any(|f| f == field) {
                    fields.push(field.to_owned());
                }
            }
        }
        CompositePropagator {
            propagators,
            fields,
            w3c: None,
        }
    }

    /// The composite of `propagators`, known to do what `w3c` does.
    pub(crate) fn known_w3c(
        propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>>,
        w3c: Option<W3cPropagation>,
    ) -> Self {
        CompositePropagator {
            w3c,
            ..CompositePropagator::new(propagators)
        }
    }

    /// Whether this composite is exactly W3C Trace Context, or W3C Trace
    /// Context then W3C Baggage, as [`Default`] and [`from_env_value`]
    /// build them (`None` for one built by [`CompositePropagator::new`],
    /// whose members it cannot see).
    ///
    /// [`from_env_value`]: crate::from_env_value
    ///
    /// ```
    /// use tracekit_propagators::{from_env_value, CompositePropagator, W3cPropagation};
    ///
    /// assert_eq!(CompositePropagator::default().w3c(), Some(W3cPropagation::TraceContextAndBaggage));
    /// assert_eq!(from_env_value(Some("tracecontext")).0.w3c(), Some(W3cPropagation::TraceContext));
    /// assert_eq!(from_env_value(Some("b3,tracecontext")).0.w3c(), None);
    /// ```
    pub fn w3c(&self) -> Option<W3cPropagation> {
        self.w3c
    }

    /// Number of propagators in the composite.
    pub fn len(&self) -> usize {
        self.propagators.len()
    }

    /// `true` when the composite holds no propagator (it then injects and
    /// extracts nothing).
    pub fn is_empty(&self) -> bool {
        self.propagators.is_empty()
    }
}

impl Default for CompositePropagator {
    /// The OpenTelemetry default: W3C Trace Context then W3C Baggage.
    fn default() -> Self {
        CompositePropagator::known_w3c(
            vec![
                Box::new(crate::TraceContextPropagator::new()),
                Box::new(crate::BaggagePropagator::new()),
            ],
            Some(W3cPropagation::TraceContextAndBaggage),
        )
    }
}

impl TextMapPropagator for CompositePropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        for propagator in &self.propagators {
            propagator.inject_context(cx, injector);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let mut result = cx.clone();
        for propagator in &self.propagators {
            result = propagator.extract_with_context(&result, extractor);
        }
        result
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        B3Propagator, BaggagePropagator, FieldCarrier, JaegerPropagator, TraceContextPropagator,
    };
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::TraceContextExt;

    fn assert_send_sync_static<T: Send + Sync + std::fmt::Debug + 'static>() {}

    #[test]
    fn is_send_sync_debug_static() {
        assert_send_sync_static::<CompositePropagator>();
    }

    #[test]
    fn extracts_in_order_and_merges() {
        let p = CompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
            Box::new(JaegerPropagator::new()),
        ]);
        let carrier = FieldCarrier::from_pairs([
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("baggage", "a=1"),
            ("uberctx-b", "2"),
        ]);
        let cx = p.extract_with_context(&Context::new(), &carrier);
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(cx.baggage().len(), 2);
    }

    #[test]
    fn later_valid_span_context_wins_and_invalid_ones_do_not_erase() {
        let p = CompositePropagator::new(vec![
            Box::new(B3Propagator::new()),
            Box::new(TraceContextPropagator::new()),
        ]);
        let carrier = FieldCarrier::from_pairs([
            ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"),
            ("traceparent", "garbage"),
        ]);
        let cx = p.extract_with_context(&Context::new(), &carrier);
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "80f198ee56343ba864fe8b2a57d3eff7"
        );
    }

    #[test]
    fn injects_all() {
        let p = CompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(B3Propagator::new()),
        ]);
        let carrier = FieldCarrier::from_pairs([(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )]);
        let cx = p.extract_with_context(&Context::new(), &carrier);
        let mut out = FieldCarrier::new();
        p.inject_context(&cx, &mut out);
        let names: Vec<_> = out.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["traceparent", "b3"]);
        assert!(CompositePropagator::new(Vec::new()).is_empty());
        assert_eq!(CompositePropagator::default().len(), 2);
    }
}
