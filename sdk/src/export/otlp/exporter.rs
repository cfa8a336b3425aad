//! [`OtlpExporter`]: OTLP over http/protobuf (tracekit's encoder), http/json
//! or gRPC (opentelemetry-otlp's), safe to call from any thread, with or
//! without a tokio runtime.

#[cfg(feature = "http-json")]
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[cfg(any(feature = "grpc", feature = "http-json"))]
use opentelemetry_otlp::WithExportConfig;
#[cfg(feature = "http-json")]
use opentelemetry_otlp::WithHttpConfig;
#[cfg(feature = "grpc")]
use opentelemetry_otlp::WithTonicConfig;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::config::{has_scheme, OtlpCompression, OtlpConfig, OtlpProtocol};
#[cfg(feature = "http-json")]
use super::deadline_client::LastFailure;
use super::deadline_client::{tls_failure_kind, DeadlineHttpClient, ExportDeadline};
#[cfg(feature = "grpc")]
use super::grpc_runtime::GrpcRuntime;
use super::protobuf_http::{ProtobufHttp, ProtobufHttpSettings};
use super::retry::RetryPolicy;
#[cfg(feature = "grpc")]
use super::tls::TlsMaterial;
use crate::env::warn_invalid;
use crate::redaction::url_for_messages;
use crate::trace::processor::ExportSink;
use crate::trace::FinishedSpan;

/// Why an [`OtlpExporter`] could not be built.
#[derive(Debug)]
pub struct OtlpBuildError(String);

impl fmt::Display for OtlpBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot build the OTLP exporter: {}", self.0)
    }
}

impl std::error::Error for OtlpBuildError {}

/// A [`SpanExporter`] sending spans over OTLP: http/protobuf with
/// tracekit's own encoder, http/json or gRPC through opentelemetry-otlp.
///
/// Given to a [`BatchSpanProcessor`](crate::BatchSpanProcessor) (as
/// `init()` does), it takes the processor's spans as they are: over
/// http/protobuf they are encoded straight from tracekit's span records,
/// without `SpanData`.
///
/// `export` may be driven by any executor on any thread: the batch
/// processor's plain thread, or a task inside a tokio runtime of either
/// flavour.
///
/// - **HTTP** uses reqwest's client, driven on the exporting thread itself
///   by a small current-thread runtime the exporter owns. Each request is
///   bounded by what is left of the export timeout, so an export, retries
///   included, ends within it. Called on a thread inside a tokio runtime,
///   the work moves to a short-lived helper thread (a runtime cannot be
///   driven from inside another, and waits between retries would block a
///   current-thread runtime's only thread).
/// - **gRPC** (tonic needs tokio) runs on a small runtime owned by the
///   exporter (one worker thread); the whole export is bounded by the
///   timeout there.
///
/// Retries follow the OTLP specification ([`RetryPolicy`](super::RetryPolicy)):
/// HTTP 429, 502, 503, 504 and connection failures, gRPC `UNAVAILABLE` and
/// friends (and `RESOURCE_EXHAUSTED` only with `RetryInfo`); exponential
/// back-off with jitter; `Retry-After` (seconds or HTTP date) and gRPC
/// `RetryInfo` honoured; no retry that would end past the timeout. Other
/// statuses (400, …) fail at once. A batch that was accepted is never sent
/// again.
pub struct OtlpExporter {
    transport: Transport,
    shut_down: AtomicBool,
    protocol: OtlpProtocol,
    endpoint: String,
    /// `endpoint` with credentials and sensitive query values masked, for
    /// messages and `Debug`.
    shown_endpoint: String,
    timeout: Duration,
    /// An `https` endpoint and no client certificate configured: a
    /// connection the collector closes may mean it wants one.
    may_want_client_certificate: bool,
}

enum Transport {
    /// http/protobuf: tracekit's own encoder and retries.
    Protobuf(Box<ProtobufHttp>),
    /// http/json: opentelemetry-otlp's encoder and retries.
    #[cfg(feature = "http-json")]
    Json {
        inner: Box<opentelemetry_otlp::SpanExporter>,
        deadline: Arc<ExportDeadline>,
        last_failure: Arc<LastFailure>,
    },
    #[cfg(feature = "grpc")]
    Grpc {
        inner: Arc<opentelemetry_otlp::SpanExporter>,
        runtime: GrpcRuntime,
    },
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.shown_endpoint)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OtlpConfig {
    /// Build the exporter this configuration describes.
    ///
    /// Building does not connect: an unreachable collector shows up as
    /// export errors, never here.
    pub fn build_exporter(&self) -> Result<OtlpExporter, OtlpBuildError> {
        OtlpExporter::new(self)
    }
}

