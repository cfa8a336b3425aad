//! The receiver's thread: a tokio runtime serving both listeners until told
//! to stop.

use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::store::Store;
use super::tls::{self, ReceiverTls};
use super::{grpc, http};

/// The HTTP server's future, plain or TLS.
type HttpServer = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

/// The serving thread and the switch that stops it.
#[derive(Debug)]
pub(crate) struct ServerThread {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Serve OTLP/HTTP on `http_listener` and OTLP/gRPC on `grpc_listener`,
    /// both over TLS when `tls` is given.
    pub fn spawn(
        http_listener: std::net::TcpListener,
        grpc_listener: std::net::TcpListener,
        store: Arc<Store>,
        tls: Option<&ReceiverTls>,
    ) -> io::Result<Self> {
        let tls = match tls {
            Some(tls) => Some((tls.http_acceptor()?, tls.grpc_config())),
            None => None,
        };
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
                    let router = http::router(Arc::clone(&store));
                    let (http_server, grpc_builder): (HttpServer, _) = match tls {
                        Some((acceptor, grpc_tls)) => {
                            match tonic::transport::Server::builder().tls_config(grpc_tls) {
                                Ok(grpc_builder) => (
                                    Box::pin(tls::serve_http(http_listener, acceptor, router)),
                                    grpc_builder,
                                ),
                                Err(e) => {
                                    eprintln!("tracekit receiver: bad gRPC TLS settings: {e}");
                                    return;
                                }
                            }
                        }
                        None => (
                            Box::pin(axum::serve(http_listener, router).into_future()),
                            tonic::transport::Server::builder(),
                        ),
                    };
                    let mut grpc_builder = grpc_builder;
                    let grpc_server = grpc_builder
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
