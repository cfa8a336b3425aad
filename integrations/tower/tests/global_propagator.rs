//! The default layer's propagator, the global one: what `tracekit::init()`
//! installed (`tracecontext,baggage`) is applied straight from the headers,
//! and a propagator the user sets through `opentelemetry::global`
//! afterwards takes over at once, for layers already built too. One test:
//! the global propagator belongs to the process.

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use std::convert::Infallible;
use tower::{service_fn, Layer, ServiceExt};
use tracekit_propagators::{global, B3Encoding, B3Propagator, W3cPropagation};
use tracekit_tower::{HttpServerLayer, Propagation};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const B3: &str = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1";

/// One request through a default layer (global tracer and propagator):
/// the handler's trace id and `tenant` baggage.
async fn served(layer: &HttpServerLayer, headers: &[(&str, &str)]) -> String {
    let service = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
        let cx = Context::current();
        let tenant = cx.baggage().get("tenant").map(|v| v.to_string());
        let answer = format!(
            "{} {}",
            cx.span().span_context().trace_id(),
            tenant.unwrap_or_default()
        );
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(answer))))
    }));
    let mut request = Request::get("/x");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service
        .oneshot(request.body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_installed_propagator_is_used_until_the_user_sets_another() {
    let _guard = tracekit::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .tracing_subscriber(false)
        .quiet(true)
        .install();
    let installed = global::installed().expect("init() installed the propagator");
    assert_eq!(
        installed.w3c(),
        Some(W3cPropagation::TraceContextAndBaggage)
    );
    let layer = HttpServerLayer::new();
    let w3c = [("traceparent", TRACEPARENT), ("baggage", "tenant=acme")];
    let b3 = [("b3", B3), ("baggage", "tenant=acme")];

    assert_eq!(served(&layer, &w3c).await, format!("{TRACE_ID} acme"));
    let root = served(&layer, &b3).await;
    assert!(
        root.ends_with(" acme") && !root.starts_with("80f198ee"),
        "{root}"
    );
    let mut outgoing = HeaderMap::new();
    let cx = Propagation::Global.extract(&HeaderMap::from_iter(
        w3c.map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap())),
    ));
    Propagation::Global.inject(&cx, &mut outgoing);
    assert_eq!(outgoing["traceparent"], TRACEPARENT);
    assert_eq!(outgoing["baggage"], "tenant=acme");

    // The user's global propagator wins, in the layer built before too.
    opentelemetry::global::set_text_map_propagator(B3Propagator::with_encoding(
        B3Encoding::SingleHeader,
    ));
    assert!(global::installed().is_none());
    assert_eq!(
        served(&layer, &b3).await,
        "80f198ee56343ba864fe8b2a57d3eff7 "
    );
    let root = served(&layer, &w3c).await;
    assert!(!root.starts_with(TRACE_ID) && root.ends_with(' '), "{root}");
    let mut outgoing = HeaderMap::new();
    Propagation::Global.inject(&cx, &mut outgoing);
    assert!(outgoing.contains_key("b3") && !outgoing.contains_key("traceparent"));
}
