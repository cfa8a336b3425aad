//! Serving one service: the tracekit axum layer around its routes, a
//! health check, and a graceful stop on SIGINT, SIGTERM or (when asked)
//! the end of standard input.

use super::HEALTH_ROUTE;
use crate::cli::ServiceArgs;
use axum::routing::get;
use axum::Router;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long in-flight requests may take to finish once a stop is asked.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// `routes` with `GET /health` and the tracekit server layer: a SERVER
/// span per request (the sampler drops the health checks), named by route,
/// with the caller's trace context extracted. `traceparent_response`: send
/// the trace context back (the gateway does, so clients learn the trace
/// id).
pub fn traced(routes: Router, traceparent_response: bool) -> Router {
    routes.route(HEALTH_ROUTE, get(|| async { "ok" })).layer(
        tracekit_axum::layer_builder()
            .traceparent_response_header(traceparent_response)
            .build(),
    )
}

/// Serve `app` on `args.bind:args.port` until stopped; in-flight requests
/// get [`DRAIN_TIMEOUT`] to finish.
pub async fn serve(args: &ServiceArgs, app: Router) -> Result<(), String> {
    let service = args.service;
    let listener = tokio::net::TcpListener::bind((args.bind, args.port))
        .await
        .map_err(|e| {
            format!(
                "{service}: cannot listen on {}:{}: {e}",
                args.bind, args.port
            )
        })?;
    let (stop, stopped) = watch::channel(false);
    let stop = Arc::new(stop);
    spawn_signal_watch(Arc::clone(&stop));
    if args.stop_on_stdin_close {
        spawn_stdin_watch(Arc::clone(&stop));
    }
    let graceful = wait_for_stop(stopped.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let deadline = async move {
        wait_for_stop(stopped).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        served = server => served.map_err(|e| format!("{service}: {e}")),
        () = deadline => {
            eprintln!("{service}: requests still running after {DRAIN_TIMEOUT:?}; stopping anyway");
            Ok(())
        }
    }
}

async fn wait_for_stop(mut stopped: watch::Receiver<bool>) {
    // An error means every sender is gone: nothing can stop us any more
    // but also nothing keeps us; stop.
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// SIGINT (Ctrl-C in the demo's terminal reaches every service) and
/// SIGTERM (`docker stop`, `kill`), through `tracekit::shutdown_signal()`:
/// once the server has stopped, [`run`](super::run) flushes the spans.
fn spawn_signal_watch(stop: Arc<watch::Sender<bool>>) {
    let signal = tracekit::shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        stop.send_replace(true);
    });
}

/// Stop when standard input reaches its end: the demo holds the writing
/// end of a pipe, so its exit (even by SIGKILL) stops every service. A
/// plain thread, left running if a signal stops us first: a blocked read
/// must not hold the runtime's shutdown.
fn spawn_stdin_watch(stop: Arc<watch::Sender<bool>>) {
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".into())
        .spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buffer = [0u8; 256];
            loop {
                match stdin.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
            stop.send_replace(true);
        });
    if spawned.is_err() {
        eprintln!("cannot watch standard input; stop this service with SIGTERM");
    }
}
