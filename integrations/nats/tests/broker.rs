//! A real NATS server on 127.0.0.1: an axum handler behind the tracekit
//! layer publishes, a worker task consumes, each side with its own
//! tracekit pipeline exporting OTLP to an in-process receiver. The decoded
//! spans must form one trace (server → producer → consumer → the worker's
//! own span), carry the messaging attributes, bring the caller's baggage to
//! the worker, and link a batch to each of its producers.
//!
//! The test starts `nats-server` itself (`tracekit_nats::testing`, which
//! installs Debian's package when the binary is missing) and fails, saying
//! why, when it cannot.

use std::time::Duration;

use axum::extract::Path;
use axum::routing::post;
use axum::Router;
use futures_util::StreamExt as _;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{TraceContextExt, Tracer as _};
use opentelemetry::{global, Context};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_MESSAGE_BODY_SIZE, MESSAGING_MESSAGE_ID, MESSAGING_OPERATION_NAME,
    MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM, SERVER_ADDRESS, SERVER_PORT,
};
use tokio::sync::mpsc;
use tracekit::propagators::{BaggagePropagator, CompositePropagator, TraceContextPropagator};
use tracekit::testing::receiver::{span_names, spans_named, OtlpReceiver, ReceivedSpan};
use tracekit::Tracekit;
use tracekit_nats::testing::NatsServer;
use tracekit_nats::{TracedClient, MESSAGE_ID_HEADER};

const SPAN_KIND_INTERNAL: i32 = 1;
const SPAN_KIND_SERVER: i32 = 2;
const SPAN_KIND_PRODUCER: i32 = 4;
const SPAN_KIND_CONSUMER: i32 = 5;

const SINGLE: &str = "orders.confirmed";
const BATCH: &str = "orders.batch";
const BATCH_SIZE: usize = 3;
const BROKEN: &str = "orders.broken";
const STATUS_ERROR: i32 = 2;

fn pipeline(receiver: &OtlpReceiver, service: &str) -> Tracekit {
    tracekit::builder()
        .service_name(service)
        .with_env(receiver.env("http/protobuf"))
        .build()
}

fn only<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str) -> &'a ReceivedSpan {
    let found = spans_named(spans, service, name);
    if found.len() != 1 {
        panic!(
            "{} spans {name} from {service} (one expected) among {:?}",
            found.len(),
            span_names(spans)
        );
    }
    found[0]
}

/// What the worker saw of one message.
#[derive(Debug)]
struct Seen {
    payload: String,
    tenant: Option<String>,
}

