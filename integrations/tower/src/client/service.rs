//! [`HttpClientService`]: the traced client service.

use super::describe::{describe_client_request, push_host_header_server, request_url};
use super::layer::ClientSettings;
use crate::active_span::{ActiveSpan, Protocol};
use crate::body::TracedBody;
use crate::future::ResponseFuture;
use crate::status::Side;
use crate::tracer::SpanTracer;
use crate::url_template::UrlTemplate;
use http::{Request, Response};
use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt};
use opentelemetry::Context;
use std::fmt;
use std::sync::Arc;
use std::task::Poll;
use tower_service::Service;

/// A client service wrapped by
/// [`HttpClientLayer`](super::HttpClientLayer).
pub struct HttpClientService<S, T> {
    inner: S,
    settings: Arc<ClientSettings<T>>,
}

impl<S, T> HttpClientService<S, T> {
    pub(crate) fn new(inner: S, settings: Arc<ClientSettings<T>>) -> Self {
        HttpClientService { inner, settings }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone, T> Clone for HttpClientService<S, T> {
    fn clone(&self) -> Self {
        HttpClientService {
            inner: self.inner.clone(),
            settings: Arc::clone(&self.settings),
        }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for HttpClientService<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, T, ReqBody, ResBody> Service<Request<ReqBody>> for HttpClientService<S, T>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    T: SpanTracer,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let settings = &*self.settings;
        let template = request
            .extensions()
            .get::<UrlTemplate>()
            .map(UrlTemplate::as_str);
        let origin = settings.origin.as_deref();
        let url = request_url(request.uri(), origin);
        let mut described =
            describe_client_request(request.method(), &url, request.headers(), template);
        if origin.is_none() && request.uri().authority().is_none() {
            push_host_header_server(request.headers(), &mut described.attributes);
        }
        settings
            .request_headers
            .record(request.headers(), &mut described.attributes);
        let builder = SpanBuilder::from_name(described.name)
            .with_kind(SpanKind::Client)
            .with_attributes(described.attributes);
        let parent = Context::current();
        let span = settings.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);
        settings.propagation.inject(&cx, request.headers_mut());
        let protocol = if described.grpc {
            Protocol::Grpc
        } else {
            Protocol::Http
        };
        let active = ActiveSpan::new(
            cx.clone(),
            Side::Client,
            protocol,
            settings.response_headers.clone(),
        );
        let future = {
            let _attached = cx.attach();
            self.inner.call(request)
        };
        ResponseFuture::traced(future, active, None)
    }
}
