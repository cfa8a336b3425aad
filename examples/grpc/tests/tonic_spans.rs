//! A real tonic server and client on 127.0.0.1, each with its own tracekit
//! pipeline exporting OTLP to the in-process receiver: the decoded spans
//! must follow the RPC conventions for gRPC (names, `rpc.*` attributes,
//! `server.*` on both sides, status rules), carry the trace and baggage
//! in the metadata, and end with the stream for streaming calls.

use grpc_demo::greeting;
use grpc_demo::proto::greeter_client::GreeterClient;
use grpc_demo::proto::greeter_server::{Greeter, GreeterServer};
use grpc_demo::proto::{HelloReply, HelloRequest, StreamHellosRequest};
use grpc_demo::{HelloStream, TENANT_BAGGAGE};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE, SERVER_ADDRESS, SERVER_PORT,
};
#[allow(deprecated)]
use opentelemetry_semantic_conventions::attribute::{
    RPC_GRPC_STATUS_CODE, RPC_METHOD, RPC_SERVICE, RPC_SYSTEM,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Request, Response, Status, Streaming};
use tower::ServiceBuilder;
use tracekit::testing::receiver::{find_span, OtlpReceiver, ReceivedSpan};
use tracekit::Tracekit;
use tracekit_tower::{HttpClientLayer, HttpClientService, HttpServerLayer};

const SPAN_KIND_SERVER: i32 = 2;
const SPAN_KIND_CLIENT: i32 = 3;
const STATUS_UNSET: i32 = 0;
const STATUS_ERROR: i32 = 2;
const WAIT: Duration = Duration::from_secs(10);
const SAY_HELLO: &str = "demo.v1.Greeter/SayHello";
const STREAM_HELLOS: &str = "demo.v1.Greeter/StreamHellos";

/// A greeter whose answers the tests choose by name, remembering when it
/// sent its last streamed message.
#[derive(Clone, Default)]
struct ScriptedGreeter {
    last_sent: Arc<Mutex<Option<SystemTime>>>,
}

/// The status a test name asks for.
fn scripted_status(name: &str) -> Option<Status> {
    match name {
        "" => Some(Status::invalid_argument("name must not be empty")),
        "nobody" => Some(Status::not_found("no such person")),
        "crash" => Some(Status::internal("invariant broken")),
        _ => None,
    }
}

