//! The middleware against a small HTTP/1.1 server on 127.0.0.1 that
//! records the request heads it receives.

use http::Extensions;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracekit::testing::{attribute, TestProvider};
use tracekit_reqwest::{TracingMiddleware, UrlTemplate};

/// Answers each connection with the next status of `statuses` (the last
/// one repeats, or a stall when it is 0), recording the request heads.
async fn server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut socket, _)) = listener.accept().await {
            let status = statuses[n.min(statuses.len() - 1)];
            n += 1;
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).to_lowercase());
                if status == 0 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    return;
                }
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), heads)
}

fn traced(test: &TestProvider, retry: bool) -> ClientWithMiddleware {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let tracing = TracingMiddleware::new()
        .with_tracer(test.tracer("client"))
        .with_propagator(tracekit_propagators::from_env_value(None).0);
    let mut builder = ClientBuilder::new(http);
    if retry {
        builder = builder.with(RetryOnce);
    }
    builder.with(tracing).build()
}

/// Sends again once when the first answer is a 503.
struct RetryOnce;

#[async_trait::async_trait]
impl Middleware for RetryOnce {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let again = req.try_clone();
        let first = next.clone().run(req, extensions).await?;
        match again {
            Some(again) if first.status() == 503 => next.run(again, extensions).await,
            _ => Ok(first),
        }
    }
}

#[tokio::test]
async fn injects_context_and_records_attributes() {
    let test = TestProvider::new();
    let (base, heads) = server(vec![200]).await;
    let parent = SpanContext::new(
        TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736),
        SpanId::from(0x00f067aa0ba902b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "x")]).unwrap(),
    );
    let cx = Context::new()
        .with_remote_span_context(parent)
        .with_baggage(vec![KeyValue::new("tenant", "acme")]);
    let url = base.replace("http://", "http://user:pw@") + "/users/7?api_key=s3cret&page=2";
    let response = traced(&test, false)
        .get(&url)
        .with_extension(UrlTemplate::new("/users/{id}"))
        .send()
        .with_context(cx)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let spans = test.spans();
    let span = spans.get("GET /users/{id}");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, SpanId::from(0x00f067aa0ba902b7));
    assert_eq!(span.status, Status::Unset);
    let port = base.rsplit(':').next().unwrap().parse::<i64>().unwrap();
    // reqwest moves URL credentials into an Authorization header before
    // the middleware runs; either way none reach `url.full`.
    let full = attribute(span, "url.full").unwrap().as_str().into_owned();
    assert!(
        full == format!("http://127.0.0.1:{port}/users/7?api_key=REDACTED&page=2")
            || full
                == format!(
                    "http://REDACTED:REDACTED@127.0.0.1:{port}/users/7?api_key=REDACTED&page=2"
                ),
        "{full}"
    );
    assert!(!full.contains("pw") && !full.contains("s3cret"));
    assert_eq!(attribute(span, "server.address"), Some(&"127.0.0.1".into()));
    assert_eq!(attribute(span, "server.port"), Some(&port.into()));
    assert_eq!(attribute(span, "http.request.method"), Some(&"GET".into()));
    assert_eq!(
        attribute(span, "http.response.status_code"),
        Some(&200i64.into())
    );
    assert!(attribute(span, "http.request.resend_count").is_none());

    let heads = heads.lock().unwrap();
    let head = &heads[0];
    let expected = format!(
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01",
        span.span_context.span_id()
    );
    assert!(head.contains(&expected), "{head}");
    assert!(head.contains("tracestate: vendor=x"), "{head}");
    assert!(head.contains("baggage: tenant=acme"), "{head}");
}

#[tokio::test]
async fn one_span_per_attempt_with_resend_count() {
    let test = TestProvider::new();
    let (base, heads) = server(vec![503, 200]).await;
    let response = traced(&test, true)
        .get(format!("{base}/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let spans = test.spans();
    assert_eq!(spans.len(), 2);
    let first = &spans.as_slice()[0];
    let second = &spans.as_slice()[1];
    assert!(matches!(first.status, Status::Error { .. }));
    assert_eq!(attribute(first, "error.type"), Some(&"503".into()));
    assert!(attribute(first, "http.request.resend_count").is_none());
    assert_eq!(second.status, Status::Unset);
    assert_eq!(
        attribute(second, "http.request.resend_count"),
        Some(&1i64.into())
    );
    assert_ne!(first.span_context.span_id(), second.span_context.span_id());
    // Each attempt carried its own span as parent.
    let heads = heads.lock().unwrap();
    assert!(heads[0].contains(&first.span_context.span_id().to_string()));
    assert!(heads[1].contains(&second.span_context.span_id().to_string()));
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_errors() {
    let test = TestProvider::new();
    let (base, _heads) = server(vec![0]).await;
    assert!(traced(&test, false)
        .get(format!("{base}/slow"))
        .send()
        .await
        .is_err());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(traced(&test, false)
        .post(format!("http://{closed}/"))
        .send()
        .await
        .is_err());
    let spans = test.spans();
    let types: Vec<_> = spans
        .iter()
        .map(|s| {
            assert!(matches!(s.status, Status::Error { .. }));
            attribute(s, "error.type").unwrap().as_str().into_owned()
        })
        .collect();
    assert_eq!(types, vec!["timeout", "connection_error"]);
    assert_eq!(spans.as_slice()[1].name, "POST");
}

#[tokio::test]
async fn a_transport_failure_records_its_cause_not_only_the_url() {
    let test = TestProvider::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let error = traced(&test, false)
        .get(format!("http://{closed}/"))
        .send()
        .await
        .unwrap_err();
    // reqwest's own message names the URL only; the cause is a source.
    let mut expected = error.to_string();
    let mut source = std::error::Error::source(&error);
    assert!(source.is_some(), "{error:?}");
    while let Some(cause) = source {
        expected.push_str(": ");
        expected.push_str(&cause.to_string());
        source = cause.source();
    }
    let spans = test.spans();
    let span = &spans.as_slice()[0];
    assert_eq!(span.status, Status::error(expected.clone()));
    let exception = &span.events.events[0];
    assert_eq!(exception.name, "exception");
    let message = exception
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .map(|kv| kv.value.as_str().into_owned());
    assert_eq!(message, Some(expected));
}
