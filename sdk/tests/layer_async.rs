//! The trace stays connected across tasks, joins, blocking jobs and
//! channels.

mod layer_support;

use futures_util::future::join_all;
use layer_support::*;
use opentelemetry::trace::Tracer as _;
use tracekit::layer::{spawn, spawn_blocking, CurrentContext};
use tracing::{info_span, instrument, Instrument};

#[instrument]
async fn step(n: u32) -> u32 {
    tokio::task::yield_now().await;
    tracing::info!(n, "step done");
    n
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn spawned_tasks_stay_in_the_trace() {
    let (subscriber, _provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = runtime();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    rt.block_on(
        async {
            let handle = spawn(step(1).with_current_subscriber_for_test(&dispatch));
            assert_eq!(handle.await.unwrap(), 1);
        }
        .instrument(info_span!("request")),
    );
    let request = collect.span("request");
    assert_child_of(&collect.span("step"), &request);
}

/// Spawned tasks may run on other threads, where the test's thread-local
/// default subscriber is not set: give them the same dispatcher.
trait WithDispatch: Sized {
    fn with_current_subscriber_for_test(
        self,
        dispatch: &tracing::Dispatch,
    ) -> tracing::instrument::WithDispatch<Self>;
}

impl<F: std::future::Future> WithDispatch for F {
    fn with_current_subscriber_for_test(
        self,
        dispatch: &tracing::Dispatch,
    ) -> tracing::instrument::WithDispatch<Self> {
        tracing::instrument::WithSubscriber::with_subscriber(self, dispatch.clone())
    }
}

#[test]
fn join_and_join_all_keep_children_under_their_parent() {
    let (subscriber, _provider, collect) = subscriber();
    let rt = runtime();
    let _guard = tracing::subscriber::set_default(subscriber);
    rt.block_on(
        async {
            let (a, b) = tokio::join!(step(1), step(2));
            let rest = join_all((3..6).map(step)).await;
            assert_eq!(a + b + rest.iter().sum::<u32>(), 15);
        }
        .instrument(info_span!("fan_out")),
    );
    let parent = collect.span("fan_out");
    let steps: Vec<_> = collect
        .spans()
        .into_iter()
        .filter(|s| s.name == "step")
        .collect();
    assert_eq!(steps.len(), 5);
    for s in &steps {
        assert_child_of(s, &parent);
        assert_eq!(s.events.events.len(), 1);
    }
}

#[test]
fn spawn_blocking_carries_span_and_otel_context() {
    let (subscriber, provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = runtime();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let tracer = provider.tracer("otel-api");
    rt.block_on(
        async {
            let d = dispatch.clone();
            let t = tracer.clone();
            spawn_blocking(move || {
                tracing::dispatcher::with_default(&d, || {
                    info_span!("blocking_io").in_scope(|| {});
                    t.in_span("otel_in_blocking", |_| {});
                })
            })
            .await
            .unwrap();
        }
        .instrument(info_span!("request")),
    );
    let request = collect.span("request");
    assert_child_of(&collect.span("blocking_io"), &request);
    assert_child_of(&collect.span("otel_in_blocking"), &request);
}

#[test]
fn a_captured_context_crosses_a_channel() {
    let (subscriber, _provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let (tx, rx) = std::sync::mpsc::channel::<(CurrentContext, u32)>();
    let worker_dispatch = dispatch.clone();
    let worker = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&worker_dispatch, || {
            for (context, job) in rx {
                context.in_scope(|| {
                    info_span!("consume", job).in_scope(|| tracing::info!("consumed"));
                });
            }
        })
    });
    tracing::dispatcher::with_default(&dispatch, || {
        info_span!("produce").in_scope(|| tx.send((CurrentContext::capture(), 7)).unwrap());
    });
    drop(tx);
    worker.join().unwrap();
    let produce = collect.span("produce");
    let consume = collect.span("consume");
    assert_child_of(&consume, &produce);
}

#[test]
fn a_captured_context_wraps_futures_sent_to_another_runtime_thread() {
    let (subscriber, provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = runtime();
    let tracer = provider.tracer("otel-api");
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<tracekit::layer::WithCurrentContext<_>>();
    tracing::dispatcher::with_default(&dispatch, || {
        tracer.in_span("otel_producer", |_| {
            let fut = CurrentContext::capture().wrap(async {
                info_span!("handled").in_scope(|| {});
            });
            tx.send(fut).unwrap();
        });
    });
    drop(tx);
    rt.block_on(async {
        while let Some(fut) = rx.recv().await {
            tokio::spawn(tracing::instrument::WithSubscriber::with_subscriber(
                fut,
                dispatch.clone(),
            ))
            .await
            .unwrap();
        }
    });
    assert_child_of(&collect.span("handled"), &collect.span("otel_producer"));
}

/// Records a span when dropped, in whatever context is current then.
struct SpanOnDrop(&'static str);

impl Drop for SpanOnDrop {
    fn drop(&mut self) {
        info_span!("dropped", which = self.0).in_scope(|| {});
    }
}

#[test]
fn a_wrapped_future_is_dropped_in_its_captured_context() {
    let (subscriber, _provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::dispatcher::with_default(&dispatch, || {
        // Never polled: the future (and what it owns) is dropped in the
        // context it was wrapped in, not the one current at the drop.
        let unpolled = info_span!("owner").in_scope(|| {
            let guard = SpanOnDrop("unpolled");
            CurrentContext::capture().wrap(async move {
                let _guard = guard;
            })
        });
        info_span!("elsewhere").in_scope(|| drop(unpolled));
    });
    assert_child_of(&collect.span("dropped"), &collect.span("owner"));
}

#[test]
fn a_wrapped_future_polled_to_completion_then_dropped_stays_sound() {
    let (subscriber, _provider, collect) = subscriber();
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::dispatcher::with_default(&dispatch, || {
        let mut fut = Box::pin(info_span!("owner").in_scope(|| {
            CurrentContext::capture().wrap(async {
                info_span!("ran").in_scope(|| {});
                5
            })
        }));
        let out = futures_executor_block_on(fut.as_mut());
        assert_eq!(out, 5);
        drop(fut);
    });
    assert_child_of(&collect.span("ran"), &collect.span("owner"));
}

fn futures_executor_block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(fut)
}
