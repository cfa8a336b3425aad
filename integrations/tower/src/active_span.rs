//! [`ActiveSpan`]: a started HTTP or gRPC span carried from the request to
//! the end of the response body, and the rules that close it.

use crate::capture::HeaderCapture;
use crate::status::{
    grpc_code_name, grpc_status_is_error, http_status_is_error, parse_grpc_status, Side,
};
use http::HeaderMap;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
#[allow(deprecated)]
use opentelemetry_semantic_conventions::attribute::RPC_GRPC_STATUS_CODE;
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE, HTTP_RESPONSE_STATUS_CODE,
};
use std::borrow::Cow;
use std::sync::Arc;
use tracekit_propagators::EXCEPTION_EVENT_NAME as EXCEPTION_EVENT;

/// The header a gRPC status travels in (trailers, or headers for a
/// trailers-only response).
const GRPC_STATUS_HEADER: &str = "grpc-status";

/// Which conventions the span follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP conventions: the response status code decides.
    Http,
    /// RPC conventions for gRPC: the `grpc-status` decides.
    Grpc,
}

/// A failure seen before or while answering: the inner service's error, a
/// panic, a body error.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error_type: Cow<'static, str>,
    pub(crate) message: String,
}

/// An HTTP or gRPC span in progress, held in a [`Context`], with the
/// status rules that close it; the building block of this crate's layers
/// and of other client integrations (`tracekit-reqwest`). Ending happens
/// once, on [`ActiveSpan::end`] or on drop.
#[derive(Debug)]
pub struct ActiveSpan {
    cx: Context,
    side: Side,
    protocol: Protocol,
    response_capture: Option<Arc<HeaderCapture>>,
    status_code: Option<u16>,
    grpc_status: Option<i64>,
    // Boxed: rare, and the span travels by value in futures and bodies.
    failure: Option<Box<Failure>>,
    ended: bool,
}

impl ActiveSpan {
    pub(crate) fn new(
        cx: Context,
        side: Side,
        protocol: Protocol,
        response_capture: Option<Arc<HeaderCapture>>,
    ) -> Self {
        ActiveSpan {
            cx,
            side,
            protocol,
            response_capture,
            status_code: None,
            grpc_status: None,
            failure: None,
            ended: false,
        }
    }

    /// A client span held in `cx`, following the HTTP conventions, or the
    /// RPC ones when `grpc`.
    pub fn client(cx: Context, grpc: bool) -> Self {
        let protocol = if grpc { Protocol::Grpc } else { Protocol::Http };
        Self::new(cx, Side::Client, protocol, None)
    }

    /// The context holding the span.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The response head arrived: records the status code (applied at the
    /// end), a trailers-only `grpc-status`, and captured headers.
    pub fn on_response(&mut self, status: u16, headers: &HeaderMap) {
        self.status_code = Some(status);
        if self.protocol == Protocol::Grpc {
            self.read_grpc_status(headers);
        }
        if let Some(capture) = &self.response_capture {
            let mut attributes = Vec::new();
            capture.record(headers, &mut attributes);
            if !attributes.is_empty() {
                self.cx.span().set_attributes(attributes);
            }
        }
    }

    /// Trailers arrived at the end of the body.
    pub fn on_trailers(&mut self, trailers: &HeaderMap) {
        if self.protocol == Protocol::Grpc {
            self.read_grpc_status(trailers);
        }
    }

    fn read_grpc_status(&mut self, headers: &HeaderMap) {
        if let Some(code) = headers
            .get(GRPC_STATUS_HEADER)
            .and_then(|v| parse_grpc_status(v.as_bytes()))
        {
            self.grpc_status = Some(code);
        }
    }

    /// Record a failure (the first one wins): the span ends with Error,
    /// `error.type` set to `error_type`, and an exception event when
    /// `message` is not empty.
    pub fn fail(&mut self, error_type: impl Into<Cow<'static, str>>, message: String) {
        if self.failure.is_none() {
            self.failure = Some(Box::new(Failure {
                error_type: error_type.into(),
                message,
            }));
        }
    }

    /// Apply the status rules and end the span (once).
    pub fn end(&mut self) {
        if self.ended {
            return;
        }
        self.ended = true;
        let span = self.cx.span();
        let mut error: Option<(Cow<'static, str>, String)> = None;

        if let Some(code) = self.status_code {
            if self.protocol == Protocol::Http || self.grpc_status.is_none() {
                span.set_attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(code)));
            }
            if self.protocol == Protocol::Http && http_status_is_error(self.side, code) {
                error = Some((Cow::Owned(code.to_string()), String::new()));
            }
        }
        if self.protocol == Protocol::Grpc {
            if let Some(code) = self.grpc_status {
                #[allow(deprecated)]
                span.set_attribute(KeyValue::new(RPC_GRPC_STATUS_CODE, code));
                if grpc_status_is_error(self.side, code) {
                    let name = grpc_code_name(code)
                        .map(Cow::Borrowed)
                        .unwrap_or_else(|| Cow::Owned(code.to_string()));
                    error = Some((name, String::new()));
                }
            }
        }
        if let Some(failure) = self.failure.take().map(|boxed| *boxed) {
            if !failure.message.is_empty() {
                span.add_event(
                    EXCEPTION_EVENT,
                    vec![
                        KeyValue::new(EXCEPTION_TYPE, failure.error_type.clone()),
                        KeyValue::new(EXCEPTION_MESSAGE, failure.message.clone()),
                    ],
                );
            }
            error = Some((failure.error_type, failure.message));
        }
        if let Some((error_type, message)) = error {
            span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
            span.set_status(Status::error(message));
        }
        span.end();
    }
}