impl OtlpExporter {
    /// Build from a configuration (same as [`OtlpConfig::build_exporter`]).
    pub fn new(config: &OtlpConfig) -> Result<Self, OtlpBuildError> {
        let endpoint = config.endpoint();
        let timeout = config.timeout();
        let protocol = available_protocol(config);
        let transport = match protocol {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
                build_http(config, protocol, &endpoint)?
            }
            #[cfg(feature = "grpc")]
            OtlpProtocol::Grpc => build_grpc(config, &endpoint)?,
            #[cfg(not(feature = "grpc"))]
            OtlpProtocol::Grpc => {
                return Err(OtlpBuildError(format!(
                    "OTLP over gRPC (endpoint {}) needs tracekit's cargo feature `grpc`",
                    url_for_messages(&endpoint)
                )))
            }
        };
        let may_want_client_certificate =
            is_https(&endpoint) && config.client_certificate().is_none();
        Ok(Self {
            transport,
            shut_down: AtomicBool::new(false),
            protocol,
            shown_endpoint: url_for_messages(&endpoint),
            endpoint,
            timeout,
            may_want_client_certificate,
        })
    }

    /// The protocol this exporter speaks.
    pub fn protocol(&self) -> OtlpProtocol {
        self.protocol
    }

    /// The URL spans are sent to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The endpoint as tracekit's messages show it: credentials and
    /// sensitive query values masked.
    pub(crate) fn shown_endpoint(&self) -> &str {
        &self.shown_endpoint
    }

    /// The total time one export may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// The protocol to use: the one asked for, or http/protobuf when it is
/// http/json and the `http-json` feature is off (with one warning).
fn available_protocol(config: &OtlpConfig) -> OtlpProtocol {
    let protocol = config.protocol();
    if protocol == OtlpProtocol::HttpJson && !cfg!(feature = "http-json") {
        warn_invalid(
            config.protocol_origin(),
            protocol.as_str(),
            "http/json needs tracekit's cargo feature `http-json`",
            "http/protobuf",
        );
        return OtlpProtocol::HttpProtobuf;
    }
    protocol
}

/// Whether to compress HTTP requests: gzip when asked for and the `gzip`
/// feature is on (one warning when it is off).
fn http_gzip(config: &OtlpConfig) -> bool {
    let asked = config.compression() == OtlpCompression::Gzip;
    if asked && !cfg!(feature = "gzip") {
        warn_invalid(
            config.compression_origin(),
            "gzip",
            "gzip needs tracekit's cargo feature `gzip`",
            "none",
        );
    }
    asked && cfg!(feature = "gzip")
}

fn retry_policy(config: &OtlpConfig) -> RetryPolicy {
    config
        .retry_policy()
        .cloned()
        .unwrap_or_else(RetryPolicy::disabled)
}

fn build_http(
    config: &OtlpConfig,
    protocol: OtlpProtocol,
    endpoint: &str,
) -> Result<Transport, OtlpBuildError> {
    if !cfg!(feature = "tls") && is_https(endpoint) {
        return Err(OtlpBuildError(format!(
            "{} is an https endpoint: TLS needs tracekit's cargo feature `tls`",
            url_for_messages(endpoint)
        )));
    }
    let tls = config.tls_files().load().map_err(OtlpBuildError)?;
    let deadline = Arc::new(ExportDeadline::default());
    let client = DeadlineHttpClient::new(Arc::clone(&deadline), config.timeout(), tls)
        .map_err(OtlpBuildError)?;
    #[cfg(feature = "http-json")]
    if protocol == OtlpProtocol::HttpJson {
        return build_json(config, endpoint, client, deadline);
    }
    debug_assert_eq!(protocol, OtlpProtocol::HttpProtobuf);
    let settings = ProtobufHttpSettings {
        endpoint: endpoint.to_string(),
        headers: config.headers().to_vec(),
        gzip: http_gzip(config),
        retry: retry_policy(config),
        timeout: config.timeout(),
    };
    let transport = ProtobufHttp::new(client, deadline, settings).map_err(OtlpBuildError)?;
    Ok(Transport::Protobuf(Box::new(transport)))
}

