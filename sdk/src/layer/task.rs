//! Carrying the current context into other tasks, threads and channels.
//!
//! Within one task, `tracing::Instrument` (or `#[instrument]` on an `async
//! fn`) carries a span across `.await`s: the layer makes the span's
//! OpenTelemetry context current every time the future is polled. A new
//! task or thread starts with nothing current; [`spawn`], [`spawn_blocking`]
//! and [`CurrentContext`] hand it the current `tracing` span *and* the
//! current OpenTelemetry context (which may be an OpenTelemetry API span
//! started inside the `tracing` span).

use opentelemetry::Context;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// The current `tracing` span and OpenTelemetry context, captured to be
/// re-entered elsewhere: in a spawned task, on another thread, or on the
/// receiving side of a channel.
///
/// ```
/// use tracekit::layer::CurrentContext;
///
/// let (tx, rx) = std::sync::mpsc::channel::<(CurrentContext, u32)>();
/// tx.send((CurrentContext::capture(), 42)).unwrap();
/// let worker = std::thread::spawn(move || {
///     let (context, job) = rx.recv().unwrap();
///     // Spans and events here belong to the sender's trace.
///     context.in_scope(|| tracing::info!(job, "processing"));
/// });
/// worker.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct CurrentContext {
    span: tracing::Span,
    cx: Context,
}

impl CurrentContext {
    /// Capture what is current on this thread.
    pub fn capture() -> Self {
        CurrentContext {
            span: tracing::Span::current(),
            cx: Context::current(),
        }
    }

    /// The captured `tracing` span.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The captured OpenTelemetry context.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// Run `f` with the captured span entered and context current.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.span.in_scope(|| {
            let _guard = self.cx.clone().attach();
            f()
        })
    }

    /// Wrap `future` so that every poll (and its drop) runs with the
    /// captured span entered and context current.
    pub fn wrap<F: Future>(self, future: F) -> WithCurrentContext<F> {
        WithCurrentContext {
            inner: Some(future),
            context: self,
        }
    }
}

pin_project! {
    /// A future running in a [`CurrentContext`]; see [`CurrentContext::wrap`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithCurrentContext<F> {
        // `None` only once dropped, in the context, by `PinnedDrop`.
        #[pin]
        inner: Option<F>,
        context: CurrentContext,
    }

    impl<F> PinnedDrop for WithCurrentContext<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut inner = this.inner;
            // Dropping the future may run code (and record) in its context.
            this.context.in_scope(|| inner.set(None));
        }
    }
}

impl<F: Future> Future for WithCurrentContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this
            .inner
            .as_pin_mut()
            .expect("the future is only taken out when dropped");
        this.context.in_scope(|| inner.poll(cx))
    }
}

/// `tokio::spawn` that carries the current `tracing` span and OpenTelemetry
/// context into the new task. Must be called from within a Tokio runtime.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(CurrentContext::capture().wrap(future))
}

/// `tokio::task::spawn_blocking` that carries the current `tracing` span and
/// OpenTelemetry context onto the blocking thread. Must be called from
/// within a Tokio runtime.
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let context = CurrentContext::capture();
    tokio::task::spawn_blocking(move || context.in_scope(f))
}
