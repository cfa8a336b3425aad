//! A tonic gRPC service, `demo.v1.Greeter`, and the pieces of the
//! `grpc-demo` program: [`DemoGreeter`] answers unary and server-streaming
//! calls, [`serve`] runs it behind tracekit's server layer, and [`connect`]
//! makes a client whose calls go through tracekit's client layer.
//!
//! `cargo run -p grpc-demo` starts the server and calls it; the trace
//! shows each call as a CLIENT span with the server's SERVER span inside.

#![warn(missing_docs)]

pub mod proto;

use futures_util::Stream;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::global::BoxedTracer;
use opentelemetry::Context;
use proto::greeter_client::GreeterClient;
use proto::greeter_server::{Greeter, GreeterServer};
use proto::{HelloReply, HelloRequest, StreamHellosRequest};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};
use tower::ServiceBuilder;
use tracekit_tower::{HttpClientLayer, HttpClientService, HttpServerLayer};

/// The baggage entry whose value [`DemoGreeter`] adds to its greetings:
/// set by the caller, it travels in the request metadata.
pub const TENANT_BAGGAGE: &str = "tenant";

/// The most greetings one `StreamHellos` call may ask for.
pub const MAX_STREAM_COUNT: u32 = 100;

/// The longest pause between two streamed greetings, in milliseconds.
pub const MAX_INTERVAL_MS: u32 = 5_000;

/// The demo's `demo.v1.Greeter`: greets a name once, or `count` times as
/// a stream. An empty name is `INVALID_ARGUMENT`, as is a stream longer
/// than [`MAX_STREAM_COUNT`] or slower than [`MAX_INTERVAL_MS`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DemoGreeter;

/// The greetings of a `StreamHellos` call.
pub type HelloStream = Pin<Box<dyn Stream<Item = Result<HelloReply, Status>> + Send>>;

/// `Hello, {name}!`, with the caller's tenant from the baggage when set.
pub fn greeting(name: &str) -> String {
    match Context::current().baggage().get(TENANT_BAGGAGE) {
        Some(tenant) => format!("Hello, {name}! (tenant {tenant})"),
        None => format!("Hello, {name}!"),
    }
}

fn require_name(name: &str) -> Result<(), Status> {
    if name.trim().is_empty() {
        return Err(Status::invalid_argument("name must not be empty"));
    }
    Ok(())
}

#[tonic::async_trait]
impl Greeter for DemoGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        require_name(&name)?;
        Ok(Response::new(HelloReply {
            message: greeting(&name),
        }))
    }

    type StreamHellosStream = HelloStream;

    async fn stream_hellos(
        &self,
        request: Request<StreamHellosRequest>,
    ) -> Result<Response<HelloStream>, Status> {
        let StreamHellosRequest {
            name,
            count,
            interval_ms,
        } = request.into_inner();
        require_name(&name)?;
        if count > MAX_STREAM_COUNT {
            return Err(Status::invalid_argument(format!(
                "count must be at most {MAX_STREAM_COUNT}"
            )));
        }
        if interval_ms > MAX_INTERVAL_MS {
            return Err(Status::invalid_argument(format!(
                "interval_ms must be at most {MAX_INTERVAL_MS}"
            )));
        }
        // Read now: the stream is polled by the connection, outside the
        // request's context.
        let greeting = greeting(&name);
        let interval = Duration::from_millis(u64::from(interval_ms));
        let stream = futures_util::stream::unfold(0u32, move |sent| {
            let message = format!("{greeting} #{}", sent + 1);
            async move {
                if sent == count {
                    return None;
                }
                if sent > 0 {
                    tokio::time::sleep(interval).await;
                }
                Some((Ok(HelloReply { message }), sent + 1))
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Serve [`DemoGreeter`] on `listener` until `shutdown` completes, each
/// call in a SERVER span (`demo.v1.Greeter/SayHello`...) that is a child
/// of the caller's context from the request metadata.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .layer(HttpServerLayer::new())
        .add_service(GreeterServer::new(DemoGreeter))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
}

/// A client whose calls go through tracekit's client layer.
pub type TracedGreeterClient = GreeterClient<HttpClientService<Channel, BoxedTracer>>;

/// Connect to the greeter at `endpoint`. Each call is a CLIENT span, a
/// child of the current context, whose context and baggage travel in the
/// request metadata; `server.address` and `server.port` come from the
/// endpoint, given to the layer as its origin (the channel hands the
/// layer path-only URIs).
pub async fn connect(endpoint: Endpoint) -> Result<TracedGreeterClient, tonic::transport::Error> {
    let channel = endpoint.connect().await?;
    let layer = HttpClientLayer::builder().origin(endpoint.uri()).build();
    let traced = ServiceBuilder::new().layer(layer).service(channel);
    Ok(GreeterClient::new(traced))
}
