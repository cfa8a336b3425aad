//! Pieces shared by the axum integration tests.

#![allow(dead_code)]

use axum::Router;

/// The default propagators, tracecontext + baggage.
pub fn propagator() -> tracekit_propagators::CompositePropagator {
    tracekit_propagators::from_env_value(None).0
}

/// Serve `app` on 127.0.0.1 (any free port) in a task; its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
