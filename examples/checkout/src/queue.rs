//! The queue hop: checkout publishes `order.confirmed` after a successful
//! charge, notifications consumes it. The message's headers carry the
//! trace context and baggage, so the PRODUCER span (checkout) and the
//! CONSUMER span (notifications) land in the order's trace.
//!
//! Two brokers, one [`Queue`] in front of them:
//!
//! - **NATS** (`nats://…` URL, the demo uses `$NATS_URL` when set): the
//!   real thing through `tracekit-nats`; notifications subscribes in the
//!   queue group `notifications`, so several instances share the work.
//! - **Embedded** (`http://…` URL, the default): [`EmbeddedQueue`], a small
//!   queue the demo process hosts over HTTP so that the demo needs nothing
//!   but cargo. A message is a JSON [`Envelope`] of headers and payload;
//!   `POST /subjects/{subject}` enqueues it, `GET /subjects/{subject}/next`
//!   hands the oldest one to exactly one consumer (waiting up to
//!   [`LONG_POLL`] for one to arrive). Nothing is persisted. Its spans are
//!   those of [`tracekit::messaging`] with `messaging.system`
//!   [`EMBEDDED_SYSTEM`]; the HTTP calls under it are not traced (they are
//!   the transport, as NATS's protocol is for NATS).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt as _;
use opentelemetry::context::FutureExt as _;
use opentelemetry::global;
use opentelemetry::trace::TraceContextExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Notify};
use tracekit::messaging::{record_error, Messaging};
use tracekit_nats::TracedClient;

/// The subject of confirmed orders.
pub const ORDER_CONFIRMED: &str = "order.confirmed";

/// The variable naming a NATS server for the demo (`nats://host:port`).
pub const NATS_URL_VAR: &str = "NATS_URL";

/// `messaging.system` of the embedded queue's spans.
pub const EMBEDDED_SYSTEM: &str = "checkout-demo";

/// Instrumentation scope of the embedded queue's spans.
pub const QUEUE_SCOPE: &str = "checkout-demo.queue";

/// The queue group notifications subscribes in on NATS.
pub const NATS_QUEUE_GROUP: &str = "notifications";

/// How long `GET /subjects/{subject}/next` waits for a message.
pub const LONG_POLL: Duration = Duration::from_secs(2);

/// Messages one subject of the embedded queue holds at most; a publish
/// beyond that is refused (503).
pub const MAX_QUEUED: usize = 10_000;

/// Time one HTTP call to the embedded queue may take (a long poll
/// included).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a consumer waits before trying again after a failed poll.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// One message of the embedded queue.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Envelope {
    /// The message's headers (`traceparent`, `baggage`, …).
    pub headers: HashMap<String, String>,
    /// The message body (JSON text in this demo).
    pub payload: String,
}

/// A subject's messages and the consumers waiting for one.
#[derive(Default)]
struct Subject {
    messages: Mutex<VecDeque<Envelope>>,
    arrived: Notify,
}

#[derive(Default)]
struct Subjects(Mutex<HashMap<String, Arc<Subject>>>);

impl Subjects {
    fn get(&self, name: &str) -> Arc<Subject> {
        let mut subjects = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(subjects.entry(name.to_string()).or_default())
    }
}

