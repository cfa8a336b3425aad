//! The demo's customer: sends orders to the gateway, untraced (the
//! gateway's SERVER span starts each trace), and reads the trace id from
//! the `traceparent` response header.

use crate::model::{Order, OrderOutcome};
use opentelemetry::trace::TraceId;
use reqwest::blocking::Client;
use std::time::Duration;

/// Time one order may take, every service included.
pub const ORDER_TIMEOUT: Duration = Duration::from_secs(15);

/// The gateway's answer to one order.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: reqwest::StatusCode,
    /// The trace the order started, from `traceparent`.
    pub trace_id: Option<TraceId>,
    /// The body, when it is an [`OrderOutcome`].
    pub outcome: Option<OrderOutcome>,
}

/// A blocking HTTP client for the orders.
pub fn client() -> Result<Client, String> {
    Client::builder()
        .timeout(ORDER_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// `POST {gateway}/orders`.
pub fn send_order(client: &Client, gateway: &str, order: &Order) -> Result<Answer, String> {
    let body = serde_json::to_vec(order).map_err(|e| format!("cannot encode {}: {e}", order.id))?;
    let response = client
        .post(format!("{gateway}/orders"))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .map_err(|e| format!("order {}: the gateway did not answer: {e}", order.id))?;
    let status = response.status();
    let trace_id = response
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id_of_traceparent);
    let outcome = response
        .bytes()
        .ok()
        .and_then(|b| serde_json::from_slice::<OrderOutcome>(&b).ok());
    Ok(Answer {
        status,
        trace_id,
        outcome,
    })
}

/// The trace id of a version-00 `traceparent` value
/// (`00-<32 hex>-<16 hex>-<2 hex>`); `None` when malformed or all zero.
pub fn trace_id_of_traceparent(value: &str) -> Option<TraceId> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let lower_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if parts.next().is_some()
        || version != "00"
        || !lower_hex(trace, 32)
        || !lower_hex(span, 16)
        || !lower_hex(flags, 2)
    {
        return None;
    }
    TraceId::from_hex(trace)
        .ok()
        .filter(|id| *id != TraceId::INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_trace_id() {
        assert_eq!(
            trace_id_of_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").ok()
        );
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id_of_traceparent(bad), None, "{bad}");
        }
    }
}
