//! Two axum services in one process, instrumented with tracekit: A
//! (`GET /`) calls B with a traced reqwest client, B answers "ok". Makes
//! three requests to A, prints the responses and exits. Needs no
//! collector: failed exports are reported and ignored.

use axum::{extract::State, routing::get, Router};
use reqwest_middleware::ClientWithMiddleware;
use tokio::net::TcpListener;

async fn service_a(State((client, b_url)): State<(ClientWithMiddleware, String)>) -> String {
    match client.get(&b_url).send().await {
        Ok(response) => match response.text().await {
            Ok(body) => format!("A got from B: {body}"),
            Err(err) => format!("A: reading B's body failed: {err}"),
        },
        Err(err) => format!("A: calling B failed: {err}"),
    }
}

async fn run() {
    let b = Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(tracekit_axum::layer());
    let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_url = format!("http://{}/", b_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(b_listener, b).await.unwrap() });

    let a = Router::new()
        .route("/", get(service_a))
        .with_state((tracekit_reqwest::traced_client(), b_url))
        .layer(tracekit_axum::layer());
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_url = format!("http://{}/", a_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(a_listener, a).await.unwrap() });

    let caller = tracekit_reqwest::traced_client();
    for i in 1..=3 {
        let response = caller.get(&a_url).send().await.unwrap();
        let status = response.status();
        println!("request {i}: {status} {}", response.text().await.unwrap());
    }
}

fn main() {
    // Outside the runtime: dropping the guard flushes with a blocking client.
    let _guard = tracekit::init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}
