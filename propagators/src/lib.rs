//! Context propagators for tracekit and for any user of the `opentelemetry`
//! API: W3C Trace Context (Level 1 plus the Level 2 `random` flag), W3C
//! Baggage, Zipkin B3 (single and multi header) and Jaeger, a
//! [`CompositePropagator`] and [`from_env`] for `OTEL_PROPAGATORS`.
//!
//! # Design
//!
//! Every propagator implements [`opentelemetry::propagation::TextMapPropagator`]
//! and works with any carrier (`HashMap<String, String>`,
//! `opentelemetry_http::HeaderExtractor` over an `http::HeaderMap`, or this
//! crate's [`FieldCarrier`]). Extraction always goes through
//! [`Extractor::get_all`](opentelemetry::propagation::Extractor::get_all), so
//! a header sent as several fields is seen whole: two `traceparent` fields
//! make the trace context invalid, several `tracestate` or `baggage` fields
//! are combined in order. Header name case is the carrier's business; all
//! names used here are lowercase.
//!
//! Parsing is exact and defensive. The W3C Trace Context rules (exact
//! version `00` length, forward-compatible parsing of higher versions,
//! rejection of version `ff`, zero ids and non-lowercase hex, the `tracestate`
//! key/value grammar of the current editor's draft, 32 members, the first of
//! a repeated key kept, whole-list rejection) and
//! the W3C Baggage rules (token keys, percent-encoded values, properties,
//! 64 members / 8192 bytes with whole members dropped) are implemented by
//! hand over bytes, never panic and never allocate in proportion to hostile
//! input beyond what is kept. Identifiers are parsed and formatted with
//! hand-written hex routines into stack buffers; the only allocations are
//! the header strings handed to the injector and the `TraceState` /
//! `Baggage` values handed to the context.
//!
//! `opentelemetry::trace::TraceState` still checks the older `tracestate`
//! key grammar (`tenant@system`, at most 13 characters after the `@`, one
//! `@`). Members valid on the wire that it refuses are kept beside the span
//! context in the extracted [`Context`](opentelemetry::Context) and sent on
//! by [`TraceContextPropagator`] for every span of that trace, so a service
//! forwards every valid member it received (see
//! [`TraceParent::into_context`]).
//!
//! A propagator that finds nothing valid returns the context it was given
//! unchanged, so in a composite an invalid header never erases what an
//! earlier propagator extracted.
//!
//! # Example
//!
//! ```
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::propagation::TextMapPropagator;
//! use opentelemetry::trace::TraceContextExt;
//! use opentelemetry::Context;
//! use tracekit_propagators::{from_env_value, FieldCarrier};
//!
//! // What `OTEL_PROPAGATORS` would select (unset means tracecontext,baggage).
//! let (propagator, warnings) = from_env_value(None);
//! assert!(warnings.is_empty());
//!
//! // An incoming request, with a header split over two fields.
//! let inbound = FieldCarrier::from_pairs([
//!     ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
//!     ("tracestate", "rojo=00f067aa0ba902b7"),
//!     ("tracestate", "congo=t61rcWkgMzE"),
//!     ("baggage", "userId=alice,serverNode=DF%2028"),
//! ]);
//! let cx = propagator.extract_with_context(&Context::new(), &inbound);
//! assert!(cx.span().span_context().is_remote());
//! assert_eq!(cx.baggage().get("serverNode").map(|v| v.as_str()), Some("DF 28"));
//!
//! // The outgoing request carries the same trace context on.
//! let mut outbound = FieldCarrier::new();
//! propagator.inject_context(&cx, &mut outbound);
//! let headers: Vec<(&str, &str)> = outbound.iter().collect();
//! assert_eq!(headers[0], ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
//! assert_eq!(headers[1], ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
//! ```

#![warn(missing_docs)]

mod b3;
mod baggage;
mod carrier;
mod composite;
mod conventions;
mod env;
mod hex;
mod jaeger;
mod percent;
mod sensitive;
mod shared;
mod text;
mod trace_context;
mod traceparent;
mod tracestate;

pub use b3::{
    B3Encoding, B3Propagator, B3_FLAGS_HEADER, B3_PARENT_SPAN_ID_HEADER, B3_SAMPLED_HEADER,
    B3_SINGLE_HEADER, B3_SPAN_ID_HEADER, B3_TRACE_ID_HEADER,
};
pub use baggage::{BaggagePropagator, BAGGAGE_HEADER, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use carrier::FieldCarrier;
pub use composite::CompositePropagator;
pub use conventions::EXCEPTION_EVENT_NAME;
pub use env::{from_env, from_env_value, OTEL_PROPAGATORS};
pub use jaeger::{JaegerPropagator, JAEGER_BAGGAGE_PREFIX, JAEGER_HEADER};
pub use sensitive::{is_sensitive_query_parameter, SENSITIVE_QUERY_PARAMETERS};
pub use shared::{global, SharedPropagator, W3cPropagation};
pub use trace_context::{TraceContextPropagator, TRACEPARENT_HEADER, TRACESTATE_HEADER};
pub use traceparent::{TraceParent, TRACE_FLAG_RANDOM};
pub use tracestate::{
    is_valid_tracestate_key, is_valid_tracestate_value, with_leftmost_entry, MAX_TRACESTATE_MEMBERS,
};

#[cfg(test)]
mod test_support {
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry::Context;

    /// Trace id, span id and sampled flag of the span context in `cx`, if
    /// valid.
    pub(crate) fn ids(cx: &Context) -> Option<(String, String, bool)> {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| {
            (
                sc.trace_id().to_string(),
                sc.span_id().to_string(),
                sc.is_sampled(),
            )
        })
    }
}
