//! [`ResponseFuture`]: the traced server service's future.

use crate::active_span::{panic_message, ActiveSpan};
use crate::body::TracedBody;
use crate::response_header::add_traceparent;
use http::{HeaderValue, Response};
use opentelemetry::Context as OtelContext;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// `error.type` of a span whose handler panicked.
pub const PANIC_ERROR_TYPE: &str = "panic";

pin_project! {
    /// The response future of the traced services (server and client):
    /// polls the inner future in the span's context, records its outcome,
    /// and hands the span on to the response body.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // The span, whose context is current while `inner` is polled.
        span: Option<ActiveSpan>,
        // Without a span (a skipped path): the context current while
        // `inner` is polled.
        cx: Option<OtelContext>,
        traceparent: Option<HeaderValue>,
    }
}

impl<F> ResponseFuture<F> {
    /// `inner` polled in `span`'s context; `traceparent` is added to the
    /// response headers.
    pub(crate) fn traced(inner: F, span: ActiveSpan, traceparent: Option<HeaderValue>) -> Self {
        ResponseFuture {
            inner,
            span: Some(span),
            cx: None,
            traceparent,
        }
    }

    /// `inner` polled in `cx`, without a span.
    pub(crate) fn untraced(inner: F, cx: OtelContext) -> Self {
        ResponseFuture {
            inner,
            span: None,
            cx: Some(cx),
            traceparent: None,
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<TracedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let current = match (this.span.as_ref(), this.cx.as_ref()) {
            (Some(span), _) => Some(span.context()),
            (None, current) => current,
        };
        let attached = current.map(|current| current.clone().attach());
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(attached);
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(payload) => {
                // The span ends as an Error; the panic goes on unchanged.
                if let Some(mut span) = this.span.take() {
                    span.fail(PANIC_ERROR_TYPE, panic_message(&*payload));
                    span.end();
                }
                resume_unwind(payload)
            }
        };
        match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                if let Some(span) = this.span.as_mut() {
                    span.on_response(parts.status.as_u16(), &parts.headers);
                }
                if let Some(traceparent) = this.traceparent.take() {
                    add_traceparent(&mut parts.headers, traceparent);
                }
                let body = TracedBody::new(body, this.span.take());
                Poll::Ready(Ok(Response::from_parts(parts, body)))
            }
            Err(error) => {
                if let Some(mut span) = this.span.take() {
                    span.fail(std::any::type_name::<E>(), error.to_string());
                    span.end();
                }
                Poll::Ready(Err(error))
            }
        }
    }
}
