//! The server and client layers around plain tower services, with a test
//! provider and an explicit propagator.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::Context;
use std::convert::Infallible;
use std::future::Future as _;
use tower::{service_fn, Layer, ServiceExt};
use tracekit::testing::{attribute, TestProvider};
use tracekit_propagators::TraceContextPropagator;
use tracekit_tower::{HttpClientLayer, HttpServerLayer, UrlTemplate};

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn server(
    test: &TestProvider,
) -> tracekit_tower::HttpServerLayerBuilder<tracekit_tower::NoRequestInfo, tracekit::Tracer> {
    HttpServerLayer::builder()
        .tracer(test.tracer("server"))
        .propagator(TraceContextPropagator::new())
}

#[tokio::test]
async fn remote_parent_current_context_and_body_end() {
    let test = TestProvider::new();
    let layer = server(&test).traceparent_response_header(true).build();
    let service = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
        let cx = Context::current();
        let span = cx.span();
        let sc = span.span_context();
        assert!(sc.is_valid());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hi"))))
    }));
    let request = Request::get("/x?y=1")
        .header("traceparent", PARENT)
        .header("host", "127.0.0.1:1234")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let traceparent = response
        .headers()
        .get("traceparent")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert_eq!(
        response
            .headers()
            .get("access-control-expose-headers")
            .unwrap(),
        "traceparent"
    );
    // Not ended until the body has been read.
    assert!(test.spans().is_empty());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "hi");
    let spans = test.spans();
    let span = spans.get("GET");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert!(span.parent_span_is_remote);
    assert_eq!(span.status, Status::Unset);
    assert!(traceparent.contains(&span.span_context.span_id().to_string()));
    assert_eq!(attribute(span, "url.query").unwrap().as_str(), "y=1");
    assert_eq!(
        attribute(span, "http.response.status_code"),
        Some(&200i64.into())
    );
}

#[tokio::test]
async fn skipped_paths_have_no_span_but_keep_the_context() {
    let test = TestProvider::new();
    let layer = server(&test).skip_path("/health").build();
    let service = layer.layer(service_fn(|_req: Request<()>| async {
        let trace_id = Context::current().span().span_context().trace_id();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(trace_id.to_string()))))
    }));
    let request = Request::get("/health")
        .header("traceparent", PARENT)
        .body(())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(test.spans().is_empty());
}

#[tokio::test]
async fn statuses_errors_and_panics() {
    let test = TestProvider::new();
    let layer = server(&test).build();
    for code in [404u16, 503] {
        let service = layer.layer(service_fn(move |_req: Request<()>| async move {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::from_u16(code).unwrap();
            Ok::<_, Infallible>(response)
        }));
        let response = service
            .oneshot(Request::get("/").body(()).unwrap())
            .await
            .unwrap();
        drop(response);
    }
    let spans = test.spans();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans.as_slice()[0].status, Status::Unset);
    assert!(matches!(spans.as_slice()[1].status, Status::Error { .. }));
    assert_eq!(
        attribute(&spans.as_slice()[1], "error.type")
            .unwrap()
            .as_str(),
        "503"
    );
    test.reset();

    let failing = layer.layer(service_fn(|_req: Request<()>| async {
        Err::<Response<Full<Bytes>>, std::io::Error>(std::io::Error::other("backend down"))
    }));
    assert!(failing
        .oneshot(Request::get("/").body(()).unwrap())
        .await
        .is_err());
    let spans = test.spans();
    assert_eq!(spans.get("GET").status, Status::error("backend down"));
    assert_eq!(
        attribute(spans.get("GET"), "error.type").unwrap().as_str(),
        "std::io::error::Error"
    );
    test.reset();

    let panicking = layer.layer(service_fn(|_req: Request<()>| async {
        if true {
            panic!("handler exploded");
        }
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    }));
    let outcome = tokio::spawn(panicking.oneshot(Request::get("/").body(()).unwrap())).await;
    assert!(outcome.unwrap_err().is_panic());
    let spans = test.spans();
    assert_eq!(spans.get("GET").status, Status::error("handler exploded"));
    assert_eq!(
        attribute(spans.get("GET"), "error.type").unwrap().as_str(),
        "panic"
    );
}

#[tokio::test]
async fn streaming_body_and_grpc_trailers() {
    let test = TestProvider::new();
    let layer = server(&test).build();
    let service = layer.layer(service_fn(|_req: Request<()>| async {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "14".parse().unwrap());
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = vec![
            Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\0"))),
            Ok(Frame::trailers(trailers)),
        ];
        Ok::<_, Infallible>(Response::new(StreamBody::new(futures_util::stream::iter(
            frames,
        ))))
    }));
    let request = Request::post("/shop.Cart/Checkout")
        .header("content-type", "application/grpc+proto")
        .body(())
        .unwrap();
    let mut body = service.oneshot(request).await.unwrap().into_body();
    let _data = body.frame().await.unwrap().unwrap();
    assert!(test.spans().is_empty(), "the span covers the whole stream");
    let _trailers = body.frame().await.unwrap().unwrap();
    assert!(body.frame().await.is_none());
    let spans = test.spans();
    let span = spans.get("shop.Cart/Checkout");
    assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(&14i64.into()));
    assert_eq!(
        attribute(span, "rpc.service").unwrap().as_str(),
        "shop.Cart"
    );
    assert_eq!(
        attribute(span, "error.type").unwrap().as_str(),
        "UNAVAILABLE"
    );
}

