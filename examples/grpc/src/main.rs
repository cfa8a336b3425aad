//! `cargo run -p grpc-demo`: a traced tonic server and a client calling
//! it, unary and streaming, with one call failing.
//!
//! With no configuration the trace is printed as a waterfall when the
//! program ends; with `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_TRACES_EXPORTER`) set, spans go where they say.

use grpc_demo::proto::{HelloRequest, StreamHellosRequest};
use grpc_demo::{connect, serve, TENANT_BAGGAGE};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use tonic::transport::Endpoint;
use tracekit::ExporterKind;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = tracekit::builder()
        .service_name("grpc-demo")
        .default_exporters(&[ExporterKind::Console])
        .install();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, async {
        let _ = stopped.await;
    }));
    println!("demo.v1.Greeter listening on {address}");

    let mut client = connect(Endpoint::from_shared(format!("http://{address}"))?).await?;

    // One trace for the whole session: a root span, with baggage that the
    // server reads from the request metadata.
    let tracer = global::tracer("grpc-demo");
    let root = tracer.start("greet the team");
    let cx = Context::current_with_span(root).with_baggage([KeyValue::new(TENANT_BAGGAGE, "acme")]);
    let session = async {
        let reply = client
            .say_hello(HelloRequest { name: "Ada".into() })
            .await?;
        println!("SayHello     -> {}", reply.into_inner().message);

        let mut stream = client
            .stream_hellos(StreamHellosRequest {
                name: "Grace".into(),
                count: 3,
                interval_ms: 20,
            })
            .await?
            .into_inner();
        while let Some(reply) = stream.message().await? {
            println!("StreamHellos -> {}", reply.message);
        }

        match client
            .say_hello(HelloRequest {
                name: String::new(),
            })
            .await
        {
            Ok(reply) => println!("SayHello('') -> {}", reply.into_inner().message),
            Err(status) => println!(
                "SayHello('') -> {:?}: {} (an Error on the client span, not on the server's)",
                status.code(),
                status.message()
            ),
        }
        Ok::<_, tonic::Status>(())
    };
    let result = session.with_context(cx.clone()).await;
    cx.span().end();
    println!(
        "trace {}: each call is a client span with the server's span inside; the \
         console waterfall prints each server span as a block of its own, since its \
         parent reached it over the wire",
        cx.span().span_context().trace_id()
    );

    let _ = stop.send(());
    server.await??;
    // Dropping the guard flushes: the waterfall prints now.
    drop(guard);
    result?;
    Ok(())
}
