//! reqwest client → axum service A → reqwest → axum service B, each with
//! its own tracekit pipeline exporting OTLP to an in-process receiver on
//! 127.0.0.1; the decoded spans must form one correct trace.
mod support;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::{Context, KeyValue};
use reqwest_middleware::ClientWithMiddleware;
use std::sync::Arc;
use std::time::Duration;
use support::{propagator, serve};
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tracekit::testing::receiver::{find_span, OtlpReceiver, ReceivedSpan};
use tracekit::Tracekit;
use tracekit_axum::TraceInfo;
use tracekit_reqwest::{TracingMiddleware, UrlTemplate};

const SPAN_KIND_SERVER: i32 = 2;
const SPAN_KIND_CLIENT: i32 = 3;
const STATUS_ERROR: i32 = 2;

fn pipeline(receiver: &OtlpReceiver, service: &str) -> Tracekit {
    tracekit::builder()
        .service_name(service)
        .with_env(receiver.env("http/protobuf"))
        .build()
}

fn client(tk: &Tracekit) -> ClientWithMiddleware {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    reqwest_middleware::ClientBuilder::new(http)
        .with(
            TracingMiddleware::new()
                .with_tracer(tk.tracer("client"))
                .with_propagator(propagator()),
        )
        .build()
}

fn service_b(tk: &Tracekit, release: Arc<Notify>) -> Router {
    let layer = tracekit_axum::layer_builder()
        .tracer(tk.tracer("service-b"))
        .propagator(propagator())
        .capture_response_headers(["x-cache", "set-cookie"])
        .build();
    Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<u32>| async move {
                let user = Context::current()
                    .baggage()
                    .get("user.id")
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let mut headers = HeaderMap::new();
                headers.insert("x-cache", "hit".parse().unwrap());
                headers.insert("set-cookie", "session=secret".parse().unwrap());
                (headers, format!("item {id} for {user}"))
            }),
        )
        .route(
            "/stream",
            get(move || {
                let release = release.clone();
                async move {
                    let chunks = futures_util::stream::unfold(0u8, move |n| {
                        let release = release.clone();
                        async move {
                            match n {
                                0 => Some((Ok::<_, std::io::Error>("first;"), 1)),
                                1 => {
                                    release.notified().await;
                                    Some((Ok("second"), 2))
                                }
                                _ => None,
                            }
                        }
                    });
                    Body::from_stream(chunks)
                }
            }),
        )
        .route("/fail", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler bug");
                }
                "unreachable"
            }),
        )
        .layer(CatchPanicLayer::new())
        .layer(layer)
}

fn service_a(tk: &Tracekit, b: String) -> Router {
    let outgoing = client(tk);
    let outgoing_health = outgoing.clone();
    let layer = tracekit_axum::layer_builder()
        .tracer(tk.tracer("service-a"))
        .propagator(propagator())
        .skip_path("/health")
        .capture_request_headers(["x-request-id", "authorization", "cookie", "x-api-key"])
        .build();
    let b_health = b.clone();
    Router::new()
        .route(
            "/users/{id}",
            get(move |Path(id): Path<u32>, trace: TraceInfo| {
                let outgoing = outgoing.clone();
                let b = b.clone();
                async move {
                    assert!(trace.is_valid());
                    let answer = outgoing
                        .get(format!("{b}/items/{id}"))
                        .with_extension(UrlTemplate::new("/items/{id}"))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    format!("{answer} in trace {}", trace.trace_id).into_response()
                }
            }),
        )
        .route(
            "/health",
            get(move || {
                let outgoing = outgoing_health.clone();
                let b = b_health.clone();
                async move {
                    // No span here, but the caller's context is current:
                    // the downstream call stays in the caller's trace.
                    let _ = outgoing.get(format!("{b}/missing")).send().await;
                    TraceInfo::current().trace_id.to_string()
                }
            }),
        )
        .layer(layer)
}

