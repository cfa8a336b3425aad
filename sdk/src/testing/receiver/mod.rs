//! An in-process OTLP receiver for tests and demos (cargo feature
//! `receiver`).
//!
//! [`OtlpReceiver::start`] listens on two ephemeral 127.0.0.1 ports, one for
//! OTLP/HTTP (`POST /v1/traces`, protobuf or JSON, optionally gzip) and one
//! for OTLP/gRPC (`TraceService/Export`), decodes every request into
//! opentelemetry-proto types and keeps it. It runs its own tokio runtime on
//! its own thread, so it works from plain tests and from async tests of
//! either flavour alike.
//!
//! ```
//! use std::time::Duration;
//! use tracekit::testing::receiver::OtlpReceiver;
//!
//! let receiver = OtlpReceiver::start()?;
//! // Point an exporter at receiver.http_endpoint() or receiver.grpc_endpoint() ...
//! receiver.respond_with([503, 503]); // the next two requests fail, then all succeed
//! assert!(!receiver.wait_for_spans(1, Duration::from_millis(10)));
//! # Ok::<(), std::io::Error>(())
//! ```

mod certificates;
mod convert;
mod grpc;
mod http;
mod server;
mod store;
mod tls;

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::export::waterfall::{WaterfallRenderer, WaterfallSpan};

pub use certificates::{TestCertificateFiles, TestCertificates};
pub use store::{ReceivedRequest, ReceivedVia, ScriptedResponse};
pub use tls::ReceiverTls;

use server::ServerThread;
use store::Store;

/// An OTLP receiver on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct OtlpReceiver {
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
    /// `http`, or `https` for a receiver started with TLS.
    scheme: &'static str,
    store: Arc<Store>,
    server: ServerThread,
}

/// One received span with the resource and scope it came with.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    /// The resource of its `ResourceSpans`.
    pub resource: Option<Resource>,
    /// The instrumentation scope of its `ScopeSpans`.
    pub scope: Option<InstrumentationScope>,
    /// The span.
    pub span: Span,
    /// How it arrived.
    pub via: ReceivedVia,
}

impl ReceivedSpan {
    /// `service.name` of its resource (`unknown_service` when missing).
    pub fn service_name(&self) -> String {
        convert::service_name(self.resource.as_ref())
    }

    /// A span attribute's value as text (strings as is, numbers and bools
    /// printed).
    pub fn attribute(&self, key: &str) -> Option<String> {
        find_attribute(&self.span.attributes, key)
    }

    /// A resource attribute's value as text.
    pub fn resource_attribute(&self, key: &str) -> Option<String> {
        self.resource
            .as_ref()
            .and_then(|r| find_attribute(&r.attributes, key))
    }

    /// The span as the waterfall renderer draws it.
    pub fn to_waterfall(&self) -> WaterfallSpan {
        convert::waterfall_span(&self.span, &self.service_name())
    }

    /// The trace id as 32 lowercase hex digits, as `TraceId` displays.
    pub fn trace_id_hex(&self) -> String {
        convert::hex(&self.span.trace_id)
    }

    /// The span id as 16 lowercase hex digits, as `SpanId` displays.
    pub fn span_id_hex(&self) -> String {
        convert::hex(&self.span.span_id)
    }
}

/// The spans among `spans` that `service` sent under `name`.
pub fn spans_named<'a>(
    spans: &'a [ReceivedSpan],
    service: &str,
    name: &str,
) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.service_name() == service && s.span.name == name)
        .collect()
}

/// The first span among `spans` that `service` sent under `name`.
///
/// # Panics
///
/// When there is none, listing the `(service, name)` of every span there
/// is: a test helper, whose failure should say what arrived instead.
pub fn find_span<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str) -> &'a ReceivedSpan {
    match spans_named(spans, service, name).first() {
        Some(span) => span,
        None => panic!(
            "no span {name} from {service} among {:?}",
            span_names(spans)
        ),
    }
}

/// `(service, name)` of each span, for failure messages.
pub fn span_names(spans: &[ReceivedSpan]) -> Vec<(String, String)> {
    spans
        .iter()
        .map(|s| (s.service_name(), s.span.name.clone()))
        .collect()
}

fn find_attribute(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .map(convert::any_value_text)
}

/// Send SIGTERM to `child`, as `docker stop` or Kubernetes would (through
/// the `kill` command). Unix only.
///
/// ```
/// # #[cfg(unix)] {
/// let mut child = std::process::Command::new("sleep").arg("60").spawn().unwrap();
/// tracekit::testing::receiver::terminate(&child).unwrap();
/// assert!(!child.wait().unwrap().success());
/// # }
/// ```
#[cfg(unix)]
pub fn terminate(child: &std::process::Child) -> io::Result<()> {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "kill -TERM {}: {status}",
            child.id()
        )))
    }
}

impl OtlpReceiver {
    /// Bind both ports and start serving.
    pub fn start() -> io::Result<Self> {
        Self::start_with(None)
    }

