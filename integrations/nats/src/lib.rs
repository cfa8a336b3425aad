//! tracekit for NATS ([`async_nats`]): a PRODUCER span around every
//! publish, with the trace context and baggage written into the message's
//! NATS headers, and CONSUMER spans for the messages a worker processes:
//! one message as the child of its producer's span, a batch with one link
//! per message.
//!
//! ```no_run
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::context::FutureExt as _;
//! use opentelemetry::{Context, KeyValue};
//! use futures_util::StreamExt as _;
//! use tracekit_nats::TracedClient;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let _tracing = tracekit::init();
//! let nats = TracedClient::new(async_nats::connect("nats://127.0.0.1:4222").await?);
//!
//! // Worker: every message is processed under a CONSUMER span
//! // `process orders.confirmed`, the child of the publisher's span, with
//! // the publisher's baggage current.
//! let mut orders = nats.client().subscribe("orders.confirmed").await?;
//! let worker = nats.clone();
//! tokio::spawn(async move {
//!     while let Some(message) = orders.next().await {
//!         let _ = worker
//!             .handle(&message, |message| async move {
//!                 let tenant = Context::current().baggage().get("tenant").map(|v| v.to_string());
//!                 println!("{} bytes for {tenant:?}", message.payload.len());
//!                 Ok::<(), std::io::Error>(())
//!             })
//!             .await;
//!     }
//! });
//!
//! // Publisher (in a request handler, say): a PRODUCER span
//! // `publish orders.confirmed`, the child of the current span.
//! let cx = Context::current_with_baggage([KeyValue::new("tenant", "acme")]);
//! nats.publish("orders.confirmed", "order 42".into())
//!     .with_context(cx)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Design
//!
//! The spans, their names (`{operation} {destination}`) and attributes
//! come from [`tracekit::messaging::Messaging`], which knows nothing of
//! any broker; this crate only supplies what NATS knows:
//!
//! - **Headers.** [`HeaderInjector`] and [`HeaderExtractor`] let any
//!   OpenTelemetry propagator write to and read from an
//!   [`async_nats::HeaderMap`] (NATS headers need a NATS 2.2+ server).
//!   Values NATS cannot carry (a line break) are skipped rather than
//!   corrupting the message; reading falls back to a case-insensitive
//!   match, for publishers that capitalise `Traceparent`.
//! - **Attributes.** `messaging.system = nats`, the subject as
//!   `messaging.destination.name`, `messaging.operation.name = publish`,
//!   the payload's size, the JetStream de-duplication header
//!   (`Nats-Msg-Id`) as `messaging.message.id` when a message has one,
//!   and `server.address`/`server.port` of the server the connection is
//!   on (from the server's `INFO`, so they follow a reconnect to another
//!   cluster member; a server listening on an unspecified address such as
//!   `0.0.0.0` reports nothing useful, so give the address with
//!   [`TracedClient::with_server`] then).
//! - **When spans end.** A publish span ends when `async-nats` has queued
//!   the message on its connection (the same moment `publish` returns):
//!   core NATS has no acknowledgement to wait for, and the application
//!   never waits for telemetry. A process span ends when the handler's
//!   future does ([`TracedClient::handle`]), or when you end it
//!   ([`TracedClient::process`]).
//! - **Which parent.** A single message's CONSUMER span is the child of
//!   the PRODUCER span found in its headers, so the trace continues across
//!   the broker; a batch's span cannot have many parents, so it is the
//!   child of the current context and links every message's producer
//!   (messages without a context are counted but not linked).
//! - **Tracers.** [`TracedClient::new`] uses the global tracer provider
//!   (what [`tracekit::init`] installs) and the global propagator;
//!   [`TracedClient::with_tracer`] takes any tracer, such as one from a
//!   provider of your own.
//!
//! Feature `testing` adds `testing::NatsServer` (no dependencies): a
//! real `nats-server` on 127.0.0.1 for integration tests, installed from
//! Debian's packages when missing.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use async_nats::subject::ToSubject;
use async_nats::{Client, HeaderMap, HeaderName, HeaderValue, Message, PublishError};
use bytes::Bytes;
use opentelemetry::context::FutureExt as _;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::Context;
use tracekit::messaging::{record_error, Messaging};

#[cfg(feature = "testing")]
pub mod testing;

/// `messaging.system` of every span this crate starts.
pub const SYSTEM: &str = "nats";

/// NATS's name for sending a message: the producer's
/// `messaging.operation.name` and the first word of its span name.
pub const PUBLISH: &str = "publish";

/// The header JetStream de-duplicates messages by; its value becomes
/// `messaging.message.id`.
pub const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";

/// Instrumentation scope of the global tracer [`TracedClient::new`] uses.
pub const SCOPE: &str = "tracekit-nats";