/// http/json through opentelemetry-otlp, with tracekit's HTTP client.
#[cfg(feature = "http-json")]
fn build_json(
    config: &OtlpConfig,
    endpoint: &str,
    client: DeadlineHttpClient,
    deadline: Arc<ExportDeadline>,
) -> Result<Transport, OtlpBuildError> {
    let last_failure = client.last_failure();
    let headers: HashMap<String, String> = config.headers().iter().cloned().collect();
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
        .with_endpoint(endpoint)
        .with_timeout(config.timeout())
        .with_http_client(client)
        .with_retry_policy(retry_policy(config).to_otlp());
    if !headers.is_empty() {
        builder = builder.with_headers(headers);
    }
    #[cfg(feature = "gzip")]
    if http_gzip(config) {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    let inner = builder.build().map_err(|e| OtlpBuildError(e.to_string()))?;
    Ok(Transport::Json {
        inner: Box::new(inner),
        deadline,
        last_failure,
    })
}

/// tonic's TLS settings for an `https` endpoint: the system's roots, the
/// extra CA certificates and the client identity.
#[cfg(feature = "grpc")]
fn grpc_tls(tls: TlsMaterial) -> tonic::transport::ClientTlsConfig {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let mut config = ClientTlsConfig::new().with_native_roots();
    if let Some(ca) = tls.ca_pem {
        config = config.ca_certificate(Certificate::from_pem(ca));
    }
    if let Some(client) = tls.client {
        config = config.identity(Identity::from_pem(client.certificate_pem, client.key_pem));
    }
    config
}

#[cfg(feature = "grpc")]
fn build_grpc(config: &OtlpConfig, endpoint: &str) -> Result<Transport, OtlpBuildError> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (key, value) in config.headers() {
        let key = tonic::metadata::MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
            .map_err(|_| OtlpBuildError(format!("invalid gRPC metadata key {key:?}")))?;
        let value = value
            .parse()
            .map_err(|_| OtlpBuildError(format!("invalid gRPC metadata value for {key:?}")))?;
        metadata.insert(key, value);
    }
    let tls = config.tls_files().load().map_err(OtlpBuildError)?;
    let https = is_https(endpoint);
    let runtime = GrpcRuntime::new().map_err(OtlpBuildError)?;
    // tonic's channel spawns its connection worker on the current runtime:
    // build it inside the exporter's own one.
    let inner = runtime.in_context(|| {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_protocol(opentelemetry_otlp::Protocol::Grpc)
            .with_endpoint(endpoint)
            .with_timeout(config.timeout())
            .with_metadata(metadata)
            .with_retry_policy(retry_policy(config).to_otlp());
        if https {
            builder = builder.with_tls_config(grpc_tls(tls));
        }
        if config.compression() == OtlpCompression::Gzip {
            builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
        }
        builder.build()
    });
    let inner = inner.map_err(|e| OtlpBuildError(e.to_string()))?;
    Ok(Transport::Grpc {
        inner: Arc::new(inner),
        runtime,
    })
}

impl OtlpExporter {
    /// A failed export's error, naming the endpoint and the cause: the one
    /// the HTTP client recorded (the status and body, or the transport
    /// failure), else what opentelemetry-otlp said, with a hint for the
    /// usual TLS mistakes.
    fn explain(&self, result: OTelSdkResult, cause: Option<String>) -> OTelSdkResult {
        let endpoint = &self.shown_endpoint;
        result.map_err(|error| match error {
            OTelSdkError::AlreadyShutdown => error,
            OTelSdkError::Timeout(timeout) => OTelSdkError::InternalFailure(match cause {
                Some(cause) => format!("export to {endpoint} timed out after {timeout:?}: {cause}"),
                None => format!("export to {endpoint} timed out after {timeout:?}"),
            }),
            OTelSdkError::InternalFailure(message) => {
                let cause = cause.unwrap_or_else(|| self.with_tls_hint(message));
                OTelSdkError::InternalFailure(format!("export to {endpoint} failed: {cause}"))
            }
        })
    }
}

