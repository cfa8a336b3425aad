//! Message-queue instrumentation, independent of any broker: a PRODUCER
//! span for sending a message, with the current context (trace and
//! baggage) injected into the message's headers, and a CONSUMER span for
//! processing one (the child of the producer's context) or a batch (one
//! link per message), with the attributes of the OpenTelemetry messaging
//! semantic conventions and span names `{operation} {destination}`.
//!
//! Headers go through any [`Injector`] / [`Extractor`] (a
//! `HashMap<String, String>`, [`tracekit_propagators::FieldCarrier`], a
//! broker client's header map wrapped in either trait), with the global
//! propagator that [`init`](crate::init) installs (`tracecontext,baggage`
//! by default).
//!
//! ```
//! use std::collections::HashMap;
//! use opentelemetry::baggage::BaggageExt;
//! use opentelemetry::trace::TraceContextExt;
//! use opentelemetry::{global, Context, KeyValue};
//! use tracekit::messaging::Messaging;
//!
//! # std::env::set_var("OTEL_TRACES_EXPORTER", "none");
//! let _guard = tracekit::builder().quiet(true).install();
//! let tracer = global::tracer("orders");
//!
//! // Producer: the span is current while the message is published.
//! let mut headers = HashMap::new();
//! let cx = Context::current_with_baggage([KeyValue::new("tenant", "acme")]);
//! let _attached = cx.attach();
//! let send = Messaging::new("nats", "orders").message_id("m-1").send(&tracer, &mut headers);
//! // ... publish the message with `headers` ...
//! send.span().end();
//!
//! // Consumer: `#[instrument]` functions called under `process` nest below it.
//! let process = Messaging::new("nats", "orders").process(&tracer, &headers);
//! assert_eq!(process.baggage().get("tenant").map(|v| v.as_str()), Some("acme"));
//! assert_eq!(
//!     process.span().span_context().trace_id(),
//!     send.span().span_context().trace_id()
//! );
//! process.span().end();
//! ```

use std::borrow::Cow;

use opentelemetry::global;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{Link, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_MESSAGE_BODY_SIZE, MESSAGING_MESSAGE_ID, MESSAGING_OPERATION_NAME,
    MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM, SERVER_ADDRESS, SERVER_PORT,
};

/// One message, or a batch, on its way through a broker: what the
/// messaging spans describe. Build it with the message's details, then
/// start the span of the side at hand: [`Messaging::send`] (PRODUCER),
/// [`Messaging::process`] or [`Messaging::process_batch`] (CONSUMER).
#[derive(Clone, Debug)]
pub struct Messaging {
    system: Cow<'static, str>,
    destination: Cow<'static, str>,
    send_name: &'static str,
    message_id: Option<String>,
    body_size: Option<i64>,
    server: Option<(String, u16)>,
}

impl Messaging {
    /// Messages of `destination` (a queue, topic or subject) of the broker
    /// `system` (`messaging.system`: `kafka`, `rabbitmq`, `nats`, …).
    pub fn new(
        system: impl Into<Cow<'static, str>>,
        destination: impl Into<Cow<'static, str>>,
    ) -> Self {
        Messaging {
            system: system.into(),
            destination: destination.into(),
            send_name: "send",
            message_id: None,
            body_size: None,
            server: None,
        }
    }

    /// The system's own name for sending (`publish` for NATS and RabbitMQ,
    /// say; default `send`): the producer's `messaging.operation.name` and
    /// its span name's first word.
    pub fn send_operation_name(mut self, name: &'static str) -> Self {
        self.send_name = name;
        self
    }

    /// `messaging.message.id` (single messages).
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// `messaging.message.body.size`, in bytes (single messages).
    pub fn body_size(mut self, bytes: usize) -> Self {
        self.body_size = Some(i64::try_from(bytes).unwrap_or(i64::MAX));
        self
    }

    /// `server.address` and `server.port` of the broker.
    pub fn server(mut self, address: impl Into<String>, port: u16) -> Self {
        self.server = Some((address.into(), port));
        self
    }

