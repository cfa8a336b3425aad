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
use crate::sync::Mutex;
use crate::trace::processor::loss_report::{LossLine, LossReport};
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
    /// Spans the collector rejected in accepted requests (OTLP partial
    /// success), in all, and how they have been told.
    rejected: Mutex<(u64, LossReport)>,
}

impl ProtobufHttp {
    /// A transport sending with `client` (whose deadline is `deadline`).
    pub(crate) fn new(
        client: DeadlineHttpClient,
        deadline: Arc<ExportDeadline>,
        settings: ProtobufHttpSettings,
    ) -> Result<Self, String> {
        let endpoint: http::Uri = settings.endpoint.parse().map_err(|e| {
            let shown = crate::redaction::url_for_messages(&settings.endpoint);
            format!("invalid endpoint {shown:?}: {e}")
        })?;
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
            rejected: Mutex::new((0, LossReport::default())),
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
            self.report_partial_success(response.body());
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

impl ProtobufHttp {
    /// A collector that accepted the request but rejected some spans says
    /// so in the response (OTLP's partial success): tell the user, the
    /// first time at once and then at most once a minute (a collector
    /// rejecting part of every batch must not flood standard error).
    fn report_partial_success(&self, body: &[u8]) {
        let Ok(response) = ExportTraceServiceResponse::decode(body) else {
            return;
        };
        let Some(partial) = response.partial_success else {
            return;
        };
        let Ok(rejected) = u64::try_from(partial.rejected_spans) else {
            return;
        };
        if rejected == 0 && partial.error_message.is_empty() {
            return;
        }
        let mut guard = self.rejected.lock();
        let (total, report) = &mut *guard;
        *total += rejected.max(1);
        let message = &partial.error_message;
        // Masked only when a line is printed (at most one a minute).
        let endpoint = || crate::redaction::url_for_messages(&self.endpoint.to_string());
        match report.observe(std::time::Instant::now(), *total) {
            Some(LossLine::First { .. }) => eprintln!(
                "tracekit: the collector at {} accepted a request but rejected \
                 {rejected} of its spans: {message:?}; later rejections are summarised at \
                 most once a minute",
                endpoint()
            ),
            Some(LossLine::Summary { new, since, .. }) => eprintln!(
                "tracekit: the collector at {} rejected {new} more spans in the last \
                 {} s; last reason: {message:?}",
                endpoint(),
                since.as_secs()
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::otlp::tls::TlsMaterial;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess;

    fn build(headers: Vec<(String, String)>) -> Result<ProtobufHttp, String> {
        let deadline = Arc::new(ExportDeadline::default());
        let timeout = Duration::from_secs(1);
        let client =
            DeadlineHttpClient::new(Arc::clone(&deadline), timeout, TlsMaterial::default())?;
        let settings = ProtobufHttpSettings {
            endpoint: "http://127.0.0.1:9/v1/traces".into(),
            headers,
            gzip: false,
            retry: RetryPolicy::disabled(),
            timeout,
        };
        ProtobufHttp::new(client, deadline, settings)
    }

    fn response(rejected: i64, message: &str) -> Vec<u8> {
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.into(),
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn rejected_spans_are_counted_and_odd_responses_ignored() {
        let http = build(Vec::new()).expect("transport");
        http.report_partial_success(&response(3, "too old"));
        http.report_partial_success(&response(2, "too old"));
        // A success without partial success, a negative count and bytes
        // that are no response at all change nothing.
        http.report_partial_success(&ExportTraceServiceResponse::default().encode_to_vec());
        http.report_partial_success(&response(-1, "nonsense"));
        http.report_partial_success(&[0xff, 0xff, 0xff]);
        assert_eq!(http.rejected.lock().0, 5);
        // A message without a count still counts as one rejection.
        http.report_partial_success(&response(0, "schema mismatch"));
        assert_eq!(http.rejected.lock().0, 6);
    }

    #[test]
    fn an_invalid_header_fails_the_build_with_its_name() {
        let error = build(vec![("bad header".into(), "x".into())])
            .err()
            .expect("refused");
        assert!(error.contains("\"bad header\""), "{error}");
    }
}