impl OtlpExporter {
    /// `message` led by what a TLS failure inside it means for the user.
    /// With TLS 1.3 a client learns that the collector wanted a certificate
    /// only from a connection closed after the handshake, so such a closing
    /// gets a hint when none is configured.
    fn with_tls_hint(&self, message: String) -> String {
        let lower = message.to_ascii_lowercase();
        let closed = [
            "broken pipe",
            "connection reset",
            "connection closed",
            "stream closed",
        ]
        .iter()
        .any(|closed| lower.contains(closed));
        match tls_failure_kind(&message) {
            Some(kind) => format!("{kind} ({message})"),
            None if closed && self.may_want_client_certificate => format!(
                "the collector closed the connection; if it requires a client certificate, \
                 set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY ({message})"
            ),
            None => message,
        }
    }
}

/// Whether `endpoint` is an `https` URL.
fn is_https(endpoint: &str) -> bool {
    has_scheme(endpoint, "https://")
}

/// Whether the calling thread is inside a tokio runtime.
fn in_tokio_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Run `export` where the HTTP client's own runtime may be driven: here,
/// or, on a thread inside a tokio runtime, on a short-lived plain thread (a
/// runtime cannot be driven from inside another, and waits between retries
/// would block a current-thread runtime's only thread).
fn off_runtime(export: impl FnOnce() -> OTelSdkResult + Send) -> OTelSdkResult {
    if !in_tokio_runtime() {
        return export();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("tracekit-otlp-export".into())
            .spawn_scoped(scope, export)
            .map_err(|e| {
                OTelSdkError::InternalFailure(format!("cannot start the export thread: {e}"))
            })?
            .join()
            .map_err(|_| OTelSdkError::InternalFailure("the export thread panicked".into()))?
    })
}

impl SpanExporter for OtlpExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        match &self.transport {
            Transport::Protobuf(http) => {
                let result = off_runtime(|| http.export_span_data(batch));
                self.explain(result, http.take_failure())
            }
            #[cfg(feature = "http-json")]
            Transport::Json {
                inner,
                deadline,
                last_failure,
            } => {
                deadline.start(self.timeout);
                last_failure.take();
                let result = if in_tokio_runtime() {
                    off_runtime(|| futures_executor::block_on(inner.export(batch)))
                } else {
                    inner.export(batch).await
                };
                self.explain(result, last_failure.take())
            }
            #[cfg(feature = "grpc")]
            Transport::Grpc { inner, runtime } => {
                let inner = Arc::clone(inner);
                let timeout = self.timeout;
                let result = runtime
                    .run(async move {
                        match tokio::time::timeout(timeout, inner.export(batch)).await {
                            Ok(result) => result,
                            Err(_) => Err(OTelSdkError::Timeout(timeout)),
                        }
                    })
                    .await;
                self.explain(result, None)
            }
        }
    }

    /// Refuse further exports. Nothing is buffered here, so there is
    /// nothing to flush; connections close when the exporter is dropped.
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            Err(OTelSdkError::AlreadyShutdown)
        } else {
            Ok(())
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        match &mut self.transport {
            Transport::Protobuf(http) => http.set_resource(resource),
            #[cfg(feature = "http-json")]
            Transport::Json { inner, .. } => inner.set_resource(resource),
            #[cfg(feature = "grpc")]
            Transport::Grpc { inner, .. } => match Arc::get_mut(inner) {
                Some(inner) => inner.set_resource(resource),
                // Only possible while an export is running, which the SDK
                // never does concurrently with set_resource.
                None => tracing::warn!(
                    target: "tracekit::export",
                    "OTLP exporter busy; resource not updated"
                ),
            },
        }
    }
}

/// The batch processor's side: over http/protobuf, its spans are encoded
/// straight from their records (no `SpanData`); the other protocols take
/// `SpanData`.
impl ExportSink for OtlpExporter {
    fn export(&mut self, batch: &mut Vec<FinishedSpan>) -> OTelSdkResult {
        // The only transport without the `grpc` and `http-json` features.
        #[allow(irrefutable_let_patterns)]
        if let Transport::Protobuf(http) = &mut self.transport {
            if self.shut_down.load(Ordering::Acquire) {
                batch.clear();
                return Err(OTelSdkError::AlreadyShutdown);
            }
            let result = off_runtime(|| http.export_spans(batch));
            let cause = http.take_failure();
            return self.explain(result, cause);
        }
        let data = batch.drain(..).map(FinishedSpan::into_span_data).collect();
        futures_executor::block_on(SpanExporter::export(self, data))
    }

