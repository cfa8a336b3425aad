//! [`TracedBody`]: a response body that ends its span when the body has
//! been streamed to the end, fails, or is dropped.

use crate::active_span::ActiveSpan;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// A response body carrying the span of its exchange. The span ends
    /// when the last frame has been read (the trailers, or the end of a
    /// body without them), when reading fails (Error, with `error.type`),
    /// or when the body is dropped before that; gRPC trailers are read for
    /// `grpc-status`.
    #[derive(Debug)]
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        span: Option<ActiveSpan>,
    }
}

impl<B> TracedBody<B> {
    pub(crate) fn new(inner: B, span: Option<ActiveSpan>) -> Self {
        TracedBody { inner, span }
    }

    /// A body without a span (a skipped path).
    pub fn untraced(inner: B) -> Self {
        TracedBody { inner, span: None }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B: Body> Body for TracedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let result = ready!(this.inner.poll_frame(cx));
        if let Some(span) = this.span.as_mut() {
            match &result {
                None => span.end(),
                Some(Err(_)) => {
                    span.fail(std::any::type_name::<B::Error>(), String::new());
                    span.end();
                }
                Some(Ok(frame)) => {
                    // Trailers are a body's last frame: the exchange is
                    // over even if the reader never polls again (tonic's
                    // `Streaming` stops at the trailers and may be kept
                    // long after).
                    if let Some(trailers) = frame.trailers_ref() {
                        span.on_trailers(trailers);
                        span.end();
                    }
                }
            }
        }
        Poll::Ready(result)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::active_span::Protocol;
    use crate::status::Side;
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};
    use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _};
    use tracekit::testing::TestProvider;

    fn span(test: &TestProvider) -> ActiveSpan {
        let tracer = test.tracer("t");
        let span = tracer
            .span_builder("s")
            .with_kind(SpanKind::Server)
            .start(&tracer);
        ActiveSpan::new(
            opentelemetry::Context::new().with_span(span),
            Side::Server,
            Protocol::Http,
            None,
        )
    }

    type TestBody = StreamBody<
        futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::io::Error>>>,
    >;

    fn frames(items: Vec<Result<Frame<Bytes>, std::io::Error>>) -> TestBody {
        StreamBody::new(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn span_ends_only_after_the_last_frame() {
        let test = TestProvider::new();
        let body = frames(vec![
            Ok(Frame::data(Bytes::from_static(b"a"))),
            Ok(Frame::data(Bytes::from_static(b"b"))),
        ]);
        let mut traced = TracedBody::new(body, Some(span(&test)));
        let first = traced.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "a");
        assert!(test.spans().is_empty());
        let _ = traced.frame().await;
        assert!(test.spans().is_empty());
        assert!(traced.frame().await.is_none());
        assert_eq!(test.spans().len(), 1);
        drop(traced);
        assert_eq!(test.spans().len(), 1);
    }

    #[tokio::test]
    async fn trailers_end_the_span_without_waiting_for_the_end_of_the_body() {
        let test = TestProvider::new();
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        let body = frames(vec![
            Ok(Frame::data(Bytes::from_static(b"a"))),
            Ok(Frame::trailers(trailers)),
        ]);
        let mut traced = TracedBody::new(body, Some(span(&test)));
        let _ = traced.frame().await;
        assert!(test.spans().is_empty());
        let last = traced.frame().await.unwrap().unwrap();
        assert!(last.is_trailers());
        assert_eq!(test.spans().len(), 1, "ended with the trailers");
        assert!(traced.frame().await.is_none());
        drop(traced);
        assert_eq!(test.spans().len(), 1, "and only once");
    }

    #[tokio::test]
    async fn dropping_early_ends_the_span_and_errors_fail_it() {
        let test = TestProvider::new();
        let traced = TracedBody::new(frames(vec![]), Some(span(&test)));
        drop(traced);
        assert_eq!(test.spans().len(), 1);

        let test = TestProvider::new();
        let mut traced = TracedBody::new(
            frames(vec![Err(std::io::Error::other("reset"))]),
            Some(span(&test)),
        );
        assert!(traced.frame().await.unwrap().is_err());
        let spans = test.spans();
        assert!(matches!(
            spans.get("s").status,
            opentelemetry::trace::Status::Error { .. }
        ));
    }
}
