//! Calls to another service: JSON over HTTP through the tracekit reqwest
//! middleware, so every call is a CLIENT span carrying the current trace
//! context (and baggage) to the callee.

use crate::model::ErrorBody;
use axum::http::StatusCode;
use reqwest_middleware::ClientWithMiddleware;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::time::Duration;
use tracekit_reqwest::UrlTemplate;

/// Time one call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A traced HTTP client for calls to other services. Create it after the
/// telemetry is installed.
pub fn traced_client() -> Result<ClientWithMiddleware, String> {
    let http = reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(tracekit_reqwest::traced(http))
}

/// Why a call failed.
#[derive(Debug)]
pub enum CallError {
    /// The callee answered with an error status and this message.
    Status(StatusCode, String),
    /// No answer (refused, timed out, ...).
    Transport(String),
    /// An answer that is not the expected JSON.
    Decode(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Status(status, message) => write!(f, "{status}: {message}"),
            CallError::Transport(message) => write!(f, "unreachable: {message}"),
            CallError::Decode(message) => write!(f, "bad answer: {message}"),
        }
    }
}

impl std::error::Error for CallError {}

/// `POST {base}{path}` with `body` as JSON; the span is named
/// `POST {path}`. A 2xx answer is decoded as `R`; any other status gives
/// [`CallError::Status`] with the callee's error message.
pub async fn post_json<B: Serialize, R: DeserializeOwned>(
    client: &ClientWithMiddleware,
    base: &str,
    path: &'static str,
    body: &B,
) -> Result<R, CallError> {
    let json = serde_json::to_vec(body).map_err(|e| CallError::Decode(e.to_string()))?;
    let response = client
        .post(format!("{base}{path}"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json)
        .with_extension(UrlTemplate::new(path))
        .send()
        .await
        .map_err(|e| CallError::Transport(e.to_string()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CallError::Transport(e.to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned());
        return Err(CallError::Status(status, message));
    }
    serde_json::from_slice(&bytes).map_err(|e| CallError::Decode(e.to_string()))
}

/// An error answer: `status` with `{"error": message}`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        axum::Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}
