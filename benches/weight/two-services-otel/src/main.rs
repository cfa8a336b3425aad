//! The program of `two-services-tracekit` on the usual stack: two axum
//! services in one process, A (`GET /`) calls B with reqwest, B answers
//! "ok". Server spans come from tower-http's `TraceLayer` (parent extracted
//! from the request headers with the global propagator), the client span
//! is a `tracing` span whose context is injected into the request by hand,
//! and tracing-opentelemetry exports through opentelemetry-otlp (HTTP
//! protobuf). Makes three requests to A, prints the responses and exits.

use axum::{extract::State, routing::get, Router};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{global, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tracing::{info_span, Instrument as _};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The server layer: a SERVER span per request, child of the incoming
/// trace context.
fn trace_layer() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&http::Request<axum::body::Body>) -> tracing::Span,
> {
    fn make_span(request: &http::Request<axum::body::Body>) -> tracing::Span {
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let span = info_span!(
            "request",
            otel.name = format!("{} {}", request.method(), route),
            otel.kind = "server",
            http.request.method = %request.method(),
            http.route = %route,
            url.path = request.uri().path(),
        );
        let parent = global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        let _ = span.set_parent(parent);
        span
    }
    TraceLayer::new_for_http().make_span_with(make_span as fn(&_) -> _)
}

/// A GET with a CLIENT span whose context travels in the request headers.
async fn traced_get(client: &reqwest::Client, url: &str) -> reqwest::Result<reqwest::Response> {
    let span = info_span!(
        "GET",
        otel.kind = "client",
        http.request.method = "GET",
        url.full = url,
    );
    let mut headers = http::HeaderMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&span.context(), &mut HeaderInjector(&mut headers))
    });
    client
        .get(url)
        .headers(headers)
        .send()
        .instrument(span)
        .await
}

async fn service_a(State((client, b_url)): State<(reqwest::Client, String)>) -> String {
    match traced_get(&client, &b_url).await {
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
        .layer(trace_layer());
    let b_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_url = format!("http://{}/", b_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(b_listener, b).await.unwrap() });

    let a = Router::new()
        .route("/", get(service_a))
        .with_state((reqwest::Client::new(), b_url))
        .layer(trace_layer());
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_url = format!("http://{}/", a_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(a_listener, a).await.unwrap() });

    let caller = reqwest::Client::new();
    for i in 1..=3 {
        let response = traced_get(&caller, &a_url).await.unwrap();
        let status = response.status();
        println!("request {i}: {status} {}", response.text().await.unwrap());
    }
}

fn main() {
    // Outside the runtime: the exporter's blocking reqwest client must not
    // be built or dropped inside an async context.
    global::set_text_map_propagator(TraceContextPropagator::new());
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .expect("OTLP exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("two-services-otel")
                .with_attribute(KeyValue::new("service.version", "0.1.0"))
                .build(),
        )
        .build();
    global::set_tracer_provider(provider.clone());
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("two-services-otel")))
        .init();

    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());

    if let Err(err) = provider.shutdown() {
        eprintln!("two-services-otel: shutdown: {err}");
    }
}
