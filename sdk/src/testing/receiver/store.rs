//! What the receiver holds: the decoded requests, the scripted responses
//! still to give, and a way to wait for spans to arrive.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// A response the receiver gives instead of accepting a request, in HTTP
/// terms (the gRPC side maps it to a status code, see
/// [`ScriptedResponse::grpc_code`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedResponse {
    /// HTTP status code; a 2xx status accepts the request as usual.
    pub status: u16,
    /// Sent as `Retry-After` (whole seconds) over HTTP and as gRPC
    /// `RetryInfo`.
    pub retry_after: Option<Duration>,
}

impl ScriptedResponse {
    /// A bare status code.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
        }
    }

    /// The same response asking the client to wait `delay` first.
    pub fn with_retry_after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }

    /// Whether this response accepts the request (2xx).
    pub fn accepts(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The gRPC status code for this HTTP status, after the OTLP
    /// specification's correspondence: 429 → `RESOURCE_EXHAUSTED`,
    /// 502/503/504 → `UNAVAILABLE`, 400 → `INVALID_ARGUMENT`,
    /// 401 → `UNAUTHENTICATED`, 403 → `PERMISSION_DENIED`,
    /// 404 → `UNIMPLEMENTED`, 408 → `DEADLINE_EXCEEDED`, 2xx → `OK`,
    /// anything else → `INTERNAL`.
    pub fn grpc_code(&self) -> tonic::Code {
        match self.status {
            200..=299 => tonic::Code::Ok,
            429 => tonic::Code::ResourceExhausted,
            502..=504 => tonic::Code::Unavailable,
            400 => tonic::Code::InvalidArgument,
            401 => tonic::Code::Unauthenticated,
            403 => tonic::Code::PermissionDenied,
            404 => tonic::Code::Unimplemented,
            408 => tonic::Code::DeadlineExceeded,
            _ => tonic::Code::Internal,
        }
    }
}

impl From<u16> for ScriptedResponse {
    fn from(status: u16) -> Self {
        Self::status(status)
    }
}

/// Which door a request came in by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReceivedVia {
    /// OTLP/HTTP with a protobuf body.
    HttpProtobuf,
    /// OTLP/HTTP with a JSON body.
    HttpJson,
    /// OTLP/gRPC.
    Grpc,
}

/// One accepted export request.
#[derive(Clone, Debug)]
pub struct ReceivedRequest {
    /// Transport and encoding.
    pub via: ReceivedVia,
    /// Whether the body arrived gzip-compressed.
    pub gzip: bool,
    /// Request headers (HTTP) or metadata (gRPC), names lower-case.
    pub headers: Vec<(String, String)>,
    /// The decoded request.
    pub request: ExportTraceServiceRequest,
}

#[derive(Debug, Default)]
struct Inner {
    script: VecDeque<ScriptedResponse>,
    requests: Vec<ReceivedRequest>,
    attempts: usize,
    span_count: usize,
}

/// State shared by the servers and the [`OtlpReceiver`](super::OtlpReceiver) handle.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
    arrived: Condvar,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count an incoming request and take the scripted response for it, if
    /// any is left and it rejects the request.
    pub fn begin_attempt(&self) -> Option<ScriptedResponse> {
        let mut inner = self.lock();
        inner.attempts += 1;
        inner.script.pop_front().filter(|r| !r.accepts())
    }

    /// Keep an accepted request and wake waiters.
    pub fn accept(&self, request: ReceivedRequest) {
        let spans: usize = request
            .request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum();
        let mut inner = self.lock();
        inner.span_count += spans;
        inner.requests.push(request);
        drop(inner);
        self.arrived.notify_all();
    }

    pub fn script(&self, responses: impl IntoIterator<Item = ScriptedResponse>) {
        self.lock().script.extend(responses);
    }

    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    pub fn span_count(&self) -> usize {
        self.lock().span_count
    }

    pub fn reset(&self) {
        *self.lock() = Inner::default();
    }

    /// Wait until at least `n` spans arrived or `timeout` passed; returns
    /// whether they arrived.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        while inner.span_count < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            inner = self
                .arrived
                .wait_timeout(inner, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_consumed_in_order_and_accepting_entries_pass() {
        let store = Store::default();
        store.script([503.into(), 200.into(), 400.into()]);
        assert_eq!(store.begin_attempt(), Some(ScriptedResponse::status(503)));
        assert_eq!(store.begin_attempt(), None);
        assert_eq!(store.begin_attempt(), Some(ScriptedResponse::status(400)));
        assert_eq!(store.begin_attempt(), None);
        assert_eq!(store.attempts(), 4);
    }

    #[test]
    fn grpc_codes_follow_the_http_mapping() {
        assert_eq!(
            ScriptedResponse::status(503).grpc_code(),
            tonic::Code::Unavailable
        );
        assert_eq!(
            ScriptedResponse::status(429).grpc_code(),
            tonic::Code::ResourceExhausted
        );
        assert_eq!(
            ScriptedResponse::status(400).grpc_code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn waiting_gives_up_without_spans() {
        let store = Store::default();
        assert!(!store.wait_for_spans(1, Duration::from_millis(1)));
        assert!(store.wait_for_spans(0, Duration::ZERO));
    }
}
