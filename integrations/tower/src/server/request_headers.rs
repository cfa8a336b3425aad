//! [`RequestHeaders`]: the request headers a server span reads, found in
//! one pass.

use crate::address::{X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO};
use crate::trace_context_headers::{
    baggage_name, traceparent_name, tracestate_name, TraceContextFields,
};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, FORWARDED, HOST, USER_AGENT};

/// Up to this many header values, one pass over the map is cheaper than a
/// hashed lookup per header (hashing a custom name such as
/// `x-forwarded-proto` costs a loop over its bytes); beyond it, lookups.
/// Measured: lookups for every request cost 1,041 more instructions per
/// request of `http_profile tracekit` (24,135 -> 25,176, +4.3%).
const SCAN_LIMIT: usize = 16;

/// The first value of each header the server span reads, and the W3C
/// trace context fields.
#[derive(Debug, Default)]
pub(crate) struct RequestHeaders<'a> {
    pub(crate) host: Option<&'a HeaderValue>,
    pub(crate) forwarded: Option<&'a HeaderValue>,
    pub(crate) x_forwarded_for: Option<&'a HeaderValue>,
    pub(crate) x_forwarded_proto: Option<&'a HeaderValue>,
    pub(crate) x_forwarded_host: Option<&'a HeaderValue>,
    pub(crate) user_agent: Option<&'a HeaderValue>,
    pub(crate) content_type: Option<&'a HeaderValue>,
    /// The W3C trace context fields, for the propagation; `None` when the
    /// map was too large for one pass (they are looked up if needed).
    pub(crate) trace_context: Option<TraceContextFields<'a>>,
}

impl<'a> RequestHeaders<'a> {
    /// Read them from `headers`: the first value of each, as
    /// [`HeaderMap::get`] gives it.
    pub(crate) fn read(headers: &'a HeaderMap) -> Self {
        if headers.len() > SCAN_LIMIT {
            return RequestHeaders {
                host: headers.get(HOST),
                forwarded: headers.get(FORWARDED),
                x_forwarded_for: headers.get(X_FORWARDED_FOR),
                x_forwarded_proto: headers.get(X_FORWARDED_PROTO),
                x_forwarded_host: headers.get(X_FORWARDED_HOST),
                user_agent: headers.get(USER_AGENT),
                content_type: headers.get(CONTENT_TYPE),
                trace_context: None,
            };
        }
        let mut found = RequestHeaders::default();
        let trace_context = found.trace_context.insert(TraceContextFields::default());
        for (name, value) in headers {
            let slot = if *name == HOST {
                &mut found.host
            } else if *name == USER_AGENT {
                &mut found.user_agent
            } else if *name == CONTENT_TYPE {
                &mut found.content_type
            } else if *name == FORWARDED {
                &mut found.forwarded
            } else if *name == X_FORWARDED_FOR {
                &mut found.x_forwarded_for
            } else if *name == X_FORWARDED_PROTO {
                &mut found.x_forwarded_proto
            } else if *name == X_FORWARDED_HOST {
                &mut found.x_forwarded_host
            } else if name == traceparent_name() {
                trace_context.note_traceparent(value);
                continue;
            } else if name == tracestate_name() {
                trace_context.note_tracestate(value);
                continue;
            } else if name == baggage_name() {
                trace_context.note_baggage();
                continue;
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace_context_headers::{propagated, remote_context};

    fn values<'a>(found: &RequestHeaders<'a>) -> [Option<&'a [u8]>; 7] {
        [
            found.host,
            found.forwarded,
            found.x_forwarded_for,
            found.x_forwarded_proto,
            found.x_forwarded_host,
            found.user_agent,
            found.content_type,
        ]
        .map(|v| v.map(HeaderValue::as_bytes))
    }

    #[test]
    fn one_pass_and_lookups_agree_on_the_first_values() {
        let mut headers = HeaderMap::new();
        headers.append("Host", HeaderValue::from_static("h.example"));
        headers.append("X-Forwarded-For", HeaderValue::from_static("192.0.2.1"));
        headers.append("x-forwarded-for", HeaderValue::from_static("192.0.2.2"));
        headers.append("forwarded", HeaderValue::from_static("for=192.0.2.3"));
        headers.append("x-forwarded-proto", HeaderValue::from_static("https"));
        headers.append("x-forwarded-host", HeaderValue::from_static("shop.example"));
        headers.append(
            "X-Forwarded-Host",
            HeaderValue::from_static("second.example"),
        );
        headers.append("user-agent", HeaderValue::from_static("test/1"));
        headers.append("content-type", HeaderValue::from_static("text/plain"));
        let scanned = RequestHeaders::read(&headers);
        assert_eq!(
            values(&scanned),
            [
                Some(&b"h.example"[..]),
                Some(&b"for=192.0.2.3"[..]),
                Some(&b"192.0.2.1"[..]),
                Some(&b"https"[..]),
                Some(&b"shop.example"[..]),
                Some(&b"test/1"[..]),
                Some(&b"text/plain"[..]),
            ]
        );
        // Past the scan limit the same values come from lookups.
        let mut many = headers.clone();
        for i in 0..SCAN_LIMIT {
            many.append(
                http::header::HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).unwrap(),
                HeaderValue::from_static("x"),
            );
        }
        assert!(many.len() > SCAN_LIMIT);
        assert_eq!(values(&RequestHeaders::read(&many)), values(&scanned));
        assert_eq!(values(&RequestHeaders::read(&HeaderMap::new())), [None; 7]);
    }

    #[test]
    fn one_pass_and_lookups_agree_on_the_trace_context() {
        const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cases: [&[(&str, &str)]; 5] = [
            &[("host", "h"), ("traceparent", TP)],
            &[("traceparent", TP), ("tracestate", "a=1"), ("x-other", "x")],
            &[
                ("TraceState", "a=1"),
                ("traceparent", TP),
                ("tracestate", "b=2"),
            ],
            &[
                ("traceparent", TP),
                ("traceparent", TP),
                ("tracestate", "a=1"),
            ],
            &[("tracestate", "a=1"), ("user-agent", "u")],
        ];
        for case in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in case {
                headers.append(
                    http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_static(value),
                );
            }
            let expected = propagated(&remote_context(&headers));
            let scanned = propagated(
                &RequestHeaders::read(&headers)
                    .trace_context
                    .expect("scanned")
                    .remote_context(&headers),
            );
            assert_eq!(scanned, expected, "{case:?}");
            let mut many = headers.clone();
            for i in 0..SCAN_LIMIT {
                many.append(
                    http::header::HeaderName::from_bytes(format!("x-filler-{i}").as_bytes())
                        .unwrap(),
                    HeaderValue::from_static("x"),
                );
            }
            // Past the scan limit they are left to a lookup.
            assert!(RequestHeaders::read(&many).trace_context.is_none());
            let looked_up = propagated(&TraceContextFields::lookup(&many).remote_context(&many));
            assert_eq!(looked_up, expected, "{case:?}");
        }
        let mut two_states = HeaderMap::new();
        two_states.append("traceparent", HeaderValue::from_static(TP));
        two_states.append("tracestate", HeaderValue::from_static("a=1"));
        two_states.append("tracestate", HeaderValue::from_static("b=2"));
        let cx = RequestHeaders::read(&two_states)
            .trace_context
            .expect("scanned")
            .remote_context(&two_states);
        let sc = propagated(&cx).0.expect("valid parent");
        assert_eq!(sc.trace_state().header(), "a=1,b=2");
    }
}
