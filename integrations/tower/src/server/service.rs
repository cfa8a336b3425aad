//! [`HttpServerService`]: the traced server service.

use super::describe::describe;
use super::layer::ServerSettings;
use super::request_headers::RequestHeaders;
use crate::active_span::ActiveSpan;
use crate::future::ResponseFuture;
use crate::request_info::RequestInfo;
use crate::response_header::traceparent_value;
use crate::status::Side;
use crate::tracer::SpanTracer;
use http::{Request, Response};
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_service::Service;

/// A service wrapped by [`HttpServerLayer`](super::HttpServerLayer).
pub struct HttpServerService<S, I, T> {
    inner: S,
    settings: Arc<ServerSettings<T>>,
    info: I,
}

impl<S, I, T> HttpServerService<S, I, T> {
    pub(crate) fn new(inner: S, settings: Arc<ServerSettings<T>>, info: I) -> Self {
        HttpServerService {
            inner,
            settings,
            info,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone, I: Clone, T> Clone for HttpServerService<S, I, T> {
    fn clone(&self) -> Self {
        HttpServerService {
            inner: self.inner.clone(),
            settings: Arc::clone(&self.settings),
            info: self.info.clone(),
        }
    }
}

impl<S: fmt::Debug, I: fmt::Debug, T> fmt::Debug for HttpServerService<S, I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerService")
            .field("inner", &self.inner)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<S, I, T, ReqBody, ResBody> Service<Request<ReqBody>> for HttpServerService<S, I, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    I: RequestInfo,
    T: SpanTracer,
{
    type Response = Response<crate::body::TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let settings = &*self.settings;
        let known = RequestHeaders::read(request.headers());
        let parent = settings
            .propagation
            .extract_with_fields(request.headers(), known.trace_context.as_ref());
        if settings.skip.matches(request.uri().path()) {
            let future = {
                let _attached = parent.clone().attach();
                self.inner.call(request)
            };
            return ResponseFuture::untraced(future, parent);
        }

        let described = describe(&request, &self.info, &settings.request_headers, &known);
        // Fields set in place: `with_attributes` would collect the vector
        // again and each builder call moves the whole builder.
        let builder = SpanBuilder {
            span_kind: Some(SpanKind::Server),
            attributes: Some(described.attributes),
            ..SpanBuilder::from_name(described.name)
        };
        let span = settings.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);
        let traceparent = if settings.traceparent_response {
            traceparent_value(cx.span().span_context())
        } else {
            None
        };
        let future = {
            let _attached = cx.clone().attach();
            self.inner.call(request)
        };
        let active = ActiveSpan::new(
            cx,
            Side::Server,
            described.protocol,
            settings.response_headers.clone(),
        );
        ResponseFuture::traced(future, active, traceparent)
    }
}