/// Writes propagation fields into NATS message headers.
///
/// A field whose name or value NATS cannot carry (an empty name, a colon,
/// space or control character in the name, a line break in the value) is
/// skipped: the message still goes out, without that field.
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if key.is_empty() {
            return;
        }
        let (Ok(name), Ok(value)) = (key.parse::<HeaderName>(), value.parse::<HeaderValue>())
        else {
            return;
        };
        self.0.insert(name, value);
    }
}

/// Reads propagation fields from NATS message headers: the first value of
/// the header with exactly that name, or else of one whose name matches
/// ignoring ASCII case (which also finds the headers `async-nats` keeps as
/// its standard names, `Nats-Msg-Id` say, when a message is received).
#[derive(Clone, Copy, Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if let Some(value) = self.0.get(key) {
            return Some(value.as_str());
        }
        self.0
            .iter()
            .find(|(name, _)| AsRef::<str>::as_ref(*name).eq_ignore_ascii_case(key))
            .and_then(|(_, values)| values.first())
            .map(HeaderValue::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

/// An [`async_nats::Client`] whose publishes are PRODUCER spans and whose
/// received messages can be processed under CONSUMER spans. Cheap to
/// clone: clones share the connection and the tracer.
#[derive(Debug)]
pub struct TracedClient<T = BoxedTracer> {
    client: Client,
    tracer: Arc<T>,
    server: Option<(String, u16)>,
}

impl<T> Clone for TracedClient<T> {
    fn clone(&self) -> Self {
        TracedClient {
            client: self.client.clone(),
            tracer: Arc::clone(&self.tracer),
            server: self.server.clone(),
        }
    }
}

impl TracedClient<BoxedTracer> {
    /// Trace `client` through the global tracer provider (scope
    /// [`SCOPE`]) and the global propagator.
    pub fn new(client: Client) -> Self {
        TracedClient {
            client,
            tracer: Arc::new(global::tracer(SCOPE)),
            server: None,
        }
    }
}

impl<T> TracedClient<T>
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    /// The same client, traced by `tracer` instead.
    pub fn with_tracer<U>(self, tracer: U) -> TracedClient<U> {
        TracedClient {
            client: self.client,
            tracer: Arc::new(tracer),
            server: self.server,
        }
    }

    /// Report `address` and `port` as the broker's `server.address` and
    /// `server.port` instead of what the server's `INFO` says (for a
    /// server listening on `0.0.0.0`, or one behind a proxy).
    pub fn with_server(mut self, address: impl Into<String>, port: u16) -> Self {
        self.server = Some((address.into(), port));
        self
    }

    /// The NATS client, for what this crate does not trace (subscribing,
    /// flushing, requests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The tracer the spans are started with.
    pub fn tracer(&self) -> &T {
        &self.tracer
    }

    /// Publish `payload` to `subject` under a PRODUCER span
    /// `publish {subject}`, the child of the current context, with that
    /// span's context and the current baggage in the message's headers.
    pub async fn publish<S: ToSubject>(
        &self,
        subject: S,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        self.publish_with_headers(subject, HeaderMap::new(), payload)
            .await
    }

    /// [`publish`](Self::publish) with headers of your own; the
    /// propagation fields are added to them (replacing stale ones).
    pub async fn publish_with_headers<S: ToSubject>(
        &self,
        subject: S,
        mut headers: HeaderMap,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        let subject = subject.to_subject();
        let mut messaging = self
            .messaging(subject.to_string())
            .send_operation_name(PUBLISH)
            .body_size(payload.len());
        if let Some(id) = HeaderExtractor(&headers).get(MESSAGE_ID_HEADER) {
            messaging = messaging.message_id(id);
        }
        let cx = messaging.send(&*self.tracer, &mut HeaderInjector(&mut headers));
        let published = self
            .client
            .publish_with_headers(subject, headers, payload)
            .await;
        if let Err(e) = &published {
            record_error(&cx, publish_error_type(e));
        }
        cx.span().end();
        published
    }

    /// Start the CONSUMER span `process {subject}` for `message`: the child
    /// of the producer's context in its headers (a new trace when they
    /// carry none), with the message's baggage in the returned context.
    /// Attach that context (or pass it to `FutureExt::with_context`) while
    /// processing, and end its span when done (`cx.span().end()`);
    /// [`handle`](Self::handle) does both.
    pub fn process(&self, message: &Message) -> Context {
        let mut messaging = self
            .messaging(message.subject.to_string())
            .body_size(message.payload.len());
        let empty = HeaderMap::new();
        let headers = message.headers.as_ref().unwrap_or(&empty);
        if let Some(id) = HeaderExtractor(headers).get(MESSAGE_ID_HEADER) {
            messaging = messaging.message_id(id);
        }
        messaging.process(&*self.tracer, &HeaderExtractor(headers))
    }

    /// Start the CONSUMER span `process {destination}` for a batch of
    /// `messages`: the child of the current context, with one link per
    /// message whose headers carry a producer's context, and
    /// `messaging.batch.message_count`. `destination` is the subject the
    /// messages were received on (the subscription's, say `orders.*`, when
    /// they differ). End the span when the batch is done.
    pub fn process_batch(
        &self,
        destination: impl Into<Cow<'static, str>>,
        messages: &[Message],
    ) -> Context {
        let empty = HeaderMap::new();
        let extractors: Vec<HeaderExtractor<'_>> = messages
            .iter()
            .map(|m| HeaderExtractor(m.headers.as_ref().unwrap_or(&empty)))
            .collect();
        let headers: Vec<&dyn Extractor> = extractors.iter().map(|e| e as &dyn Extractor).collect();
        self.messaging(destination)
            .process_batch(&*self.tracer, &headers)
    }

    /// Run `work` for `message` under its CONSUMER span (see
    /// [`process`](Self::process)): the span's context, the message's
    /// baggage included, is current whenever `work` runs, so spans it
    /// starts (`#[instrument]` functions too) nest below. An `Err` marks
    /// the span failed, with the error's type name as `error.type`. The
    /// span ends when `work` does.
    pub async fn handle<'m, F, Fut, R, E>(&self, message: &'m Message, work: F) -> Result<R, E>
    where
        F: FnOnce(&'m Message) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let cx = self.process(message);
        let outcome = work(message).with_context(cx.clone()).await;
        if outcome.is_err() {
            record_error(&cx, std::any::type_name::<E>());
        }
        cx.span().end();
        outcome
    }

    /// The messaging description of `destination` on this connection.
    fn messaging(&self, destination: impl Into<Cow<'static, str>>) -> Messaging {
        let messaging = Messaging::new(SYSTEM, destination);
        match self.server.clone().or_else(|| server_of(&self.client)) {
            Some((address, port)) => messaging.server(address, port),
            None => messaging,
        }
    }
}