#[tokio::test]
async fn client_layer_injects_and_marks_errors() {
    let test = TestProvider::new();
    let layer = HttpClientLayer::builder()
        .tracer(test.tracer("client"))
        .propagator(TraceContextPropagator::new())
        .build();
    let client = layer.layer(service_fn(|req: Request<()>| async move {
        let traceparent = req.headers().get("traceparent").cloned();
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
            .headers_mut()
            .insert("x-seen", traceparent.unwrap());
        Ok::<_, Infallible>(response)
    }));
    let mut request = Request::get("http://127.0.0.1:9/users/7?token=t")
        .body(())
        .unwrap();
    request
        .extensions_mut()
        .insert(UrlTemplate::new("/users/{id}"));
    let response = client.oneshot(request).await.unwrap();
    let seen = response
        .headers()
        .get("x-seen")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    drop(response);
    let spans = test.spans();
    let span = spans.get("GET /users/{id}");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert!(seen.contains(&span.span_context.span_id().to_string()));
    assert!(matches!(span.status, Status::Error { .. }));
    assert_eq!(attribute(span, "error.type").unwrap().as_str(), "404");
    assert_eq!(
        attribute(span, "url.full").unwrap().as_str(),
        "http://127.0.0.1:9/users/7?token=REDACTED"
    );
    test.reset();

    let failing = layer.layer(service_fn(|_req: Request<()>| async {
        Err::<Response<Full<Bytes>>, std::io::Error>(std::io::Error::other("connection refused"))
    }));
    assert!(failing
        .oneshot(Request::get("http://127.0.0.1:9/").body(()).unwrap())
        .await
        .is_err());
    assert_eq!(
        test.spans().get("GET").status,
        Status::error("connection refused")
    );
}

#[tokio::test]
async fn path_only_requests_take_the_server_from_the_origin_or_the_host_header() {
    use opentelemetry_semantic_conventions::attribute::{SERVER_ADDRESS, SERVER_PORT, URL_FULL};
    let answer = || {
        service_fn(|req: Request<()>| async move {
            // What a tonic channel does below the layer: the request
            // reaches it without scheme or authority.
            assert!(req.uri().authority().is_none());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        })
    };
    let test = TestProvider::new();
    let origin: http::Uri = "https://api.example:8443".parse().unwrap();
    let with_origin = HttpClientLayer::builder()
        .tracer(test.tracer("client"))
        .origin(&origin)
        .build()
        .layer(answer());
    let request = Request::get("/users/7?token=t").body(()).unwrap();
    drop(with_origin.oneshot(request).await.unwrap());
    let spans = test.spans();
    let span = spans.get("GET");
    assert_eq!(
        attribute(span, SERVER_ADDRESS).unwrap().as_str(),
        "api.example"
    );
    assert_eq!(attribute(span, SERVER_PORT), Some(&8443i64.into()));
    assert_eq!(
        attribute(span, URL_FULL).unwrap().as_str(),
        "https://api.example:8443/users/7?token=REDACTED"
    );
    test.reset();

    let without_origin = HttpClientLayer::builder()
        .tracer(test.tracer("client"))
        .build()
        .layer(answer());
    let request = Request::get("/x")
        .header("host", "h.example:81")
        .body(())
        .unwrap();
    drop(without_origin.clone().oneshot(request).await.unwrap());
    let request = Request::get("/x").body(()).unwrap();
    drop(without_origin.oneshot(request).await.unwrap());
    let spans = test.spans();
    assert_eq!(spans.len(), 2);
    // In the order they ended.
    let mut ended = spans.iter();
    let (from_host, unknown) = (ended.next().unwrap(), ended.next().unwrap());
    assert_eq!(
        attribute(from_host, SERVER_ADDRESS).unwrap().as_str(),
        "h.example"
    );
    assert_eq!(attribute(from_host, SERVER_PORT), Some(&81i64.into()));
    assert!(attribute(unknown, SERVER_ADDRESS).is_none());
    assert!(attribute(unknown, SERVER_PORT).is_none());
}

#[tokio::test]
async fn the_context_is_current_on_every_poll_and_only_then() {
    let test = TestProvider::new();
    let layer = server(&test).skip_path("/health").build();
    let service = layer.layer(service_fn(|_req: Request<()>| async {
        let before = Context::current().span().span_context().clone();
        // Suspended and polled again: still current, and not outside.
        tokio::task::yield_now().await;
        let after = Context::current().span().span_context().clone();
        assert_eq!(before, after);
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
            after.span_id().to_string(),
        ))))
    }));
    for path in ["/traced", "/health"] {
        let request = Request::get(path)
            .header("traceparent", PARENT)
            .body(())
            .unwrap();
        let mut future = std::pin::pin!(service.clone().oneshot(request));
        let response = std::future::poll_fn(|cx| {
            let polled = future.as_mut().poll(cx);
            // Between polls the caller's (empty) context is current again.
            assert!(!Context::current().has_active_span());
            polled
        })
        .await
        .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let span_id = String::from_utf8(body.to_vec()).unwrap();
        if path == "/health" {
            // The incoming context: the remote parent.
            assert_eq!(span_id, "00f067aa0ba902b7");
        } else {
            let spans = test.spans();
            assert_eq!(span_id, spans.get("GET").span_context.span_id().to_string());
        }
    }
}