/// `CANCELLED`: the status of a gRPC call abandoned before its status
/// arrived.
const GRPC_CANCELLED: i64 = 1;

impl Drop for ActiveSpan {
    /// Ends the span if nothing has. A gRPC call dropped before its status
    /// arrived and without a failure (the caller dropped the call or its
    /// stream; on a server, the client reset the stream) ends as
    /// `CANCELLED`, as gRPC itself reports it: an Error on clients, not on
    /// servers.
    fn drop(&mut self) {
        if !self.ended
            && self.protocol == Protocol::Grpc
            && self.grpc_status.is_none()
            && self.failure.is_none()
        {
            self.grpc_status = Some(GRPC_CANCELLED);
        }
        self.end();
    }
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanKind, Tracer as _};
    use tracekit::testing::{attribute, TestProvider};

    fn active(test: &TestProvider, side: Side, protocol: Protocol) -> ActiveSpan {
        let span = test
            .tracer("t")
            .span_builder("s")
            .with_kind(SpanKind::Server)
            .start(&test.tracer("t"));
        ActiveSpan::new(Context::new().with_span(span), side, protocol, None)
    }

    #[test]
    fn server_5xx_is_an_error_with_the_code_as_type() {
        let test = TestProvider::new();
        let mut s = active(&test, Side::Server, Protocol::Http);
        s.on_response(503, &HeaderMap::new());
        drop(s);
        let spans = test.spans();
        let span = spans.get("s");
        assert!(matches!(span.status, Status::Error { .. }));
        assert_eq!(attribute(span, ERROR_TYPE).unwrap().as_str(), "503");
        assert_eq!(
            attribute(span, HTTP_RESPONSE_STATUS_CODE),
            Some(&opentelemetry::Value::I64(503))
        );
    }

    #[test]
    fn server_4xx_stays_unset_but_client_4xx_is_an_error() {
        let test = TestProvider::new();
        let mut s = active(&test, Side::Server, Protocol::Http);
        s.on_response(404, &HeaderMap::new());
        s.end();
        let spans = test.spans();
        assert_eq!(spans.get("s").status, Status::Unset);
        assert!(attribute(spans.get("s"), ERROR_TYPE).is_none());

        let test = TestProvider::new();
        let mut s = active(&test, Side::Client, Protocol::Http);
        s.on_response(404, &HeaderMap::new());
        s.end();
        assert!(matches!(test.spans().get("s").status, Status::Error { .. }));
    }

    #[test]
    fn failure_wins_and_ending_happens_once() {
        let test = TestProvider::new();
        let mut s = active(&test, Side::Server, Protocol::Http);
        s.fail("panic", "boom".to_string());
        s.fail("other", "later".to_string());
        s.end();
        s.end();
        drop(s);
        let spans = test.spans();
        assert_eq!(spans.len(), 1);
        let span = spans.get("s");
        assert_eq!(span.status, Status::error("boom"));
        assert_eq!(attribute(span, ERROR_TYPE).unwrap().as_str(), "panic");
    }

    #[test]
    fn grpc_status_from_trailers_decides() {
        let test = TestProvider::new();
        let mut s = active(&test, Side::Server, Protocol::Grpc);
        s.on_response(200, &HeaderMap::new());
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "13".parse().unwrap());
        s.on_trailers(&trailers);
        s.end();
        let spans = test.spans();
        let span = spans.get("s");
        assert!(matches!(span.status, Status::Error { .. }));
        assert_eq!(
            attribute(span, "rpc.grpc.status_code"),
            Some(&opentelemetry::Value::I64(13))
        );
        assert_eq!(attribute(span, ERROR_TYPE).unwrap().as_str(), "INTERNAL");
        assert!(attribute(span, HTTP_RESPONSE_STATUS_CODE).is_none());
    }

    #[test]
    fn grpc_not_found_is_not_a_server_error() {
        let test = TestProvider::new();
        let mut s = active(&test, Side::Server, Protocol::Grpc);
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "5".parse().unwrap());
        s.on_response(200, &headers);
        s.end();
        assert_eq!(test.spans().get("s").status, Status::Unset);
    }

    #[test]
    #[allow(deprecated)]
    fn grpc_calls_dropped_before_their_status_are_cancelled() {
        for (side, error) in [(Side::Client, true), (Side::Server, false)] {
            let test = TestProvider::new();
            let mut s = active(&test, side, Protocol::Grpc);
            s.on_response(200, &HeaderMap::new());
            drop(s);
            let spans = test.spans();
            let span = spans.get("s");
            assert_eq!(
                attribute(span, RPC_GRPC_STATUS_CODE),
                Some(&opentelemetry::Value::I64(1)),
                "{side:?}"
            );
            assert_eq!(matches!(span.status, Status::Error { .. }), error);
        }
        // Not when the status arrived, a failure was recorded, the span
        // was ended, or the exchange is plain HTTP.
        let test = TestProvider::new();
        let mut failed = active(&test, Side::Client, Protocol::Grpc);
        failed.fail("tonic::transport::Error", "refused".into());
        drop(failed);
        let mut ended = active(&test, Side::Client, Protocol::Grpc);
        ended.end();
        drop(ended);
        let http = active(&test, Side::Client, Protocol::Http);
        drop(http);
        for span in &test.spans() {
            assert!(attribute(span, RPC_GRPC_STATUS_CODE).is_none());
        }
    }

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"x"), "x");
        assert_eq!(panic_message(&String::from("y")), "y");
        assert_eq!(panic_message(&5u8), "panic");
    }
}