/// The host and port the connected server announces, unless it announces
/// an unspecified address (`0.0.0.0`, `::`) or none at all: those name no
/// server a client could reach.
fn server_of(client: &Client) -> Option<(String, u16)> {
    let info = client.server_info();
    let unspecified = info
        .host
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    (!info.host.is_empty() && !unspecified && info.port != 0).then_some((info.host, info.port))
}

/// A low-cardinality `error.type` for a failed publish.
fn publish_error_type(error: &PublishError) -> &'static str {
    use async_nats::client::PublishErrorKind;
    match error.kind() {
        PublishErrorKind::MaxPayloadExceeded => "max_payload_exceeded",
        PublishErrorKind::BadSubject => "bad_subject",
        PublishErrorKind::Send => "send",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_fields_read_back() {
        let mut headers = HeaderMap::new();
        HeaderInjector(&mut headers).set("traceparent", "00-abc-def-01".into());
        HeaderInjector(&mut headers).set("baggage", "tenant=acme".into());
        let extractor = HeaderExtractor(&headers);
        assert_eq!(extractor.get("traceparent"), Some("00-abc-def-01"));
        assert_eq!(extractor.get("baggage"), Some("tenant=acme"));
        let mut keys = extractor.keys();
        keys.sort_unstable();
        assert_eq!(keys, ["baggage", "traceparent"]);
    }

    #[test]
    fn fields_nats_cannot_carry_are_skipped_not_panicked_on() {
        let mut headers = HeaderMap::new();
        let mut injector = HeaderInjector(&mut headers);
        injector.set("traceparent", "a\r\nInjected: yes".into());
        injector.set("bad:name", "x".into());
        injector.set("bad name", "x".into());
        injector.set("", "x".into());
        assert!(headers.is_empty(), "{headers:?}");
    }

    #[test]
    fn a_stale_field_is_replaced_and_case_is_forgiven_on_read() {
        let mut headers = HeaderMap::new();
        headers.append("traceparent", "old");
        headers.append("traceparent", "older");
        HeaderInjector(&mut headers).set("traceparent", "new".into());
        assert_eq!(headers.get_all("traceparent").count(), 1);
        assert_eq!(HeaderExtractor(&headers).get("traceparent"), Some("new"));

        let mut capitalised = HeaderMap::new();
        capitalised.insert("Traceparent", "from-elsewhere");
        assert_eq!(
            HeaderExtractor(&capitalised).get("traceparent"),
            Some("from-elsewhere")
        );
        assert_eq!(HeaderExtractor(&capitalised).get("baggage"), None);
    }

    #[test]
    fn a_standard_header_is_found_by_its_name() {
        // What a received message holds: the name parsed into async-nats's
        // standard header, which a plain `get("Nats-Msg-Id")` misses.
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, "m-1");
        assert_eq!(
            HeaderExtractor(&headers).get(MESSAGE_ID_HEADER),
            Some("m-1")
        );
    }
}