impl Subject {
    fn pop(&self) -> Option<Envelope> {
        self.messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

/// A subject name the embedded queue takes: NATS's rules (1 to 256
/// printable characters, no spaces).
fn valid_subject(subject: &str) -> bool {
    !subject.is_empty() && subject.len() <= 256 && subject.bytes().all(|b| b.is_ascii_graphic())
}

async fn enqueue(
    State(subjects): State<Arc<Subjects>>,
    Path(subject): Path<String>,
    Json(envelope): Json<Envelope>,
) -> Response {
    if !valid_subject(&subject) {
        return (StatusCode::BAD_REQUEST, "invalid subject").into_response();
    }
    let queue = subjects.get(&subject);
    {
        let mut messages = queue.messages.lock().unwrap_or_else(|e| e.into_inner());
        if messages.len() >= MAX_QUEUED {
            return (StatusCode::SERVICE_UNAVAILABLE, "queue full").into_response();
        }
        messages.push_back(envelope);
    }
    queue.arrived.notify_one();
    StatusCode::ACCEPTED.into_response()
}

async fn next(State(subjects): State<Arc<Subjects>>, Path(subject): Path<String>) -> Response {
    if !valid_subject(&subject) {
        return (StatusCode::BAD_REQUEST, "invalid subject").into_response();
    }
    let queue = subjects.get(&subject);
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        if let Some(envelope) = queue.pop() {
            // Another consumer may be waiting and more messages queued.
            queue.arrived.notify_one();
            return Json(envelope).into_response();
        }
        if tokio::time::timeout_at(deadline, queue.arrived.notified())
            .await
            .is_err()
        {
            return StatusCode::NO_CONTENT.into_response();
        }
    }
}

/// The embedded queue, served on 127.0.0.1 (a free port) by a thread of
/// its own until dropped.
pub struct EmbeddedQueue {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddedQueue {
    /// Start serving.
    pub fn start() -> std::io::Result<EmbeddedQueue> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let app = Router::new()
            .route("/subjects/{subject}", post(enqueue))
            .route("/subjects/{subject}/next", get(next))
            .with_state(Arc::new(Subjects::default()));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("embedded-queue".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    // Not graceful: long polls would hold a graceful stop.
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        Ok(EmbeddedQueue {
            url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Its base URL, what services take as `--queue`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for EmbeddedQueue {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where messages go: the embedded queue or a NATS server.
#[derive(Clone)]
pub enum Queue {
    /// The embedded queue at `base` (untraced HTTP: the transport).
    Embedded {
        /// A plain HTTP client.
        http: reqwest::Client,
        /// The queue's base URL.
        base: String,
        /// Its host and port, for `server.address`/`server.port`.
        server: (String, u16),
    },
    /// A NATS server.
    Nats(TracedClient),
}

impl Queue {
    /// The queue at `url`: `nats://` or `tls://` for NATS (connecting
    /// now), `http://` for the embedded queue.
    pub async fn connect(url: &str) -> Result<Queue, String> {
        if url.starts_with("nats://") || url.starts_with("tls://") {
            let client = async_nats::connect(url)
                .await
                .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
            return Ok(Queue::Nats(TracedClient::new(client)));
        }
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("invalid queue {url:?}: {e}"))?;
        let (Some(host), Some(port), "http") = (
            parsed.host_str(),
            parsed.port_or_known_default(),
            parsed.scheme(),
        ) else {
            return Err(format!(
                "invalid queue {url:?}: expected nats://HOST:PORT or http://HOST:PORT"
            ));
        };
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Queue::Embedded {
            http,
            base: url.trim_end_matches('/').to_string(),
            server: (host.to_string(), port),
        })
    }

    /// Publish `payload` to `subject` under a PRODUCER span, the child of
    /// the current context.
    pub async fn publish(&self, subject: &'static str, payload: String) -> Result<(), String> {
        match self {
            Queue::Nats(nats) => nats
                .publish(subject, payload.into())
                .await
                .map_err(|e| format!("publish to {subject}: {e}")),
            Queue::Embedded { http, base, server } => {
                let tracer = global::tracer(QUEUE_SCOPE);
                let mut headers = HashMap::new();
                let cx = Messaging::new(EMBEDDED_SYSTEM, subject)
                    .send_operation_name("publish")
                    .body_size(payload.len())
                    .server(server.0.clone(), server.1)
                    .send(&tracer, &mut headers);
                let url = format!("{base}/subjects/{subject}");
                let sent = match enqueue_at(http, &url, &Envelope { headers, payload }).await {
                    Ok(StatusCode::ACCEPTED) => Ok(()),
                    Ok(status) => Err(format!("publish to {subject}: the queue answered {status}")),
                    Err(e) => Err(format!("publish to {subject}: {e}")),
                };
                if sent.is_err() {
                    record_error(&cx, "publish_failed");
                }
                cx.span().end();
                sent
            }
        }
    }

    /// Consume `subject` for ever: each message is handled by `handler`
    /// under a CONSUMER span, the child of the producer's span, with the
    /// producer's baggage current. A handler error marks the span failed.
    pub async fn consume<F, Fut>(&self, subject: &'static str, handler: F) -> Result<(), String>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        match self {
            Queue::Nats(nats) => {
                let mut messages = nats
                    .client()
                    .queue_subscribe(subject, NATS_QUEUE_GROUP.to_string())
                    .await
                    .map_err(|e| format!("subscribe to {subject}: {e}"))?;
                while let Some(message) = messages.next().await {
                    let _ = nats
                        .handle(&message, |message| {
                            handler(String::from_utf8_lossy(&message.payload).into_owned())
                        })
                        .await;
                }
                Err(format!("the NATS subscription to {subject} ended"))
            }
            Queue::Embedded { http, base, server } => {
                let tracer = global::tracer(QUEUE_SCOPE);
                let url = format!("{base}/subjects/{subject}/next");
                let mut failing = false;
                loop {
                    let envelope = match poll(http, &url).await {
                        Ok(Some(envelope)) => envelope,
                        Ok(None) => continue,
                        Err(e) => {
                            if !failing {
                                eprintln!("notifications: {e}; retrying");
                            }
                            failing = true;
                            tokio::time::sleep(RETRY_DELAY).await;
                            continue;
                        }
                    };
                    failing = false;
                    let cx = Messaging::new(EMBEDDED_SYSTEM, subject)
                        .body_size(envelope.payload.len())
                        .server(server.0.clone(), server.1)
                        .process(&tracer, &envelope.headers);
                    if handler(envelope.payload)
                        .with_context(cx.clone())
                        .await
                        .is_err()
                    {
                        record_error(&cx, "handler_failed");
                    }
                    cx.span().end();
                }
            }
        }
    }
}

/// `POST` `envelope` to the embedded queue's `url`: the status.
async fn enqueue_at(
    http: &reqwest::Client,
    url: &str,
    envelope: &Envelope,
) -> Result<StatusCode, String> {
    let body = serde_json::to_vec(envelope).map_err(|e| e.to_string())?;
    http.post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map(|response| response.status())
        .map_err(|e| e.to_string())
}

/// One long poll: the next message, or `None` when none came in time.
async fn poll(http: &reqwest::Client, url: &str) -> Result<Option<Envelope>, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot reach the queue: {e}"))?;
    match response.status() {
        StatusCode::NO_CONTENT => Ok(None),
        StatusCode::OK => {
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("cannot read the queue's answer: {e}"))?;
            serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| format!("a message the queue sent is not an envelope: {e}"))
        }
        status => Err(format!("the queue answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_nats_rules() {
        assert!(valid_subject("order.confirmed"));
        assert!(!valid_subject(""));
        assert!(!valid_subject("order confirmed"));
        assert!(!valid_subject(&"x".repeat(257)));
    }

    #[tokio::test]
    async fn each_message_goes_to_one_consumer_in_order() {
        let queue = EmbeddedQueue::start().unwrap();
        let http = reqwest::Client::new();
        let next = format!("{}/subjects/a.b/next", queue.url());
        for n in 0..3 {
            let envelope = Envelope {
                headers: HashMap::from([("traceparent".to_string(), format!("t{n}"))]),
                payload: format!("p{n}"),
            };
            let status = enqueue_at(&http, &format!("{}/subjects/a.b", queue.url()), &envelope)
                .await
                .unwrap();
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        for n in 0..3 {
            let got = poll(&http, &next).await.unwrap().expect("a message");
            assert_eq!(got.payload, format!("p{n}"));
            assert_eq!(got.headers["traceparent"], format!("t{n}"));
        }
        // Nothing left: the long poll ends empty.
        assert_eq!(poll(&http, &next).await.unwrap(), None);
        // A waiting consumer gets a message published meanwhile.
        let waiting = tokio::spawn({
            let http = http.clone();
            let next = next.clone();
            async move { poll(&http, &next).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let late = Envelope {
            headers: HashMap::new(),
            payload: "late".into(),
        };
        enqueue_at(&http, &format!("{}/subjects/a.b", queue.url()), &late)
            .await
            .unwrap();
        let got = waiting.await.unwrap().unwrap().expect("the late message");
        assert_eq!(got.payload, "late");
    }

    #[tokio::test]
    async fn bad_input_is_refused_not_panicked_on() {
        let queue = EmbeddedQueue::start().unwrap();
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/subjects/a.b", queue.url()))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
        let response = http
            .get(format!("{}/subjects/a%20b/next", queue.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(Queue::connect("ftp://x").await.is_err());
        assert!(Queue::connect("not a url").await.is_err());
    }
}
