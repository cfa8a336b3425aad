//! [`FloorLayer`]: the least any traced server layer does, as a floor to
//! measure tracekit's layer against (`http_profile floor`,
//! `http_overhead --floor`).
//!
//! Per request it parses the `traceparent` header straight from the header
//! map (as tracekit's layer does; a `TextMapPropagator` through
//! `opentelemetry_http::HeaderExtractor` costs about 700
//! instructions more), starts a SERVER span with a fixed name and no
//! attributes as a child of that parent, makes it current through the
//! inner call and every poll, and ends it when the response future
//! completes. The real layer also names the span by route, records the
//! HTTP semantic conventions, reads `tracestate` and baggage, sets the
//! status and ends the span when the response body has been sent: this
//! layer is not a usable instrumentation, only the cost any of them pays.

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt as _, Tracer};
use opentelemetry::Context;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use tower::{Layer, Service};
use tracekit_propagators::{TraceParent, TRACEPARENT_HEADER};

/// The name every floor span gets.
pub const FLOOR_SPAN_NAME: &str = "GET /users/{id}";

/// A layer whose services put one server span per request in the
/// [`Context`]: see the module documentation.
#[derive(Clone, Debug)]
pub struct FloorLayer<T> {
    tracer: T,
}

impl<T> FloorLayer<T> {
    /// A floor layer starting its spans with `tracer`.
    pub fn new(tracer: T) -> Self {
        FloorLayer { tracer }
    }
}

impl<S, T: Clone> Layer<S> for FloorLayer<T> {
    type Service = FloorService<S, T>;

    fn layer(&self, inner: S) -> FloorService<S, T> {
        FloorService {
            inner,
            tracer: self.tracer.clone(),
        }
    }
}

/// A service wrapped by [`FloorLayer`].
#[derive(Clone, Debug)]
pub struct FloorService<S, T> {
    inner: S,
    tracer: T,
}

impl<S, T, B> Service<http::Request<B>> for FloorService<S, T>
where
    S: Service<http::Request<B>>,
    T: Tracer<Span: Send + Sync + 'static>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = FloorFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = match request
            .headers()
            .get(TRACEPARENT_HEADER)
            .and_then(|value| TraceParent::parse_field(value.as_bytes()))
        {
            Some(traceparent) => Context::current()
                .with_remote_span_context(traceparent.into_remote_span_context(&[])),
            None => Context::current(),
        };
        let builder = SpanBuilder {
            span_kind: Some(SpanKind::Server),
            ..SpanBuilder::from_name(FLOOR_SPAN_NAME)
        };
        let span = self.tracer.build_with_context(builder, &parent);
        let cx = parent.with_span(span);
        let inner = {
            let _attached = cx.clone().attach();
            self.inner.call(request)
        };
        FloorFuture { inner, cx }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`FloorService`]: polls the inner future
    /// with the span current and ends the span when it completes.
    pub struct FloorFuture<F> {
        #[pin]
        inner: F,
        cx: Context,
    }
}

impl<F: Future> Future for FloorFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _attached = this.cx.clone().attach();
        let output = std::task::ready!(this.inner.poll(task));
        this.cx.span().end();
        Poll::Ready(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceId;
    use tower::ServiceExt as _;
    use tracekit::testing::TestProvider;

    #[test]
    fn one_server_span_per_request_child_of_the_traceparent_and_current_inside() {
        let test = TestProvider::new();
        let inner = tower::service_fn(|_request: http::Request<()>| async {
            let cx = Context::current();
            Ok::<_, std::convert::Infallible>(cx.span().span_context().trace_id())
        });
        let service = FloorLayer::new(test.tracer("floor")).layer(inner);
        let request = http::Request::get("/users/7")
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .body(())
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let seen = runtime.block_on(service.oneshot(request)).unwrap();
        let expected = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        assert_eq!(seen, expected);
        let spans = test.spans();
        assert_eq!(spans.len(), 1);
        let span = spans.get(FLOOR_SPAN_NAME);
        assert_eq!(span.span_kind, SpanKind::Server);
        assert_eq!(span.span_context.trace_id(), expected);
        assert_eq!(
            span.parent_span_id,
            opentelemetry::trace::SpanId::from_hex("00f067aa0ba902b7").unwrap()
        );
    }
}
