//! A synchronous HTTP client for OTLP whose every request ends by the deadline
//! of the export it belongs to, so that one export, retries included, never
//! outlasts the export timeout.
//!
//! It is reqwest's async client driven on the calling thread by a
//! current-thread tokio runtime of its own: the request is written and the
//! response read on the export thread itself. (reqwest's blocking client
//! hands every request to a runtime thread of its own and waits for the
//! answer: two thread wake-ups per request, which cost more than encoding
//! the batch when exports are spaced out.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sync::Mutex;
use async_trait::async_trait;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

use super::tls::TlsMaterial;

/// Largest response body read (OTLP responses are a few bytes; this only
/// guards against a misbehaving server).
const MAX_RESPONSE_BODY: usize = 4 * 1024 * 1024;

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

/// The HTTP client behind the OTLP/HTTP exporters.
///
/// The exporters encode, compress, classify responses and retry; this
/// client only sends one request, cut short when the export deadline
/// passes. It must not be called on a thread inside a tokio runtime (the
/// exporter moves such calls to a thread of their own).
#[derive(Debug, Clone)]
pub(crate) struct DeadlineHttpClient {
    client: reqwest::Client,
    runtime: Arc<ClientRuntime>,
    deadline: Arc<ExportDeadline>,
    timeout: Duration,
    last_failure: Arc<LastFailure>,
}

impl DeadlineHttpClient {
    /// Build the client, trusting the system's roots plus `tls`'s CA
    /// certificates and presenting its client certificate, if any.
    pub fn new(
        deadline: Arc<ExportDeadline>,
        timeout: Duration,
        tls: TlsMaterial,
    ) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the HTTP client's runtime: {e}"))?;
        let client = with_tls(reqwest::Client::builder().timeout(timeout), tls)?
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", error_chain(&e)))?;
        Ok(Self {
            client,
            runtime: Arc::new(ClientRuntime(Some(runtime))),
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

/// The runtime that drives the client on the calling thread. Dropped
/// without waiting (it is idle between requests), so an exporter may be
/// dropped anywhere, async contexts included.
#[derive(Debug)]
struct ClientRuntime(Option<tokio::runtime::Runtime>);

impl Drop for ClientRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// `builder` with the TLS material applied.
#[cfg(feature = "tls")]
fn with_tls(
    mut builder: reqwest::ClientBuilder,
    tls: TlsMaterial,
) -> Result<reqwest::ClientBuilder, String> {
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
    builder: reqwest::ClientBuilder,
    _tls: TlsMaterial,
) -> Result<reqwest::ClientBuilder, String> {
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
        // Trusting a CA does not help with these two: say what does.
        if lower.contains("not valid for name") || lower.contains("notvalidforname") {
            Some(
                "TLS certificate verification failed: the collector's certificate is not \
                 valid for the endpoint's host name (use a name the certificate lists)",
            )
        } else if lower.contains("expired")
            || lower.contains("not valid yet")
            || lower.contains("notvalidyet")
        {
            Some(
                "TLS certificate verification failed: the collector's certificate has \
                 expired or is not valid yet",
            )
        } else {
            Some(
                "TLS certificate verification failed \
                 (a private CA can be trusted with OTEL_EXPORTER_OTLP_CERTIFICATE)",
            )
        }
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
        let mut request: reqwest::Request = request.try_into()?;
        *request.timeout_mut() = Some(remaining.min(self.timeout));
        let Some(runtime) = &self.runtime.0 else {
            return Err("the HTTP client's runtime is gone".into());
        };
        let (status, headers, body) = runtime.block_on(async {
            let mut response = match self.client.execute(request).await {
                Ok(response) => response,
                Err(e) => {
                    // The failure lines name the endpoint themselves, with
                    // any credentials in it masked: reqwest's copy of the
                    // URL would show them.
                    let e = e.without_url();
                    self.last_failure.set(describe_request_error(&e));
                    return Err(Box::new(e) as HttpError);
                }
            };
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let mut body = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_RESPONSE_BODY.saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if body.len() >= MAX_RESPONSE_BODY {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.last_failure
                            .set(format!("reading the response failed ({})", error_chain(&e)));
                        return Err(Box::new(e) as HttpError);
                    }
                }
            }
            Ok((status, headers, body))
        })?;
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
    fn certificate_failures_say_what_would_fix_them() {
        // rustls' words, as reqwest and tonic pass them on.
        let unknown = "client error (Connect): invalid peer certificate: UnknownIssuer";
        let name = "client error (Connect): invalid peer certificate: certificate not valid \
                    for name \"localhost\"; certificate is only valid for DnsName(\"c.example\")";
        let expired = "invalid peer certificate: certificate expired: verification time \
                       1700000000 (UNIX), but certificate is not valid after 1600000000";
        let kind = |text| tls_failure_kind(text).unwrap();
        assert!(kind(unknown).contains("OTEL_EXPORTER_OTLP_CERTIFICATE"));
        assert!(kind(name).contains("host name"), "{}", kind(name));
        assert!(!kind(name).contains("OTEL_EXPORTER_OTLP_CERTIFICATE"));
        assert!(kind(expired).contains("expired"), "{}", kind(expired));
        assert!(kind("invalid peer certificate: NotValidForName").contains("host name"));
        for text in [unknown, name, expired] {
            assert!(kind(text).starts_with("TLS certificate verification failed"));
        }
    }

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

        // Credentials in the URL never reach the recorded cause (the
        // failure lines name the endpoint themselves, masked).
        let request = Request::builder()
            .method("POST")
            .uri(format!("http://user:s3cret@{addr}/v1/traces?token=t0ken"))
            .body(Bytes::new())
            .unwrap();
        let error = futures_executor::block_on(client.send_bytes(request)).unwrap_err();
        let cause = client.last_failure().take().expect("recorded");
        assert!(cause.starts_with("connection refused ("), "{cause}");
        for shown in [cause, error_chain(&*error)] {
            assert!(
                !shown.contains("s3cret") && !shown.contains("t0ken"),
                "{shown}"
            );
        }

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
