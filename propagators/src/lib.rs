//! W3C Trace Context, W3C Baggage, B3 and Jaeger propagators.

mod carrier;
mod hex;
mod trace_context;
mod traceparent;
mod tracestate;

pub use carrier::FieldCarrier;
pub use trace_context::{TraceContextPropagator, TRACEPARENT_HEADER, TRACESTATE_HEADER};
pub use traceparent::TRACE_FLAG_RANDOM;
pub use tracestate::{
    is_valid_tracestate_key, is_valid_tracestate_value, with_leftmost_entry, MAX_TRACESTATE_MEMBERS,
};
mod baggage;
mod percent;
pub use baggage::{BaggagePropagator, BAGGAGE_HEADER, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
mod b3;
mod jaeger;
pub use b3::{
    B3Encoding, B3Propagator, B3_FLAGS_HEADER, B3_PARENT_SPAN_ID_HEADER, B3_SAMPLED_HEADER,
    B3_SINGLE_HEADER, B3_SPAN_ID_HEADER, B3_TRACE_ID_HEADER,
};
pub use jaeger::{JaegerPropagator, JAEGER_BAGGAGE_PREFIX, JAEGER_HEADER};
