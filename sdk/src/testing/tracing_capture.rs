//! [`TestTracing`]: a per-test collector of `tracing` spans
//! (`#[instrument]`, `info_span!`) and OpenTelemetry API spans, without
//! global state.

use super::{Spans, TestProvider};
use crate::trace::{Tracer, TracerProviderBuilder};
use std::borrow::Cow;
use tracing::instrument::{WithDispatch, WithSubscriber};
use tracing::subscriber::DefaultGuard;
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Captures, for one test, the spans of `#[instrument]`ed code and of
/// OpenTelemetry API code, in the same traces, touching no global:
/// a [`TestProvider`] (in-memory exporter, spans readable as soon as they
/// end) and a `tracing` subscriber with tracekit's
/// [layer](crate::layer) over it, made this thread's default until the
/// `TestTracing` is dropped.
///
/// Tests running in parallel in one binary each see exactly their own
/// spans. What it does not capture:
///
/// * **Other threads.** The `tracing` default is per thread. In
///   `#[tokio::test]` (either flavour) the test's body runs on the test's
///   thread, so the body is covered; a task spawned onto a worker thread
///   of `flavor = "multi_thread"` (or a `spawn_blocking` job) is not,
///   unless its future is wrapped with [`bind`](Self::bind) (or
///   `WithSubscriber::with_subscriber(fut, test.dispatch().clone())`).
/// * **The global tracer.** OpenTelemetry API spans are captured when
///   started with [`tracer`](Self::tracer); code calling
///   `opentelemetry::global::tracer(..)` uses the global provider, which
///   a test can only set for the whole binary: give such code its tracer as
///   a parameter, or test it in a binary of its own.
///
/// ```
/// use opentelemetry::trace::Tracer as _;
/// use tracekit::testing::TestTracing;
///
/// #[tracing::instrument]
/// async fn load(id: u32) -> u32 {
///     tokio::task::yield_now().await;
///     id
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // In a #[tokio::test] async fn of either flavour:
/// let test = TestTracing::start();
/// let tracer = test.tracer("orders");
/// let _ = tracer.in_span("request", |_cx| tracing::info_span!("validate").in_scope(|| ()));
/// load(7).await;
/// // A task on another worker thread: bind it to the test's subscriber.
/// tokio::spawn(test.bind(load(8))).await.unwrap();
///
/// let spans = test.spans();
/// spans.assert_parent("validate", "request");
/// assert_eq!(spans.all_named("load").len(), 2);
/// # }
/// ```
#[must_use = "spans are captured only while the TestTracing is alive: bind it (`let test = ...`)"]
pub struct TestTracing {
    provider: TestProvider,
    dispatch: Dispatch,
    _default: DefaultGuard,
}

impl std::fmt::Debug for TestTracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTracing")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl TestTracing {
    /// Start capturing on this thread, with a [`TestProvider::new`].
    pub fn start() -> Self {
        Self::with_provider(TestProvider::new())
    }

    /// Start capturing with a provider built from `builder` (sampler,
    /// limits, resource...), the in-memory exporter added.
    pub fn with_builder(builder: TracerProviderBuilder) -> Self {
        Self::with_provider(TestProvider::with_builder(builder))
    }

    /// Start capturing on this thread into `provider`.
    pub fn with_provider(provider: TestProvider) -> Self {
        let subscriber =
            tracing_subscriber::registry().with(crate::layer::layer(provider.tracer("tracing")));
        let dispatch = Dispatch::new(subscriber);
        let default = tracing::dispatcher::set_default(&dispatch);
        TestTracing {
            provider,
            dispatch,
            _default: default,
        }
    }

    /// A tracer of the test's provider, for OpenTelemetry API spans (and
    /// for layers and middleware taking a tracer).
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> Tracer {
        self.provider.tracer(name)
    }

    /// The test's `tracing` dispatcher.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// `future` with the test's subscriber as its default on whichever
    /// thread polls it: for tasks spawned onto other threads.
    pub fn bind<F>(&self, future: F) -> WithDispatch<F> {
        future.with_subscriber(self.dispatch.clone())
    }

    /// The test's provider.
    pub fn provider(&self) -> &TestProvider {
        &self.provider
    }

    /// Every span finished so far.
    pub fn spans(&self) -> Spans {
        self.provider.spans()
    }

    /// Forget the spans finished so far.
    pub fn reset(&self) {
        self.provider.reset()
    }
}
