//! [`TraceInfo`]: an extractor giving handlers the current trace.

use axum::extract::FromRequestParts;
use http::request::Parts;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceId};
use opentelemetry::Context;
use std::convert::Infallible;

/// The trace the request is part of: the context the server layer made
/// current (holding the SERVER span), with its trace and span ids.
/// Extraction never fails; without the layer the ids are invalid (zero).
///
/// ```
/// use tracekit_axum::TraceInfo;
///
/// async fn handler(trace: TraceInfo) -> String {
///     // Return the trace id so a user can quote it in a support ticket.
///     trace.trace_id.to_string()
/// }
/// let app: axum::Router = axum::Router::new().route("/", axum::routing::get(handler));
/// ```
#[derive(Clone, Debug)]
pub struct TraceInfo {
    /// The trace id.
    pub trace_id: TraceId,
    /// The span id of the server span.
    pub span_id: SpanId,
    /// Whether the trace is sampled.
    pub sampled: bool,
    /// The whole context (span, baggage), e.g. to start spans under it
    /// from another task.
    pub context: Context,
}

impl TraceInfo {
    /// The trace of `context`.
    pub fn from_context(context: Context) -> Self {
        let (trace_id, span_id, sampled) = {
            let span = context.span();
            let sc = span.span_context();
            (sc.trace_id(), sc.span_id(), sc.is_sampled())
        };
        TraceInfo {
            trace_id,
            span_id,
            sampled,
            context,
        }
    }

    /// The current trace.
    pub fn current() -> Self {
        Self::from_context(Context::current())
    }

    /// Whether there is a trace (the server layer ran).
    pub fn is_valid(&self) -> bool {
        self.trace_id != TraceId::INVALID
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceInfo {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(TraceInfo::current())
    }
}
