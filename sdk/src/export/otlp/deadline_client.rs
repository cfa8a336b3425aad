//! A blocking HTTP client for opentelemetry-otlp whose every request ends by
//! the deadline of the export it belongs to, so that one export, retries
//! included, never outlasts the export timeout.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use parking_lot::Mutex;

/// Largest response body read (OTLP responses are a few bytes; this only
/// guards against a misbehaving server).
const MAX_RESPONSE_BODY: u64 = 4 * 1024 * 1024;

/// The deadline of the export in progress, shared between the exporter
/// (which sets it) and the client (which bounds each request by it).
#[derive(Debug, Default)]
pub(crate) struct ExportDeadline(Mutex<Option<Instant>>);

impl ExportDeadline {
    /// Start an export that must end by `now + timeout`.
    pub fn start(&self, timeout: Duration) {
        *self.0.lock() = Instant::now().checked_add(timeout);
    }

    /// Time left for the export in progress; `None` when it has run out.
    /// Without a current deadline, `fallback` is used.
    fn remaining(&self, fallback: Duration) -> Option<Duration> {
        match *self.0.lock() {
            Some(deadline) => deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero()),
            None => Some(fallback),
        }
    }
}

/// The reqwest blocking client behind the OTLP/HTTP exporter.
///
/// opentelemetry-otlp still encodes the request, compresses it, classifies
/// responses and retries; this client only sends one request, cut short when
/// the export deadline passes.
#[derive(Debug, Clone)]
pub(crate) struct DeadlineHttpClient {
    client: reqwest::blocking::Client,
    deadline: Arc<ExportDeadline>,
    timeout: Duration,
}

impl DeadlineHttpClient {
    /// Build the client. reqwest's blocking client starts (and on drop,
    /// stops) a runtime of its own and refuses to be built on a thread that
    /// is inside a tokio runtime, so it is always built on a fresh thread.
    pub fn new(deadline: Arc<ExportDeadline>, timeout: Duration) -> Result<Self, String> {
        let client = std::thread::Builder::new()
            .name("tracekit-otlp-client-init".into())
            .spawn(move || {
                reqwest::blocking::Client::builder()
                    .timeout(timeout)
                    .build()
            })
            .map_err(|e| format!("cannot start a thread to build the HTTP client: {e}"))?
            .join()
            .map_err(|_| "building the HTTP client panicked".to_string())?
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            deadline,
            timeout,
        })
    }
}

/// Reported when an export's time is up before a request could be sent.
#[derive(Debug)]
struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("export timeout exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

#[async_trait]
impl HttpClient for DeadlineHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let Some(remaining) = self.deadline.remaining(self.timeout) else {
            return Err(Box::new(DeadlineExceeded));
        };
        let mut request: reqwest::blocking::Request = request.try_into()?;
        *request.timeout_mut() = Some(remaining.min(self.timeout));
        let mut response = self.client.execute(request)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        response
            .by_ref()
            .take(MAX_RESPONSE_BODY)
            .read_to_end(&mut body)?;
        let mut out = Response::builder().status(status).body(Bytes::from(body))?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_counts_down_and_runs_out() {
        let deadline = ExportDeadline::default();
        assert_eq!(
            deadline.remaining(Duration::from_secs(7)),
            Some(Duration::from_secs(7))
        );
        deadline.start(Duration::from_secs(60));
        let left = deadline.remaining(Duration::from_secs(7));
        assert!(left.is_some_and(|d| d <= Duration::from_secs(60) && d > Duration::from_secs(7)));
        deadline.start(Duration::ZERO);
        assert_eq!(deadline.remaining(Duration::from_secs(7)), None);
    }
}