#[tonic::async_trait]
impl Greeter for ScriptedGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        if let Some(status) = scripted_status(&name) {
            return Err(status);
        }
        // The server span is current: the caller's trace and baggage
        // arrived in the metadata.
        let trace_id = Context::current().span().span_context().trace_id();
        Ok(Response::new(HelloReply {
            message: format!("{} in {trace_id}", greeting(&name)),
        }))
    }

    type StreamHellosStream = HelloStream;

    /// `count` messages `interval_ms` apart, and the end of the stream
    /// `interval_ms` after the last; for the name `cut`, the end is an
    /// `UNAVAILABLE` status instead of OK.
    async fn stream_hellos(
        &self,
        request: Request<StreamHellosRequest>,
    ) -> Result<Response<HelloStream>, Status> {
        let StreamHellosRequest {
            name,
            count,
            interval_ms,
        } = request.into_inner();
        let last_sent = Arc::clone(&self.last_sent);
        let interval = Duration::from_millis(u64::from(interval_ms));
        let cut = name == "cut";
        let stream = futures_util::stream::unfold(0u32, move |sent| {
            let last_sent = Arc::clone(&last_sent);
            async move {
                if sent > count {
                    return None;
                }
                // Between two messages, and between the last one and the
                // end: a span ending early cannot pass for one ending
                // with the stream by a clock's rounding.
                if sent > 0 {
                    tokio::time::sleep(interval).await;
                }
                if sent == count {
                    let end = cut.then(|| Status::unavailable("shutting down"));
                    return end.map(|status| (Err(status), sent + 1));
                }
                *last_sent.lock().unwrap() = Some(SystemTime::now());
                let message = format!("hello #{}", sent + 1);
                Some((Ok(HelloReply { message }), sent + 1))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The default propagators, tracecontext + baggage.
fn propagator() -> tracekit_propagators::CompositePropagator {
    tracekit_propagators::from_env_value(None).0
}

fn pipeline(receiver: &OtlpReceiver, service: &str) -> Tracekit {
    tracekit::builder()
        .service_name(service)
        .with_env(receiver.env("http/protobuf"))
        .build()
}

type Client = GreeterClient<HttpClientService<Channel, tracekit::Tracer>>;

/// A traced server and client, each with its own pipeline.
struct Setup {
    receiver: OtlpReceiver,
    server: Tracekit,
    client: Tracekit,
    address: SocketAddr,
    greeter: ScriptedGreeter,
    grpc: Client,
}

impl Setup {
    async fn start() -> Self {
        let receiver = OtlpReceiver::start().unwrap();
        let server = pipeline(&receiver, "greeter-server");
        let client = pipeline(&receiver, "greeter-client");
        let greeter = ScriptedGreeter::default();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let layer = HttpServerLayer::builder()
            .tracer(server.tracer("greeter-server"))
            .propagator(propagator())
            .build();
        let router = Server::builder()
            .layer(layer)
            .add_service(GreeterServer::new(greeter.clone()));
        tokio::spawn(router.serve_with_incoming(TcpListenerStream::new(listener)));

        let endpoint = Endpoint::from_shared(format!("http://{address}")).unwrap();
        let channel = endpoint.connect().await.unwrap();
        let traced = ServiceBuilder::new()
            .layer(
                HttpClientLayer::builder()
                    .tracer(client.tracer("greeter-client"))
                    .propagator(propagator())
                    .origin(endpoint.uri())
                    .build(),
            )
            .service(channel);
        Setup {
            receiver,
            server,
            client,
            address,
            greeter,
            grpc: GreeterClient::new(traced),
        }
    }

    /// A `StreamHellos` call's stream of replies.
    async fn stream(&mut self, name: &str, count: u32, interval_ms: u32) -> Streaming<HelloReply> {
        let request = StreamHellosRequest {
            name: name.into(),
            count,
            interval_ms,
        };
        self.grpc.stream_hellos(request).await.unwrap().into_inner()
    }

    /// Flush both pipelines and wait for `n` spans at the receiver.
    fn spans(&self, n: usize) -> Vec<ReceivedSpan> {
        for tk in [&self.client, &self.server] {
            tk.provider().force_flush(Duration::from_secs(5)).unwrap();
        }
        assert!(self.receiver.wait_for_spans(n, WAIT), "{n} spans expected");
        self.receiver.spans()
    }
}

fn status_code(span: &ReceivedSpan) -> i32 {
    span.span.status.as_ref().map_or(STATUS_UNSET, |s| s.code)
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// The attributes every gRPC span of `method` has, client and server.
#[allow(deprecated)]
fn assert_rpc_attributes(span: &ReceivedSpan, method: &str, grpc_status: Code, port: u16) {
    let name = &span.span.name;
    assert_eq!(
        span.attribute(RPC_SYSTEM).as_deref(),
        Some("grpc"),
        "{name}"
    );
    assert_eq!(
        span.attribute(RPC_SERVICE).as_deref(),
        Some("demo.v1.Greeter"),
        "{name}"
    );
    assert_eq!(
        span.attribute(RPC_METHOD).as_deref(),
        Some(method),
        "{name}"
    );
    assert_eq!(
        span.attribute(RPC_GRPC_STATUS_CODE),
        Some((grpc_status as i32).to_string()),
        "{name}"
    );
    assert_eq!(
        span.attribute(SERVER_ADDRESS).as_deref(),
        Some("127.0.0.1"),
        "{name}"
    );
    assert_eq!(
        span.attribute(SERVER_PORT),
        Some(port.to_string()),
        "{name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_call_is_one_trace_with_rpc_attributes_and_baggage() {
    let mut setup = Setup::start().await;
    let caller = setup.client.tracer("caller");
    let root = caller.start("greet");
    let cx = Context::current_with_span(root).with_baggage([KeyValue::new(TENANT_BAGGAGE, "acme")]);
    let reply = setup
        .grpc
        .say_hello(HelloRequest { name: "Ada".into() })
        .with_context(cx.clone())
        .await
        .unwrap()
        .into_inner();
    cx.span().end();
    let trace_id = cx.span().span_context().trace_id().to_string();
    assert_eq!(
        reply.message,
        format!("Hello, Ada! (tenant acme) in {trace_id}"),
        "the server saw the caller's trace and baggage"
    );

    let spans = setup.spans(3);
    let root = find_span(&spans, "greeter-client", "greet");
    let client = find_span(&spans, "greeter-client", SAY_HELLO);
    let server = find_span(&spans, "greeter-server", SAY_HELLO);
    for span in [root, client, server] {
        assert_eq!(span.trace_id_hex(), trace_id);
    }
    assert_eq!(client.span.parent_span_id, root.span.span_id);
    assert_eq!(server.span.parent_span_id, client.span.span_id);
    assert_eq!(client.span.kind, SPAN_KIND_CLIENT);
    assert_eq!(server.span.kind, SPAN_KIND_SERVER);
    let port = setup.address.port();
    for span in [client, server] {
        assert_rpc_attributes(span, "SayHello", Code::Ok, port);
        assert_eq!(status_code(span), STATUS_UNSET);
        assert!(span.attribute(ERROR_TYPE).is_none());
        // gRPC spans follow the RPC conventions, not the HTTP ones.
        assert!(span.attribute(HTTP_RESPONSE_STATUS_CODE).is_none());
    }
    // The server's work starts after the client's call (their ends are
    // too close together to compare across the clock's re-anchoring).
    assert!(server.span.start_time_unix_nano >= client.span.start_time_unix_nano);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_rules_follow_the_rpc_conventions() {
    let mut setup = Setup::start().await;
    // (name, code, whether the server span is an Error): on the client
    // every non-OK code is; on the server only the codes the conventions
    // list (INTERNAL here), not the caller's faults.
    let cases = [
        ("", Code::InvalidArgument, false),
        ("nobody", Code::NotFound, false),
        ("crash", Code::Internal, true),
    ];
    let mut trace_ids = Vec::new();
    for (name, code, _) in cases {
        let root = setup.client.tracer("caller").start("attempt");
        let cx = Context::current_with_span(root);
        let status = setup
            .grpc
            .say_hello(HelloRequest { name: name.into() })
            .with_context(cx.clone())
            .await
            .unwrap_err();
        assert_eq!(status.code(), code);
        cx.span().end();
        trace_ids.push(cx.span().span_context().trace_id().to_string());
    }

    let spans = setup.spans(3 * cases.len());
    let port = setup.address.port();
    for ((_, code, server_error), trace_id) in cases.into_iter().zip(trace_ids) {
        let in_trace = |service: &str| {
            spans
                .iter()
                .find(|s| {
                    s.service_name() == service
                        && s.span.name == SAY_HELLO
                        && s.trace_id_hex() == trace_id
                })
                .unwrap_or_else(|| panic!("no {service} span for {code:?}"))
        };
        let client = in_trace("greeter-client");
        let server = in_trace("greeter-server");
        assert_eq!(server.span.parent_span_id, client.span.span_id);
        assert_rpc_attributes(client, "SayHello", code, port);
        assert_rpc_attributes(server, "SayHello", code, port);
        let code_name = Some(tonic_code_name(code));
        assert_eq!(status_code(client), STATUS_ERROR, "client {code:?}");
        assert_eq!(client.attribute(ERROR_TYPE).as_deref(), code_name);
        if server_error {
            assert_eq!(status_code(server), STATUS_ERROR, "server {code:?}");
            assert_eq!(server.attribute(ERROR_TYPE).as_deref(), code_name);
        } else {
            assert_eq!(status_code(server), STATUS_UNSET, "server {code:?}");
            assert!(server.attribute(ERROR_TYPE).is_none());
        }
    }
}

/// The conventions' name of a gRPC code (`INVALID_ARGUMENT`).
fn tonic_code_name(code: Code) -> &'static str {
    match code {
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::NotFound => "NOT_FOUND",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        other => panic!("no name for {other:?} in this test"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_streaming_spans_end_with_the_stream() {
    let mut setup = Setup::start().await;
    let interval = Duration::from_millis(40);
    let mut stream = setup.stream("Grace", 3, interval.as_millis() as u32).await;
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.message, "hello #1");
    assert_eq!(
        setup.client.counters().ended,
        0,
        "the client span is open while messages flow"
    );
    let mut received_last = SystemTime::now();
    let mut count = 1;
    while let Some(reply) = stream.message().await.unwrap() {
        received_last = SystemTime::now();
        count += 1;
        assert_eq!(reply.message, format!("hello #{count}"));
    }
    assert_eq!(count, 3);
    let sent_last = setup.greeter.last_sent.lock().unwrap().unwrap();

    // A stream that ends with an error status in its trailers.
    let mut cut = setup.stream("cut", 2, 1).await;
    assert!(cut.message().await.unwrap().is_some());
    assert!(cut.message().await.unwrap().is_some());
    assert_eq!(cut.message().await.unwrap_err().code(), Code::Unavailable);

    // `stream` and `cut` are still alive: their spans ended with the
    // trailers, not when the streams are dropped.
    let spans = setup.spans(4);
    let streams = |service: &str| -> Vec<&ReceivedSpan> {
        spans
            .iter()
            .filter(|s| s.service_name() == service && s.span.name == STREAM_HELLOS)
            .collect()
    };
    let (clients, servers) = (streams("greeter-client"), streams("greeter-server"));
    assert_eq!((clients.len(), servers.len()), (2, 2));
    let by_status = |spans: &[&ReceivedSpan], code: Code| -> ReceivedSpan {
        #[allow(deprecated)]
        let wanted = Some((code as i32).to_string());
        #[allow(deprecated)]
        let found = spans
            .iter()
            .find(|s| s.attribute(RPC_GRPC_STATUS_CODE) == wanted);
        (*found.unwrap_or_else(|| panic!("no stream span with {code:?}"))).clone()
    };
    let port = setup.address.port();

    let client = by_status(&clients, Code::Ok);
    let server = by_status(&servers, Code::Ok);
    assert_eq!(server.span.parent_span_id, client.span.span_id);
    for span in [&client, &server] {
        assert_rpc_attributes(span, "StreamHellos", Code::Ok, port);
        assert_eq!(status_code(span), STATUS_UNSET);
        let duration = span.span.end_time_unix_nano - span.span.start_time_unix_nano;
        assert!(
            duration >= 3 * interval.as_nanos() as u64,
            "{} lasted {duration} ns: it must cover the whole stream",
            span.service_name()
        );
    }
    assert!(
        server.span.end_time_unix_nano >= nanos(sent_last),
        "the server span ends after its last message"
    );
    assert!(
        client.span.end_time_unix_nano >= nanos(received_last),
        "the client span ends after the last message arrived"
    );

    let client = by_status(&clients, Code::Unavailable);
    let server = by_status(&servers, Code::Unavailable);
    assert_eq!(server.span.parent_span_id, client.span.span_id);
    for span in [&client, &server] {
        assert_rpc_attributes(span, "StreamHellos", Code::Unavailable, port);
        // UNAVAILABLE is an Error on both sides.
        assert_eq!(status_code(span), STATUS_ERROR);
        assert_eq!(span.attribute(ERROR_TYPE).as_deref(), Some("UNAVAILABLE"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_by_the_client_is_cancelled() {
    let mut setup = Setup::start().await;
    let mut stream = setup.stream("Grace", 5, 50).await;
    assert!(stream.message().await.unwrap().is_some());
    // The caller loses interest: tonic resets the HTTP/2 stream.
    drop(stream);

    let spans = setup.spans(2);
    let client = find_span(&spans, "greeter-client", STREAM_HELLOS);
    let server = find_span(&spans, "greeter-server", STREAM_HELLOS);
    assert_eq!(server.span.parent_span_id, client.span.span_id);
    let port = setup.address.port();
    for span in [client, server] {
        assert_rpc_attributes(span, "StreamHellos", Code::Cancelled, port);
    }
    // CANCELLED is an Error for the client, not for the server.
    assert_eq!(status_code(client), STATUS_ERROR);
    assert_eq!(client.attribute(ERROR_TYPE).as_deref(), Some("CANCELLED"));
    assert_eq!(status_code(server), STATUS_UNSET);
}

/// The demo program: one trace from its root through every call, each
/// server span the child of its client span.
#[test]
fn demo_program_exports_one_trace() {
    let receiver = OtlpReceiver::start().unwrap();
    let output = receiver
        .command(env!("CARGO_BIN_EXE_grpc-demo"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("SayHello     -> Hello, Ada! (tenant acme)"));
    assert!(stdout.contains("StreamHellos -> Hello, Grace! (tenant acme) #3"));
    assert!(stdout.contains("InvalidArgument"));

    // A root, then three calls: a client and a server span each.
    assert!(receiver.wait_for_spans(7, WAIT));
    let spans = receiver.spans();
    assert_eq!(spans.len(), 7);
    let root = find_span(&spans, "grpc-demo", "greet the team");
    assert!(stdout.contains(&format!("trace {}", root.trace_id_hex())));
    for span in &spans {
        assert_eq!(span.span.trace_id, root.span.trace_id, "one trace");
        if span.span.kind == SPAN_KIND_CLIENT {
            assert_eq!(span.span.parent_span_id, root.span.span_id);
            let server = spans
                .iter()
                .find(|s| s.span.parent_span_id == span.span.span_id)
                .expect("each call has its server span");
            assert_eq!(server.span.kind, SPAN_KIND_SERVER);
            assert_eq!(server.span.name, span.span.name);
        }
    }
}

/// The README's gRPC snippets are this example's code, line for line.
#[test]
fn readme_snippets_are_the_example_code() {
    let readme = include_str!("../../../README.md");
    let code = include_str!("../src/lib.rs");
    let section = readme
        .split("## gRPC (tonic)")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has a gRPC section");
    let mut checked = 0;
    for block in section.split("```rust").skip(1) {
        let block = block.split("```").next().unwrap();
        for line in block.lines().map(str::trim) {
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            assert!(
                code.lines().any(|l| l.trim() == line),
                "README line not in src/lib.rs: {line}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} lines checked");
}
