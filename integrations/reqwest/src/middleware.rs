//! [`TracingMiddleware`]: a CLIENT span per request attempt.

use crate::error_type::error_type;
use http::Extensions;
use opentelemetry::context::FutureExt as _;
use opentelemetry::global::BoxedTracer;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::HTTP_REQUEST_RESEND_COUNT;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};
use std::fmt;
use tracekit_tower::{
    describe_client_request, global_tracer, ActiveSpan, Propagation, SpanTracer, UrlTemplate,
};

/// How many times the request in these extensions has been sent before.
#[derive(Clone, Copy, Debug)]
struct PreviousAttempts(u32);

/// A [`Middleware`] giving every attempt of a request a CLIENT span, child
/// of the current context, and injecting that span's context
/// (`traceparent`, `tracestate`, `baggage` with the default propagators)
/// into the request.
///
/// Span name `{method}`, or `{method} {template}` when the caller attaches
/// a [`UrlTemplate`] with `RequestBuilder::with_extension`. Attributes:
/// `http.request.method`, `url.full` (credentials and sensitive query
/// values redacted), `server.address`, `server.port`,
/// `http.response.status_code`, `url.template`, `error.type`, and
/// `http.request.resend_count` on retries (place this middleware after
/// a retry middleware so it sees each attempt). A status ≥ 400 or a
/// transport failure (connection, timeout...) makes the span an Error.
/// The span ends when the response head has arrived.
pub struct TracingMiddleware<T = BoxedTracer> {
    tracer: T,
    propagation: Propagation,
}

impl<T> fmt::Debug for TracingMiddleware<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingMiddleware")
            .field("propagation", &self.propagation)
            .finish_non_exhaustive()
    }
}

impl TracingMiddleware {
    /// With the global tracer provider and propagator; create it after
    /// `tracekit::init()`.
    pub fn new() -> Self {
        TracingMiddleware {
            tracer: global_tracer(),
            propagation: Propagation::Global,
        }
    }
}

impl Default for TracingMiddleware {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: SpanTracer> TracingMiddleware<T> {
    /// Start spans with `tracer` instead of the global provider's.
    pub fn with_tracer<T2: SpanTracer>(self, tracer: T2) -> TracingMiddleware<T2> {
        TracingMiddleware {
            tracer,
            propagation: self.propagation,
        }
    }

    /// Inject with `propagator` instead of the global propagator.
    pub fn with_propagator(
        mut self,
        propagator: impl TextMapPropagator + Send + Sync + 'static,
    ) -> Self {
        self.propagation = Propagation::explicit(propagator);
        self
    }

    /// Inject with this [`Propagation`].
    pub fn with_propagation(mut self, propagation: Propagation) -> Self {
        self.propagation = propagation;
        self
    }
}

/// Count this attempt; returns how many attempts came before it.
fn count_attempt(extensions: &mut Extensions) -> u32 {
    match extensions.get_mut::<PreviousAttempts>() {
        Some(previous) => {
            previous.0 = previous.0.saturating_add(1);
            previous.0
        }
        None => {
            extensions.insert(PreviousAttempts(0));
            0
        }
    }
}

#[async_trait::async_trait]
impl<T: SpanTracer> Middleware for TracingMiddleware<T> {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let resend_count = count_attempt(extensions);
        let template = extensions.get::<UrlTemplate>().map(UrlTemplate::as_str);
        let mut described = describe_client_request(
            request.method(),
            request.url().as_str(),
            request.headers(),
            template,
        );
        if resend_count > 0 {
            described.attributes.push(KeyValue::new(
                HTTP_REQUEST_RESEND_COUNT,
                i64::from(resend_count),
            ));
        }
        let builder = SpanBuilder::from_name(described.name)
            .with_kind(SpanKind::Client)
            .with_attributes(described.attributes);
        let parent = Context::current();
        let span = self.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);
        self.propagation.inject(&cx, request.headers_mut());
        let mut active = ActiveSpan::client(cx.clone(), described.grpc);

        let result = next.run(request, extensions).with_context(cx).await;
        match &result {
            Ok(response) => active.on_response(response.status().as_u16(), response.headers()),
            Err(error) => active.fail(error_type(error), error_chain_message(error)),
        }
        active.end();
        result
    }
}

/// The error's message followed by its sources' (`error sending request
/// for url (…): client error (Connect): tcp connect error: Connection
/// refused (os error 111)`): reqwest's own message names only the URL, the
/// cause (refused, timed out, DNS) is in the sources.
fn error_chain_message(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