    /// Start the PRODUCER span `{send name} {destination}` as a child of
    /// the current context and write its context (with the current
    /// baggage) into `headers` through the global propagator. The returned
    /// context holds the span: end it once the message is sent
    /// (`cx.span().end()`).
    pub fn send<T>(&self, tracer: &T, headers: &mut dyn Injector) -> Context
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let parent = Context::current();
        let cx = self.start(tracer, &parent, "send", self.send_name, Vec::new(), true);
        global::get_text_map_propagator(|propagator| propagator.inject_context(&cx, headers));
        cx
    }

    /// Start the CONSUMER span `process {destination}` for one message
    /// whose `headers` carry the producer's context: the span is its child,
    /// and the returned context carries the message's baggage too. Attach
    /// it (or pass it to `FutureExt::with_context`) while processing, so
    /// that spans started meanwhile (`#[instrument]` functions included)
    /// nest below it; end it when done. Without a valid context in the
    /// headers the span starts a new trace.
    pub fn process<T>(&self, tracer: &T, headers: &dyn Extractor) -> Context
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let parent = global::get_text_map_propagator(|propagator| propagator.extract(headers));
        self.start(tracer, &parent, "process", "process", Vec::new(), true)
    }

    /// Start the CONSUMER span `process {destination}` for a batch: a child
    /// of the current context with one link per message whose headers carry
    /// a valid context, and `messaging.batch.message_count`. The message id
    /// and body size are left out (they belong to one message).
    pub fn process_batch<T>(&self, tracer: &T, messages: &[&dyn Extractor]) -> Context
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let links = messages
            .iter()
            .filter_map(|headers| {
                let cx = global::get_text_map_propagator(|propagator| propagator.extract(*headers));
                let span = cx.span();
                let span_context = span.span_context();
                span_context
                    .is_valid()
                    .then(|| Link::with_context(span_context.clone()))
            })
            .collect();
        let cx = self.start(
            tracer,
            &Context::current(),
            "process",
            "process",
            links,
            false,
        );
        cx.span().set_attribute(KeyValue::new(
            MESSAGING_BATCH_MESSAGE_COUNT,
            i64::try_from(messages.len()).unwrap_or(i64::MAX),
        ));
        cx
    }

    /// Start a span of `operation_type` named `{operation_name}
    /// {destination}` under `parent`, with this message's attributes
    /// (`one_message`: the message id and body size too) and `links`.
    fn start<T>(
        &self,
        tracer: &T,
        parent: &Context,
        operation_type: &'static str,
        operation_name: &'static str,
        links: Vec<Link>,
        one_message: bool,
    ) -> Context
    where
        T: Tracer,
        T::Span: Send + Sync + 'static,
    {
        let mut attributes = vec![
            KeyValue::new(MESSAGING_SYSTEM, self.system.clone()),
            KeyValue::new(MESSAGING_DESTINATION_NAME, self.destination.clone()),
            KeyValue::new(MESSAGING_OPERATION_TYPE, operation_type),
            KeyValue::new(MESSAGING_OPERATION_NAME, operation_name),
        ];
        if one_message {
            if let Some(id) = &self.message_id {
                attributes.push(KeyValue::new(MESSAGING_MESSAGE_ID, id.clone()));
            }
            if let Some(size) = self.body_size {
                attributes.push(KeyValue::new(MESSAGING_MESSAGE_BODY_SIZE, size));
            }
        }
        if let Some((address, port)) = &self.server {
            attributes.push(KeyValue::new(SERVER_ADDRESS, address.clone()));
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(*port)));
        }
        let kind = if operation_type == "send" {
            SpanKind::Producer
        } else {
            SpanKind::Consumer
        };
        let span = tracer
            .span_builder(format!("{operation_name} {}", self.destination))
            .with_kind(kind)
            .with_attributes(attributes)
            .with_links(links)
            .start_with_context(tracer, parent);
        parent.with_span(span)
    }
}

/// Mark the messaging span in `cx` as failed: Error status and
/// `error.type` (a low-cardinality cause such as `timeout` or an error
/// type's name).
pub fn record_error(cx: &Context, error_type: impl Into<Cow<'static, str>>) {
    let error_type = error_type.into();
    let span = cx.span();
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.clone()));
    span.set_status(Status::error(error_type));
}
