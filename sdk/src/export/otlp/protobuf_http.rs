//! [`ProtobufHttp`]: OTLP http/protobuf, tracekit's default protocol.
//!
//! Spans from the batch processor are written straight into the request
//! body by [`SpanBatchEncoder`]; spans handed over as `SpanData` (a
//! [`SimpleSpanProcessor`](crate::SimpleSpanProcessor), a user's own call)
//! go through opentelemetry-proto's messages. Either body is then sent the
//! same way: one POST per attempt, each bounded by what is left of the
//! export timeout, retried as the OTLP specification says (see `retry`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use opentelemetry_http::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prost::Message;

use super::deadline_client::{DeadlineHttpClient, ExportDeadline, LastFailure};
use super::retry::{with_retries, Retry, RetryPolicy};
use super::span_encoder::SpanBatchEncoder;
use crate::trace::FinishedSpan;

/// The `User-Agent` of every request, as the OTLP exporter specification
/// recommends (`OTel-OTLP-Exporter-{language}/{version}`).
const USER_AGENT: &str = concat!(
    "OTel-OTLP-Exporter-Rust/",
    env!("CARGO_PKG_VERSION"),
    " tracekit"
);

/// The settings of an http/protobuf transport.
pub(crate) struct ProtobufHttpSettings {
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) gzip: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
}

/// Sends OTLP http/protobuf requests.
pub(crate) struct ProtobufHttp {
    client: DeadlineHttpClient,
    deadline: Arc<ExportDeadline>,
    last_failure: Arc<LastFailure>,
    endpoint: http::Uri,
    headers: http::HeaderMap,
    gzip: bool,
    retry: RetryPolicy,
    timeout: Duration,
    resource: Resource,
    encoder: SpanBatchEncoder,
}

impl ProtobufHttp {
    /// A transport sending with `client` (whose deadline is `deadline`).
    pub(crate) fn new(
        client: DeadlineHttpClient,
        deadline: Arc<ExportDeadline>,
        settings: ProtobufHttpSettings,
    ) -> Result<Self, String> {
        let endpoint: http::Uri = settings
            .endpoint
            .parse()
            .map_err(|e| format!("invalid endpoint {:?}: {e}", settings.endpoint))?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
        if settings.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        for (key, value) in &settings.headers {
            let name = HeaderName::try_from(key.as_str())
                .map_err(|_| format!("invalid header name {key:?}"))?;
            let value = HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("invalid value for header {key:?}"))?;
            headers.insert(name, value);
        }
        let mut encoder = SpanBatchEncoder::default();
        let resource = Resource::builder_empty().build();
        encoder.set_resource(&resource);
        Ok(ProtobufHttp {
            last_failure: client.last_failure(),
            client,
            deadline,
            endpoint,
            headers,
            gzip: settings.gzip,
            retry: settings.retry,
            timeout: settings.timeout,
            resource,
            encoder,
        })
    }

    /// Use `resource` for the spans to come.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
        self.encoder.set_resource(resource);
    }

    /// Why the last request failed, if it did, in words for the user.
    pub(crate) fn take_failure(&self) -> Option<String> {
        self.last_failure.take()
    }

    /// Export the batch processor's spans (draining `batch`): prepared for
    /// export (redaction, truncation), encoded straight from their records,
    /// the records given back for reuse, and the request sent.
    pub(crate) fn export_spans(&mut self, batch: &mut Vec<FinishedSpan>) -> OTelSdkResult {
        for span in batch.iter_mut() {
            span.prepare_for_export();
        }
        let body = self.encoder.encode(batch);
        let body = body_bytes(body, self.gzip);
        for span in batch.drain(..) {
            span.recycle_after_export();
        }
        self.send(body?)
    }

    /// Export spans given as `SpanData`, through opentelemetry-proto's
    /// messages.
    pub(crate) fn export_span_data(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let resource = ResourceAttributesWithSchema::from(&self.resource);
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &resource),
        };
        self.send(body_bytes(&request.encode_to_vec(), self.gzip)?)
    }

    /// POST `body`, retrying as the policy allows within the timeout.
    fn send(&self, body: Bytes) -> OTelSdkResult {
        self.last_failure.take();
        self.deadline.start(self.timeout);
        let deadline = Instant::now() + self.timeout;
        with_retries(&self.retry, deadline, || self.attempt(&body))
    }

    /// One request.
    fn attempt(&self, body: &Bytes) -> Result<(), (OTelSdkError, Retry)> {
        let mut request = http::Request::new(body.clone());
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.endpoint.clone();
        *request.headers_mut() = self.headers.clone();
        let response = self.client.send(request).map_err(|e| {
            (
                OTelSdkError::InternalFailure(e.to_string()),
                Retry::AfterBackoff,
            )
        })?;
        let status = response.status();
        if status.is_success() {
            report_partial_success(response.body());
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok());
        Err((
            OTelSdkError::InternalFailure(format!("HTTP status {status}")),
            Retry::for_status(status.as_u16(), retry_after),
        ))
    }
}

/// The request body: gzip-compressed if asked for, else a copy (the
/// encoder keeps its buffer for the next batch).
fn body_bytes(encoded: &[u8], gzip: bool) -> Result<Bytes, OTelSdkError> {
    if gzip {
        return compress(encoded).map(Bytes::from);
    }
    Ok(Bytes::copy_from_slice(encoded))
}

#[cfg(feature = "gzip")]
fn compress(encoded: &[u8]) -> Result<Vec<u8>, OTelSdkError> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(encoded.len() / 4),
        flate2::Compression::default(),
    );
    encoder
        .write_all(encoded)
        .and_then(|()| encoder.finish())
        .map_err(|e| OTelSdkError::InternalFailure(format!("gzip failed: {e}")))
}

/// Without the `gzip` feature compression is never asked for (the
/// configuration falls back to none, with a warning).
#[cfg(not(feature = "gzip"))]
fn compress(_encoded: &[u8]) -> Result<Vec<u8>, OTelSdkError> {
    Err(OTelSdkError::InternalFailure(
        "gzip needs tracekit's cargo feature `gzip`".into(),
    ))
}

/// A collector that accepted the request but rejected some spans says so
/// in the response (OTLP's partial success): tell the user.
fn report_partial_success(body: &[u8]) {
    let Ok(response) = ExportTraceServiceResponse::decode(body) else {
        return;
    };
    if let Some(partial) = response.partial_success {
        if partial.rejected_spans > 0 || !partial.error_message.is_empty() {
            tracing::warn!(
                target: "tracekit::export",
                rejected_spans = partial.rejected_spans,
                "the collector rejected {} spans: {}",
                partial.rejected_spans,
                partial.error_message
            );
        }
    }
}
