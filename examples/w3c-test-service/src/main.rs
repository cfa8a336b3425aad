//! The W3C Trace Context conformance test service (the service the W3C
//! test suite, `test/` in `w3c/trace-context`, calls): `POST /test` with a JSON array of
//! `{"url": ..., "arguments": ...}`; for each element, in order, one
//! traced `POST url` with the arguments as JSON body, carrying the
//! incoming trace context the way any tracekit service propagates it.
//!
//! ```sh
//! cargo run --release -p w3c-test-service -- --port 9001
//! ```
//!
//! Built only from tracekit's public API: `tracekit::init`-style setup,
//! the axum layer in, the reqwest middleware out, default propagators
//! (`OTEL_PROPAGATORS` applies). Nothing is exported unless `OTEL_*`
//! variables ask for it.

use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use reqwest_middleware::ClientWithMiddleware;
use serde_json::{json, Value};
use std::time::Duration;

/// Per-call timeout of the outgoing requests.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// The port when `--port` is not given.
const DEFAULT_PORT: u16 = 9001;

/// `--port N` (or `--port=N`); `0` picks a free port.
fn parse_port(args: impl IntoIterator<Item = String>) -> Result<u16, String> {
    let mut args = args.into_iter();
    let mut port = DEFAULT_PORT;
    while let Some(arg) = args.next() {
        let value = if arg == "--port" {
            args.next().ok_or("--port needs a value")?
        } else if let Some(v) = arg.strip_prefix("--port=") {
            v.to_string()
        } else {
            return Err(format!(
                "unknown argument {arg:?}; usage: w3c-test-service [--port N]"
            ));
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port {value:?}"))?;
    }
    Ok(port)
}

/// One outgoing call per element, in order; failures are counted, not
/// fatal.
async fn run_test(client: ClientWithMiddleware, body: Bytes) -> Response {
    let items = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/json")],
                json!({"error": "expected a JSON array"}).to_string(),
            )
                .into_response()
        }
    };
    let mut failed = 0usize;
    for item in &items {
        let Some(url) = item.get("url").and_then(Value::as_str) else {
            failed += 1;
            continue;
        };
        let arguments = item.get("arguments").cloned().unwrap_or(Value::Null);
        let outcome = client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(arguments.to_string())
            .timeout(CALL_TIMEOUT)
            .send()
            .await;
        match outcome {
            // Read the answer so the connection is reusable.
            Ok(response) => {
                let _ = response.bytes().await;
            }
            Err(_) => failed += 1,
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"calls": items.len(), "failed": failed}).to_string(),
    )
        .into_response()
}

/// The service's router: `POST /test` behind the tracekit axum layer.
fn app(client: ClientWithMiddleware) -> Router {
    Router::new()
        .route(
            "/test",
            post(move |body: Bytes| run_test(client.clone(), body)),
        )
        .layer(tracekit_axum::layer())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    // The standard setup: OTEL_* variables apply; without them nothing is
    // exported (no console output to disturb a harness).
    let guard = tracekit::builder()
        .service_name("w3c-test-service")
        .default_exporters(&[])
        .install();
    let http = match reqwest::Client::builder().timeout(CALL_TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("w3c-test-service: cannot build the HTTP client: {e}");
            std::process::exit(1);
        }
    };
    let client = tracekit_reqwest::traced(http);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("w3c-test-service: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| format!("127.0.0.1:{port}"));
    println!("w3c-test-service listening on http://{address}");
    if let Err(e) = axum::serve(listener, app(client))
        // SIGTERM (`docker stop`) or Ctrl-C: stop serving, then drop the
        // guard below, which exports the spans still buffered.
        .with_graceful_shutdown(tracekit::shutdown_signal())
        .await
    {
        eprintln!("w3c-test-service: {e}");
    }
    drop(guard);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port(args(&[])), Ok(9001));
        assert_eq!(parse_port(args(&["--port", "9002"])), Ok(9002));
        assert_eq!(parse_port(args(&["--port=0"])), Ok(0));
        assert!(parse_port(args(&["--port"])).is_err());
        assert!(parse_port(args(&["--port", "x"])).is_err());
        assert!(parse_port(args(&["--verbose"])).is_err());
    }
}
