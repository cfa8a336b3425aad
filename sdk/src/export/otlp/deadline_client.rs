//! A blocking HTTP client for opentelemetry-otlp whose every request ends by
//! the deadline of the export it belongs to, so that one export, retries
//! included, never outlasts the export timeout.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sync::Mutex;
use async_trait::async_trait;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

use super::tls::TlsMaterial;

/// Largest response body read (OTLP responses are a few bytes; this only
/// guards against a misbehaving server).
const MAX_RESPONSE_BODY: u64 = 4 * 1024 * 1024;

/// How much of an error response's body a failure message quotes.
const QUOTED_BODY_BYTES: usize = 120;

/// Why the last request of an export failed, in words a user can act on
/// (opentelemetry-otlp reports every transport failure as "network error"
/// and a status without its body).
#[derive(Debug, Default)]
pub(crate) struct LastFailure(Mutex<Option<String>>);

impl LastFailure {
    fn set(&self, cause: String) {
        *self.0.lock() = Some(cause);
    }

    /// Take the cause recorded since the last call.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().take()
    }
}

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
    last_failure: Arc<LastFailure>,
}

impl DeadlineHttpClient {
    /// Build the client, trusting the system's roots plus `tls`'s CA
    /// certificates and presenting its client certificate, if any.
    /// reqwest's blocking client starts (and on drop, stops) a runtime of
    /// its own and refuses to be built on a thread that is inside a tokio
    /// runtime, so it is always built on a fresh thread.
    pub fn new(
        deadline: Arc<ExportDeadline>,
        timeout: Duration,
        tls: TlsMaterial,
    ) -> Result<Self, String> {
        let client = std::thread::Builder::new()
            .name("tracekit-otlp-client-init".into())
            .spawn(move || {
                with_tls(reqwest::blocking::Client::builder().timeout(timeout), tls)?
                    .build()
                    .map_err(|e| error_chain(&e))
            })
            .map_err(|e| format!("cannot start a thread to build the HTTP client: {e}"))?
            .join()
            .map_err(|_| "building the HTTP client panicked".to_string())?
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            client,
            deadline,
            timeout,
            last_failure: Arc::default(),
        })
    }

    /// Where the client records why a request failed.
    pub fn last_failure(&self) -> Arc<LastFailure> {
        Arc::clone(&self.last_failure)
    }
}

/// `builder` with the TLS material applied.
#[cfg(feature = "tls")]
fn with_tls(
    mut builder: reqwest::blocking::ClientBuilder,
    tls: TlsMaterial,
) -> Result<reqwest::blocking::ClientBuilder, String> {
    if let Some(ca) = tls.ca_pem {
        let certificates = reqwest::Certificate::from_pem_bundle(&ca)
            .map_err(|e| format!("the CA certificates: {}", error_chain(&e)))?;
        builder = builder.tls_certs_merge(certificates);
    }
    if let Some(client) = tls.client {
        let mut pem = client.certificate_pem;
        pem.push(b'\n');
        pem.extend_from_slice(&client.key_pem);
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("the client certificate and key: {}", error_chain(&e)))?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

/// Without the `tls` feature there is nothing to apply (the files were
/// already refused when read).
#[cfg(not(feature = "tls"))]
fn with_tls(
    builder: reqwest::blocking::ClientBuilder,
    _tls: TlsMaterial,
) -> Result<reqwest::blocking::ClientBuilder, String> {
    Ok(builder)
}

/// An error and its sources, `: `-separated, repeated texts left out.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// What a failed request's error says, led by the kind of failure a user
/// acts on: connection refused, DNS, TLS certificate or handshake, timeout.
fn describe_request_error(error: &reqwest::Error) -> String {
    let chain = error_chain(error);
    let lower = chain.to_ascii_lowercase();
    let refused = std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .filter_map(|e| e.downcast_ref::<std::io::Error>())
    .any(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
    let kind = if refused {
        "connection refused"
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        "DNS lookup failed"
    } else if let Some(kind) = tls_failure_kind(&chain) {
        kind
    } else if lower.contains("tls") || lower.contains("handshake") || lower.contains("alert") {
        "TLS handshake failed"
    } else if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    format!("{kind} ({chain})")
}

/// What a TLS failure in an error's text means for the user, if the text
/// is one: a certificate the client could not verify, or a collector that
/// wants a client certificate.
pub(crate) fn tls_failure_kind(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("certificaterequired") || lower.contains("certificate required") {
        Some(
            "TLS handshake failed: the collector requires a client certificate \
             (set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY)",
        )
    } else if lower.contains("invalid peer certificate") || lower.contains("certificate verify") {
        Some(
            "TLS certificate verification failed \
             (a private CA can be trusted with OTEL_EXPORTER_OTLP_CERTIFICATE)",
        )
    } else {
        None
    }
}

/// An error status with the start of the body the collector sent.
fn describe_status(status: reqwest::StatusCode, body: &[u8]) -> String {
    let mut text: String = String::from_utf8_lossy(&body[..body.len().min(QUOTED_BODY_BYTES)])
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > QUOTED_BODY_BYTES {
        text.push('…');
    }
    let text = text.trim();
    if text.is_empty() {
        format!("HTTP status {status}")
    } else {
        format!("HTTP status {status}: {text:?}")
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
        self.send(request)
    }
}

impl DeadlineHttpClient {
    /// Send one request, on this thread, cut short at the export's
    /// deadline; a failure's cause is recorded for [`Self::last_failure`].
    pub(crate) fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let Some(remaining) = self.deadline.remaining(self.timeout) else {
            self.last_failure.set(DeadlineExceeded.to_string());
            return Err(Box::new(DeadlineExceeded));
        };
        let mut request: reqwest::blocking::Request = request.try_into()?;
        *request.timeout_mut() = Some(remaining.min(self.timeout));
        let mut response = match self.client.execute(request) {
            Ok(response) => response,
            Err(e) => {
                self.last_failure.set(describe_request_error(&e));
                return Err(Box::new(e));
            }
        };
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        if let Err(e) = response
            .by_ref()
            .take(MAX_RESPONSE_BODY)
            .read_to_end(&mut body)
        {
            self.last_failure
                .set(format!("reading the response failed ({e})"));
            return Err(Box::new(e));
        }
        if !status.is_success() {
            self.last_failure.set(describe_status(status, &body));
        }
        let mut out = Response::builder().status(status).body(Bytes::from(body))?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_what_failed() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let client = DeadlineHttpClient::new(
            Arc::default(),
            Duration::from_secs(5),
            TlsMaterial::default(),
        )
        .unwrap();
        let request = Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/v1/traces"))
            .body(Bytes::new())
            .unwrap();
        assert!(futures_executor::block_on(client.send_bytes(request)).is_err());
        let cause = client.last_failure().take().expect("recorded");
        assert!(cause.starts_with("connection refused ("), "{cause}");
        assert_eq!(client.last_failure().take(), None, "taken once");

        let long = "x".repeat(500);
        let status = describe_status(reqwest::StatusCode::BAD_REQUEST, long.as_bytes());
        assert!(
            status.starts_with("HTTP status 400 Bad Request: \"xxx"),
            "{status}"
        );
        assert!(status.len() < 200, "{status}");
        assert_eq!(
            describe_status(reqwest::StatusCode::BAD_GATEWAY, b""),
            "HTTP status 502 Bad Gateway"
        );
        assert_eq!(
            describe_status(reqwest::StatusCode::UNAUTHORIZED, b"bad\ntoken"),
            "HTTP status 401 Unauthorized: \"bad token\""
        );
    }

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
