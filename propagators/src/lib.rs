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