fn is_error(span: &ReceivedSpan) -> bool {
    span.span.status.as_ref().map(|s| s.code) == Some(STATUS_ERROR)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_across_two_services() {
    let receiver = OtlpReceiver::start().unwrap();
    let tk_client = pipeline(&receiver, "caller");
    let tk_a = pipeline(&receiver, "service-a");
    let tk_b = pipeline(&receiver, "service-b");
    let release = Arc::new(Notify::new());
    let b = serve(service_b(&tk_b, release.clone())).await;
    let a = serve(service_a(&tk_a, b.clone())).await;
    let caller = client(&tk_client);

    // 1. client → A → B, with baggage set at the client.
    let cx = Context::current().with_baggage(vec![KeyValue::new("user.id", "u-7")]);
    let body = caller
        .get(format!("{a}/users/42"))
        .header("x-request-id", "req-1")
        .header("authorization", "Bearer top-secret")
        .header("cookie", "session=abc")
        .header("x-api-key", "k-123")
        .with_extension(UrlTemplate::new("/users/{id}"))
        .send()
        .with_context(cx)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.starts_with("item 42 for u-7"),
        "baggage reached B: {body}"
    );

    for tk in [&tk_client, &tk_a, &tk_b] {
        tk.provider().force_flush(Duration::from_secs(5)).unwrap();
    }
    assert!(receiver.wait_for_spans(4, Duration::from_secs(10)));
    let spans = receiver.spans();
    let root = find_span(&spans, "caller", "GET /users/{id}");
    let a_server = find_span(&spans, "service-a", "GET /users/{id}");
    let a_client = find_span(&spans, "service-a", "GET /items/{id}");
    let b_server = find_span(&spans, "service-b", "GET /items/{id}");
    let trace_id = root.trace_id_hex();
    for s in [a_server, a_client, b_server] {
        assert_eq!(s.trace_id_hex(), trace_id, "one trace");
    }
    assert!(body.ends_with(&trace_id), "TraceInfo gave the trace id");
    assert!(root.span.parent_span_id.is_empty());
    assert_eq!(a_server.span.parent_span_id, root.span.span_id);
    assert_eq!(a_client.span.parent_span_id, a_server.span.span_id);
    assert_eq!(b_server.span.parent_span_id, a_client.span.span_id);
    assert_eq!(root.span.kind, SPAN_KIND_CLIENT);
    assert_eq!(a_server.span.kind, SPAN_KIND_SERVER);
    assert_eq!(a_client.span.kind, SPAN_KIND_CLIENT);
    assert_eq!(b_server.span.kind, SPAN_KIND_SERVER);

    assert_eq!(
        a_server.attribute("http.route").as_deref(),
        Some("/users/{id}")
    );
    assert_eq!(a_server.attribute("url.path").as_deref(), Some("/users/42"));
    assert_eq!(
        a_server.attribute("http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(a_server.attribute("url.scheme").as_deref(), Some("http"));
    assert_eq!(
        a_server.attribute("server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        a_server.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(
        a_server.attribute("network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert!(a_server
        .attribute("http.request.header.x-request-id")
        .is_some_and(|v| v.contains("req-1")));
    for never in ["authorization", "cookie", "x-api-key"] {
        assert!(a_server
            .attribute(&format!("http.request.header.{never}"))
            .is_none());
    }
    let any_secret = spans.iter().any(|s| {
        s.span.attributes.iter().any(|kv| {
            format!("{:?}", kv.value).contains("top-secret")
                || format!("{:?}", kv.value).contains("k-123")
        })
    });
    assert!(!any_secret, "no credential value anywhere");
    assert!(b_server
        .attribute("http.response.header.x-cache")
        .is_some_and(|v| v.contains("hit")));
    assert!(b_server
        .attribute("http.response.header.set-cookie")
        .is_none());
    assert_eq!(
        a_client.attribute("url.template").as_deref(),
        Some("/items/{id}")
    );
    assert_eq!(
        a_client.attribute("url.full"),
        Some(format!("{b}/items/42"))
    );
    assert_eq!(
        a_client.attribute("server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert!(a_client.attribute("server.port").is_some());
    assert_eq!(
        a_client.attribute("http.response.status_code").as_deref(),
        Some("200")
    );
    assert!(!is_error(root) && !is_error(a_server) && !is_error(b_server));
    receiver.reset();

    // 2. A streaming response: the span covers the whole stream.
    let ended_before = tk_b.counters().ended;
    let mut response = caller.get(format!("{b}/stream")).send().await.unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    assert_eq!(first, "first;");
    assert_eq!(tk_b.counters().ended, ended_before, "still streaming");
    release.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");
    assert_eq!(
        tk_b.counters().ended,
        ended_before + 1,
        "ended with the stream"
    );

    // 3. Status rules.
    let fail = caller.get(format!("{b}/fail")).send().await.unwrap();
    assert_eq!(fail.status(), 503);
    let missing = caller.get(format!("{b}/missing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let panicked = caller.get(format!("{b}/panic")).send().await.unwrap();
    assert_eq!(panicked.status(), 500);
    // 4. A transport error: nothing listens on a just-freed port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert!(caller
        .get(format!("http://{closed}/x"))
        .send()
        .await
        .is_err());
    // 5. A skipped path keeps the caller's trace for downstream calls.
    let health_root = Context::current();
    let health = caller
        .get(format!("{a}/health"))
        .send()
        .with_context(health_root)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    for tk in [&tk_client, &tk_a, &tk_b] {
        tk.provider().force_flush(Duration::from_secs(5)).unwrap();
    }
    // stream (2) + fail, missing, panic (6) + transport (1) + health:
    // client + A's client + B's server (3).
    assert!(receiver.wait_for_spans(12, Duration::from_secs(10)));
    let spans = receiver.spans();

    let stream = find_span(&spans, "service-b", "GET /stream");
    assert!(!is_error(stream));

    let b_fail = find_span(&spans, "service-b", "GET /fail");
    assert!(is_error(b_fail));
    assert_eq!(b_fail.attribute("error.type").as_deref(), Some("503"));
    let b_missing_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.service_name() == "service-b" && s.span.name == "GET /missing")
        .collect();
    assert_eq!(b_missing_spans.len(), 2, "one direct, one via /health");
    for s in &b_missing_spans {
        assert!(!is_error(s), "4xx is not a server error");
        assert!(s.attribute("error.type").is_none());
    }
    let b_panic = find_span(&spans, "service-b", "GET /panic");
    assert!(is_error(b_panic));
    assert_eq!(b_panic.attribute("error.type").as_deref(), Some("500"));

    let caller_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.service_name() == "caller")
        .collect();
    let by_url = |suffix: &str| {
        caller_spans
            .iter()
            .find(|s| s.attribute("url.full").is_some_and(|u| u.ends_with(suffix)))
            .copied()
            .unwrap_or_else(|| panic!("no caller span for {suffix}"))
    };
    assert!(is_error(by_url("/fail")));
    assert!(is_error(by_url("/missing")), "4xx is a client error");
    assert_eq!(
        by_url("/missing").attribute("error.type").as_deref(),
        Some("404")
    );
    let transport = by_url(&format!("{closed}/x"));
    assert!(is_error(transport));
    assert_eq!(
        transport.attribute("error.type").as_deref(),
        Some("connection_error")
    );
    assert!(transport.attribute("http.response.status_code").is_none());

    // The skipped path: no server span at A, yet one trace from the caller
    // through A's outgoing call to B.
    assert!(spans
        .iter()
        .all(|s| !(s.service_name() == "service-a" && s.span.name.contains("health"))));
    let health_client = by_url("/health");
    assert_eq!(health, health_client.trace_id_hex());
    let a_out = spans
        .iter()
        .find(|s| s.service_name() == "service-a" && s.span.name == "GET")
        .expect("A's call from the skipped path");
    assert_eq!(a_out.span.parent_span_id, health_client.span.span_id);
    assert!(b_missing_spans
        .iter()
        .any(|s| s.span.parent_span_id == a_out.span.span_id));
}
