//! The receiver's thread: a tokio runtime serving both listeners until told
//! to stop.

use std::future::IntoFuture;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::store::Store;
use super::{grpc, http};

/// The serving thread and the switch that stops it.
#[derive(Debug)]
pub(crate) struct ServerThread {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Serve OTLP/HTTP on `http_listener` and OTLP/gRPC on `grpc_listener`.
    pub fn spawn(
        http_listener: std::net::TcpListener,
        grpc_listener: std::net::TcpListener,
        store: Arc<Store>,
    ) -> io::Result<Self> {
        http_listener.set_nonblocking(true)?;
        grpc_listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("tracekit-otlp-receiver".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let (http_listener, grpc_listener) = match (
                        tokio::net::TcpListener::from_std(http_listener),
                        tokio::net::TcpListener::from_std(grpc_listener),
                    ) {
                        (Ok(h), Ok(g)) => (h, g),
                        (Err(e), _) | (_, Err(e)) => {
                            eprintln!("tracekit receiver: cannot listen: {e}");
                            return;
                        }
                    };
                    let http_server =
                        axum::serve(http_listener, http::router(Arc::clone(&store))).into_future();
                    let grpc_server = tonic::transport::Server::builder()
                        .add_service(grpc::service(store))
                        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(
                            grpc_listener,
                        ));
                    // Stopping drops both servers (and the runtime with every
                    // connection): nothing to drain in a test receiver.
                    tokio::select! {
                        _ = stop_rx => {}
                        result = http_server => {
                            if let Err(e) = result {
                                eprintln!("tracekit receiver: HTTP server stopped: {e}");
                            }
                        }
                        result = grpc_server => {
                            if let Err(e) = result {
                                eprintln!("tracekit receiver: gRPC server stopped: {e}");
                            }
                        }
                    }
                });
            })?;
        Ok(Self {
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Stop serving and wait for the thread to end.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The thread may already be gone; nothing to tell it then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