    /// Bind both ports and start serving over TLS (both OTLP/HTTP and
    /// gRPC): a collector with a certificate of the caller's choosing, and
    /// optionally mutual TLS. Its endpoints are `https://127.0.0.1:<port>`.
    /// The certificate should name `127.0.0.1` (an IP address SAN).
    pub fn start_tls(tls: ReceiverTls) -> io::Result<Self> {
        Self::start_with(Some(&tls))
    }

    fn start_with(tls: Option<&ReceiverTls>) -> io::Result<Self> {
        let store = Arc::new(Store::default());
        let http_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let grpc_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let http_addr = http_listener.local_addr()?;
        let grpc_addr = grpc_listener.local_addr()?;
        let server = ServerThread::spawn(http_listener, grpc_listener, Arc::clone(&store), tls)?;
        Ok(Self {
            http_addr,
            grpc_addr,
            scheme: if tls.is_some() { "https" } else { "http" },
            store,
            server,
        })
    }

    /// The OTLP/HTTP base address, `http://127.0.0.1:<port>` (`https`
    /// with TLS; what `OTEL_EXPORTER_OTLP_ENDPOINT` takes; `/v1/traces` is
    /// appended by exporters).
    pub fn http_endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.http_addr)
    }

    /// The full OTLP/HTTP traces URL, `http://127.0.0.1:<port>/v1/traces`
    /// (`https` with TLS).
    pub fn http_traces_url(&self) -> String {
        format!("{}/v1/traces", self.http_endpoint())
    }

    /// The OTLP/gRPC address, `http://127.0.0.1:<port>` (`https` with
    /// TLS).
    pub fn grpc_endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.grpc_addr)
    }

    /// Environment settings pointing an exporter at this receiver with
    /// `protocol` (`grpc`, `http/protobuf` or `http/json`; anything else
    /// is treated as HTTP): `OTEL_EXPORTER_OTLP_PROTOCOL` and
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn env(&self, protocol: &str) -> HashMap<String, String> {
        let endpoint = if protocol.eq_ignore_ascii_case("grpc") {
            self.grpc_endpoint()
        } else {
            self.http_endpoint()
        };
        HashMap::from([
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL".to_string(),
                protocol.to_string(),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT".to_string(), endpoint),
        ])
    }

    /// A command running `program` the way a service stopped by SIGTERM is
    /// tested: a clean environment but for `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (this receiver, OTLP/HTTP) and `OTEL_BSP_SCHEDULE_DELAY` of an hour,
    /// so that every span is still buffered until the program flushes, with
    /// standard output and error piped. Stop the child with [`terminate`].
    ///
    /// ```
    /// # #[cfg(unix)] {
    /// let receiver = tracekit::testing::receiver::OtlpReceiver::start().unwrap();
    /// let output = receiver
    ///     .command("/bin/sh")
    ///     .args(["-c", "echo $OTEL_EXPORTER_OTLP_ENDPOINT"])
    ///     .output()
    ///     .unwrap();
    /// let printed = String::from_utf8_lossy(&output.stdout);
    /// assert_eq!(printed.trim(), receiver.http_endpoint());
    /// # }
    /// ```
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut command = std::process::Command::new(program);
        command
            .env_clear()
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", self.http_endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "3600000")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }

    /// Answer the next requests (on either transport) with these responses,
    /// in order, then accept again. A 2xx entry accepts its request.
    /// `respond_with([503, 503])`: two failures, then success.
    pub fn respond_with<R: Into<ScriptedResponse>>(&self, responses: impl IntoIterator<Item = R>) {
        self.store.script(responses.into_iter().map(Into::into));
    }

    /// Every accepted request, in arrival order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.store.requests()
    }

    /// How many requests came in, rejected ones included.
    pub fn attempts(&self) -> usize {
        self.store.attempts()
    }

    /// How many spans the accepted requests held.
    pub fn span_count(&self) -> usize {
        self.store.span_count()
    }

    /// Every accepted span with its resource and scope, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let mut out = Vec::new();
        for request in self.store.requests() {
            for resource_spans in request.request.resource_spans {
                for scope_spans in resource_spans.scope_spans {
                    for span in scope_spans.spans {
                        out.push(ReceivedSpan {
                            resource: resource_spans.resource.clone(),
                            scope: scope_spans.scope.clone(),
                            span,
                            via: request.via,
                        });
                    }
                }
            }
        }
        out
    }

    /// Wait until at least `n` spans arrived; `false` if `timeout` passed
    /// first.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        self.store.wait_for_spans(n, timeout)
    }

    /// Forget everything received and any scripted responses left.
    pub fn reset(&self) {
        self.store.reset();
    }

    /// Every received span as the waterfall renderer draws it, the service
    /// name taken from each span's resource.
    pub fn waterfall_spans(&self) -> Vec<WaterfallSpan> {
        self.spans()
            .iter()
            .map(ReceivedSpan::to_waterfall)
            .collect()
    }

    /// Draw every received trace as a waterfall.
    pub fn render_waterfall(
        &self,
        renderer: &WaterfallRenderer,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        renderer.render(&self.waterfall_spans(), out)
    }

    /// Stop serving (also done on drop).
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.stop();
    }
}
