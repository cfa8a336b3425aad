//! Sensitive data never leaves the process: a handler puts a card number, an
//! `Authorization` header value and a `?token=` URL into attributes and
//! events; none of them reaches the OTLP receiver (checked on what it
//! decoded), while the rest of the span does.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use std::time::Duration;
use tracekit::testing::receiver::OtlpReceiver;

const CARD: &str = "4111 1111 1111 1111";
const CARD_DIGITS: &str = "4111111111111111";
const BEARER: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const TOKEN: &str = "s3cr3t-t0ken-value";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_attributes_and_events_are_never_exported() {
    let receiver = OtlpReceiver::start().unwrap();
    let tk = tracekit::builder()
        .service_name("payments")
        .with_env(receiver.env("http/protobuf"))
        .build();
    let layer = tracekit_axum::layer_builder()
        .tracer(tk.tracer("payments"))
        .propagator(tracekit_propagators::from_env_value(None).0)
        .build();
    let app = Router::new()
        .route(
            "/pay",
            get(|headers: HeaderMap| async move {
                let cx = Context::current();
                let span = cx.span();
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                span.set_attribute(KeyValue::new("payment.card", CARD));
                span.set_attribute(KeyValue::new("debug.authorization", auth.clone()));
                span.set_attribute(KeyValue::new(
                    "callback.url",
                    format!("https://bank.example/confirm?order=7&token={TOKEN}"),
                ));
                span.add_event(
                    "charge_attempted",
                    vec![
                        KeyValue::new("note", format!("charging card {CARD} for order 7")),
                        KeyValue::new("header", auth),
                    ],
                );
                "paid"
            }),
        )
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let response = reqwest::Client::new()
        .get(format!("http://{addr}/pay?token={TOKEN}"))
        .header("authorization", format!("Bearer {BEARER}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "paid");

    tokio::task::spawn_blocking(move || {
        tk.shutdown().unwrap();
        tk
    })
    .await
    .unwrap();
    assert!(receiver.wait_for_spans(1, Duration::from_secs(10)));
    let spans = receiver.spans();
    let server = spans
        .iter()
        .find(|s| s.span.name == "GET /pay")
        .expect("server span");

    // Every string the receiver decoded, attributes and events alike.
    let mut strings: Vec<String> = Vec::new();
    for s in &spans {
        strings.push(s.span.name.clone());
        for kv in &s.span.attributes {
            strings.push(format!("{}={:?}", kv.key, kv.value));
        }
        for e in &s.span.events {
            strings.push(e.name.clone());
            for kv in &e.attributes {
                strings.push(format!("{}={:?}", kv.key, kv.value));
            }
        }
    }
    let all = strings.join("\n");
    for secret in [CARD, CARD_DIGITS, BEARER, TOKEN] {
        assert!(!all.contains(secret), "{secret} leaked in:\n{all}");
    }
    // The spans still carry what isn't secret.
    assert!(server.attribute("payment.card").is_some());
    assert!(server
        .attribute("callback.url")
        .unwrap()
        .starts_with("https://bank.example/confirm?order=7&token="));
    assert_eq!(server.span.events[0].name, "charge_attempted");
    assert_eq!(server.attribute("url.path").as_deref(), Some("/pay"));
}