    fn force_flush(&mut self) -> OTelSdkResult {
        SpanExporter::force_flush(self)
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the `grpc` feature an https gRPC endpoint is refused with the
    /// feature named (`init` turns this into its one warning), never a
    /// silent exporter that sends nothing.
    #[cfg(not(feature = "grpc"))]
    #[test]
    fn grpc_without_its_feature_names_the_feature() {
        let env = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector.example:4317",
            ),
        ];
        let error = OtlpConfig::from_env(&env)
            .build_exporter()
            .expect_err("no gRPC in this build")
            .to_string();
        assert!(error.contains("cargo feature `grpc`"), "{error}");
        assert!(error.contains("https://collector.example:4317"), "{error}");
    }

    /// Without the `http-json` feature http/json falls back to
    /// http/protobuf (after one warning).
    #[cfg(not(feature = "http-json"))]
    #[test]
    fn http_json_without_its_feature_falls_back_to_protobuf() {
        let env = [("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")];
        let exporter = OtlpConfig::from_env(&env).build_exporter().expect("builds");
        assert_eq!(exporter.protocol(), OtlpProtocol::HttpProtobuf);
    }

    #[test]
    fn failures_name_the_endpoint_and_the_tls_problem() {
        let exporter = OtlpConfig::default()
            .with_endpoint("https://collector.example/v1/traces")
            .build_exporter()
            .expect("builds");
        let explained = |message: &str| {
            exporter
                .explain(Err(OTelSdkError::InternalFailure(message.into())), None)
                .expect_err("failed")
                .to_string()
        };
        let unknown = explained("transport error: invalid peer certificate: UnknownIssuer");
        assert!(
            unknown.contains("https://collector.example/v1/traces"),
            "{unknown}"
        );
        assert!(
            unknown.contains("certificate verification failed"),
            "{unknown}"
        );
        let closed = explained("connection error: stream closed because of a broken pipe");
        assert!(closed.contains("requires a client certificate"), "{closed}");
        let plain = explained("gRPC code: Unavailable");
        assert!(plain.ends_with("failed: gRPC code: Unavailable"), "{plain}");
        let timeout = exporter
            .explain(Err(OTelSdkError::Timeout(Duration::from_secs(1))), None)
            .expect_err("failed")
            .to_string();
        assert!(timeout.contains("timed out after 1s"), "{timeout}");
    }

    /// An endpoint may carry credentials (`https://user:token@host`, a
    /// `?token=` parameter): every message and `Debug` output masks them,
    /// while requests still go to the URL as given.
    #[test]
    fn messages_mask_credentials_in_the_endpoint() {
        let url = "https://user:s3cret@collector.example/v1/traces?token=t0ken&tenant=a";
        let exporter = OtlpConfig::default()
            .with_endpoint(url)
            .build_exporter()
            .expect("builds");
        assert_eq!(exporter.endpoint(), url);
        let masked =
            "https://REDACTED:REDACTED@collector.example/v1/traces?token=REDACTED&tenant=a";
        assert_eq!(exporter.shown_endpoint(), masked);
        let failure = exporter
            .explain(Err(OTelSdkError::InternalFailure("boom".into())), None)
            .expect_err("failed")
            .to_string();
        assert!(
            failure.ends_with(&format!("export to {masked} failed: boom")),
            "{failure}"
        );
        let timeout = exporter
            .explain(Err(OTelSdkError::Timeout(Duration::from_secs(1))), None)
            .expect_err("failed")
            .to_string();
        let config = OtlpConfig::default().with_endpoint(url);
        for shown in [
            timeout,
            format!("{exporter:?}"),
            format!("{config:?}"),
            url_for_messages("https://token-only@collector.example"),
        ] {
            assert!(
                !shown.contains("s3cret") && !shown.contains("t0ken"),
                "{shown}"
            );
            assert!(!shown.contains("token-only"), "{shown}");
        }
    }
}