/// The shop: `POST /orders/{id}` publishes one confirmation,
/// `POST /batch` publishes [`BATCH_SIZE`] messages.
fn shop(tk: &Tracekit, nats: TracedClient<tracekit::Tracer>) -> Router {
    let batch_nats = nats.clone();
    Router::new()
        .route(
            "/orders/{id}",
            post(move |Path(id): Path<u32>| {
                let nats = nats.clone();
                async move {
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert(MESSAGE_ID_HEADER, format!("order-{id}").as_str());
                    nats.publish_with_headers(SINGLE, headers, format!("order {id}").into())
                        .await
                        .expect("publish");
                    "published"
                }
            }),
        )
        .route(
            "/batch",
            post(move || {
                let nats = batch_nats.clone();
                async move {
                    for i in 0..BATCH_SIZE {
                        nats.publish(BATCH, format!("item {i}").into())
                            .await
                            .expect("publish");
                    }
                    "published"
                }
            }),
        )
        .layer(
            tracekit_axum::layer_builder()
                .tracer(tk.tracer("shop"))
                .build(),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_from_a_handler_and_consume_in_a_worker_over_a_real_nats_server() {
    let server = NatsServer::start()
        .unwrap_or_else(|why| panic!("this test needs a NATS server and none can be had: {why}"));
    let url = server.url();
    global::set_text_map_propagator(CompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
    let receiver = OtlpReceiver::start().expect("start the OTLP receiver");
    let tk_shop = pipeline(&receiver, "shop");
    let tk_worker = pipeline(&receiver, "worker");

    // Worker: its own connection, subscribed before anything is published.
    let worker = TracedClient::new(async_nats::connect(&url).await.expect("connect the worker"))
        .with_tracer(tk_worker.tracer("worker"));
    let mut single = worker.client().subscribe(SINGLE).await.unwrap();
    let mut batch = worker.client().subscribe(BATCH).await.unwrap();
    let mut broken = worker.client().subscribe(BROKEN).await.unwrap();
    worker.client().flush().await.unwrap();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let single_worker = worker.clone();
    tokio::spawn(async move {
        while let Some(message) = single.next().await {
            let tracer = single_worker.tracer().clone();
            let seen_tx = seen_tx.clone();
            let _ = single_worker
                .handle(&message, |message| async move {
                    // Work of the worker's own, under the process span.
                    let _send = tracer.start("send confirmation email");
                    let cx = Context::current();
                    seen_tx
                        .send(Seen {
                            payload: String::from_utf8_lossy(&message.payload).into_owned(),
                            tenant: cx.baggage().get("tenant").map(|v| v.to_string()),
                        })
                        .map_err(|_| std::fmt::Error)
                })
                .await;
        }
    });
    let (batch_tx, mut batch_rx) = mpsc::unbounded_channel();
    let batch_worker = worker.clone();
    tokio::spawn(async move {
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            messages.push(message);
            if messages.len() == BATCH_SIZE {
                let cx = batch_worker.process_batch(BATCH, &messages);
                cx.span().end();
                let _ = batch_tx.send(messages.len());
                messages.clear();
            }
        }
    });

    let (broken_tx, mut broken_rx) = mpsc::unbounded_channel();
    let broken_worker = worker.clone();
    tokio::spawn(async move {
        while let Some(message) = broken.next().await {
            let outcome = broken_worker
                .handle(&message, |_| async {
                    Err::<(), _>(std::io::Error::other("not an order"))
                })
                .await;
            let _ = broken_tx.send(outcome.is_err());
        }
    });

    // Shop: an axum app behind the tracekit layer, publishing on its own
    // connection.
    let producer = TracedClient::new(async_nats::connect(&url).await.expect("connect the shop"))
        .with_tracer(tk_shop.tracer("shop"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", listener.local_addr().unwrap());
    let app = shop(&tk_shop, producer);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // A customer without a trace, but with baggage.
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{shop_url}/orders/42"))
        .header("baggage", "tenant=acme")
        .send()
        .await
        .expect("the shop answers");
    assert!(answer.status().is_success(), "{}", answer.status());
    let seen = tokio::time::timeout(Duration::from_secs(10), seen_rx.recv())
        .await
        .expect("the worker processed the message within 10 s")
        .expect("a message");
    assert_eq!(seen.payload, "order 42");
    assert_eq!(
        seen.tenant.as_deref(),
        Some("acme"),
        "baggage reached the worker"
    );

    let answer = http.post(format!("{shop_url}/batch")).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let processed = tokio::time::timeout(Duration::from_secs(10), batch_rx.recv())
        .await
        .expect("the worker processed the batch within 10 s");
    assert_eq!(processed, Some(BATCH_SIZE));

    // A message published outside any trace, which the worker fails on.
    let direct = TracedClient::new(async_nats::connect(&url).await.expect("connect"))
        .with_tracer(tk_shop.tracer("direct"));
    direct.publish(BROKEN, "garbage".into()).await.unwrap();
    let failed = tokio::time::timeout(Duration::from_secs(10), broken_rx.recv())
        .await
        .expect("the worker handled the broken message within 10 s");
    assert_eq!(failed, Some(true), "handle passes the handler's error on");

    for tk in [&tk_shop, &tk_worker] {
        tk.provider().force_flush(Duration::from_secs(5)).unwrap();
    }
    // 1 server + 1 producer + 1 consumer + 1 worker span, then
    // 1 server + 3 producers + 1 batch consumer, then 1 producer + 1
    // failed consumer.
    assert!(
        receiver.wait_for_spans(11, Duration::from_secs(10)),
        "11 spans arrived; got {}",
        receiver.span_count()
    );
    let spans = receiver.spans();

    // One message: server → producer → consumer → the worker's span.
    let http_server = only(&spans, "shop", "POST /orders/{id}");
    let producer = only(&spans, "shop", "publish orders.confirmed");
    let consumer = only(&spans, "worker", "process orders.confirmed");
    let work = only(&spans, "worker", "send confirmation email");
    let trace_id = http_server.trace_id_hex();
    for span in [producer, consumer, work] {
        assert_eq!(span.trace_id_hex(), trace_id, "{}", span.span.name);
    }
    assert!(http_server.span.parent_span_id.is_empty(), "the trace root");
    assert_eq!(http_server.span.kind, SPAN_KIND_SERVER);
    assert_eq!(producer.span.kind, SPAN_KIND_PRODUCER);
    assert_eq!(consumer.span.kind, SPAN_KIND_CONSUMER);
    assert_eq!(work.span.kind, SPAN_KIND_INTERNAL);
    assert_eq!(producer.span.parent_span_id, http_server.span.span_id);
    assert_eq!(consumer.span.parent_span_id, producer.span.span_id);
    assert_eq!(work.span.parent_span_id, consumer.span.span_id);

    let port = server.port().to_string();
    for (span, operation_type, operation_name) in [
        (producer, "send", "publish"),
        (consumer, "process", "process"),
    ] {
        let name = &span.span.name;
        assert_eq!(span.attribute(MESSAGING_SYSTEM).as_deref(), Some("nats"));
        assert_eq!(
            span.attribute(MESSAGING_DESTINATION_NAME).as_deref(),
            Some(SINGLE)
        );
        assert_eq!(
            span.attribute(MESSAGING_OPERATION_TYPE).as_deref(),
            Some(operation_type),
            "{name}"
        );
        assert_eq!(
            span.attribute(MESSAGING_OPERATION_NAME).as_deref(),
            Some(operation_name),
            "{name}"
        );
        assert_eq!(
            span.attribute(MESSAGING_MESSAGE_ID).as_deref(),
            Some("order-42"),
            "{name}"
        );
        assert_eq!(
            span.attribute(MESSAGING_MESSAGE_BODY_SIZE).as_deref(),
            Some("8"),
            "{name}: \"order 42\""
        );
        assert_eq!(
            span.attribute(SERVER_ADDRESS).as_deref(),
            Some("127.0.0.1"),
            "{name}"
        );
        assert_eq!(
            span.attribute(SERVER_PORT).as_deref(),
            Some(port.as_str()),
            "{name}"
        );
    }

    // A batch: its own span, linked to each of the three producers (all
    // children of the batch request's server span).
    let batch_server = only(&spans, "shop", "POST /batch");
    let producers = spans_named(&spans, "shop", "publish orders.batch");
    assert_eq!(producers.len(), BATCH_SIZE);
    for producer in &producers {
        assert_eq!(producer.span.kind, SPAN_KIND_PRODUCER);
        assert_eq!(producer.span.parent_span_id, batch_server.span.span_id);
    }
    let batch = only(&spans, "worker", "process orders.batch");
    assert_eq!(batch.span.kind, SPAN_KIND_CONSUMER);
    assert_eq!(
        batch.attribute(MESSAGING_BATCH_MESSAGE_COUNT).as_deref(),
        Some("3")
    );
    assert_eq!(batch.attribute(MESSAGING_MESSAGE_ID), None);
    assert_eq!(batch.span.links.len(), BATCH_SIZE);
    for producer in &producers {
        assert!(
            batch.span.links.iter().any(|link| {
                link.span_id == producer.span.span_id && link.trace_id == producer.span.trace_id
            }),
            "a link to the producer {}",
            producer.span_id_hex()
        );
    }

    // A failed handler: the process span is an error with error.type, and
    // a message published outside any trace starts one.
    let broken_producer = only(&spans, "shop", "publish orders.broken");
    let broken_consumer = only(&spans, "worker", "process orders.broken");
    assert!(
        broken_producer.span.parent_span_id.is_empty(),
        "published outside any trace: a root"
    );
    assert_eq!(
        broken_consumer.span.parent_span_id,
        broken_producer.span.span_id
    );
    assert_eq!(
        broken_consumer.span.status.as_ref().map(|s| s.code),
        Some(STATUS_ERROR)
    );
    assert_eq!(
        broken_consumer.attribute(ERROR_TYPE).as_deref(),
        Some(std::any::type_name::<std::io::Error>())
    );
    assert!(
        producer
            .span
            .status
            .as_ref()
            .is_none_or(|s| s.code != STATUS_ERROR),
        "a published message is no error"
    );
}
