//! Keeping buffered spans when the process is asked to stop: `docker stop`
//! and Kubernetes send SIGTERM, a terminal sends SIGINT (Ctrl-C). Without
//! a handler either one kills the process before the guard drops, and the
//! spans still waiting for their batch (up to `OTEL_BSP_SCHEDULE_DELAY`, 5 s
//! by default) are lost.
//!
//! Two ways to keep them, both behind the default cargo feature `signal`:
//!
//! - a server with a graceful-shutdown hook passes [`shutdown_signal`] to
//!   it (`axum::serve(..).with_graceful_shutdown(tracekit::shutdown_signal())`);
//!   once the server has stopped, `main` returns and the guard's drop
//!   flushes;
//! - a program without such a hook calls
//!   [`TracekitBuilder::flush_on_signal`](crate::TracekitBuilder::flush_on_signal):
//!   on the signal tracekit flushes and shuts down, then exits with the
//!   conventional status, 128 + the signal number (130 for SIGINT, 143 for
//!   SIGTERM).
//!
//! Either way a second SIGTERM or SIGINT exits at once, with that status,
//! without waiting any longer. On platforms other than Unix only Ctrl-C is
//! watched.

use crate::trace::TracerProvider;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// A signal asking the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopSignal {
    Interrupt,
    Terminate,
}

impl StopSignal {
    fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }

    /// The shell's convention for a process ended by this signal.
    fn exit_code(self) -> i32 {
        match self {
            StopSignal::Interrupt => 128 + 2,
            StopSignal::Terminate => 128 + 15,
        }
    }
}

type Watch = watch::Receiver<Option<StopSignal>>;

/// The process-wide watcher: one thread, started on first use, with the
/// handlers registered before this returns (so a signal sent right after
/// cannot kill the process unflushed). `None` if they cannot be.
fn watcher() -> Option<Watch> {
    static WATCHER: OnceLock<Option<Watch>> = OnceLock::new();
    WATCHER.get_or_init(start_watcher).clone()
}

fn start_watcher() -> Option<Watch> {
    let (sender, receiver) = watch::channel(None);
    let (ready, registered) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tracekit-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut signals = match Signals::register() {
                    Ok(signals) => signals,
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                let first = signals.next().await;
                sender.send_replace(Some(first));
                let second = signals.next().await;
                eprintln!(
                    "tracekit: {} after {}: exiting without waiting any longer",
                    second.name(),
                    first.name()
                );
                std::process::exit(second.exit_code());
            });
        });
    let outcome = match spawned {
        Ok(_) => registered
            .recv()
            .unwrap_or_else(|_| Err("the watcher thread stopped".into())),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => Some(receiver),
        Err(e) => {
            eprintln!(
                "tracekit: cannot watch SIGTERM and SIGINT ({e}); spans buffered when the process is stopped will be lost"
            );
            None
        }
    }
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn register() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> StopSignal {
        use std::task::Poll;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(Some(())) = self.terminate.poll_recv(cx) {
                return Poll::Ready(StopSignal::Terminate);
            }
            if let Poll::Ready(Some(())) = self.interrupt.poll_recv(cx) {
                return Poll::Ready(StopSignal::Interrupt);
            }
            Poll::Pending
        })
        .await
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn register() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn next(&mut self) -> StopSignal {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        StopSignal::Interrupt
    }
}

/// Wait for the first stop signal; pending forever without a watcher.
async fn first_signal(watcher: Option<Watch>) -> StopSignal {
    if let Some(mut watcher) = watcher {
        if let Ok(signal) = watcher.wait_for(Option::is_some).await {
            if let Some(signal) = *signal {
                return signal;
            }
        }
    }
    std::future::pending().await
}

/// A future that resolves when the process receives SIGTERM or SIGINT:
/// the one line a server needs to keep its buffered spans on `docker stop`,
/// a Kubernetes pod deletion or Ctrl-C. Hand it to the server's graceful
/// shutdown; when the server has stopped, `main` returns, the guard drops
/// and every span still buffered is exported.
///
/// ```no_run
/// use axum::{routing::get, Router};
///
/// #[tokio::main]
/// async fn main() {
///     let _guard = tracekit::init(); // dropped when main returns: flushes
///     let app = Router::new().route("/", get(|| async { "hello" }));
///     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
///     axum::serve(listener, app)
///         .with_graceful_shutdown(tracekit::shutdown_signal())
///         .await
///         .unwrap();
/// }
/// ```
///
/// The handlers are registered when this function is called, not when the
/// future is first polled; from then on the signals no longer kill the
/// process by themselves (a second one does: it exits at once, 128 + the
/// signal number). Works in any async runtime; every call resolves on the
/// same first signal. Where the handlers cannot be registered, one line on
/// standard error says so and the future never resolves.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let stop = tracekit::shutdown_signal();
/// // No signal yet: still pending.
/// let waited = tokio::time::timeout(std::time::Duration::from_millis(10), stop).await;
/// assert!(waited.is_err());
/// # });
/// ```
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    let watcher = watcher();
    async move {
        first_signal(watcher).await;
    }
}

/// [`TracekitBuilder::flush_on_signal`](crate::TracekitBuilder::flush_on_signal):
/// a thread that, on the first stop signal, shuts `provider` down within
/// `timeout` and exits with the signal's conventional status.
pub(crate) fn flush_on_signal(provider: TracerProvider, timeout: Duration, destination: Arc<str>) {
    let Some(watcher) = watcher() else { return };
    let spawned = std::thread::Builder::new()
        .name("tracekit-flush-on-signal".into())
        .spawn(move || {
            let signal = futures_executor::block_on(first_signal(Some(watcher)));
            match provider.shutdown(timeout) {
                Ok(()) => {}
                // As the guard says it: name where the spans were going.
                Err(crate::trace::ProcessorError::Timeout) => eprintln!(
                    "tracekit: flushing spans on {} did not finish within the shutdown \
                     timeout ({timeout:?}; spans go to {destination}): spans not exported by \
                     then are dropped",
                    signal.name()
                ),
                Err(e) => eprintln!("tracekit: flushing spans on {} failed: {e}", signal.name()),
            }
            // What the guard's drop would have said, since it never drops.
            if let Some(line) = provider.counters().summary_line() {
                eprintln!("{line}");
            }
            std::process::exit(signal.exit_code());
        });
    if let Err(e) = spawned {
        eprintln!(
            "tracekit: cannot start the flush-on-signal thread ({e}); spans buffered when the process is stopped will be lost"
        );
    }
}
