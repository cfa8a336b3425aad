//! [`OtlpExporter`]: the opentelemetry-otlp span exporter, made safe to call
//! from any thread, with or without a tokio runtime.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::config::{OtlpCompression, OtlpConfig, OtlpProtocol};
use super::deadline_client::{DeadlineHttpClient, ExportDeadline};
use super::grpc_runtime::GrpcRuntime;

/// Why an [`OtlpExporter`] could not be built.
#[derive(Debug)]
pub struct OtlpBuildError(String);

impl fmt::Display for OtlpBuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot build the OTLP exporter: {}", self.0)
    }
}

impl std::error::Error for OtlpBuildError {}

/// A [`SpanExporter`] sending spans over OTLP (http/protobuf, http/json or
/// gRPC) through opentelemetry-otlp, with its retry policy.
///
/// `export` may be driven by any executor on any thread: the batch
/// processor's plain thread (`futures_executor::block_on`), or a task inside
/// a tokio runtime of either flavour.
///
/// - **HTTP** uses reqwest's blocking client. Each request is bounded by
///   what is left of the export timeout, so an export, retries included,
///   ends within it. Called on a thread inside a tokio runtime, the blocking
///   work moves to a short-lived helper thread (reqwest's blocking client
///   refuses to run there).
/// - **gRPC** (tonic needs tokio) runs on a small runtime owned by the
///   exporter (one worker thread); the whole export is bounded by the
///   timeout there.
///
/// Retries follow the OTLP specification through opentelemetry-otlp's own
/// policy: HTTP 429, 502, 503, 504 and connection failures, gRPC
/// `UNAVAILABLE` and friends (and `RESOURCE_EXHAUSTED` only with
/// `RetryInfo`); exponential back-off with jitter; `Retry-After` (seconds or
/// HTTP date) and gRPC `RetryInfo` honoured; no retry that would end past
/// the timeout. Other statuses (400, …) fail at once. A batch that was
/// accepted is never sent again.
pub struct OtlpExporter {
    transport: Transport,
    shut_down: AtomicBool,
    protocol: OtlpProtocol,
    endpoint: String,
    timeout: Duration,
}

enum Transport {
    Http {
        inner: Box<opentelemetry_otlp::SpanExporter>,
        deadline: Arc<ExportDeadline>,
    },
    Grpc {
        inner: Arc<opentelemetry_otlp::SpanExporter>,
        runtime: GrpcRuntime,
    },
}

impl fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpExporter")
            .field("protocol", &self.protocol)
            .field("endpoint", &self.endpoint)
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
        let transport = match config.protocol() {
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => build_http(config, &endpoint)?,
            OtlpProtocol::Grpc => build_grpc(config, &endpoint)?,
        };
        Ok(Self {
            transport,
            shut_down: AtomicBool::new(false),
            protocol: config.protocol(),
            endpoint,
            timeout,
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

    /// The total time one export may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

fn otlp_protocol(protocol: OtlpProtocol) -> opentelemetry_otlp::Protocol {
    match protocol {
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::Protocol::HttpBinary,
        OtlpProtocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
        OtlpProtocol::Grpc => opentelemetry_otlp::Protocol::Grpc,
    }
}

fn retry_policy(config: &OtlpConfig) -> opentelemetry_otlp::RetryPolicy {
    config
        .retry_policy()
        .cloned()
        .unwrap_or_else(opentelemetry_otlp::RetryPolicy::disabled)
}

fn build_http(config: &OtlpConfig, endpoint: &str) -> Result<Transport, OtlpBuildError> {
    let deadline = Arc::new(ExportDeadline::default());
    let client =
        DeadlineHttpClient::new(Arc::clone(&deadline), config.timeout()).map_err(OtlpBuildError)?;
    let headers: HashMap<String, String> = config.headers().iter().cloned().collect();
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(otlp_protocol(config.protocol()))
        .with_endpoint(endpoint)
        .with_timeout(config.timeout())
        .with_http_client(client)
        .with_retry_policy(retry_policy(config));
    if !headers.is_empty() {
        builder = builder.with_headers(headers);
    }
    if config.compression() == OtlpCompression::Gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    let inner = builder.build().map_err(|e| OtlpBuildError(e.to_string()))?;
    Ok(Transport::Http {
        inner: Box::new(inner),
        deadline,
    })
}

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
            .with_retry_policy(retry_policy(config));
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

/// Whether the calling thread is inside a tokio runtime.
fn in_tokio_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

impl SpanExporter for OtlpExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        match &self.transport {
            Transport::Http { inner, deadline } => {
                deadline.start(self.timeout);
                if in_tokio_runtime() {
                    // reqwest's blocking client panics inside a runtime, and
                    // opentelemetry-otlp would sleep between retries with
                    // tokio timers that a blocked current-thread runtime
                    // never fires: do the whole export on a plain thread.
                    std::thread::scope(|scope| {
                        std::thread::Builder::new()
                            .name("tracekit-otlp-export".into())
                            .spawn_scoped(scope, || futures_executor::block_on(inner.export(batch)))
                            .map_err(|e| {
                                OTelSdkError::InternalFailure(format!(
                                    "cannot start the export thread: {e}"
                                ))
                            })?
                            .join()
                            .map_err(|_| {
                                OTelSdkError::InternalFailure("the export thread panicked".into())
                            })?
                    })
                } else {
                    inner.export(batch).await
                }
            }
            Transport::Grpc { inner, runtime } => {
                let inner = Arc::clone(inner);
                let timeout = self.timeout;
                runtime
                    .run(async move {
                        match tokio::time::timeout(timeout, inner.export(batch)).await {
                            Ok(result) => result,
                            Err(_) => Err(OTelSdkError::Timeout(timeout)),
                        }
                    })
                    .await
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
            Transport::Http { inner, .. } => inner.set_resource(resource),
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
