//! The opt-in `traceparent` response header for browser correlation.

use http::header::{HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_EXPOSE_HEADERS};
use opentelemetry::trace::SpanContext;
use std::fmt::Write as _;

/// The response header carrying the server span's context.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The W3C `traceparent` value for `span_context` (version `00`), or
/// `None` for an invalid context.
pub fn traceparent_value(span_context: &SpanContext) -> Option<HeaderValue> {
    if !span_context.is_valid() {
        return None;
    }
    let mut value = String::with_capacity(55);
    let _ = write!(
        value,
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    );
    HeaderValue::try_from(value).ok()
}

/// Add `traceparent: value` and make it readable by scripts on other
/// origins (`Access-Control-Expose-Headers: traceparent`, added to what is
/// already exposed).
pub(crate) fn add_traceparent(headers: &mut HeaderMap, value: HeaderValue) {
    headers.insert(TRACEPARENT, value);
    let already = headers
        .get_all(ACCESS_CONTROL_EXPOSE_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| {
            let name = name.trim();
            name == "*" || name.eq_ignore_ascii_case("traceparent")
        });
    if !already {
        headers.append(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("traceparent"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    #[test]
    fn formats_the_w3c_value() {
        let sc = SpanContext::new(
            TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736),
            SpanId::from(0x00f067aa0ba902b7),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        assert_eq!(
            traceparent_value(&sc).unwrap(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert!(traceparent_value(&SpanContext::NONE).is_none());
    }

    #[test]
    fn exposes_once() {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-a"),
        );
        add_traceparent(&mut headers, HeaderValue::from_static("v"));
        add_traceparent(&mut headers, HeaderValue::from_static("v"));
        let exposed: Vec<_> = headers
            .get_all(ACCESS_CONTROL_EXPOSE_HEADERS)
            .iter()
            .collect();
        assert_eq!(exposed, vec!["x-a", "traceparent"]);
        assert_eq!(headers.get(TRACEPARENT).unwrap(), "v");
    }
}
